import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClaimsError, createClaimMapper, type ClaimMapper, type ClaimMapperOptions, type ClaimsErrorCode } from "../../policies/claims";
import { bearer, makeKey, rawToken, signed, type TestKey } from "./support";

const TENANT = "11111111-2222-3333-4444-555555555555";
const OTHER_TENANT = "99999999-8888-7777-6666-555555555555";
const API = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const CLIENT = "cccccccc-0000-0000-0000-000000000001";
const GRAPH = "00000003-0000-0000-c000-000000000000";
const NOW = 1_900_000_000;
const clock = (): number => NOW * 1000;

async function rejects(mapper: ClaimMapper, token: string, code: ClaimsErrorCode, message?: RegExp): Promise<void> {
    await assert.rejects(mapper.getClaims(bearer(token)), (e: unknown) => {
        assert.ok(e instanceof ClaimsError, String(e));
        assert.equal(e.code, code, e.message);
        if (message) assert.match(e.message, message);
        return true;
    });
}

for (const alg of ["RS256", "ES256"] as const) {
    describe(`profile "entra", ${alg}`, () => {
        let key: TestKey;
        let entra: ClaimMapper;
        let server: ClaimMapper;
        const base = (extra: Partial<ClaimMapperOptions> = {}): ClaimMapperOptions => ({ jwks: { keys: [key.publicJwk] }, now: clock, permissionsClaimName: "roles", ...extra });
        /** What Entra ID issues to a daemon for the API: v2, this tenant, azp, roles. */
        const access = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> =>
            signed(
                key,
                {
                    iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
                    aud: API,
                    sub: "sp-object-id",
                    oid: "sp-object-id",
                    tid: TENANT,
                    azp: CLIENT,
                    ver: "2.0",
                    roles: ["payments:write", "temporal-system:read"],
                    iat: NOW - 300,
                    nbf: NOW - 300,
                    exp: NOW + 3600,
                    ...over,
                },
                header,
            );

        before(async () => {
            key = await makeKey(alg, "entra-key");
            entra = createClaimMapper(base({ profile: "entra", tenantId: TENANT, audience: API }));
            server = createClaimMapper(base({ audience: API }));
        });

        it("accepts a v2 access token of the tenant, with the server's claims", async () => {
            const claims = await entra.getClaims(bearer(await access()));
            assert.deepEqual(JSON.parse(JSON.stringify(claims)), { subject: "sp-object-id", system: 2, namespaces: { payments: 4 } });
        });

        it("refuses options that would let any tenant in", () => {
            const cases: Array<[Partial<ClaimMapperOptions>, RegExp]> = [
                [{ profile: "entra", audience: API }, /needs tenantId/],
                [{ profile: "entra", tenantId: "contoso.onmicrosoft.com", audience: API }, /GUID/],
                [{ profile: "entra", tenantId: TENANT }, /needs audience.*ANY application in ANY tenant/],
                [{ profile: "entra", tenantId: TENANT, audience: " " }, /needs audience/],
            ];
            for (const [opts, message] of cases) {
                assert.throws(() => createClaimMapper(base(opts)), (e: unknown) => e instanceof ClaimsError && e.code === "invalid-options" && message.test(e.message), message.source);
            }
        });

        it("rejects another tenant's token (issuer and tid), which the server itself accepts", async () => {
            const foreign = await access({ iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT });
            assert.equal((await server.getClaims(bearer(foreign))).subject, "sp-object-id", "the server never checks iss or tid");
            await rejects(entra, foreign, "wrong-issuer", new RegExp(`issued by tenant ${OTHER_TENANT}`));
            await rejects(entra, await access({ tid: OTHER_TENANT }), "wrong-tenant");
            await rejects(entra, await access({ iss: "https://accounts.example.com" }), "wrong-issuer", /not issued by this Entra ID tenant/);
            await rejects(entra, await access({ iss: undefined }), "wrong-issuer");
        });

        it("rejects v1 tokens unless acceptV1, and then wants ver 1.0 from the v1 issuer", async () => {
            const v1 = await access({ iss: `https://sts.windows.net/${TENANT}/`, ver: "1.0", appid: CLIENT, azp: undefined });
            await rejects(entra, v1, "wrong-issuer", /requestedAccessTokenVersion to 2/);
            const withV1 = createClaimMapper(base({ profile: "entra", tenantId: TENANT, audience: API, acceptV1: true }));
            assert.equal((await withV1.getClaims(bearer(v1))).subject, "sp-object-id");
            await rejects(withV1, await access({ iss: `https://sts.windows.net/${TENANT}/`, ver: "2.0", appid: CLIENT }), "wrong-version");
        });

        it("rejects a wrong ver, a missing exp, ID tokens and Graph tokens", async () => {
            await rejects(entra, await access({ ver: "1.0" }), "wrong-version", /"1.0"/);
            await rejects(entra, await access({ ver: undefined }), "wrong-version");
            const noExp = await access({ exp: undefined });
            assert.equal((await server.getClaims(bearer(noExp))).subject, "sp-object-id", "the server accepts a token without exp");
            await rejects(entra, noExp, "missing-exp");
            await rejects(entra, await access({ exp: 0 }), "missing-exp");
            await rejects(entra, await access({ azp: undefined }), "id-token", /ID token/);
            await rejects(entra, await access({ aud: [API, GRAPH] }), "graph-token");
            // Graph tokens carry a nonce in the header; their signature cannot be checked by anyone but Graph.
            const graph = await access({}, { nonce: "abc" });
            const [h, p] = graph.split(".");
            await rejects(entra, `${h}.${p}.${"A".repeat(alg === "RS256" ? 342 : 86)}`, "graph-token", /api:\/\/<api-client-id>\/default/);
        });

        it("is never more lenient than the server: same rules, no clock skew", async () => {
            const bad = [
                await access({ exp: NOW }),
                await access({ nbf: NOW + 1 }),
                await access({ iat: NOW + 1 }),
                await access({ aud: "api://other" }),
                await access({ sub: 7 }),
                await access({}, { kid: "unknown" }),
                rawToken({ alg: "HS256", kid: key.kid }, { sub: "x" }, { alg: "HS256", secret: "s" }),
                (await access()).replace(/\.[^.]+$/, ".AAAA"),
            ];
            for (const t of bad) {
                await assert.rejects(server.getClaims(bearer(t)), ClaimsError);
                await assert.rejects(entra.getClaims(bearer(t)), ClaimsError);
            }
        });

        it("keeps the server's default claim name unless told otherwise", async () => {
            const m = createClaimMapper({ jwks: { keys: [key.publicJwk] }, now: clock, profile: "entra", tenantId: TENANT, audience: API });
            assert.equal(m.settings.permissionsClaimName, "permissions");
            assert.deepEqual(JSON.parse(JSON.stringify((await m.getClaims(bearer(await access()))).namespaces)), {});
        });
    });
}

describe('profile "entra" keys', () => {
    it("defaults the JWKS URL to the API's own key set, as the deployment configures the server", () => {
        const m = createClaimMapper({ profile: "entra", tenantId: TENANT, audience: API });
        assert.deepEqual(m.keySource.status().uris, [`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys?appid=${API.toLowerCase()}`]);
    });

    it("falls back to the tenant-wide keys when the audience is not a client id (e.g. api://…)", () => {
        const m = createClaimMapper({ profile: "entra", tenantId: TENANT, audience: "api://temporal" });
        assert.deepEqual(m.keySource.status().uris, [`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`]);
    });
});
