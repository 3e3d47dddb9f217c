import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from "jose";
import { unwrap } from "../../scripts/lib/offline/engine";
import { declaredAccess, type Principal } from "../../infra/identity";
import { accessMatrix, createClaimMapper } from "../../policies/claims";
import { clientCertificatePem, TENANT_ID } from "./fixtures";
import { runSampleIdentity, type IdentityRun } from "./run";

/**
 * Admission with real tokens: for every principal of the sample access map, the token Entra ID
 * would issue (v2 issuer, the API's audience, `roles` = the app roles ASSIGNED by the resources the
 * component registered), signed RS256 with a local key, goes through the bundled validator with the
 * Entra profile; the access it grants must be exactly what the map declares.
 */

const KID = "entra-test-key-1";
const OTHER_TENANT = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

let run: IdentityRun;
let privateKey: CryptoKey;
let jwks: JSONWebKeySet;
let apiClientId: string;
let uiClientId: string;
/** Role values assigned on the API's service principal, by principal object id (read from the registered resources). */
const rolesByObjectId = new Map<string, string[]>();

type S = Record<string, unknown>;

before(async () => {
    run = await runSampleIdentity({ certificatePem: clientCertificatePem("payments-worker") });
    const pair = await generateKeyPair("RS256", { extractable: true });
    privateKey = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, use: "sig", alg: "RS256" }] };
    apiClientId = await unwrap(run.identity.apiClientId);
    uiClientId = await unwrap(run.identity.uiClientId);

    const api = run.engine.byName("azuread:index/application:Application", "temporal-api").state as S;
    const valueOf = new Map((api.appRoles as Array<{ id: string; value: string }>).map((r) => [r.id, r.value]));
    const apiSp = run.engine.byName("azuread:index/servicePrincipal:ServicePrincipal", "temporal-api-sp").state as S;
    for (const a of run.engine.ofType("azuread:index/appRoleAssignment:AppRoleAssignment")) {
        const st = a.state as S;
        if (st.resourceObjectId !== apiSp.objectId) continue;
        const value = valueOf.get(st.appRoleId as string);
        assert.ok(value, `assignment ${a.name} names app role ${String(st.appRoleId)}, which the API app does not declare`);
        const pid = st.principalObjectId as string;
        rolesByObjectId.set(pid, [...(rolesByObjectId.get(pid) ?? []), value]);
    }
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function sign(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: KID, ...header }).sign(privateKey);
}

