import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, unwrap, type RecordedResource } from "../../scripts/lib/offline/engine";
import { EMULATED_GRAPH_OBJECT_ID, emulatedGroupObjectId, emulatedUserObjectId } from "../../scripts/lib/offline/emulators/azuread";
import { appRoleTable, deterministicUuid, GRAPH_OIDC_PERMISSION_IDS, secretEndDate } from "../../infra/identity";
import { clientCertificatePem, opensslValidity, OIDC_ISSUER, TENANT_ID } from "./fixtures";
import { runSampleIdentity, type IdentityRun } from "./run";

const T = {
    app: "azuread:index/application:Application",
    uri: "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri",
    sp: "azuread:index/servicePrincipal:ServicePrincipal",
    preAuth: "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized",
    password: "azuread:index/applicationPassword:ApplicationPassword",
    cert: "azuread:index/applicationCertificate:ApplicationCertificate",
    assignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
    consent: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
    rotating: "time:index/rotating:Rotating",
    kvSecret: "azure-native:keyvault:Secret",
    mi: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
};

const certificatePem = clientCertificatePem("payments-worker");
let run: IdentityRun;
const res = (type: string, name: string): RecordedResource => run.engine.byName(type, name);
const s = (r: RecordedResource) => r.state as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

before(async () => {
    run = await runSampleIdentity({ certificatePem });
});

describe("TemporalIdentity: API registration", () => {
    it("is single tenant, pins v2 tokens, declares the default scope and one app role per permission", () => {
        const api = s(res(T.app, "temporal-api"));
        assert.equal(api.displayName, "Temporal API (dev)");
        assert.equal(api.signInAudience, "AzureADMyOrg");
        assert.equal(api.api.requestedAccessTokenVersion, 2);
        assert.deepEqual(
            api.api.oauth2PermissionScopes.map((x: { id: string; value: string; type: string; enabled: boolean }) => [x.id, x.value, x.type, x.enabled]),
            [[deterministicUuid("dev", "oauth2-permission-scope", "default"), "default", "User", true]],
        );
        assert.deepEqual(api.appRoles, appRoleTable("dev", run.cfg.access));
        assert.equal(api.identifierUris.length, 0, "identifierUris belong to ApplicationIdentifierUri");
        assert.equal(api.web, undefined, "the API has no redirect URIs: nobody signs in to it");
    });

    it("ignores identifierUris on the Application, so ApplicationIdentifierUri can own api://<client-id>", () => {
        const reg = run.registrations.find((r) => r.type === T.app && r.name === "temporal-api");
        assert.deepEqual(reg?.opts.ignoreChanges, ["identifierUris"]);
        const others = run.registrations.filter((r) => r.type === T.app && r.name !== "temporal-api");
        for (const o of others) assert.equal(o.opts.ignoreChanges, undefined, o.name);
    });

    it("sets api://<client-id> with ApplicationIdentifierUri and exposes it", async () => {
        const api = res(T.app, "temporal-api");
        const uri = s(res(T.uri, "temporal-api-uri"));
        assert.equal(uri.applicationId, api.id);
        assert.equal(uri.identifierUri, `api://${s(api).clientId}`);
        assert.equal(await unwrap(run.identity.apiIdentifierUri), `api://${s(api).clientId}`);
        assert.equal(await unwrap(run.identity.apiScope), `api://${s(api).clientId}/default`);
        assert.equal(await unwrap(run.identity.apiAppOnlyScope), `api://${s(api).clientId}/.default`);
    });

    it("requires assignment on the API's service principal, so unassigned callers get no token", () => {
        const sp = s(res(T.sp, "temporal-api-sp"));
        assert.equal(sp.clientId, s(res(T.app, "temporal-api")).clientId);
        assert.equal(sp.appRoleAssignmentRequired, true);
    });
});

