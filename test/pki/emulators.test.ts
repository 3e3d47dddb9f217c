import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { certificateRequest, generatePrivateKey, isReadyForRenewal, locallySignedCertificate, selfSignedCertificate, tlsEmulators } from "../../scripts/lib/offline/emulators/tls";
import { azureCalls, azureEmulators } from "../../scripts/lib/offline/emulators/azure";
import { DEFAULT_IDENTITY } from "../../scripts/lib/offline/engine";

const args = (type: string, name: string, inputs: Record<string, unknown>): pulumi.runtime.MockResourceArgs => ({ type, name, inputs, custom: true });
const emulate = async (emulators: typeof tlsEmulators, type: string, inputs: Record<string, unknown>, name = "r") => emulators[type]!(args(type, name, inputs));

describe("tls emulator: keys", () => {
    it("returns the provider's PEM kinds: SEC 1 for ECDSA, PKCS#1 for RSA, plus PKCS#8 and the public key", () => {
        const ec = generatePrivateKey("ECDSA", "P256");
        assert.match(ec.privateKeyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.match(ec.privateKeyPemPkcs8, /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(ec.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
        assert.equal(createPrivateKey(ec.privateKeyPem).asymmetricKeyDetails?.namedCurve, "prime256v1");
        assert.match(ec.publicKeyFingerprintSha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
        const rsa = generatePrivateKey("RSA", undefined, 3072);
        assert.match(rsa.privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
        assert.equal(createPrivateKey(rsa.privateKeyPem).asymmetricKeyDetails?.modulusLength, 3072);
    });

    it("defaults like the provider (ECDSA curve P224, RSA 2048) and refuses unknown algorithms", async () => {
        const state = await emulate(tlsEmulators, "tls:index/privateKey:PrivateKey", { algorithm: "ECDSA" });
        assert.equal(state.ecdsaCurve, "P224");
        assert.equal(createPrivateKey(String(state.privateKeyPem)).asymmetricKeyDetails?.namedCurve, "secp224r1");
        assert.throws(() => generatePrivateKey("DSA"), { message: 'Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: "DSA"' });
    });

    it("refuses to sign with a P-224 key, which Go's crypto/tls (Temporal) would refuse", async () => {
        const p224 = generatePrivateKey("ECDSA");
        await assert.rejects(certificateRequest(p224.privateKeyPem, { commonName: "x" }), /Go's crypto\/tls \(Temporal\) refuses P-224 certificates; set ecdsaCurve \(P256\)/);
    });
});

describe("tls emulator: certificates", () => {
    let ca: { privateKeyPem: string; certPem: string };

    before(async () => {
        const key = generatePrivateKey("ECDSA", "P256");
        const cert = await selfSignedCertificate(key.privateKeyPem, { subject: { commonName: "Test CA", organization: "Contoso" }, isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing"], validityPeriodHours: 24 * 365 });
        ca = { privateKeyPem: key.privateKeyPem, certPem: cert.certPem };
    });

    it("builds a self-signed CA honoring subject, usages and validity", async () => {
        const key = generatePrivateKey("ECDSA", "P256");
        const now = new Date("2026-01-01T00:00:00Z");
        const state = await selfSignedCertificate(key.privateKeyPem, { subject: { commonName: "Root", organization: "Contoso" }, isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing"], validityPeriodHours: 48, earlyRenewalHours: 12 }, now);
        const c = new X509Certificate(state.certPem);
        assert.equal(c.ca, true);
        assert.equal(c.subject, "O=Contoso\nCN=Root");
        assert.equal(c.issuer, c.subject);
        // RFC 3339 with whole seconds, as the provider writes them (Go's time.RFC3339).
        assert.equal(state.validityStartTime, "2026-01-01T00:00:00Z");
        assert.equal(state.validityEndTime, "2026-01-03T00:00:00Z");
        assert.equal(state.readyForRenewal, false);
        assert.ok(c.verify(c.publicKey));
    });

    it("signs a leaf from a CSR: subject and SANs from the request, usages from allowedUses, chained by key identifier", async () => {
        const key = generatePrivateKey("ECDSA", "P256");
        const csr = await certificateRequest(key.privateKeyPem, { commonName: "temporal-frontend.temporal.svc", organizationalUnit: "Temporal frontend" }, ["temporal-frontend", "temporal-frontend.temporal.svc"], ["10.0.0.7"]);
        const leaf = await locallySignedCertificate(csr.certRequestPem, ca.certPem, ca.privateKeyPem, { allowedUses: ["digital_signature", "server_auth"], validityPeriodHours: 2160, earlyRenewalHours: 720 });
        const c = new X509Certificate(leaf.certPem);
        assert.equal(c.subject, "OU=Temporal frontend\nCN=temporal-frontend.temporal.svc");
        assert.equal(c.issuer, "O=Contoso\nCN=Test CA");
        assert.equal(c.subjectAltName, "DNS:temporal-frontend, DNS:temporal-frontend.temporal.svc, IP Address:10.0.0.7");
        assert.deepEqual(c.keyUsage, ["1.3.6.1.5.5.7.3.1"], "extended key usage: server auth only");
        assert.equal(c.ca, false);
        assert.ok(c.checkIssued(new X509Certificate(ca.certPem)));
        assert.ok(c.verify(new X509Certificate(ca.certPem).publicKey));
        assert.equal(leaf.caKeyAlgorithm, "ECDSA");
        assert.match(leaf.serialNumber, /^\d+$/);
    });

    it("reports readyForRenewal inside the early-renewal window, as the provider does", () => {
        const end = "2026-03-01T00:00:00.000Z";
        assert.equal(isReadyForRenewal(end, 720, new Date("2026-01-15T00:00:00Z")), false);
        assert.equal(isReadyForRenewal(end, 720, new Date("2026-01-30T00:00:00Z")), true);
        assert.equal(isReadyForRenewal(end, 0, new Date("2026-03-01T00:00:00Z")), true, "expired");
    });

    it("refuses the camelCase allowedUses of the SDK's doc comments, with the provider's error", async () => {
        const key = generatePrivateKey("ECDSA", "P256");
        await assert.rejects(emulate(tlsEmulators, "tls:index/selfSignedCert:SelfSignedCert", { privateKeyPem: key.privateKeyPem, subject: { commonName: "x" }, allowedUses: ["digitalSignature", "serverAuth"], validityPeriodHours: 1 }), (err: Error) => {
            assert.match(err.message, /^Invalid Attribute Value Match: Attribute allowed_uses\[Value\("digitalSignature"\)\] value must be one of: \["\\"any_extended\\"" "\\"cert_signing\\"" /);
            assert.match(err.message, /, got: "digitalSignature"$/);
            return true;
        });
    });

    it("refuses a CA certificate without a subject", async () => {
        const key = generatePrivateKey("ECDSA", "P256");
        await assert.rejects(selfSignedCertificate(key.privateKeyPem, { isCaCertificate: true, allowedUses: ["cert_signing"], validityPeriodHours: 1 }), {
            message: "Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)",
        });
    });

    it("refuses a CA key that does not match the CA certificate, and reads only the first block of caCertPem", async () => {
        const key = generatePrivateKey("ECDSA", "P256");
        const csr = await certificateRequest(key.privateKeyPem, { commonName: "x" });
        const other = generatePrivateKey("ECDSA", "P256");
        await assert.rejects(locallySignedCertificate(csr.certRequestPem, ca.certPem, other.privateKeyPem, { allowedUses: ["client_auth"], validityPeriodHours: 1 }), {
            message: "Failed to create certificate: x509: provided PrivateKey doesn't match parent's PublicKey",
        });
        const bundleFirst = await locallySignedCertificate(csr.certRequestPem, `${ca.certPem}${ca.certPem}`, ca.privateKeyPem, { allowedUses: ["client_auth"], validityPeriodHours: 1 });
        assert.ok(new X509Certificate(bundleFirst.certPem).checkIssued(new X509Certificate(ca.certPem)));
    });

    it("emulates the resources through their type tokens, reading secret inputs as the provider does", async () => {
        const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
        const key = await emulate(tlsEmulators, "tls:index/privateKey:PrivateKey", { algorithm: "ECDSA", ecdsaCurve: "P256" });
        const csr = await emulate(tlsEmulators, "tls:index/certRequest:CertRequest", { privateKeyPem: secret(key.privateKeyPem), subject: { commonName: "w" } });
        const leaf = await emulate(tlsEmulators, "tls:index/locallySignedCert:LocallySignedCert", {
            certRequestPem: csr.certRequestPem,
            caCertPem: ca.certPem,
            caPrivateKeyPem: secret(ca.privateKeyPem),
            allowedUses: ["digital_signature", "client_auth"],
            validityPeriodHours: 24,
            earlyRenewalHours: 48,
        });
        assert.equal(new X509Certificate(String(leaf.certPem)).subject, "CN=w");
        assert.equal(leaf.readyForRenewal, true, "a renewal window longer than the validity makes every run reissue");
    });
});

describe("Azure emulator", () => {
    const sub = DEFAULT_IDENTITY.subscriptionId;

    it("computes a vault's id, name and URI, and refuses what ARM refuses", async () => {
        const state = await emulate(azureEmulators, "azure-native:keyvault:Vault", { vaultName: "kv-tmprl-dev-abc123", resourceGroupName: "rg", properties: { enableRbacAuthorization: true } });
        assert.equal(state.id, `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-tmprl-dev-abc123`);
        assert.deepEqual(state.properties, { enableRbacAuthorization: true, vaultUri: "https://kv-tmprl-dev-abc123.vault.azure.net/", provisioningState: "Succeeded" });
        await assert.rejects(emulate(azureEmulators, "azure-native:keyvault:Vault", { vaultName: "my--vault", resourceGroupName: "rg", properties: {} }), /^Error: VaultNameNotValid: /);
        await assert.rejects(emulate(azureEmulators, "azure-native:keyvault:Vault", { vaultName: "kv-ok", resourceGroupName: "rg", properties: { enablePurgeProtection: false } }), /cannot be set to false/);
    });

    it("computes a secret's URIs and never echoes its value", async () => {
        const state = await emulate(azureEmulators, "azure-native:keyvault:Secret", { vaultName: "kv1", resourceGroupName: "rg", secretName: "temporal-ca-bundle", properties: { value: "pem", contentType: "application/x-pem-file" } });
        const props = state.properties as Record<string, unknown>;
        assert.equal(props.secretUri, "https://kv1.vault.azure.net/secrets/temporal-ca-bundle");
        assert.match(String(props.secretUriWithVersion), /^https:\/\/kv1\.vault\.azure\.net\/secrets\/temporal-ca-bundle\/[0-9a-f]{32}$/);
        assert.equal("value" in props, false);
    });

    it("requires role assignments named by a GUID with a real role definition id", async () => {
        const ok = { roleAssignmentName: "0b3c2a1d-1111-5222-8333-444444444444", principalId: "9a0b3c4d-1111-4222-8333-444444444444", roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`, scope: "/subscriptions/s/x" };
        const state = await emulate(azureEmulators, "azure-native:authorization:RoleAssignment", ok);
        assert.equal(state.id, "/subscriptions/s/x/providers/Microsoft.Authorization/roleAssignments/0b3c2a1d-1111-5222-8333-444444444444");
        await assert.rejects(emulate(azureEmulators, "azure-native:authorization:RoleAssignment", { ...ok, roleAssignmentName: "reader" }), /InvalidRoleAssignmentId/);
        await assert.rejects(emulate(azureEmulators, "azure-native:authorization:RoleAssignment", { ...ok, roleDefinitionId: "4633458b-17de-408a-b874-0445c86b69e6" }), /InvalidRoleDefinitionId/);
        await assert.rejects(emulate(azureEmulators, "azure-native:authorization:RoleAssignment", { ...ok, scope: "a1f176c6-21d0-473c-a7c6-8aca95aa5960/secrets/x" }), /InvalidScope/);
    });

    it("answers getVault and draws stable random suffixes", async () => {
        assert.deepEqual(await azureCalls["azure-native:keyvault:getVault"]!({ vaultName: "kv1", resourceGroupName: "rg" }), {
            id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1`,
            name: "kv1",
            properties: { vaultUri: "https://kv1.vault.azure.net/" },
        });
        const a = await emulate(azureEmulators, "random:index/randomId:RandomId", { byteLength: 4 }, "suffix");
        assert.match(String(a.hex), /^[0-9a-f]{8}$/);
        assert.equal((await emulate(azureEmulators, "random:index/randomId:RandomId", { byteLength: 4 }, "suffix")).hex, a.hex);
    });
});
