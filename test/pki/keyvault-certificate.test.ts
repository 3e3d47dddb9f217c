import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import {
    applyContacts,
    deleteCertificate,
    diffCertificate,
    importCertificateVersion,
    removeContacts,
    type KeyVaultCertificateInputs,
} from "../../infra/pki/keyvault-certificate";
import { caProfile, clientProfile, keyVaultCertificatePolicy, type ProfileSettings } from "../../infra/pki/profiles";
import { generatePrivateKey, selfSignedCertificate } from "../../scripts/lib/offline/emulators/tls";
import { FakeVault } from "./fake-vault";
import { mintFromProfile } from "./support";

const settings: ProfileSettings = { leafKeyAlgorithm: "ECDSA-P256", leafValidityDays: 90, earlyRenewalHours: 720 };
const profile = clientProfile({ name: "payments-worker", kind: "worker" }, settings, "Contoso");
const noWait = { sleep: async () => {} };

async function pemBundles(): Promise<[string, string]> {
    const ca = caProfile({ id: "2026", commonName: "Temporal CA", keyAlgorithm: "ECDSA-P256", validityYears: 5, earlyRenewalDays: 90 });
    const key = generatePrivateKey("ECDSA", "P256");
    const caCert = await selfSignedCertificate(key.privateKeyPem, { subject: ca.subject, allowedUses: ca.allowedUses, isCaCertificate: true, validityPeriodHours: ca.validityPeriodHours });
    const issuer = { certPem: caCert.certPem, privateKeyPem: key.privateKeyPem };
    const [a, b] = [await mintFromProfile(profile, issuer), await mintFromProfile(profile, issuer)];
    return [`${a.key}${a.chain}`, `${b.key}${b.chain}`];
}