describe("TemporalIdentity: UI registration", () => {
    it("is a confidential web client: callback URIs, no implicit grant, API scope plus OIDC scopes", () => {
        const ui = s(res(T.app, "temporal-ui"));
        const api = s(res(T.app, "temporal-api"));
        assert.equal(ui.signInAudience, "AzureADMyOrg");
        assert.deepEqual(ui.web.redirectUris, ["https://temporal.dev.contoso.example/auth/sso/callback", "http://localhost:8080/auth/sso/callback"]);
        assert.deepEqual(ui.web.implicitGrant, { accessTokenIssuanceEnabled: false, idTokenIssuanceEnabled: false });
        assert.equal(ui.publicClient, undefined);
        assert.deepEqual(ui.requiredResourceAccesses, [
            { resourceAppId: api.clientId, resourceAccesses: [{ id: api.oauth2PermissionScopeIds.default, type: "Scope" }] },
            { resourceAppId: "00000003-0000-0000-c000-000000000000", resourceAccesses: Object.values(GRAPH_OIDC_PERMISSION_IDS).map((id) => ({ id, type: "Scope" })) },
        ]);
        assert.notEqual(ui.clientId, api.clientId, "UI and API are separate registrations");
    });

    it("is pre-authorized for the API's default scope, and consented for sign-in", () => {
        const pre = s(res(T.preAuth, "temporal-ui-preauthorized"));
        const api = res(T.app, "temporal-api");
        assert.equal(pre.applicationId, api.id);
        assert.equal(pre.authorizedClientId, s(res(T.app, "temporal-ui")).clientId);
        assert.deepEqual(pre.permissionIds, [s(api).oauth2PermissionScopeIds.default]);
        const consent = s(res(T.consent, "temporal-ui-signin-consent"));
        assert.equal(consent.servicePrincipalObjectId, s(res(T.sp, "temporal-ui-sp")).objectId);
        assert.equal(consent.resourceServicePrincipalObjectId, EMULATED_GRAPH_OBJECT_ID);
        assert.deepEqual(consent.claimValues, ["openid", "profile", "email", "offline_access"]);
        assert.equal(consent.userObjectId, undefined, "tenant-wide consent");
    });

    it("requires assignment on the UI's service principal and assigns exactly the map's users and groups", () => {
        const uiSp = s(res(T.sp, "temporal-ui-sp"));
        assert.equal(uiSp.appRoleAssignmentRequired, true);
        const signIn = run.engine.ofType(T.assignment).filter((a) => s(a).resourceObjectId === uiSp.objectId);
        assert.deepEqual(signIn.map((a) => s(a).appRoleId), Array(5).fill("00000000-0000-0000-0000-000000000000"));
        assert.deepEqual(
            signIn.map((a) => s(a).principalObjectId).sort(),
            [
                emulatedGroupObjectId("Temporal Platform Admins"),
                "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10",
                emulatedGroupObjectId("Billing Operators"),
                emulatedUserObjectId("alice@contoso.example"),
                emulatedUserObjectId("bob@contoso.example"),
            ].sort(),
        );
    });

    it("names assignments of a group given by object id with the whole id, aliased to the cut 0.1.0 name", () => {
        const id = "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10";
        const byId = run.registrations.filter((r) => r.type === T.assignment && r.name.includes("8d3c4a57"));
        assert.equal(byId.length, 3, "payments:read, orders:read and the UI sign-in");
        for (const r of byId) {
            assert.ok(r.name.includes(`group-${id}-`), r.name);
            const aliases = (r.opts.aliases ?? []) as Array<{ name?: string }>;
            assert.deepEqual(aliases.map((a) => a.name), [r.name.replace(id, id.slice(0, 34))]);
        }
        const byName = run.registrations.find((r) => r.type === T.assignment && r.name.includes("temporal-platform-admins"))!;
        assert.equal(byName.opts.aliases, undefined, "an unchanged name needs no alias");
    });

    it("exposes callback URL, redirect URIs and scopes", async () => {
        const apiClientId = s(res(T.app, "temporal-api")).clientId as string;
        assert.equal(run.identity.uiCallbackUrl, "https://temporal.dev.contoso.example/auth/sso/callback");
        assert.deepEqual(run.identity.uiRedirectUris, s(res(T.app, "temporal-ui")).web.redirectUris);
        assert.equal(await unwrap(run.identity.uiClientId), s(res(T.app, "temporal-ui")).clientId);
        assert.deepEqual(await unwrap(run.identity.uiScopes), ["openid", "profile", "email", "offline_access", `api://${apiClientId}/default`]);
        assert.equal(await unwrap(run.identity.uiScopesString), `openid,profile,email,offline_access,api://${apiClientId}/default`);
        assert.equal(run.identity.tenantId, TENANT_ID);
        assert.equal(run.identity.issuerUrl, `https://login.microsoftonline.com/${TENANT_ID}/v2.0`);
        // The API's own keys only: tokens for other applications or tenants do not verify (streams skip the audience).
        assert.equal(await unwrap(run.identity.jwksUrl), `https://login.microsoftonline.com/${TENANT_ID}/discovery/v2.0/keys?appid=${apiClientId}`);
        assert.equal(run.identity.permissionsClaimName, "roles");
    });
});

