import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { SignJWT, type JWK } from "jose";
import { ClaimsError, createClaimMapper, explain, type ClaimMapper, type ClaimMapperOptions, type ClaimsErrorCode } from "../../policies/claims";
import { bearer, makeKey, rawToken, signed, type TestKey } from "./support";

/** A fixed clock, so that boundaries (exp == now, ...) are exact. */
const NOW = 1_900_000_000;
const clock = (): number => NOW * 1000 + 400;

async function rejects(mapper: ClaimMapper, authorization: string, code: ClaimsErrorCode, message?: RegExp): Promise<void> {
    await assert.rejects(mapper.getClaims({ authorization }), (e: unknown) => {
        assert.ok(e instanceof ClaimsError, `expected ClaimsError, got ${String(e)}`);
        assert.equal(e.code, code, e.message);
        if (message) assert.match(e.message, message);
        return true;
    });
}

const plain = <T extends object>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

for (const alg of ["RS256", "ES256"] as const) {
    describe(`default claim mapper, ${alg} (reference §1)`, () => {
        let key: TestKey;
        let other: TestKey;
        let otherType: TestKey;
        let mapper: ClaimMapper;
        const options = (extra: Partial<ClaimMapperOptions> = {}): ClaimMapperOptions => ({ jwks: { keys: [key.publicJwk, otherType.publicJwk] }, now: clock, ...extra });
        const tok = (payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> => signed(key, { sub: "alice", ...payload }, header);
        const raw = (header: unknown, payload: unknown): string => rawToken(header, payload, { alg, key: key.privateKey });

        before(async () => {
            key = await makeKey(alg, `${alg}-1`);
            other = await makeKey(alg, `${alg}-1`); // same kid, different key: another issuer
            otherType = await makeKey(alg === "RS256" ? "ES256" : "RS256", `${alg}-other-type`);
            mapper = createClaimMapper(options());
        });

        it("gives empty claims, not an error, for an absent or empty header", async () => {
            assert.deepEqual(plain(await mapper.getClaims({})), { subject: "", system: 0, namespaces: {} });
            assert.deepEqual(plain(await mapper.getClaims({ authorization: "" })), { subject: "", system: 0, namespaces: {} });
        });

        it("maps a valid token to the subject and roles", async () => {
            const t = await tok({ permissions: ["default:read", "default:write", "temporal-system:read"], exp: NOW + 60 });
            assert.deepEqual(plain(await mapper.getClaims(bearer(t))), { subject: "alice", system: 2, namespaces: { default: 6 } });
        });

        it("splits the header at the first space; the scheme is bearer in any case; nothing is trimmed", async () => {
            const t = await tok({});
            for (const scheme of ["bearer", "BEARER", "BeArEr"]) assert.equal((await mapper.getClaims({ authorization: `${scheme} ${t}` })).subject, "alice");
            await rejects(mapper, `Bearer${t}`, "malformed-header");
            await rejects(mapper, "Bearer", "malformed-header");
            await rejects(mapper, `Basic ${t}`, "unsupported-scheme", /"Basic"/);
            await rejects(mapper, ` Bearer ${t}`, "unsupported-scheme");
            await rejects(mapper, `Bearer  ${t}`, "malformed-token", /more than one space/);
            await rejects(mapper, `Bearer ${t} `, "bad-signature");
            await rejects(mapper, `Bearer Bearer ${t}`, "malformed-token", /starts with "Bearer "/);
            await rejects(mapper, `Bearer ${t}.x`, "malformed-token", /three/);
        });

        it("accepts RS256 and ES256 only: none, HS256 (public key as secret), RS384, PS256, ES384 are refused", async () => {
            const payload = { sub: "alice" };
            const rsa = alg === "RS256" ? key : otherType;
            const ec = alg === "ES256" ? key : otherType;
            // The classic confusion: HMAC keyed with the published RSA public key.
            const pem = createPublicKey({ key: rsa.publicJwk as JsonWebKey, format: "jwk" }).export({ type: "spki", format: "pem" });
            await rejects(mapper, `Bearer ${rawToken({ alg: "none", kid: key.kid }, payload, { alg: "none" })}`, "unsupported-alg", /unsigned/);
            await rejects(mapper, `Bearer ${rawToken({ alg: "HS256", kid: rsa.kid }, payload, { alg: "HS256", secret: pem })}`, "unsupported-alg", /algorithm-confusion/);
            const rs384 = await new SignJWT(payload).setProtectedHeader({ alg: "RS384", kid: rsa.kid }).sign(rsa.privateKey);
            const ps256 = await new SignJWT(payload).setProtectedHeader({ alg: "PS256", kid: rsa.kid }).sign(rsa.privateKey);
            await rejects(mapper, `Bearer ${rs384}`, "unsupported-alg", /RS256 and ES256 only/);
            await rejects(mapper, `Bearer ${ps256}`, "unsupported-alg");
            const es384Key = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
            const es384 = await new SignJWT(payload).setProtectedHeader({ alg: "ES384", kid: ec.kid }).sign(es384Key);
            await rejects(mapper, `Bearer ${es384}`, "unsupported-alg");
            await rejects(mapper, `Bearer ${raw({ alg: alg.toLowerCase(), kid: key.kid }, payload)}`, "unsupported-alg", /unknown to the server/);
            await rejects(mapper, `Bearer ${raw({ kid: key.kid }, payload)}`, "unsupported-alg", /no "alg"/);
        });

        it("needs a string kid and looks the key up by kid among keys of the alg's type", async () => {
            await rejects(mapper, `Bearer ${raw({ alg }, { sub: "a" })}`, "missing-kid");
            await rejects(mapper, `Bearer ${raw({ alg, kid: 7 }, { sub: "a" })}`, "missing-kid");
            await rejects(mapper, `Bearer ${await signed(key, { sub: "a" }, { kid: "nope" })}`, "unknown-kid", /no (RSA|EC) key with kid "nope".*only on its timer/);
            // The other key type's kid: the server keeps RSA and EC keys in separate maps.
            await rejects(mapper, `Bearer ${await signed(key, { sub: "a" }, { kid: otherType.kid })}`, "unknown-kid", /there is an (RSA|EC) key with that kid/);
        });

        it("rejects a bad signature: altered claims, or another key under the same kid", async () => {
            const t = await tok({ permissions: ["default:read"] });
            const [h, , s] = t.split(".");
            const forged = `${h}.${Buffer.from(JSON.stringify({ sub: "alice", permissions: ["temporal-system:admin"] })).toString("base64url")}.${s}`;
            await rejects(mapper, `Bearer ${forged}`, "bad-signature");
            await rejects(mapper, `Bearer ${await signed(other, { sub: "alice" })}`, "bad-signature", /does not verify/);
            await rejects(mapper, `Bearer ${h}.${t.split(".")[1]}.`, "bad-signature");
        });

        it("checks exp, nbf and iat only when present, in whole seconds, with no clock skew", async () => {
            assert.equal((await mapper.getClaims(bearer(await tok({})))).subject, "alice", "no time claims at all");
            assert.equal((await mapper.getClaims(bearer(await tok({ exp: NOW + 1, nbf: NOW, iat: NOW })))).subject, "alice", "boundaries that pass");
            await rejects(mapper, `Bearer ${await tok({ exp: NOW })}`, "expired", /no clock skew/);
            await rejects(mapper, `Bearer ${await tok({ exp: NOW - 3600 })}`, "expired");
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, { sub: "a", exp: NOW + 0.9 })}`, "expired", undefined);
            await rejects(mapper, `Bearer ${await tok({ nbf: NOW + 1 })}`, "not-yet-valid");
            // golang-jwt v4 rejects a future iat; jose's jwtVerify would not.
            await rejects(mapper, `Bearer ${await tok({ iat: NOW + 1 })}`, "issued-in-future");
        });

        it("fails a non-numeric time claim and treats 0 as absent (golang-jwt v4)", async () => {
            for (const bad of ['"1900000060"', "null", "true", "[1]"]) {
                await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, `{"sub":"a","exp":${bad}}`)}`, "bad-time-claim", /not a number/);
                await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, `{"sub":"a","iat":${bad}}`)}`, "bad-time-claim");
            }
            assert.equal((await mapper.getClaims(bearer(raw({ alg, kid: key.kid }, { sub: "a", exp: 0, nbf: 0, iat: 0 })))).subject, "a");
        });

        it("follows Go's int64 time arithmetic for absurd values", async () => {
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, { sub: "a", exp: 1e20 })}`, "expired", /overflows/);
            assert.equal((await mapper.getClaims(bearer(raw({ alg, kid: key.kid }, { sub: "a", exp: 9e18, nbf: 1e20, iat: -1e20 })))).subject, "a");
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, '{"sub":"a","x":1e400}')}`, "malformed-token", /too large/);
        });

        it("never checks iss, typ, jti or crit", async () => {
            const t = await tok({ iss: "https://evil.example", jti: "x" }, { typ: "something-else" });
            assert.equal((await mapper.getClaims(bearer(t))).subject, "alice");
            // jose refuses to make (and to verify) a token with an unknown critical header; the server ignores crit.
            const crit = raw({ alg, kid: key.kid, crit: ["exp-x"], "exp-x": 1, b64: false }, { sub: "alice" });
            assert.equal((await mapper.getClaims(bearer(crit))).subject, "alice");
        });

        it("checks the audience only when configured: exact, string or array", async () => {
            assert.equal((await mapper.getClaims(bearer(await tok({ aud: "anything" })))).subject, "alice");
            const m = createClaimMapper(options({ audience: "api://temporal" }));
            assert.equal((await m.getClaims(bearer(await tok({ aud: "api://temporal" })))).subject, "alice");
            assert.equal((await m.getClaims(bearer(await tok({ aud: ["x", "api://temporal"] })))).subject, "alice");
            await rejects(m, `Bearer ${await tok({})}`, "audience-mismatch", /missing/);
            await rejects(m, `Bearer ${await tok({ aud: "api://temporal/" })}`, "audience-mismatch", /"api:\/\/temporal\/"/);
            await rejects(m, `Bearer ${await tok({ aud: "API://temporal" })}`, "audience-mismatch");
            await rejects(m, `Bearer ${raw({ alg, kid: key.kid }, { sub: "a", aud: ["api://temporal", 5] })}`, "audience-mismatch");
            // A blank setting is no audience at all; a padded one is compared as written.
            const blank = createClaimMapper(options({ audience: "  " }));
            assert.equal((await blank.getClaims(bearer(await tok({ aud: "x" })))).subject, "alice");
            const padded = createClaimMapper(options({ audience: " api " }));
            await rejects(padded, `Bearer ${await tok({ aud: "api" })}`, "audience-mismatch");
            assert.equal((await padded.getClaims(bearer(await tok({ aud: " api " })))).subject, "alice");
        });

        it("requires a string sub", async () => {
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, { permissions: ["a:read"] })}`, "missing-subject", /missing/);
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, { sub: 42 })}`, "missing-subject", /number/);
            assert.equal((await mapper.getClaims(bearer(raw({ alg, kid: key.kid }, { sub: "" })))).subject, "");
        });

        it("reads permissions from the configured claim, ignoring a claim that is not an array", async () => {
            const t = await tok({ roles: ["payments:write"], permissions: ["default:read"] });
            assert.deepEqual(plain((await mapper.getClaims(bearer(t))).namespaces), { default: 2 });
            const roles = createClaimMapper(options({ permissionsClaimName: "roles" }));
            assert.deepEqual(plain((await roles.getClaims(bearer(t))).namespaces), { payments: 4 });
            assert.deepEqual(plain((await mapper.getClaims(bearer(await tok({ permissions: "default:read" })))).namespaces), {});
            const rx = createClaimMapper(options({ permissionsRegex: "(?P<role>\\w+)@(?P<namespace>[\\w-]+)" }));
            assert.deepEqual(plain((await rx.getClaims(bearer(await tok({ permissions: ["write@payments", "admin@temporal-system"] })))).namespaces), { payments: 4 });
            assert.equal((await rx.getClaims(bearer(await tok({ permissions: ["admin@temporal-system"] })))).system, 8);
        });

        it("decodes like golang-jwt: padding refused, CR/LF skipped, claims JSON may have trailing bytes", async () => {
            const t = await tok({});
            const [h, p, s] = t.split(".") as [string, string, string];
            const padded = `${h}${"=".repeat((4 - (h.length % 4)) % 4) || "===="}`;
            await rejects(mapper, `Bearer ${padded}.${p}.${s}`, "malformed-token", /unpadded base64url/);
            await rejects(mapper, `Bearer ${h}.${p}.${s.replace(/-/g, "+").replace(/_/g, "/")}${s.includes("-") || s.includes("_") ? "" : "+"}`, "bad-signature");
            await rejects(mapper, `Bearer ${raw("\ufeff" + JSON.stringify({ alg, kid: key.kid }), { sub: "a" })}`, "malformed-token", /header is not valid JSON/);
            // Go's json.Decoder reads the first value and ignores the rest; json.Unmarshal (header) does not.
            assert.equal((await mapper.getClaims(bearer(raw({ alg, kid: key.kid }, '{"sub":"a"} trailing')))).subject, "a");
            await rejects(mapper, `Bearer ${raw(JSON.stringify({ alg, kid: key.kid }) + " x", { sub: "a" })}`, "malformed-token");
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, "[1,2]")}`, "malformed-token", /array/);
            // A null claims object decodes to an empty map: then sub is missing.
            await rejects(mapper, `Bearer ${raw({ alg, kid: key.kid }, "null")}`, "missing-subject");
        });

        it("turns an unpaired surrogate escape into U+FFFD, as Go's decoder does", async () => {
            const claims = await mapper.getClaims(bearer(raw({ alg, kid: key.kid }, '{"sub":"a\\ud800","permissions":["n\\udc00s:read"]}')));
            assert.equal(claims.subject, "a\ufffd");
            assert.deepEqual(plain(claims.namespaces), { "n\ufffds": 2 });
        });

        it("accepts tokens of any size, as the server does; maxTokenBytes is the caller's own limit", async () => {
            const big = await tok({ permissions: Array.from({ length: 3000 }, (_, i) => `ns-${i}:read`) });
            assert.ok(big.length > 40 * 1024);
            assert.equal((await mapper.getClaims(bearer(big))).namespaces["ns-2999"], 2);
            const small = createClaimMapper(options({ maxTokenBytes: 2048 }));
            await rejects(small, `Bearer ${"A".repeat(3000)}`, "token-too-large", /maxTokenBytes \(2048\).*the server has none/);
            assert.equal((await small.getClaims(bearer(await tok({})))).subject, "alice");
        });
    });
}

