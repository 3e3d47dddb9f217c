import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { explain, formatExplain, type ExplainOptions } from "../../policies/claims";
import { makeKey, signed, type TestKey } from "./support";

const TENANT = "11111111-2222-3333-4444-555555555555";
const API = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const NOW = 1_900_000_000;
const clock = (): number => NOW * 1000;

describe("explain", () => {
    let key: TestKey;
    let opts: ExplainOptions;
    const entraToken = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> =>
        signed(
            key,
            {
                iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
                tid: TENANT,
                aud: API,
                azp: "client",
                ver: "2.0",
                sub: "oid",
                roles: ["payments:write", "temporal-system:read"],
                exp: NOW + 1800,
                ...over,
            },
            header,
        );

    before(async () => {
        key = await makeKey("RS256", "k");
        opts = { jwks: { keys: [key.publicJwk] }, now: clock, audience: API, permissionsClaimName: "roles" };
    });

    it("reports claims, access per namespace and the reason for each denial", async () => {
        const r = await explain(await entraToken(), { ...opts, namespaces: ["payments", "orders"] });
        assert.equal(r.verified, true);
        assert.equal(r.tokenKind, "entra-v2-access");
        assert.deepEqual(r.header, { alg: "RS256", kid: "k", typ: "JWT" });
        assert.deepEqual(JSON.parse(JSON.stringify(r.access)), { cluster: "read", namespaces: { payments: "write", orders: "read" } });
        assert.ok(r.denials.some((d) => /^namespace "orders" write: deny: StartWorkflowExecution needs Writer \(4\) on namespace "orders"/.test(d)));
        assert.ok(r.denials.some((d) => /^cluster admin: deny: ListClusters needs Admin \(8\)/.test(d)));
        assert.ok(r.notes.some((n) => /expires at .* \(in 30 min\)/.test(n)));
        assert.ok(r.notes.some((n) => /never checks "iss" or "tid"/.test(n)));
    });

    it("defaults the namespaces to those in the token", async () => {
        const r = await explain(await entraToken({ roles: ["a:read", "b:admin"] }), opts);
        assert.deepEqual(Object.keys(r.access?.namespaces ?? {}), ["a", "b"]);
    });

    it("collects every broken rule, the first being what getClaims throws", async () => {
        const r = await explain(await entraToken({ exp: NOW - 10, aud: "other", sub: 1 }), opts);
        assert.equal(r.verified, false);
        assert.deepEqual(
            r.problems.map((p) => p.code),
            ["expired", "audience-mismatch", "missing-subject"],
        );
        assert.equal(r.error?.code, "expired");
        assert.equal(r.claims, undefined);
        assert.deepEqual(r.access, { cluster: "none", namespaces: {} });
        assert.match(r.denials[0] ?? "", /every call, even a health check/);
    });

    it("adds Entra's rules in profile entra and names the token kind", async () => {
        const entra: ExplainOptions = { ...opts, profile: "entra", tenantId: TENANT };
        const idToken = await explain(await entraToken({ azp: undefined }), entra);
        assert.equal(idToken.tokenKind, "entra-id-token");
        assert.equal(idToken.error?.code, "id-token");
        const graph = await explain(await entraToken({}, { nonce: "n" }), entra);
        assert.equal(graph.tokenKind, "graph");
        assert.equal(graph.error?.code, "graph-token");
        const serverView = await explain(await entraToken({}, { nonce: "n" }), opts);
        assert.equal(serverView.tokenKind, "graph");
        assert.ok(serverView.notes.some((n) => /Microsoft Graph token/.test(n)));
    });

    it("points at the claim name when the roles are in another claim", async () => {
        const r = await explain(await entraToken(), { ...opts, permissionsClaimName: undefined });
        assert.ok(r.notes.some((n) => /set permissionsClaimName to "roles"/.test(n)));
        assert.deepEqual(
            r.findings.map((f) => f.code),
            ["claim-missing"],
        );
    });

    it("fails closed: bad options and an absent token are verified: false with the reason", async () => {
        const bad = await explain(await entraToken(), { ...opts, profile: "entra" });
        assert.equal(bad.verified, false);
        assert.equal(bad.error?.code, "invalid-options");
        const empty = await explain("", opts);
        assert.equal(empty.verified, false);
        assert.equal(empty.tokenKind, "none");
        assert.deepEqual(JSON.parse(JSON.stringify(empty.claims)), { subject: "", system: 0, namespaces: {} });
        assert.ok(empty.notes.some((n) => /no token/.test(n)));
        const junk = await explain("not-a-jwt", opts);
        assert.equal(junk.verified, false);
        assert.equal(junk.error?.code, "malformed-token");
    });

    it("formats for people without the token", async () => {
        const token = await entraToken({ roles: ["system:admin"] });
        const text = formatExplain(await explain(token, opts));
        assert.match(text, /^VALID/);
        assert.match(text, /legacy "system" scope/);
        for (const piece of [token, ...token.split(".")]) assert.ok(!text.includes(piece));
    });
});