describe("TemporalIdentity: UI client secret", () => {
    it("rotates through time.Rotating on the configured schedule, with a grace period before it expires", () => {
        const rotation = res(T.rotating, "temporal-ui-secret-rotation");
        assert.equal(s(rotation).rotationDays, 90);
        const password = s(res(T.password, "temporal-ui-secret"));
        assert.equal(password.applicationId, res(T.app, "temporal-ui").id);
        assert.deepEqual(password.rotateWhenChanged, { rotation: rotation.id });
        assert.equal(password.endDate, secretEndDate(s(rotation).rfc3339, 120));
    });

    it("is a Pulumi secret in the output and in the Key Vault secret's value", async () => {
        assert.equal(await isSecret(run.identity.uiClientSecret), true);
        assert.equal(await unwrap(run.identity.uiClientSecret), s(res(T.password, "temporal-ui-secret")).value);
        const reg = run.registrations.find((r) => r.type === T.kvSecret);
        assert.ok(reg, "a Key Vault secret is registered");
        const props = reg.props as { properties: { value: pulumi.Output<string> } };
        assert.equal(await isSecret(props.properties.value), true);
        assert.deepEqual((reg.opts as pulumi.CustomResourceOptions).additionalSecretOutputs, ["properties"]);
        const password = run.registrations.find((r) => r.type === T.password)?.opts as pulumi.CustomResourceOptions | undefined;
        assert.ok(password?.additionalSecretOutputs?.includes("value"), "azuread marks the password value secret");
    });

    it("is written to the stack's Key Vault under the name the UI reads", () => {
        const kv = s(res(T.kvSecret, "temporal-ui-secret-kv"));
        assert.equal(kv.vaultName, "kv-temporal-dev");
        assert.equal(kv.resourceGroupName, "rg-temporal-dev");
        assert.equal(kv.secretName, run.identity.uiClientSecretName);
        assert.equal(run.identity.uiClientSecretName, "temporal-ui-client-secret");
        const endDate = s(res(T.password, "temporal-ui-secret")).endDate as string;
        const registered = run.registrations.find((r) => r.type === T.kvSecret)!;
        return unwrap(pulumi.output(registered.props.properties as pulumi.Input<{ contentType: string; attributes: { expires: number } }>)).then((p) => {
            assert.equal(p.contentType, "text/plain");
            assert.equal(p.attributes.expires, Date.parse(endDate) / 1000);
        });
    });
});

describe("TemporalIdentity: workers", () => {
    it("gives an AKS worker a managed identity federated with its service account, and no secret", () => {
        const mi = res(T.mi, "temporal-worker-orders-worker");
        assert.equal(s(mi).resourceName, "id-temporal-dev-orders-worker");
        assert.equal(s(mi).location, "westeurope");
        assert.equal(s(mi).resourceGroupName, "rg-temporal-dev");
        const fic = s(res(T.fic, "temporal-worker-orders-worker-federation"));
        assert.equal(fic.resourceName, "id-temporal-dev-orders-worker");
        assert.equal(fic.issuer, OIDC_ISSUER);
        assert.equal(fic.subject, "system:serviceaccount:orders:orders-sa");
        assert.deepEqual(fic.audiences, ["api://AzureADTokenExchange"]);
        assert.equal(run.engine.resources.filter((r) => r.name.startsWith("temporal-worker-orders-worker") && r.type.startsWith("azuread:")).length, 0);
    });

    it("gives an external worker an app registration whose credential is its client certificate", () => {
        const app = res(T.app, "temporal-worker-payments-worker");
        assert.equal(s(app).displayName, "Temporal worker payments-worker (dev)");
        assert.equal(s(app).signInAudience, "AzureADMyOrg");
        const reg = run.registrations.find((r) => r.type === T.cert);
        assert.ok(reg);
        return unwrap(pulumi.output(reg.props as pulumi.Input<Record<string, string>>)).then((cert) => {
            assert.equal(cert.applicationId, app.id);
            assert.equal(cert.type, "AsymmetricX509Cert");
            assert.equal(cert.encoding, "pem");
            assert.equal(cert.value, certificatePem);
            assert.deepEqual({ startDate: cert.startDate, endDate: cert.endDate }, opensslValidity(certificatePem));
            assert.equal(run.engine.ofType(T.password).length, 1, "only the UI has a password");
        });
    });

    it("exposes each worker's client id and principal", async () => {
        const mi = s(res(T.mi, "temporal-worker-orders-worker"));
        const sp = s(res(T.sp, "temporal-worker-payments-worker-sp"));
        assert.equal(run.identity.workers["orders-worker"]?.kind, "managed-identity");
        assert.equal(await unwrap(run.identity.workers["orders-worker"]!.clientId), mi.clientId);
        assert.equal(await unwrap(run.identity.workers["orders-worker"]!.principalId), mi.principalId);
        assert.equal(run.identity.workers["payments-worker"]?.kind, "app-registration");
        assert.equal(sp.appRoleAssignmentRequired, true, "nobody gets a token for the worker's own app");
        assert.equal(await unwrap(run.identity.workers["payments-worker"]!.clientId), s(res(T.app, "temporal-worker-payments-worker")).clientId);
        assert.equal(await unwrap(run.identity.workers["payments-worker"]!.principalId), sp.objectId);
    });
});

