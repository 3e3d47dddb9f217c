import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    apiApplicationOptions,
    apiPermissionScope,
    appRoleTable,
    certificateValidity,
    declaredAccess,
    deterministicUuid,
    entraEndpoints,
    leafCertificatePem,
    nameSuffix,
    previousNameSuffix,
    roleAssignments,
    secretEndDate,
    secretRotation,
    uiRedirectUris,
    uiScopes,
    uiScopesEnvValue,
    uiSignInPrincipals,
    uuidV5,
    workloadIdentitySubject,
} from "../../infra/identity";
import { clientCertificatePem, opensslValidity, sampleConfig } from "./fixtures";

describe("deterministic UUIDs", () => {
    it("are RFC 9562 version 5 UUIDs (vectors from Python's uuid.uuid5)", () => {
        assert.equal(uuidV5("python.org", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
        assert.equal(uuidV5("https://example.com/ü", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"), "a17f7a1d-6bb5-51a9-9d32-f9d2fdeec8b6");
        // uuid.uuid5(uuid.uuid5(NAMESPACE_URL, "urn:temporal-azure:identity"), '["dev","app-role","payments:read"]')
        assert.equal(deterministicUuid("dev", "app-role", "payments:read"), "c670792e-c5a7-5b68-92e1-29699d7b7786");
    });

    it("differ by stack and purpose, and never collide on how the parts are split", () => {
        const ids = [
            deterministicUuid("dev", "app-role", "payments:read"),
            deterministicUuid("prod", "app-role", "payments:read"),
            deterministicUuid("dev", "app-role", "payments:write"),
            deterministicUuid("dev", "app-role/payments:read"),
            deterministicUuid("dev/app-role", "payments:read"),
        ];
        assert.equal(new Set(ids).size, ids.length);
    });
});

describe("app role table", () => {
    const cfg = sampleConfig();

    it("declares one role per distinct permission, sorted, value = the permission, member types from its holders", () => {
        const roles = appRoleTable("dev", cfg.access);
        assert.deepEqual(
            roles.map((r) => [r.value, r.allowedMemberTypes]),
            [
                ["billing:admin", ["User"]],
                ["billing:read", ["User"]],
                ["orders:read", ["User"]],
                ["orders:write", ["Application", "User"]],
                ["payments:read", ["User"]],
                ["payments:worker", ["Application"]],
                ["payments:write", ["Application", "User"]],
                ["temporal-system:admin", ["User"]],
                ["temporal-system:read", ["User"]],
            ],
        );
        for (const r of roles) {
            assert.equal(r.id, deterministicUuid("dev", "app-role", r.value));
            assert.equal(r.enabled, true);
        }
        assert.deepEqual(roles.find((r) => r.value === "temporal-system:admin"), {
            id: deterministicUuid("dev", "app-role", "temporal-system:admin"),
            value: "temporal-system:admin",
            displayName: "Temporal cluster admin",
            description: "Administers the Temporal cluster: every namespace and the admin service",
            allowedMemberTypes: ["User"],
            enabled: true,
        });
    });

    it("gives the same table, ids included, on every run and in any grant order", () => {
        const reversed = { ...cfg.access, grants: [...cfg.access.grants].reverse() };
        assert.deepEqual(appRoleTable("dev", cfg.access), appRoleTable("dev", cfg.access));
        assert.deepEqual(appRoleTable("dev", reversed), appRoleTable("dev", cfg.access));
        assert.notDeepEqual(appRoleTable("prod", cfg.access), appRoleTable("dev", cfg.access));
    });

    it("assigns every (principal, permission) once, with the role's id", () => {
        const table = new Map(appRoleTable("dev", cfg.access).map((r) => [r.value, r.id]));
        const assignments = roleAssignments("dev", cfg.access);
        assert.deepEqual(
            assignments.map((a) => `${a.principal.key} ${a.permission}`),
            [
                "group:temporal platform admins temporal-system:admin",
                "group:8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10 payments:read",
                "group:8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10 orders:read",
                "group:billing operators billing:admin",
                "group:billing operators temporal-system:read",
                "user:alice@contoso.example payments:write",
                "user:bob@contoso.example orders:write",
                "user:bob@contoso.example billing:read",
                "worker:payments-worker payments:write",
                "worker:payments-worker payments:worker",
                "worker:orders-worker orders:write",
            ],
        );
        for (const a of assignments) assert.equal(a.appRoleId, table.get(a.permission));
        assert.equal(new Set(assignments.map((a) => a.nameSuffix)).size, assignments.length);
        assert.equal(assignments[0]!.nameSuffix, nameSuffix("group:temporal platform admins", "temporal-system:admin"));
        assert.match(assignments[0]!.nameSuffix, /^group-temporal-platform-admins-temporal-system-admin-[0-9a-f]{8}$/);
    });

    it("keeps a group's object id whole in resource names, and names whose 0.1.0 form differed keep it as an alias", () => {
        const id = "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10";
        const suffix = nameSuffix(`group:${id}`, "payments:read");
        assert.match(suffix, new RegExp(`^group-${id}-payments-read-[0-9a-f]{8}$`));
        // 0.1.0 cut the part at 40 characters: the GUID lost its last two digits.
        assert.equal(previousNameSuffix(`group:${id}`, "payments:read"), suffix.replace(id, id.slice(0, 34)));
        assert.equal(previousNameSuffix("group:temporal platform admins", "temporal-system:admin"), nameSuffix("group:temporal platform admins", "temporal-system:admin"));
        assert.match(nameSuffix(`group:${"very long group display name ".repeat(3)}`), /^group-very-long-group-display-name-very-[0-9a-f]{8}$/);
    });

    it("keeps resource names apart when slugs collide", () => {
        assert.notEqual(nameSuffix("group:a.b", "x:read"), nameSuffix("group:a-b", "x:read"));
    });

    it("lets users and groups, not workers, sign in to the UI", () => {
        assert.deepEqual(
            uiSignInPrincipals(cfg.access).map((p) => p.label),
            ['group "Temporal Platform Admins"', 'group "8D3C4A57-1F5E-4F0B-9A51-3F1C2B7D9E10"', 'group "Billing Operators"', 'user "alice@contoso.example"', 'user "Bob@Contoso.example"'],
        );
    });

    it("computes what each principal may do as the default authorizer compares roles", () => {
        const byKey = Object.fromEntries(declaredAccess(cfg.access).map((d) => [d.principal.key, { cluster: d.cluster, namespaces: d.namespaces }]));
        assert.deepEqual(byKey["group:temporal platform admins"], { cluster: "admin", namespaces: { payments: "admin", orders: "admin", billing: "admin" } });
        assert.deepEqual(byKey["group:billing operators"], { cluster: "read", namespaces: { payments: "read", orders: "read", billing: "admin" } });
        assert.deepEqual(byKey["worker:payments-worker"], { cluster: "none", namespaces: { payments: "write", orders: "none", billing: "none" } });
    });
});

describe("UI registration values", () => {
    it("registers the ingress callback, and localhost only where config allows it", () => {
        assert.deepEqual(uiRedirectUris({ uiHost: "temporal.example.com", allowLocalhostCallback: false }), ["https://temporal.example.com/auth/sso/callback"]);
        assert.deepEqual(uiRedirectUris({ uiHost: "temporal.example.com", allowLocalhostCallback: true }), [
            "https://temporal.example.com/auth/sso/callback",
            "http://localhost:8080/auth/sso/callback",
        ]);
    });

    it("asks for the API's scope next to the OIDC ones, comma separated for TEMPORAL_AUTH_SCOPES", () => {
        const scopes = uiScopes("0b5f6f1e-2c1d-4f0a-9a51-3f1c2b7d9e10");
        assert.deepEqual(scopes, ["openid", "profile", "email", "offline_access", "api://0b5f6f1e-2c1d-4f0a-9a51-3f1c2b7d9e10/default"]);
        assert.equal(uiScopesEnvValue(scopes), "openid,profile,email,offline_access,api://0b5f6f1e-2c1d-4f0a-9a51-3f1c2b7d9e10/default");
    });

    it("declares the API's default scope with a stable id", () => {
        const scope = apiPermissionScope("dev");
        assert.equal(scope.value, "default");
        assert.equal(scope.type, "User");
        assert.equal(scope.id, "94c051d3-6d47-536b-ab62-a9b8addbb670");
    });

    it("names the v2 issuer and keys of the tenant", () => {
        assert.deepEqual(entraEndpoints("11111111-2222-3333-4444-555555555555"), {
            issuerUrl: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
            v1IssuerUrl: "https://sts.windows.net/11111111-2222-3333-4444-555555555555/",
            jwksUrl: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys",
            openIdConfigurationUrl: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration",
        });
    });

    it("rotates the secret on schedule and keeps the old one valid for a grace period, within Entra's 2 years", () => {
        assert.deepEqual(secretRotation(90), { rotationDays: 90, lifetimeDays: 120 });
        assert.deepEqual(secretRotation(720), { rotationDays: 720, lifetimeDays: 730 });
        assert.throws(() => secretRotation(0), /identity.uiSecretRotationDays must be a whole number of days from 1 to 730, got 0/);
        assert.equal(secretEndDate("2026-03-01T10:00:00Z", 120), "2026-06-29T10:00:00Z");
        assert.throws(() => secretEndDate("yesterday", 1), /"yesterday" is not an RFC 3339 time/);
    });

    it("ignores identifierUris on the API app, which ApplicationIdentifierUri owns", () => {
        const parent = {} as Parameters<typeof apiApplicationOptions>[0];
        assert.deepEqual(apiApplicationOptions(parent), { parent, ignoreChanges: ["identifierUris"] });
    });
});

describe("worker identity values", () => {
    it("federates the worker's service account, defaulting to the worker's name", () => {
        const cfg = sampleConfig();
        assert.equal(workloadIdentitySubject(cfg.workers[1]!), "system:serviceaccount:orders:orders-sa");
        assert.equal(workloadIdentitySubject({ ...cfg.workers[1]!, serviceAccount: undefined }), "system:serviceaccount:orders:orders-worker");
    });

    it("uses the leaf of a PEM bundle and its validity as the key credential's dates", () => {
        const leaf = clientCertificatePem("payments-worker");
        const ca = clientCertificatePem("some CA");
        assert.equal(leafCertificatePem(`${leaf}${ca}`), leaf);
        assert.deepEqual(certificateValidity(`${leaf}${ca}`), opensslValidity(leaf));
        assert.throws(() => leafCertificatePem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), /no PEM certificate block/);
    });
});
