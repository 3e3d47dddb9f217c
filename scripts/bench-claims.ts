import { KeyObject, createPublicKey, verify as cryptoVerify, type JsonWebKey } from "node:crypto";
import { performance } from "node:perf_hooks";
import { SignJWT, compactVerify, exportJWK, generateKeyPair, type JWK } from "jose";
import { createClaimMapper, type ClaimMapper } from "../policies/claims";

/**
 * `npm run bench:claims`: the cost of the validator over the signature check it cannot avoid.
 * For ES256 and RS256 tokens (real keys, real signatures, cached keys): getClaims tokens/s, raw
 * `crypto.verify` tokens/s on the same tokens, their ratio (aim: >= 0.85), and getClaims p99
 * latency. Passes alternate; rates are medians over rounds, the ratio the median of each round's
 * ratio (also by CPU time), so that other load on the machine hits both sides alike.
 * jose's compactVerify (WebCrypto) is measured too, for reference: it is why the mapper verifies
 * with node:crypto.
 */

const TOKENS: Record<"ES256" | "RS256", number> = { ES256: 4000, RS256: 3000 };
const ROUNDS = 11;

interface Case {
    alg: "ES256" | "RS256";
    tokens: string[];
    /** The same tokens as the header values the server receives. */
    headers: string[];
    mapper: ClaimMapper;
    rawKey: KeyObject;
    joseKey: Awaited<ReturnType<typeof generateKeyPair>>["publicKey"];
}

async function makeCase(alg: "ES256" | "RS256"): Promise<Case> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: `bench-${alg}`, alg, use: "sig" };
    const now = Math.floor(Date.now() / 1000);
    const tokens: string[] = [];
    for (let i = 0; i < TOKENS[alg]; i++) {
        tokens.push(
            await new SignJWT({ permissions: ["payments:read", "payments:write", `team-${i % 17}:admin`], tid: "bench" })
                .setProtectedHeader({ alg, kid: jwk.kid as string, typ: "JWT" })
                .setSubject(`principal-${i}`)
                .setAudience("temporal-api")
                .setIssuedAt(now - 60)
                .setNotBefore(now - 60)
                .setExpirationTime(now + 3600)
                .sign(privateKey),
        );
    }
    const mapper = createClaimMapper({ jwks: { keys: [jwk] }, audience: "temporal-api" });
    return { alg, tokens, headers: tokens.map((t) => `Bearer ${t}`), mapper, rawKey: createPublicKey({ key: jwk as JsonWebKey, format: "jwk" }), joseKey: publicKey };
}

/** Tokens per second of wall-clock time and of this process's CPU time (which other load on the machine disturbs less). */
interface Rate {
    wall: number;
    cpu: number;
}

function rate(n: number, t0: number, c0: NodeJS.CpuUsage): Rate {
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    return { wall: (n / ms) * 1000, cpu: (n / (cpu.user + cpu.system)) * 1e6 };
}

/** The floor: decode the signature and verify it, nothing else. */
function rawPass(c: Case): Rate {
    const input = c.alg === "ES256" ? { key: c.rawKey, dsaEncoding: "ieee-p1363" as const } : c.rawKey;
    let ok = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const token of c.tokens) {
        const dot = token.lastIndexOf(".");
        if (cryptoVerify("sha256", Buffer.from(token.slice(0, dot), "latin1"), input, Buffer.from(token.slice(dot + 1), "base64url"))) ok++;
    }
    const r = rate(c.tokens.length, t0, c0);
    if (ok !== c.tokens.length) throw new Error("raw verify rejected a token");
    return r;
}

async function mapperPass(c: Case): Promise<Rate> {
    let n = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const authorization of c.headers) {
        const claims = await c.mapper.getClaims({ authorization });
        n += claims.system;
    }
    const r = rate(c.tokens.length, t0, c0);
    if (n !== 0) throw new Error("unexpected claims");
    return r;
}

async function latencies(c: Case): Promise<number[]> {
    const out: number[] = [];
    for (const authorization of c.headers) {
        const t0 = performance.now();
        await c.mapper.getClaims({ authorization });
        out.push(performance.now() - t0);
    }
    return out;
}

async function josePass(c: Case): Promise<number> {
    const sample = c.tokens.slice(0, 1000);
    const t0 = performance.now();
    for (const token of sample) await compactVerify(token, c.joseKey, { algorithms: [c.alg] });
    return (sample.length / (performance.now() - t0)) * 1000;
}

const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? NaN;
};
const percentile = (xs: number[], p: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

async function main(): Promise<void> {
    console.log(`node ${process.version}; ${TOKENS.ES256} ES256 and ${TOKENS.RS256} RS256 tokens (RSA 2048), cached keys, ${ROUNDS} alternating rounds, medians`);
    let ok = true;
    for (const alg of ["ES256", "RS256"] as const) {
        const c = await makeCase(alg);
        // Warm-up: JIT, key caches, header cache.
        rawPass(c);
        await mapperPass(c);
        const raw: Rate[] = [];
        const mapped: Rate[] = [];
        for (let r = 0; r < ROUNDS; r++) {
            raw.push(rawPass(c));
            mapped.push(await mapperPass(c));
        }
        const lat = (await latencies(c)).concat(await latencies(c));
        const getClaims = median(mapped.map((r) => r.wall));
        const verify = median(raw.map((r) => r.wall));
        // Each round's two passes run back to back, so their ratio cancels slow changes in machine load.
        const ratio = median(mapped.map((m, i) => m.wall / (raw[i] as Rate).wall));
        const cpuRatio = median(mapped.map((m, i) => m.cpu / (raw[i] as Rate).cpu));
        ok &&= ratio >= 0.85;
        console.log(`${alg} getClaims: ${Math.round(getClaims)} tokens/s`);
        console.log(`${alg} crypto.verify: ${Math.round(verify)} tokens/s`);
        console.log(`${alg} ratio: ${ratio.toFixed(3)} (aim >= 0.85); by CPU time: ${cpuRatio.toFixed(3)}`);
        console.log(`${alg} getClaims p50: ${(percentile(lat, 50) * 1000).toFixed(1)} us, p99: ${(percentile(lat, 99) * 1000).toFixed(1)} us`);
        console.log(`${alg} jose compactVerify (reference): ${Math.round(await josePass(c))} tokens/s`);
    }
    console.log(ok ? "ratio target met" : "ratio target NOT met");
}

main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
});