/** The access token Entra issues for the API to a member of `principal` (user or group) or to a worker. */
async function entraAccessToken(principal: Principal, objectId: string, roles: string[], clientId: string): Promise<string> {
    const iat = nowSeconds() - 300; // Entra backdates iat/nbf by about five minutes
    const common = {
        aud: apiClientId,
        iss: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`,
        iat,
        nbf: iat,
        exp: iat + 3900,
        tid: TENANT_ID,
        ver: "2.0",
        azp: clientId,
        azpacr: "1",
        ...(roles.length > 0 ? { roles } : {}), // Entra omits the claim when nothing is assigned
    };
    if (principal.kind === "worker") {
        // Client credentials: oid = sub = the service principal, no scp.
        return sign({ ...common, oid: objectId, sub: objectId, idtyp: "app" });
    }
    // Delegated through the UI: a user (for a group, one of its members) signed in with the API's scope.
    const user = principal.kind === "user" ? objectId : randomUUID();
    return sign({ ...common, oid: user, sub: randomUUID().replace(/-/g, ""), scp: "default", name: "Test User", preferred_username: "someone@contoso.example" });
}

function mapper() {
    return createClaimMapper({
        profile: "entra",
        tenantId: TENANT_ID,
        audience: apiClientId,
        permissionsClaimName: run.identity.permissionsClaimName,
        acceptV1: run.cfg.identity.acceptV1Tokens,
        jwks,
    });
}

const namespaces = () => run.cfg.access.namespaces.map((n) => n.name);

async function rejection(token: string, m = mapper()): Promise<{ code: string; message: string }> {
    try {
        await m.getClaims({ authorization: `Bearer ${token}` });
    } catch (err) {
        return { code: String((err as { code?: unknown }).code), message: (err as Error).message };
    }
    assert.fail("the validator accepted a token it must reject");
}

describe("admission: tokens Entra would issue for the access map", () => {
    it("grants every principal exactly the access the map declares", async () => {
        const declared = declaredAccess(run.cfg.access);
        assert.equal(declared.length, 7);
        const m = mapper();
        for (const d of declared) {
            const objectId = await unwrap(run.identity.principalObjectIds[d.principal.key]!);
            const roles = rolesByObjectId.get(objectId) ?? [];
            assert.deepEqual([...roles].sort(), [...d.permissions].sort(), `${d.principal.label}: assigned app roles`);
            const clientId = d.principal.kind === "worker" ? await unwrap(run.identity.workers[d.principal.value]!.clientId) : uiClientId;
            const token = await entraAccessToken(d.principal, objectId, roles, clientId);
            const claims = await m.getClaims({ authorization: `Bearer ${token}` });
            assert.deepEqual(accessMatrix(claims, namespaces()), { cluster: d.cluster, namespaces: d.namespaces }, d.principal.label);
        }
    });

    it("gives a user in two groups the union of both, and a worker write on its own namespace only", async () => {
        const m = mapper();
        const guidGroup = await unwrap(run.identity.principalObjectIds["group:8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10"]!);
        const billing = await unwrap(run.identity.principalObjectIds["group:billing operators"]!);
        const roles = [...(rolesByObjectId.get(guidGroup) ?? []), ...(rolesByObjectId.get(billing) ?? [])];
        const member: Principal = { kind: "user", value: "carol@contoso.example", key: "user:carol@contoso.example", label: 'user "carol@contoso.example"', byObjectId: false };
        const claims = await m.getClaims({ authorization: `Bearer ${await entraAccessToken(member, randomUUID(), roles, uiClientId)}` });
        assert.deepEqual(accessMatrix(claims, namespaces()), { cluster: "read", namespaces: { payments: "read", orders: "read", billing: "admin" } });

        const worker = run.identity.workers["orders-worker"]!;
        const wid = await unwrap(worker.principalId);
        const workerPrincipal: Principal = { kind: "worker", value: "orders-worker", key: "worker:orders-worker", label: 'worker "orders-worker"', byObjectId: false };
        const wClaims = await m.getClaims({ authorization: `Bearer ${await entraAccessToken(workerPrincipal, wid, rolesByObjectId.get(wid) ?? [], await unwrap(worker.clientId))}` });
        assert.deepEqual(accessMatrix(wClaims, namespaces()), { cluster: "none", namespaces: { payments: "none", orders: "write", billing: "none" } });
    });
});

describe("admission: tokens the validator must refuse", () => {
    const adminRoles = ["temporal-system:admin"];
    const V1_ISSUER = `https://sts.windows.net/${TENANT_ID}/`;

    /** Claims every Entra token of this tenant has (v2 issuer, valid now); each case changes what it is about. */
    function tenantClaims(overrides: JWTPayload): JWTPayload {
        const iat = nowSeconds() - 300;
        return { iss: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`, iat, nbf: iat, exp: iat + 3600, tid: TENANT_ID, ver: "2.0", oid: randomUUID(), sub: "pairwise-subject", ...overrides };
    }

    it("refuses the UI's ID token (its audience is the UI, not the API)", async () => {
        const idToken = await sign(tenantClaims({ aud: uiClientId, nonce: "n-0S6_WzA2Mj", name: "Test User", preferred_username: "admin@contoso.example" }));
        const r = await rejection(idToken);
        assert.equal(r.code, "audience-mismatch", r.message);
    });

    it("refuses an ID token even where UI and API share a registration (API audience, roles, no azp)", async () => {
        const idToken = await sign(tenantClaims({ aud: apiClientId, nonce: "n-0S6_WzA2Mj", roles: adminRoles }));
        const r = await rejection(idToken);
        assert.equal(r.code, "id-token", r.message);
    });

    it("refuses a token of another tenant, even for this API's audience and signed by the same Microsoft keys", async () => {
        const token = await sign(tenantClaims({ aud: apiClientId, iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT, azp: randomUUID(), roles: adminRoles }));
        const r = await rejection(token);
        assert.ok(["wrong-issuer", "wrong-tenant"].includes(r.code), `${r.code}: ${r.message}`);
        assert.match(r.message, new RegExp(OTHER_TENANT));
    });

    it("refuses a v1 token while the API pins v2, and accepts it only when v1 is allowed explicitly", async () => {
        const v1 = await sign(tenantClaims({ aud: apiClientId, iss: V1_ISSUER, ver: "1.0", appid: uiClientId, roles: adminRoles }), { x5t: "x5t-thumbprint" });
        assert.equal(run.cfg.identity.acceptV1Tokens, false);
        const r = await rejection(v1);
        assert.equal(r.code, "wrong-issuer", r.message);
        const lenient = createClaimMapper({ profile: "entra", tenantId: TENANT_ID, audience: apiClientId, permissionsClaimName: "roles", acceptV1: true, jwks });
        const claims = await lenient.getClaims({ authorization: `Bearer ${v1}` });
        assert.equal(accessMatrix(claims, namespaces()).cluster, "admin");

        // A v1 token's audience is the App ID URI the client asked for: the audience check refuses it too.
        const v1Uri = await sign(tenantClaims({ aud: `api://${apiClientId}`, iss: V1_ISSUER, ver: "1.0", appid: uiClientId }));
        assert.equal((await rejection(v1Uri)).code, "audience-mismatch");
    });

    it("refuses a Microsoft Graph token (what a UI gets that asks only for OIDC scopes)", async () => {
        const graph = await sign(tenantClaims({ aud: GRAPH_APP_ID, iss: V1_ISSUER, ver: "1.0", appid: uiClientId, scp: "openid profile email" }), { nonce: "graph-header-nonce" });
        const r = await rejection(graph);
        assert.equal(r.code, "graph-token", r.message);
    });
});
