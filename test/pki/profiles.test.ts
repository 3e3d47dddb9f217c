import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { temporalServiceNames } from "../../infra/config/names";
import {
    ALLOWED_USES,
    CA_HIERARCHIES,
    caCommonName,
    caProfile,
    clientProfile,
    defaultClientRequests,
    expiryNoticeDays,
    frontendProfile,
    internodeProfile,
    issuingHierarchy,
    keySpec,
    keyVaultCertificatePolicy,
    subjectDn,
    type ProfileSettings,
} from "../../infra/pki/profiles";
import { clientCertificateObjectName, deriveVaultName, roleAssignmentName, secretScope, VAULT_NAME } from "../../infra/pki/names";
import { SUPPORTED_KEY_USAGES } from "../../scripts/lib/offline/emulators/tls";

const pki: ProfileSettings = { leafKeyAlgorithm: "ECDSA-P256", leafValidityDays: 90, earlyRenewalHours: 720 };
const names = temporalServiceNames("temporal", "temporal.contoso.example");

describe("certificate profiles", () => {
    it("use only the provider's snake_case allowedUses vocabulary", () => {
        assert.deepEqual([...ALLOWED_USES], SUPPORTED_KEY_USAGES);
        const profiles = [
            caProfile({ id: "2026", commonName: "CA", keyAlgorithm: "ECDSA-P256", validityYears: 5, earlyRenewalDays: 90 }),
            internodeProfile(names, pki),
            frontendProfile(names, pki),
            clientProfile({ name: "w", kind: "worker" }, pki),
            internodeProfile(names, { ...pki, leafKeyAlgorithm: "RSA-3072" }),
        ];
        for (const p of profiles) for (const use of p.allowedUses) assert.match(use, /^[a-z]+(_[a-z]+)*$/);
    });

    it("internode: server AND client auth, SAN = the internode server name the cluster verifies", () => {
        const p = internodeProfile(names, pki, "Contoso");
        assert.deepEqual(p.allowedUses, ["digital_signature", "server_auth", "client_auth"]);
        assert.deepEqual(p.dnsNames, ["temporal-internode.temporal.svc"]);
        assert.deepEqual(p.subject, { commonName: "temporal-internode.temporal.svc", organization: "Contoso", organizationalUnit: "Temporal internode" });
        assert.equal(p.isCaCertificate, false);
    });

    it("frontend: server auth only, SANs = every name clients dial (in-cluster names, external host, extra names), once each", () => {
        const p = frontendProfile(names, { ...pki, extraFrontendDnsNames: ["temporal.internal.contoso.example", "temporal.contoso.example"] });
        assert.deepEqual(p.allowedUses, ["digital_signature", "server_auth"]);
        assert.deepEqual(p.dnsNames, [
            "temporal-frontend",
            "temporal-frontend.temporal",
            "temporal-frontend.temporal.svc",
            "temporal-frontend.temporal.svc.cluster.local",
            "temporal.contoso.example",
            "temporal.internal.contoso.example",
        ]);
        assert.equal(p.subject.commonName, names.frontendServerName);
        assert.ok(!frontendProfile(temporalServiceNames("temporal"), pki).dnsNames.includes("temporal.contoso.example"), "no external host when not exposed");
    });

    it("client: client auth only, no SAN, subject naming the consumer", () => {
        const p = clientProfile({ name: "payments-worker", kind: "worker" }, pki, "Contoso");
        assert.deepEqual(p.allowedUses, ["digital_signature", "client_auth"]);
        assert.deepEqual(p.dnsNames, []);
        assert.deepEqual(p.subject, { commonName: "payments-worker", organization: "Contoso", organizationalUnit: "Temporal worker" });
    });

    it("RSA leaves also allow key encipherment; ECDSA leaves only sign", () => {
        assert.deepEqual(clientProfile({ name: "ui", kind: "ui" }, { ...pki, leafKeyAlgorithm: "RSA-4096" }).allowedUses, ["digital_signature", "key_encipherment", "client_auth"]);
        assert.deepEqual(keySpec("ECDSA-P256"), { algorithm: "ECDSA", ecdsaCurve: "P256" });
        assert.deepEqual(keySpec("RSA-3072"), { algorithm: "RSA", rsaBits: 3072 });
    });

    it("CA: signs certificates and CRLs, validity in years, early renewal in days", () => {
        const p = caProfile({ id: "2026", commonName: "Temporal CA", organization: "Contoso", keyAlgorithm: "RSA-4096", validityYears: 5, earlyRenewalDays: 90 });
        assert.deepEqual(p.allowedUses, ["cert_signing", "crl_signing"]);
        assert.equal(p.isCaCertificate, true);
        assert.equal(p.validityPeriodHours, 5 * 8766);
        assert.equal(p.earlyRenewalHours, 90 * 24);
        assert.equal(p.keyAlgorithm, "RSA-4096");
    });

    it("every generation has two CA hierarchies: client-facing and internode, same key, lifetime and usages, distinct subjects", () => {
        const ca = { id: "2026", commonName: "Temporal CA 2026", organization: "Contoso", keyAlgorithm: "RSA-3072" as const, validityYears: 4, earlyRenewalDays: 60 };
        assert.deepEqual([...CA_HIERARCHIES], ["client", "internode"]);
        const client = caProfile(ca, "client");
        const internode = caProfile(ca, "internode");
        assert.deepEqual(client, caProfile(ca), "the client-facing CA is the default (unchanged)");
        assert.deepEqual(client.subject, { commonName: "Temporal CA 2026", organization: "Contoso" });
        assert.deepEqual(internode.subject, { commonName: "Temporal CA 2026 internode", organization: "Contoso" });
        assert.equal(caCommonName(ca, "internode"), "Temporal CA 2026 internode");
        const { subject: _c, ...clientRest } = client;
        const { subject: _i, ...internodeRest } = internode;
        assert.deepEqual(internodeRest, clientRest);
        assert.deepEqual([internode.keyAlgorithm, internode.validityPeriodHours, internode.earlyRenewalHours, internode.isCaCertificate], ["RSA-3072", 4 * 8766, 60 * 24, true]);
    });

    it("the internode CA signs the internode certificate only; every other leaf comes from the client-facing CA", () => {
        assert.equal(issuingHierarchy(internodeProfile(names, pki).role), "internode");
        assert.equal(issuingHierarchy(frontendProfile(names, pki).role), "client");
        for (const kind of ["ui", "worker", "admin"] as const) assert.equal(issuingHierarchy(clientProfile({ name: "c", kind }, pki).role), "client", kind);
    });

    it("leaves: validity from days, renewal window from hours", () => {
        const p = internodeProfile(names, { ...pki, leafValidityDays: 30, earlyRenewalHours: 240 });
        assert.equal(p.validityPeriodHours, 720);
        assert.equal(p.earlyRenewalHours, 240);
    });

    it("default consumers: the Web UI, the admin tools and each worker", () => {
        assert.deepEqual(defaultClientRequests([{ name: "payments-worker" }]), [
            { name: "temporal-ui", kind: "ui" },
            { name: "temporal-admin", kind: "admin" },
            { name: "payments-worker", kind: "worker" },
        ]);
    });
});

