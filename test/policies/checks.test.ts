import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { checkAuthorization, checkChartPinned, checkMutualTls, checkServerEnv, checkUiSso, findSecretMaterial } from "../../policies/pack/checks/release";
import { checkAppRoleValue, checkAssignmentRequired, checkCertificate, checkVault } from "../../policies/pack/checks/azure";
import { resourcePolicies, TYPES } from "../../policies/pack/policies";

const TENANT = "11111111-2222-3333-4444-555555555555";
const API = "0b6a2c1e-3d4f-4a5b-8c9d-0e1f2a3b4c5d";

/** Values as a correct release sets them; each test breaks one thing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a deliberately loose fixture each test mutates
function goodValues(): Record<string, any> {
    return {
        server: {
            image: { tag: "1.31.2" },
            "internal-frontend": { enabled: true },
            additionalVolumes: [
                { name: "internode-tls", secret: { secretName: "temporal-internode-tls" } },
                { name: "frontend-tls", secret: { secretName: "temporal-frontend-tls" } },
            ],
            additionalVolumeMounts: [
                { name: "internode-tls", mountPath: "/etc/temporal/tls/internode", readOnly: true },
                { name: "frontend-tls", mountPath: "/etc/temporal/tls/frontend", readOnly: true },
            ],
            config: {
                tls: {
                    refreshInterval: "1m",
                    internode: {
                        server: { certFile: "/etc/temporal/tls/internode/tls.crt", keyFile: "/etc/temporal/tls/internode/tls.key", requireClientAuth: true, clientCaFiles: ["/etc/temporal/tls/internode/ca.crt"] },
                        client: { serverName: "temporal-internode.temporal.svc", rootCaFiles: ["/etc/temporal/tls/internode/ca.crt"] },
                    },
                    frontend: {
                        server: { certFile: "/etc/temporal/tls/frontend/tls.crt", keyFile: "/etc/temporal/tls/frontend/tls.key", requireClientAuth: true, clientCaFiles: ["/etc/temporal/tls/frontend/ca.crt"] },
                        client: { serverName: "temporal-frontend.temporal.svc", rootCaFiles: ["/etc/temporal/tls/frontend/ca.crt"] },
                    },
                },
                authorization: {
                    jwtKeyProvider: { keySourceURIs: [`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys?appid=${API}`], refreshInterval: "1h" },
                    permissionsClaimName: "roles",
                    authorizer: "default",
                    claimMapper: "default",
                    audience: API,
                },
            },
            additionalEnv: [],
        },
        admintools: { image: { tag: "1.31.2" } },
        web: {
            image: { tag: "2.52.0" },
            additionalEnvSecretName: "temporal-ui-auth",
            additionalEnv: [
                { name: "TEMPORAL_TLS_CA", value: "/etc/temporal/tls/ca.crt" },
                { name: "TEMPORAL_TLS_CERT", value: "/etc/temporal/tls/tls.crt" },
                { name: "TEMPORAL_TLS_KEY", value: "/etc/temporal/tls/tls.key" },
                { name: "TEMPORAL_TLS_SERVER_NAME", value: "temporal-frontend.temporal.svc" },
                { name: "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION", value: "true" },
                { name: "TEMPORAL_AUTH_ENABLED", value: "true" },
                { name: "TEMPORAL_AUTH_PROVIDER_URL", value: `https://login.microsoftonline.com/${TENANT}/v2.0` },
                { name: "TEMPORAL_AUTH_ISSUER_URL", value: `https://login.microsoftonline.com/${TENANT}/v2.0` },
                { name: "TEMPORAL_AUTH_CALLBACK_URL", value: "https://temporal.example.com/auth/sso/callback" },
                { name: "TEMPORAL_AUTH_SCOPES", value: `openid,profile,email,offline_access,api://${API}/default` },
            ],
        },
    };
}

describe("release checks", () => {
    it("pass a correctly wired release", () => {
        const v = goodValues();
        assert.deepEqual([...checkMutualTls(v), ...checkAuthorization(v), ...checkServerEnv(v), ...checkUiSso(v), ...findSecretMaterial(v)], []);
        assert.deepEqual(checkChartPinned({ chart: "temporal", version: "1.6.0", repositoryOpts: { repo: "https://go.temporal.io/helm-charts" }, values: v }), []);
    });

    it("catch a missing audience (any tenant's token would verify)", () => {
        const v = goodValues();
        delete v.server.config.authorization.audience;
        assert.deepEqual(checkAuthorization(v), [
            "values.server.config.authorization.audience must be the API's client id: without it a token for ANY app of ANY tenant verifies (Microsoft signs them all with the same keys)",
        ]);
    });

    it("catch the system worker being denied (no internal frontend)", () => {
        const v = goodValues();
        v.server["internal-frontend"].enabled = false;
        assert.deepEqual(checkAuthorization(v), [
            "values.server.internal-frontend.enabled must be true: with an authorizer on, the system worker carries no token and is denied on the public frontend",
        ]);
    });

    it("catch certificates that are never reloaded", () => {
        const v = goodValues();
        v.server.config.tls.refreshInterval = "0s";
        assert.deepEqual(checkMutualTls(v), [
            "values.server.config.tls.refreshInterval must be a duration such as 1m: with 0 (the default) rotated certificates are never reloaded",
        ]);
    });

    it("catch TLS configured through keys the released chart 1.6.0 never reads, and client auth turned off", () => {
        const v = goodValues();
        v.server.tls = { frontend: { enabled: true } };
        v.server.config.tls.frontend.server.requireClientAuth = false;
        v.web.additionalEnv = v.web.additionalEnv.filter((e: { name: string }) => e.name !== "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION");
        assert.deepEqual(checkMutualTls(v), [
            "values.server.tls is not read by the released chart 1.6.0 (it exists only on the chart's main branch): TLS would silently stay off; configure server.config.tls and mount the Secrets instead",
            "values.server.config.tls.frontend.server.requireClientAuth must be true: mTLS is the first gate",
            'values.web.additionalEnv TEMPORAL_TLS_ENABLE_HOST_VERIFICATION must be "true": otherwise the UI trusts any certificate from the CA for any name',
        ]);
    });

    it("catch env vars the server never reads and tctl-only ones", () => {
        const v = goodValues();
        v.server.additionalEnv = [{ name: "TEMPORAL_AUTH_AUDIENCE", value: API }, { name: "TEMPORAL_CLI_AUTH", value: "x" }, { name: "TEMPORAL_JWT_KEY_SOURCE1", value: "https://x" }];
        assert.deepEqual(checkServerEnv(v), [
            "values.server.additionalEnv sets TEMPORAL_AUTH_AUDIENCE, which the server never reads (it is silently ignored): use server.config instead",
            "values.server.additionalEnv sets TEMPORAL_CLI_AUTH: TEMPORAL_CLI_* is read by the old tctl, never by the server",
        ]);
    });

    it("catch a UI that would get a Microsoft Graph token, and a literal client secret", () => {
        const v = goodValues();
        v.web.additionalEnv = v.web.additionalEnv.map((e: { name: string; value: string }) => (e.name === "TEMPORAL_AUTH_SCOPES" ? { ...e, value: "openid,profile,email" } : e));
        v.web.additionalEnv.push({ name: "TEMPORAL_AUTH_CLIENT_SECRET", value: "s3cr3t" });
        assert.deepEqual(checkUiSso(v), [
            'values.web.additionalEnv TEMPORAL_AUTH_SCOPES must include the API scope api://<api-client-id>/default: with only OIDC scopes the UI gets a Microsoft Graph token and every call is "Request unauthorized"',
            "values.web.additionalEnv must not carry TEMPORAL_AUTH_CLIENT_SECRET: put it in the Secret named by web.additionalEnvSecretName",
        ]);
        assert.deepEqual(findSecretMaterial(v), ["values.web.additionalEnv.10 sets TEMPORAL_AUTH_CLIENT_SECRET as a literal env value: use a Secret"]);
    });

    it("catch UI variables the UI server ignores, and a UI that opens a namespace the release does not create", () => {
        const v = goodValues();
        v.web.additionalEnv.push({ name: "TEMPORAL_AUTH_LABEL", value: "Microsoft Entra ID" }, { name: "TEMPORAL_AUTH_AUDIENCE", value: API });
        (v.server.config as Record<string, unknown>).namespaces = { create: true, namespace: [{ name: "payments" }, { name: "orders" }] };
        assert.deepEqual(checkUiSso(v), [
            'values.web.additionalEnv sets TEMPORAL_AUTH_LABEL, which ui-server 2.52.0 ignores: its sign-in page says "Continue to SSO" whatever the label (the settings it renders from carry none)',
            "values.web.additionalEnv sets TEMPORAL_AUTH_AUDIENCE, which the UI server never reads (it is silently ignored)",
            'values.web.additionalEnv TEMPORAL_DEFAULT_NAMESPACE is not set, so the UI opens "default" after sign-in, which the release does not create ("Namespace … is not found"): set it to one of payments, orders',
        ]);
        v.web.additionalEnv = v.web.additionalEnv.filter((e: { name: string }) => !["TEMPORAL_AUTH_LABEL", "TEMPORAL_AUTH_AUDIENCE"].includes(e.name));
        v.web.additionalEnv.push({ name: "TEMPORAL_DEFAULT_NAMESPACE", value: "orders" });
        assert.deepEqual(checkUiSso(v), []);
    });

    it("catch private keys and passwords in plain values", () => {
        const found = findSecretMaterial({ a: { tlsKey: "-----BEGIN EC PRIVATE KEY-----\nabc" }, db: { password: "hunter2", existingSecret: "db" } });
        assert.deepEqual(found, [
            "values.a.tlsKey holds a private key in plain text: reference a Secret instead",
            "values.db.password holds a literal secret: reference a Secret (existingSecret / additionalEnvSecretName) instead",
        ]);
    });

    it("catch an unpinned chart or image", () => {
        const v = goodValues();
        v.web.image.tag = "latest";
        assert.deepEqual(checkChartPinned({ chart: "temporal", repositoryOpts: { repo: "https://go.temporal.io/helm-charts" }, values: v }), [
            'version must pin chart 1.6.0 (got undefined): an unpinned chart changes under you',
            'values.web.image.tag must pin an image version (got "latest"), never latest',
        ]);
    });
});

describe("Azure and TLS checks", () => {
    it("app role values must be exact Temporal permissions", () => {
        assert.deepEqual(checkAppRoleValue("payments:write"), []);
        assert.deepEqual(checkAppRoleValue("temporal-system:admin"), []);
        assert.match(checkAppRoleValue("system:admin")[0]!, /legacy "system" scope/);
        assert.match(checkAppRoleValue("Temporal-system:admin")[0]!, /not the cluster scope/);
        assert.match(checkAppRoleValue("payments:reader")[0]!, /unknown role word/);
        assert.match(checkAppRoleValue("payments")[0]!, /has no colon/);
    });

    it("service principals require assignment; vaults are hardened by stack kind", () => {
        assert.deepEqual(checkAssignmentRequired({ appRoleAssignmentRequired: true }), []);
        assert.equal(checkAssignmentRequired({}).length, 1);
        const vault = { properties: { enableRbacAuthorization: true } };
        assert.deepEqual(checkVault(vault, true), []);
        assert.deepEqual(checkVault(vault, false), ["properties.enablePurgeProtection must be true on every stack that is not ephemeral"]);
        assert.deepEqual(checkVault({ properties: { enablePurgeProtection: true } }, false), ["properties.enableRbacAuthorization must be true (the SDK default is false: access policies)"]);
    });

    it("certificates need snake_case usages, no cert_signing on leaves, and a renewal window inside validity", () => {
        assert.deepEqual(checkCertificate({ allowedUses: ["digital_signature", "server_auth", "client_auth"], validityPeriodHours: 2160, earlyRenewalHours: 720 }), []);
        assert.deepEqual(checkCertificate({ allowedUses: ["serverAuth"], validityPeriodHours: 100, earlyRenewalHours: 100 }), [
            'allowedUses value "serverAuth" is not in the provider\'s snake_case vocabulary (e.g. server_auth, client_auth, cert_signing)',
            "earlyRenewalHours (100) must be shorter than validityPeriodHours (100), or the certificate is reissued on every update",
        ]);
        assert.deepEqual(checkCertificate({ isCaCertificate: true, allowedUses: ["digital_signature"], validityPeriodHours: 10 }), ["a CA certificate needs cert_signing in allowedUses"]);
    });
});

describe("resource policies (as the engine calls them)", () => {
    function run(type: string, props: Record<string, unknown>, tags: Record<string, string> = {}): string[] {
        const violations: string[] = [];
        const args = { type, props, urn: `urn:pulumi:t::p::${type}::r`, name: "r", opts: {}, stackTags: new Map(Object.entries(tags)) } as unknown as ResourceValidationArgs;
        for (const p of resourcePolicies) for (const v of [p.validateResource ?? []].flat()) void v(args, (m) => violations.push(`${p.name}: ${m}`));
        return violations;
    }

    it("report each violation under its policy name, and ignore other resource types", () => {
        assert.deepEqual(run(TYPES.vault, { properties: { enableRbacAuthorization: true } }), ["key-vault-hardened: properties.enablePurgeProtection must be true on every stack that is not ephemeral"]);
        assert.deepEqual(run(TYPES.vault, { properties: { enableRbacAuthorization: true } }, { "temporal-azure:profile": "ephemeral" }), []);
        assert.deepEqual(run("azure-native:resources:ResourceGroup", { location: "westeurope" }), []);
        const values = goodValues();
        values.server.config.authorization.claimMapper = "";
        assert.deepEqual(run(TYPES.release, { chart: "temporal", version: "1.6.0", repositoryOpts: { repo: "https://go.temporal.io/helm-charts" }, values }), [
            'temporal-jwt-authorization: values.server.config.authorization.claimMapper must be "default" (got ""): empty makes everyone system admin',
        ]);
    });
});

describe("token admission (stack policy)", () => {
    const TENANT_ID = "11111111-2222-3333-4444-555555555555";
    const API_ID = "0b6a2c1e-3d4f-4a5b-8c9d-0e1f2a3b4c5d";
    function stack(auth: Record<string, unknown>, roles: Array<[string, string]>, assignments: Array<[string, string]>) {
        return [
            { type: "kubernetes:helm.sh/v3:Release", name: "temporal", props: { chart: "temporal", values: { server: { config: { authorization: auth, namespaces: { namespace: [{ name: "payments" }] } } } } } },
            { type: "azuread:index/application:Application", name: "api", props: { clientId: API_ID, appRoles: roles.map(([id, value]) => ({ id, value })) } },
            ...assignments.map(([principal, roleId], i) => ({ type: "azuread:index/appRoleAssignment:AppRoleAssignment", name: `a${i}`, props: { appRoleId: roleId, principalObjectId: principal, principalType: "Group" } })),
        ];
    }
    const auth = (extra: Record<string, unknown> = {}) => ({
        audience: API_ID,
        permissionsClaimName: "roles",
        jwtKeyProvider: { keySourceURIs: [`https://login.microsoftonline.com/${TENANT_ID}/discovery/v2.0/keys?appid=${API_ID}`] },
        ...extra,
    });

    it("admits principals whose tokens open exactly what their roles say", async () => {
        const { runTokenAdmission } = await import("../../policies/pack/admission");
        const r = await runTokenAdmission(stack(auth(), [["r1", "payments:write"], ["r2", "temporal-system:read"]], [["g1", "r1"], ["g2", "r2"]]));
        assert.deepEqual(r.violations, []);
        assert.deepEqual(r.principals.map((p) => [p.principalObjectId, p.cluster, p.namespaces.payments]), [["g1", "none", "write"], ["g2", "read", "read"]]);
    });

    it("signs with the key pair the caller started generating, when given one (the offline plan makes it while the program runs)", async () => {
        const { runTokenAdmission } = await import("../../policies/pack/admission");
        const { generateKeyPair } = await import("jose");
        let used = false;
        const signingKey = generateKeyPair("RS256").then((k) => ((used = true), k));
        const r = await runTokenAdmission(stack(auth(), [["r1", "payments:write"]], [["g1", "r1"]]), { signingKey });
        assert.equal(used, true);
        assert.deepEqual(r.principals.map((p) => [p.principalObjectId, p.namespaces.payments]), [["g1", "write"]]);
        await assert.rejects(runTokenAdmission(stack(auth(), [["r1", "payments:write"]], [["g1", "r1"]]), { signingKey: Promise.reject(new Error("no key")) }), /no key/);
    });

    it("fails when the audience is not the API's client id, or the claim name is not roles", async () => {
        const { runTokenAdmission } = await import("../../policies/pack/admission");
        const wrongAud = await runTokenAdmission(stack(auth({ audience: "11111111-1111-1111-1111-111111111111" }), [["r1", "payments:write"]], [["g1", "r1"]]));
        assert.match(wrongAud.violations[0]!, /is not the API registration's client id/);
        assert.match(wrongAud.violations[1]!, /^principal g1: the token Entra would issue is rejected by the server: audience-mismatch/);
        const wrongClaim = await runTokenAdmission(stack(auth({ permissionsClaimName: "permissions" }), [["r1", "payments:write"]], [["g1", "r1"]]));
        assert.deepEqual(wrongClaim.violations, ['principal g1: "payments:write" should give write on "payments" but the server gives none']);
    });

    it("fails closed on settings it cannot evaluate, and flags a grant on a namespace the release does not create", async () => {
        const { runTokenAdmission } = await import("../../policies/pack/admission");
        const r = await runTokenAdmission(stack(auth({ permissionsRegex: "(?P<namespace>a)(?P<role>b)(?P<namespace>c)" }), [["r1", "payments:write"]], [["g1", "r1"]]));
        assert.equal(r.violations.length, 1);
        assert.match(r.violations[0]!, /^the release's authorization settings cannot be evaluated: /);
        const ghost = await runTokenAdmission(stack(auth(), [["r1", "orders:write"]], [["g1", "r1"]]));
        assert.deepEqual(ghost.violations, ['principal g1: "orders:write" grants on namespace "orders", which the release does not create']);
    });
});