describe("keys the server loads or refuses", () => {
    let rsa: TestKey;
    before(async () => {
        rsa = await makeKey("RS256", "main");
    });

    const rsaJwk = (bits: number, kid: string): { jwk: JWK; key: KeyObject } => {
        const pair = generateKeyPairSync("rsa", { modulusLength: bits });
        return { jwk: { ...(pair.publicKey.export({ format: "jwk" }) as JWK), kid }, key: pair.privateKey };
    };

    it("accepts a 1024-bit RSA key (as Go does) with a note, and refuses signatures of a 512-bit one", async () => {
        const k1024 = rsaJwk(1024, "k1024");
        const k512 = rsaJwk(512, "k512");
        const opts: ClaimMapperOptions = { jwks: { keys: [k1024.jwk, k512.jwk] } };
        const m = createClaimMapper(opts);
        assert.equal((await m.getClaims(bearer(rawToken({ alg: "RS256", kid: "k1024" }, { sub: "a" }, { alg: "RS256", key: k1024.key })))).subject, "a");
        await rejects(m, `Bearer ${rawToken({ alg: "RS256", kid: "k512" }, { sub: "a" }, { alg: "RS256", key: k512.key })}`, "bad-signature", /under 1024 bits/);
        const report = await explain(rawToken({ alg: "RS256", kid: "k1024" }, { sub: "a" }, { alg: "RS256", key: k1024.key }), opts);
        assert.ok(report.notes.some((n) => /only 1024 bits/.test(n)), report.notes.join("\n"));
    });

    it("ignores private, symmetric and Ed25519 keys, and fails the whole set on an unknown kty (go-jose)", async () => {
        const priv = { ...(rsaJwk(2048, "priv").key.export({ format: "jwk" }) as JWK), kid: "priv" };
        const m = createClaimMapper({ jwks: { keys: [rsa.publicJwk, priv, { kty: "oct", k: "c2VjcmV0", kid: "hs" }] } });
        assert.deepEqual(m.keySource.status().rsaKids, ["main"]);
        assert.equal(m.keySource.status().ignored.length, 2);
        assert.throws(
            () => createClaimMapper({ jwks: { keys: [rsa.publicJwk, { kty: "XYZ", kid: "odd" }] } }),
            (e: unknown) => e instanceof ClaimsError && e.code === "invalid-options" && /unknown key type "XYZ".*whole set/.test(e.message),
        );
        assert.throws(() => createClaimMapper({ jwks: { keys: [{ kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA", kid: "bad" }] } }), /coordinates of 32 bytes/);
    });

    it("validates options and names the fix", () => {
        const cases: Array<[ClaimMapperOptions, RegExp]> = [
            [{}, /no verification keys/],
            [{ jwks: { keys: [] }, jwksUri: "https://x.example/keys" }, /not both/],
            [{ jwksUri: "ftp://x.example/keys" }, /must be http or https/],
            [{ jwksUri: "not a url" }, /is not a URL/],
            [{ jwks: { keys: [] }, profile: "other" as "temporal" }, /profile must be/],
            [{ jwks: { keys: [] }, tenantId: "x" }, /belong to profile "entra"/],
            [{ jwks: { keys: [] }, permissionsClaimName: "" }, /permissionsClaimName/],
            [{ jwks: { keys: [] }, maxTokenBytes: 0 }, /maxTokenBytes/],
            [{ jwks: { keys: [] }, permissionsRegex: "(?P<namespace>a)(?P<role>b)(?P<namespace>c)" }, /cannot reproduce/],
        ];
        for (const [opts, message] of cases) {
            assert.throws(() => createClaimMapper(opts), (e: unknown) => e instanceof ClaimsError && e.code === "invalid-options" && message.test(e.message), message.source);
        }
        // Blank JWKS URLs are skipped, as the server skips them.
        assert.throws(() => createClaimMapper({ jwksUri: ["  "] }), /no verification keys/);
    });
});