describe("TemporalIdentity: app role assignments", () => {
    it("assigns every (principal, permission) on the API's service principal, resolving each principal", () => {
        const apiSp = s(res(T.sp, "temporal-api-sp"));
        const roleIds = s(res(T.app, "temporal-api")).appRoleIds as Record<string, string>;
        const valueOf = Object.fromEntries(Object.entries(roleIds).map(([v, id]) => [id, v]));
        const onApi = run.engine.ofType(T.assignment).filter((a) => s(a).resourceObjectId === apiSp.objectId);
        const got = onApi.map((a) => `${s(a).principalObjectId} ${valueOf[s(a).appRoleId]}`).sort();
        const mi = s(res(T.mi, "temporal-worker-orders-worker")).principalId;
        const paymentsSp = s(res(T.sp, "temporal-worker-payments-worker-sp")).objectId;
        const admins = emulatedGroupObjectId("Temporal Platform Admins");
        const billing = emulatedGroupObjectId("Billing Operators");
        const guid = "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10";
        const alice = emulatedUserObjectId("alice@contoso.example");
        const bob = emulatedUserObjectId("bob@contoso.example");
        assert.deepEqual(
            got,
            [
                `${admins} temporal-system:admin`,
                `${guid} payments:read`,
                `${guid} orders:read`,
                `${billing} billing:admin`,
                `${billing} temporal-system:read`,
                `${alice} payments:write`,
                `${bob} orders:write`,
                `${bob} billing:read`,
                `${paymentsSp} payments:write`,
                `${paymentsSp} payments:worker`,
                `${mi} orders:write`,
            ].sort(),
        );
        const typeOf = Object.fromEntries(onApi.map((a) => [s(a).principalObjectId, s(a).principalType]));
        assert.deepEqual([typeOf[guid], typeOf[admins], typeOf[alice], typeOf[mi], typeOf[paymentsSp]], ["Group", "Group", "User", "ServicePrincipal", "ServicePrincipal"]);
    });

    it("waits for the API app (an update may add the role it assigns)", async () => {
        const api = run.registrations.filter((r) => r.type === T.assignment && r.name.startsWith("temporal-role-"));
        assert.equal(api.length, 11);
        for (const a of api) {
            const urns = await Promise.all((a.opts.dependsOn as pulumi.Resource[]).map((d) => unwrap(d.urn)));
            assert.deepEqual(urns.map((u) => u.split("::").pop()), ["temporal-api"], a.name);
        }
    });

    it("exposes every principal's object id", async () => {
        assert.equal(await unwrap(run.identity.principalObjectIds["group:8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10"]!), "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10");
        assert.equal(await unwrap(run.identity.principalObjectIds["user:bob@contoso.example"]!), emulatedUserObjectId("bob@contoso.example"));
        assert.deepEqual(Object.keys(run.identity.principalObjectIds).length, 7);
    });
});