describe("Key Vault certificate import (dynamic provider logic, against a fake vault)", () => {
    let pemA: string, pemB: string;
    let inputs: KeyVaultCertificateInputs;

    before(async () => {
        [pemA, pemB] = await pemBundles();
        inputs = { vaultUri: "https://kv-tmprl-dev-abc123.vault.azure.net/", certificateName: "payments-worker-client", pem: pemA, policy: keyVaultCertificatePolicy(profile), tags: { "temporal-azure/profile": "client" } };
    });

    it("imports key + chain as a PEM certificate with the profile's policy, and reports ids, version and thumbprint", async () => {
        const vault = new FakeVault();
        const outs = await importCertificateVersion(vault, inputs, noWait);
        const stored = vault.live.get("payments-worker-client")!.versions;
        assert.equal(stored.length, 1);
        assert.equal(stored[0]!.pem, pemA);
        assert.deepEqual(stored[0]!.policy, inputs.policy);
        assert.equal(outs.certificateId, "https://kv-tmprl-dev-abc123.vault.azure.net/certificates/payments-worker-client");
        assert.equal(outs.secretId, "https://kv-tmprl-dev-abc123.vault.azure.net/secrets/payments-worker-client");
        assert.equal(outs.versionedSecretId, `https://kv-tmprl-dev-abc123.vault.azure.net/secrets/payments-worker-client/${outs.version}`);
        const leaf = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pemA)![0]);
        assert.equal(outs.thumbprint, leaf.fingerprint.replace(/:/g, ""));
        assert.equal(outs.expiresOn, new Date(leaf.validTo).toISOString());
        assert.equal((outs as unknown as Record<string, unknown>).pem, undefined, "the PEM is never an output");
        assert.match(outs.pemSha256, /^[0-9a-f]{64}$/);
    });

    it("diffs: same material is no change; new material, policy or tags are a new version; another vault or name is another object", async () => {
        const outs = await importCertificateVersion(new FakeVault(), inputs, noWait);
        assert.deepEqual(diffCertificate(outs, inputs), { changes: false, replaces: [], stables: ["vaultUri", "certificateName", "certificateId", "secretId"] });
        assert.deepEqual(diffCertificate(outs, { ...inputs, pem: pemB }).replaces, []);
        assert.equal(diffCertificate(outs, { ...inputs, pem: pemB }).changes, true);
        assert.equal(diffCertificate(outs, { ...inputs, policy: { ...inputs.policy, exportable: true, reuseKey: false, lifetimeActions: [{ action: "EmailContacts", daysBeforeExpiry: 3 }] } }).changes, true);
        assert.equal(diffCertificate(outs, { ...inputs, tags: {} }).changes, true);
        assert.deepEqual(diffCertificate(outs, { ...inputs, vaultUri: "https://other.vault.azure.net/" }).replaces, ["vaultUri"]);
        assert.deepEqual(diffCertificate(outs, { ...inputs, certificateName: "renamed" }).replaces, ["certificateName"]);
    });

    it("re-imports new material as a new version of the same certificate", async () => {
        const vault = new FakeVault();
        const first = await importCertificateVersion(vault, inputs, noWait);
        const second = await importCertificateVersion(vault, { ...inputs, pem: pemB }, noWait);
        assert.equal(vault.live.get("payments-worker-client")!.versions.length, 2);
        assert.notEqual(second.version, first.version);
        assert.notEqual(second.thumbprint, first.thumbprint);
        assert.equal(second.certificateId, first.certificateId);
    });

    it("delete soft-deletes; deleting what is already gone is fine", async () => {
        const vault = new FakeVault();
        await importCertificateVersion(vault, inputs, noWait);
        await deleteCertificate(vault, inputs.vaultUri, inputs.certificateName, noWait);
        assert.equal(vault.live.has("payments-worker-client"), false);
        assert.equal(vault.deleted.has("payments-worker-client"), true);
        await deleteCertificate(vault, inputs.vaultUri, "never-existed", noWait);
    });

    it("recreating after a delete recovers the soft-deleted certificate, then imports the new material over it", async () => {
        const vault = new FakeVault();
        await importCertificateVersion(vault, inputs, noWait);
        await deleteCertificate(vault, inputs.vaultUri, inputs.certificateName, noWait);
        vault.calls.length = 0;
        const outs = await importCertificateVersion(vault, { ...inputs, pem: pemB }, noWait);
        assert.deepEqual(vault.calls, ["import payments-worker-client", "getDeleted payments-worker-client", "recover payments-worker-client", "import payments-worker-client"]);
        assert.equal(vault.deleted.has("payments-worker-client"), false);
        assert.equal(vault.live.get("payments-worker-client")!.versions.length, 2);
        assert.equal(outs.version, vault.live.get("payments-worker-client")!.versions[1]!.version);
    });

    it("a soft-deleted name that cannot be recovered fails with the commands that fix it", async () => {
        const vault = new FakeVault();
        await importCertificateVersion(vault, inputs, noWait);
        await deleteCertificate(vault, inputs.vaultUri, inputs.certificateName, noWait);
        vault.refuseRecover = true;
        await assert.rejects(importCertificateVersion(vault, inputs, { ...noWait, forbiddenRetryMs: 0 }), {
            message:
                'importing certificate "payments-worker-client": the name is held by a soft-deleted certificate that could not be recovered (importing certificate "payments-worker-client": access denied by https://kv-tmprl-dev-abc123.vault.azure.net/ (Operation "recover" is not allowed by the caller\'s role assignments.). The deploying principal needs the "Key Vault Certificates Officer" role on the vault; this stack assigns it, and Azure RBAC can take a few minutes to propagate: run `pulumi up` again.). Recover it (az keyvault certificate recover --vault-name <vault> --name payments-worker-client) or, where purge protection is off, purge it (az keyvault certificate purge ...), then run `pulumi up` again.',
        });
    });

    it("retries while the deployer's role assignment propagates, then imports", async () => {
        const vault = new FakeVault();
        vault.forbiddenCalls = 3;
        const waits: number[] = [];
        await importCertificateVersion(vault, inputs, { sleep: async (ms) => void waits.push(ms) });
        assert.deepEqual(waits, [2000, 4000, 8000]);
        assert.equal(vault.live.get("payments-worker-client")!.versions.length, 1);
    });

    it("gives up on a lasting 403 naming the role the deployer needs", async () => {
        const vault = new FakeVault();
        vault.forbiddenCalls = 1000;
        await assert.rejects(importCertificateVersion(vault, inputs, { ...noWait, forbiddenRetryMs: 0 }), {
            message:
                'importing certificate "payments-worker-client": access denied by https://kv-tmprl-dev-abc123.vault.azure.net/ (Caller is not authorized to perform action on resource. Action: \'Microsoft.KeyVault/vaults/certificates/import/action\'). The deploying principal needs the "Key Vault Certificates Officer" role on the vault; this stack assigns it, and Azure RBAC can take a few minutes to propagate: run `pulumi up` again.',
        });
    });

    it("fails at once on the vault firewall, saying which setting lets this machine in", async () => {
        const vault = new FakeVault();
        vault.firewall = true;
        await assert.rejects(importCertificateVersion(vault, inputs, noWait), /the vault https:\/\/kv-tmprl-dev-abc123\.vault\.azure\.net\/ refused this machine's address \(Key Vault firewall\)\. Add the address `pulumi up` runs from to temporal-azure:keyVault\.allowedIpRanges/);
        assert.equal(vault.calls.length, 1, "no retries");
    });

    it("sets and removes the vault's certificate contacts", async () => {
        const vault = new FakeVault();
        await applyContacts(vault, { vaultUri: vault.uri, emails: ["pki@contoso.example", "oncall@contoso.example"] }, noWait);
        assert.deepEqual(vault.contacts, ["pki@contoso.example", "oncall@contoso.example"]);
        await removeContacts(vault, vault.uri, noWait);
        assert.deepEqual(vault.contacts, []);
        await removeContacts(vault, vault.uri, noWait);
    });
});