describe("Key Vault certificate policy", () => {
    it("matches the profile: PEM, exportable, EC P-256 key, usages, SANs, EmailContacts only", () => {
        assert.deepEqual(keyVaultCertificatePolicy(frontendProfile(names, pki, "Contoso, Inc.")), {
            contentType: "application/x-pem-file",
            exportable: true,
            reuseKey: false,
            issuerName: "Unknown",
            keyType: "EC",
            keyCurveName: "P-256",
            subject: "CN=temporal-frontend.temporal.svc, OU=Temporal frontend, O=Contoso\\, Inc.",
            subjectAlternativeNames: { dnsNames: names.frontendDnsNames },
            keyUsage: ["digitalSignature"],
            enhancedKeyUsage: ["1.3.6.1.5.5.7.3.1"],
            validityInMonths: 3,
            lifetimeActions: [{ action: "EmailContacts", daysBeforeExpiry: 15 }],
        });
    });

    it("RSA client certificates: RSA key size, client auth EKU, no SANs", () => {
        const policy = keyVaultCertificatePolicy(clientProfile({ name: "temporal-ui", kind: "ui" }, { ...pki, leafKeyAlgorithm: "RSA-3072" }));
        assert.equal(policy.keyType, "RSA");
        assert.equal(policy.keySize, 3072);
        assert.equal(policy.keyCurveName, undefined);
        assert.equal(policy.subjectAlternativeNames, undefined);
        assert.deepEqual(policy.keyUsage, ["digitalSignature", "keyEncipherment"]);
        assert.deepEqual(policy.enhancedKeyUsage, ["1.3.6.1.5.5.7.3.2"]);
    });

    it("emails only once a scheduled renewal has been missed (half the renewal window), at least a day before", () => {
        assert.equal(expiryNoticeDays(720), 15);
        assert.equal(expiryNoticeDays(24), 1);
        assert.equal(expiryNoticeDays(1), 1);
    });

    it("escapes distinguished-name values", () => {
        assert.equal(subjectDn({ commonName: " a+b=c;d" }), "CN=\\ a\\+b\\=c\\;d");
    });
});

describe("Azure names", () => {
    it("derives a valid, unique vault name per stack", () => {
        const cases = ["dev", "prod", "pr-1234", "feature/My_Branch--x", "---", "a-very-long-stack-name-indeed", "9lives"];
        const made = cases.map((stack) => deriveVaultName(stack, `tenant/${stack}`));
        for (const n of made) assert.match(n, VAULT_NAME, n);
        assert.equal(new Set(made).size, cases.length);
        assert.equal(deriveVaultName("dev", "tenant/dev"), deriveVaultName("dev", "tenant/dev"), "stable across runs");
        assert.notEqual(deriveVaultName("dev", "tenant-a/dev"), deriveVaultName("dev", "tenant-b/dev"), "two tenants' dev stacks do not collide");
        assert.match(deriveVaultName("dev", "x"), /^kv-tmprl-dev-[0-9a-f]{6}$/);
        assert.match(deriveVaultName("feature/My_Branch--x", "x"), /^kv-tmprl-feature-[0-9a-f]{6}$/);
        assert.match(deriveVaultName("---", "x"), /^kv-tmprl-[0-9a-f]{6}$/);
        assert.ok(made.every((n) => n.length <= 24));
    });

    it("names role assignments like ARM's guid(scope, principal, role): stable, distinct per input, a GUID", () => {
        const a = roleAssignmentName("/subscriptions/s/rg/v", "p1", "role");
        assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(a, roleAssignmentName("/SUBSCRIPTIONS/s/rg/v", "P1", "role"));
        assert.notEqual(a, roleAssignmentName("/subscriptions/s/rg/v", "p2", "role"));
        assert.notEqual(a, roleAssignmentName("/subscriptions/s/rg/v/secrets/x", "p1", "role"));
    });

    it("scopes a grant to one secret and names client certificates after their consumer", () => {
        assert.equal(secretScope("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv", "payments-worker-client"), "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/payments-worker-client");
        assert.equal(clientCertificateObjectName("payments-worker"), "payments-worker-client");
    });
});
