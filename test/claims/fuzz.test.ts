import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CLAIMS_ERROR_CODES, ClaimsError, createClaimMapper, explain, type ClaimMapper } from "../../policies/claims";
import { goDecodeSegment } from "../../policies/claims/token";
import { makeKey, prng, signed, type TestKey } from "./support";

const TENANT = "11111111-2222-3333-4444-555555555555";
const API = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const MUTANTS = 10_000;
const SEED = 0x7e3a_2026;

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64url");
const unb64 = (s: string): string => Buffer.from(s, "base64url").toString("utf8");

/** Same signing input and same signature bytes: the same token, which the server accepts too. */
function equivalent(mutant: string, original: string): boolean {
    const m = mutant.split(".");
    const o = original.split(".");
    if (m.length !== 3 || `${m[0]}.${m[1]}` !== `${o[0]}.${o[1]}`) return false;
    const a = goDecodeSegment(m[2] ?? "");
    const b = goDecodeSegment(o[2] ?? "");
    return a !== undefined && b !== undefined && a.equals(b);
}

describe("fuzz: mutated tokens", () => {
    let rs: TestKey;
    let es: TestKey;
    let temporal: ClaimMapper;
    let entra: ClaimMapper;
    const originals: string[] = [];

    before(async () => {
        [rs, es] = await Promise.all([makeKey("RS256", "rs"), makeKey("ES256", "es")]);
        const jwks = { keys: [rs.publicJwk, es.publicJwk] };
        temporal = createClaimMapper({ jwks, audience: API, maxTokenBytes: 32 * 1024 });
        entra = createClaimMapper({ jwks, profile: "entra", tenantId: TENANT, audience: API, permissionsClaimName: "roles" });
        // Fixed times keep the claims byte-identical from run to run; only the fresh keys differ.
        const now = 1_700_000_000;
        for (const key of [rs, es]) {
            originals.push(
                await signed(key, {
                    iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
                    aud: API,
                    sub: "fuzz",
                    tid: TENANT,
                    azp: "client",
                    ver: "2.0",
                    roles: ["payments:read"],
                    permissions: ["payments:read"],
                    iat: now - 60,
                    exp: 4_102_444_800,
                }),
            );
        }
        for (const t of originals) {
            assert.equal((await temporal.getClaims({ authorization: `Bearer ${t}` })).subject, "fuzz");
            assert.equal((await entra.getClaims({ authorization: `Bearer ${t}` })).subject, "fuzz");
        }
    });

    it(`accepts none of ${MUTANTS} mutants and throws nothing but ClaimsError`, async (t) => {
        const rnd = prng(SEED);
        const int = (n: number): number => Math.floor(rnd() * n);
        const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
        const CHARS = "ABCxyz019-_=+/ .\n\r\t\u00e9\u{1F600}\"{}:,\\";
        const ALGS = ["RS256", "ES256", "none", "None", "HS256", "RS384", "PS256", "ES384", "EdDSA", "rs256", "", 7, null];

        const stringMutation = (t: string): string => {
            const i = int(t.length + 1);
            switch (int(4)) {
                case 0:
                    return t.slice(0, i) + pick([...CHARS]) + t.slice(i + 1);
                case 1:
                    return t.slice(0, i) + t.slice(i + 1);
                case 2:
                    return t.slice(0, i) + pick([...CHARS]) + t.slice(i);
                default:
                    return t.slice(0, i);
            }
        };
        const structural = (t: string): string => {
            const [h = "", p = "", s = ""] = t.split(".");
            const other = pick(originals).split(".");
            switch (int(10)) {
                case 0:
                    return `${h}.${p}`;
                case 1:
                    return `${h}.${p}.${s}.${s}`;
                case 2:
                    return `${p}.${h}.${s}`;
                case 3:
                    return `${h}.${p}.${other[2] === s ? "" : other[2]}`;
                case 4:
                    return `${h}.${other[1] === p ? b64("{}") : other[1]}.${s}`;
                case 5:
                    return `${h}==.${p}.${s}`;
                case 6:
                    return `${h}.${p}=.${s}`;
                case 7:
                    return "...";
                case 8:
                    return "";
                default:
                    return `${h}.${p}.${s.slice(0, int(s.length))}`;
            }
        };
        const headerMutation = (t: string): string => {
            const [h = "", p = "", s = ""] = t.split(".");
            const header = JSON.parse(unb64(h)) as Record<string, unknown>;
            switch (int(7)) {
                case 0:
                    header.alg = pick(ALGS);
                    break;
                case 1:
                    delete header.kid;
                    break;
                case 2:
                    header.kid = pick([7, null, ["rs"], "unknown", "", { k: 1 }]);
                    break;
                case 3:
                    header.crit = ["b64"];
                    header.b64 = false;
                    break;
                case 4:
                    header.nonce = "graph";
                    break;
                case 5:
                    return `${b64(pick(["null", "[]", "1", '"x"', "{", `${JSON.stringify(header)} x`, "\ufeff{}"]))}.${p}.${s}`;
                default:
                    header.kid = header.kid === "rs" ? "es" : "rs";
            }
            return `${b64(JSON.stringify(header))}.${p}.${s}`;
        };
        const payloadMutation = (t: string): string => {
            const [h = "", p = "", s = ""] = t.split(".");
            const claims = JSON.parse(unb64(p)) as Record<string, unknown>;
            const value = pick<unknown>([null, 0, -1, 1e400, "x", [], {}, true, 2 ** 63, Number.MAX_SAFE_INTEGER]);
            const field = pick(["sub", "exp", "iat", "nbf", "aud", "roles", "permissions", "iss", "tid", "azp", "ver"]);
            if (int(3) === 0) delete claims[field];
            else claims[field] = value;
            if (int(4) === 0) claims.roles = ["temporal-system:admin"];
            const json = JSON.stringify(claims).replace("1e+400", "1e400");
            return `${h}.${b64(int(8) === 0 ? `${json} trailing` : json)}.${s}`;
        };
        const signatureMutation = (t: string): string => {
            const [h = "", p = "", s = ""] = t.split(".");
            const sig = Buffer.from(s, "base64url");
            switch (int(5)) {
                case 0: {
                    const at = int(sig.length);
                    sig[at] = (sig[at] ?? 0) ^ (1 << int(8));
                    return `${h}.${p}.${b64(sig)}`;
                }
                case 1:
                    return `${h}.${p}.${b64(sig.subarray(0, int(sig.length)))}`;
                case 2:
                    return `${h}.${p}.${b64(Buffer.concat([sig, Buffer.from([int(256)])]))}`;
                case 3:
                    return `${h}.${p}.${b64(Buffer.alloc(sig.length))}`;
                default:
                    return `${h}.${p}.${s.replace(/-/g, "+").replace(/_/g, "/")}=`;
            }
        };
        const sizeMutation = (t: string): string => {
            const [h = "", p = "", s = ""] = t.split(".");
            switch (int(3)) {
                case 0:
                    return `${h}.${p}${"A".repeat(33_000)}.${s}`;
                case 1:
                    return `${h}.${b64(JSON.stringify({ sub: "x", roles: Array.from({ length: 3000 }, (_, i) => `ns${i}:read`) }))}.${s}`;
                default:
                    return `${"eyJ".repeat(12_000)}.${p}.${s}`;
            }
        };
        const schemes = (token: string): string => pick([`Bearer  ${token}`, `Bearer\t${token}`, `Basic ${token}`, `Bearer${token}`, ` Bearer ${token}`, `Bearer ${token} `, `Bearer ${token}\n`, `bearer ${token}x`]);
        const mutators = [stringMutation, structural, headerMutation, payloadMutation, signatureMutation, sizeMutation];

        const seen = new Map<string, number>();
        let mutants = 0;
        let equivalents = 0;
        let attempts = 0;
        const reports: string[] = [];
        while (mutants < MUTANTS) {
            attempts++;
            const original = pick(originals);
            let token = original;
            for (let n = 1 + int(3); n > 0; n--) {
                const mutate = pick(mutators);
                try {
                    token = mutate(token);
                } catch {
                    token = stringMutation(token); // e.g. a header that no longer parses as JSON
                }
            }
            const header = int(10) === 0 ? schemes(token) : `Bearer ${token}`;
            if (header === `Bearer ${original}`) continue;
            if (/^bearer /i.test(header) && equivalent(header.slice(7), original)) {
                // The same signing input and signature bytes (e.g. CR/LF or unused bits in the signature): the same token.
                equivalents++;
                continue;
            }
            mutants++;
            for (const mapper of [temporal, entra]) {
                try {
                    await mapper.getClaims({ authorization: header });
                    assert.fail(`mutant ${mutants} (attempt ${attempts}, seed ${SEED}) was accepted by profile ${mapper.settings.profile}: ${JSON.stringify(header.slice(0, 12))}...${JSON.stringify(header.slice(-12))} len ${header.length}`);
                } catch (e) {
                    if (!(e instanceof ClaimsError)) throw new Error(`mutant ${mutants} (seed ${SEED}) threw ${String(e)}`);
                    assert.ok(CLAIMS_ERROR_CODES.includes(e.code), e.code);
                    assert.ok(!e.message.includes(token) || token.length < 16, "a message contains the token");
                    seen.set(e.code, (seen.get(e.code) ?? 0) + 1);
                }
            }
            if (mutants % 40 === 0) {
                const report = await explain(header.slice(7), { mapper: entra });
                assert.equal(report.verified, false);
                reports.push(report.error?.code ?? "none");
            }
        }
        assert.equal(mutants, MUTANTS);
        t.diagnostic(`${mutants} mutants x 2 profiles rejected; ${equivalents} equivalent rewrites skipped; codes: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
        // The mutations reach every stage of the pipeline, not just the first check.
        for (const stage of ["malformed-token", "unsupported-alg", "missing-kid", "unknown-kid", "bad-signature", "token-too-large", "unsupported-scheme", "graph-token"]) {
            assert.ok((seen.get(stage) ?? 0) > 0, `no mutant reached ${stage}: ${JSON.stringify([...seen])}`);
        }
        assert.equal(reports.length, MUTANTS / 40);
        assert.ok(equivalents < attempts / 10, `${equivalents} equivalent rewrites`);
    });
});
