import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_IDENTITY, isSecret, unwrap } from "../../scripts/lib/offline/engine";
import { deriveVaultName, KEY_VAULT_ROLES, roleAssignmentName } from "../../infra/pki/names";
import { clientProfile, frontendProfile, keyVaultCertificatePolicy } from "../../infra/pki/profiles";
import { keyVaultCertificateInputs } from "../../infra/pki/keyvault-certificate";
import { temporalServiceNames } from "../../infra/config/names";
import { caResourceName, clientRequestIssues, vaultProperties } from "../../infra/pki";
import { buildPki, PROFILE_PATCH, stackRaw, type BuiltPki } from "./support";

const T = {
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    csr: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
    vault: "azure-native:keyvault:Vault",
    secret: "azure-native:keyvault:Secret",
    role: "azure-native:authorization:RoleAssignment",
    kvCert: "pulumi-nodejs:dynamic/keyvault:Certificate",
    contacts: "pulumi-nodejs:dynamic/keyvault:CertificateContacts",
    randomId: "random:index/randomId:RandomId",
};
const TENANT = "11111111-2222-3333-4444-555555555555";
const roleDef = (id: string) => `/subscriptions/${DEFAULT_IDENTITY.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const LEAVES = ["internode", "frontend", "client-temporal-ui", "client-temporal-admin", "client-payments-worker", "client-orders-worker"];

function vaultInputs(built: BuiltPki): Record<string, unknown> {
    return built.engine.byName(T.vault, "pki-vault").inputs;
}

describe("TemporalPki under the offline engine: dev stack", () => {
    let built: BuiltPki;
    let vaultId: string;
    let readGrant: pulumi.CustomResource;

    before(async () => {
        built = await buildPki();
        vaultId = built.engine.byName(T.vault, "pki-vault").id;
        readGrant = built.pki.grantRead("payments-worker", "9a0b3c4d-1111-4222-8333-444444444444");
        built.pki.grantTrustBundleRead("payments-worker", "9a0b3c4d-1111-4222-8333-444444444444");
        await unwrap(readGrant.id);
    });

    it("registers one CA generation (a client-facing and an internode CA), six end-entity certificates, their Key Vault certificates, the vault, both bundles and the deployer's roles", () => {
        const count = (type: string) => built.engine.ofType(type).length;
        assert.deepEqual(
            [count(T.privateKey), count(T.selfSigned), count(T.csr), count(T.signed), count(T.kvCert), count(T.vault), count(T.secret), count(T.randomId), count(T.contacts)],
            [8, 2, 6, 6, 6, 1, 2, 0, 0],
        );
        const names = (type: string) => built.engine.ofType(type).map((r) => r.name);
        assert.deepEqual(names(T.selfSigned), ["pki-ca-2026", "pki-ca-2026-internode"]);
        assert.deepEqual(names(T.privateKey).filter((n) => n.startsWith("pki-ca-")), ["pki-ca-2026-key", "pki-ca-2026-internode-key"]);
        assert.deepEqual(names(T.secret), ["pki-ca-bundle", "pki-internode-ca-bundle"]);
        assert.equal(caResourceName("pki", "2026", "internode"), "pki-ca-2026-internode");
        assert.equal(caResourceName("pki", "2026", "client"), "pki-ca-2026");
        for (const leaf of LEAVES) built.engine.byName(T.kvCert, `pki-${leaf}-kv`);
        assert.equal(built.engine.byName("temporal-azure:pki:TemporalPki", "pki").type, "temporal-azure:pki:TemporalPki");
    });

    it("generates P-256 keys explicitly (the provider's default curve is P224)", () => {
        for (const key of built.engine.ofType(T.privateKey)) assert.deepEqual(key.inputs, { algorithm: "ECDSA", ecdsaCurve: "P256" }, key.name);
    });

    it("creates both CAs of the generation with a subject, CA usages, validity in years and early renewal, each with its own key", () => {
        const expected = (commonName: string) => ({
            privateKeyPem: "string",
            subject: { commonName, organization: "Contoso Platform" },
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing"],
            validityPeriodHours: 5 * 8766,
            earlyRenewalHours: 90 * 24,
            setSubjectKeyId: true,
        });
        const ca = built.engine.byName(T.selfSigned, "pki-ca-2026").inputs;
        const internodeCa = built.engine.byName(T.selfSigned, "pki-ca-2026-internode").inputs;
        assert.deepEqual({ ...ca, privateKeyPem: typeof ca.privateKeyPem }, expected("Temporal dev CA 2026"));
        assert.deepEqual({ ...internodeCa, privateKeyPem: typeof internodeCa.privateKeyPem }, expected("Temporal dev CA 2026 internode"));
        assert.equal(ca.privateKeyPem, built.engine.byName(T.privateKey, "pki-ca-2026-key").state.privateKeyPem);
        assert.equal(internodeCa.privateKeyPem, built.engine.byName(T.privateKey, "pki-ca-2026-internode-key").state.privateKeyPem);
        assert.notEqual(ca.privateKeyPem, internodeCa.privateKeyPem);
    });

    it("signs the internode certificate with the internode CA and every other leaf with the client-facing CA; each chain ends in its signer", async () => {
        const clientCa = await unwrap(built.pki.caCertificates["2026"]!);
        const internodeCa = await unwrap(built.pki.internodeCaCertificates["2026"]!);
        const caKey = (name: string) => built.engine.byName(T.privateKey, name).state.privateKeyPem;
        for (const leaf of LEAVES) {
            const inputs = built.engine.byName(T.signed, `pki-${leaf}`).inputs;
            const [caPem, keyOf] = leaf === "internode" ? [internodeCa, "pki-ca-2026-internode-key"] : [clientCa, "pki-ca-2026-key"];
            assert.equal(inputs.caCertPem, caPem, leaf);
            assert.equal(inputs.caPrivateKeyPem, caKey(keyOf), leaf);
        }
        const x509 = (pem: string) => new X509Certificate(pem);
        const internode = x509(await unwrap(built.pki.internode.certPem));
        assert.equal(internode.issuer, "O=Contoso Platform\nCN=Temporal dev CA 2026 internode");
        assert.ok(internode.verify(x509(internodeCa).publicKey));
        assert.equal(internode.verify(x509(clientCa).publicKey), false);
        assert.equal(await unwrap(built.pki.internode.chainPem), `${await unwrap(built.pki.internode.certPem)}${internodeCa}`);
        for (const c of [built.pki.frontend, ...Object.values(built.pki.clients)]) {
            const cert = x509(await unwrap(c.certPem));
            assert.equal(cert.issuer, "O=Contoso Platform\nCN=Temporal dev CA 2026", c.commonName);
            assert.ok(cert.verify(x509(clientCa).publicKey), c.commonName);
            assert.equal(cert.verify(x509(internodeCa).publicKey), false, c.commonName);
            assert.equal(await unwrap(c.chainPem), `${await unwrap(c.certPem)}${clientCa}`, c.commonName);
        }
    });

    it("issues each leaf from its profile: usages, lifetime, renewal window, SANs", () => {
        const names = temporalServiceNames("temporal");
        const signed = (leaf: string) => built.engine.byName(T.signed, `pki-${leaf}`).inputs;
        assert.deepEqual(signed("internode").allowedUses, ["digital_signature", "server_auth", "client_auth"]);
        assert.deepEqual(signed("frontend").allowedUses, ["digital_signature", "server_auth"]);
        assert.deepEqual(signed("client-temporal-ui").allowedUses, ["digital_signature", "client_auth"]);
        for (const leaf of LEAVES) {
            assert.equal(signed(leaf).validityPeriodHours, 90 * 24);
            assert.equal(signed(leaf).earlyRenewalHours, 720);
            assert.equal(signed(leaf).isCaCertificate, false);
        }
        assert.deepEqual(built.engine.byName(T.csr, "pki-frontend-csr").inputs.dnsNames, names.frontendDnsNames);
        assert.deepEqual(built.engine.byName(T.csr, "pki-internode-csr").inputs.dnsNames, [names.internodeServerName]);
        assert.deepEqual(built.pki.frontend.dnsNames, names.frontendDnsNames);
        assert.equal(built.pki.frontendServerName, names.frontendServerName);
        assert.equal(built.pki.internodeServerName, names.internodeServerName);
        assert.equal(built.pki.clients["payments-worker"]!.commonName, "payments-worker");
    });

    it("keeps every private key secret, end to end, and nothing else", async () => {
        for (const c of [built.pki.internode, built.pki.frontend, ...Object.values(built.pki.clients)]) {
            assert.equal(await isSecret(c.privateKeyPem), true, c.commonName);
            assert.match(await unwrap(c.privateKeyPem), /^-----BEGIN PRIVATE KEY-----/);
            assert.equal(await isSecret(c.certPem), false);
            assert.equal(await isSecret(c.chainPem), false);
        }
        for (const bundle of [built.pki.trustBundlePem, built.pki.internodeTrustBundlePem, built.pki.frontendClientTrustBundlePem, built.pki.caCertificates["2026"]!, built.pki.internodeCaCertificates["2026"]!]) {
            assert.equal(await isSecret(bundle), false);
        }
        // What the providers receive: keys as secrets.
        for (const csr of built.engine.ofType(T.csr)) assert.deepEqual(csr.secretPaths, ["privateKeyPem"], csr.name);
        for (const cert of built.engine.ofType(T.signed)) assert.deepEqual(cert.secretPaths, ["caPrivateKeyPem"], cert.name);
        for (const ca of built.engine.ofType(T.selfSigned)) assert.deepEqual(ca.secretPaths, ["privateKeyPem"], ca.name);
        for (const kv of built.engine.ofType(T.kvCert)) assert.deepEqual(kv.secretPaths, ["pem"], kv.name);
        // Pulumi marks the whole top-level property secret when a nested value is.
        for (const bundle of built.engine.ofType(T.secret)) assert.deepEqual(bundle.secretPaths, ["properties"], bundle.name);
        for (const r of [...built.engine.ofType(T.vault), ...built.engine.ofType(T.role), ...built.engine.ofType(T.privateKey)]) assert.deepEqual(r.secretPaths, [], r.name);
        assert.equal(await isSecret(pulumi.output(keyVaultCertificateInputs({ vaultUri: "u", certificateName: "n", pem: "plain", policy: keyVaultCertificatePolicy(frontendProfile(temporalServiceNames("t"), { leafKeyAlgorithm: "ECDSA-P256", leafValidityDays: 90, earlyRenewalHours: 720 })) }).pem)), true);
    });

    it("creates a vault with RBAC, soft delete, purge protection (dev), the configured retention and an open firewall", () => {
        const inputs = vaultInputs(built);
        assert.equal(inputs.vaultName, deriveVaultName("dev", `${TENANT}/dev`));
        assert.deepEqual(inputs.properties, {
            tenantId: TENANT,
            sku: { family: "A", name: "standard" },
            enableRbacAuthorization: true,
            enableSoftDelete: true,
            softDeleteRetentionInDays: 7,
            enablePurgeProtection: true,
            enabledForDeployment: false,
            enabledForDiskEncryption: false,
            enabledForTemplateDeployment: false,
            publicNetworkAccess: "Enabled",
            networkAcls: { bypass: "AzureServices", defaultAction: "Allow", ipRules: [], virtualNetworkRules: [] },
        });
        assert.equal(inputs.location, "westeurope");
        assert.equal(inputs.resourceGroupName, "rg-temporal");
    });

    it("imports every end-entity certificate as a Key Vault certificate: PEM with key and chain, the profile's policy", async () => {
        const vaultName = await unwrap(built.pki.vaultName);
        const frontend = built.engine.byName(T.kvCert, "pki-frontend-kv").inputs;
        assert.equal(frontend.vaultUri, `https://${vaultName}.vault.azure.net/`);
        assert.equal(frontend.certificateName, "temporal-frontend");
        assert.deepEqual(frontend.policy, keyVaultCertificatePolicy(frontendProfile(temporalServiceNames("temporal"), built.cfg.pki, "Contoso Platform")));
        assert.deepEqual(frontend.tags, { "temporal-azure/profile": "frontend", "temporal-azure/consumer": "frontend", "temporal-azure/ca": "2026" });
        const pem = String(frontend.pem);
        const blocks = pem.match(/-----BEGIN [A-Z ]+-----/g);
        assert.deepEqual(blocks, ["-----BEGIN PRIVATE KEY-----", "-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----"], "PKCS#8 key, leaf, issuing CA");
        assert.equal(pem, `${await unwrap(built.pki.frontend.privateKeyPem)}${await unwrap(built.pki.frontend.chainPem)}`);
        const worker = built.engine.byName(T.kvCert, "pki-client-payments-worker-kv").inputs;
        assert.deepEqual(worker.policy, keyVaultCertificatePolicy(clientProfile({ name: "payments-worker", kind: "worker" }, built.cfg.pki, "Contoso Platform")));
        assert.equal(built.pki.clients["payments-worker"]!.keyVaultCertificateName, "payments-worker-client");
        // The internode certificate carries its own chain: leaf, then the internode CA.
        const internode = built.engine.byName(T.kvCert, "pki-internode-kv").inputs;
        assert.equal(String(internode.pem), `${await unwrap(built.pki.internode.privateKeyPem)}${await unwrap(built.pki.internode.certPem)}${await unwrap(built.pki.internodeCaCertificates["2026"]!)}`);
        assert.deepEqual(internode.tags, { "temporal-azure/profile": "internode", "temporal-azure/consumer": "internode", "temporal-azure/ca": "2026" });
        // The emulated import reports the leaf's real thumbprint.
        const leaf = new X509Certificate(await unwrap(built.pki.frontend.certPem));
        assert.equal(built.engine.byName(T.kvCert, "pki-frontend-kv").state.thumbprint, leaf.fingerprint.replace(/:/g, ""));
    });

    it("serializes a provider that loads the Azure SDK itself and carries no key material", () => {
        const provider = String(built.engine.byName(T.kvCert, "pki-internode-kv").inputs.__provider);
        assert.match(provider, /require\("@azure\/keyvault-certificates"\)/);
        assert.match(provider, /DefaultAzureCredential/);
        assert.match(provider, /importCertificate/);
        assert.doesNotMatch(provider, /PRIVATE KEY-----/);
    });

    it("builds three trust bundles: client-facing CAs, internode CAs, and both for the frontend's client check", async () => {
        const clientCa = await unwrap(built.pki.caCertificates["2026"]!);
        const internodeCa = await unwrap(built.pki.internodeCaCertificates["2026"]!);
        assert.equal(await unwrap(built.pki.trustBundlePem), clientCa);
        assert.equal(await unwrap(built.pki.internodeTrustBundlePem), internodeCa);
        assert.equal(await unwrap(built.pki.frontendClientTrustBundlePem), `${clientCa}${internodeCa}`);
    });

    it("stores the client-facing and the internode trust bundles as PEM secrets in the vault", async () => {
        type BundleInputs = { secretName: string; properties: { value: string; contentType: string }; tags: Record<string, string> };
        const secret = built.engine.byName(T.secret, "pki-ca-bundle").inputs as unknown as BundleInputs;
        assert.equal(secret.secretName, "temporal-ca-bundle");
        assert.equal(built.pki.trustBundleSecretName, "temporal-ca-bundle");
        assert.equal(secret.properties.contentType, "application/x-pem-file");
        assert.equal(secret.properties.value, await unwrap(built.pki.trustBundlePem));
        const internode = built.engine.byName(T.secret, "pki-internode-ca-bundle").inputs as unknown as BundleInputs;
        assert.equal(internode.secretName, "temporal-internode-ca-bundle");
        assert.equal(built.pki.internodeTrustBundleSecretName, "temporal-internode-ca-bundle");
        assert.equal(internode.properties.contentType, "application/x-pem-file");
        assert.equal(internode.properties.value, await unwrap(built.pki.internodeTrustBundlePem));
        for (const s of [secret, internode]) assert.deepEqual(s.tags, { "temporal-azure/cas": "2026" });
    });

    it("gives the deploying principal exactly Certificates Officer (the import) and Secrets Officer (writing secrets) on the vault", () => {
        const deployer = DEFAULT_IDENTITY.deployerObjectId;
        for (const [suffix, role] of [
            ["certificates-officer", KEY_VAULT_ROLES.certificatesOfficer],
            ["secrets-officer", KEY_VAULT_ROLES.secretsOfficer],
        ] as const) {
            const ra = built.engine.byName(T.role, `pki-deployer-${suffix}`).inputs;
            assert.equal(ra.scope, vaultId);
            assert.equal(ra.principalId, deployer);
            assert.equal(ra.roleDefinitionId, roleDef(role));
            assert.equal(ra.roleAssignmentName, roleAssignmentName(vaultId, deployer, role));
        }
        assert.equal(KEY_VAULT_ROLES.certificatesOfficer, "a4417e6f-fecd-4de8-b567-7b0420556985");
    });

    it("lets a consumer read only its own certificate's backing secret", () => {
        const ra = built.engine.byName(T.role, "pki-read-payments-worker").inputs;
        assert.equal(ra.scope, `${vaultId}/secrets/payments-worker-client`);
        assert.equal(ra.roleDefinitionId, roleDef("4633458b-17de-408a-b874-0445c86b69e6"));
        assert.equal(ra.principalId, "9a0b3c4d-1111-4222-8333-444444444444");
        assert.equal(ra.principalType, "ServicePrincipal");
        const bundle = built.engine.byName(T.role, "pki-read-ca-bundle-payments-worker").inputs;
        assert.equal(bundle.scope, `${vaultId}/secrets/temporal-ca-bundle`);
        assert.throws(() => built.pki.grantRead("ghost-worker", "9a0b3c4d-1111-4222-8333-444444444444"), {
            message:
                'TemporalPki: no certificate for consumer "ghost-worker" (known: internode, frontend, temporal-ui, temporal-admin, payments-worker, orders-worker): add it to TemporalPkiArgs.clients (a worker: declare it in temporal-azure:workers)',
        });
    });

    it("refuses a consumer list that would leave a consumer without its own certificate", () => {
        assert.deepEqual(
            clientRequestIssues([
                { name: "temporal-ui", kind: "ui" },
                { name: "temporal-ui", kind: "worker" },
                { name: "frontend", kind: "admin" },
                { name: "Bad_Name", kind: "worker" },
            ]),
            [
                'clients[1].name "temporal-ui" is requested twice: each consumer gets one certificate; give each a distinct name',
                'clients[2].name "frontend" is the name of a server certificate of this PKI: rename the client',
                'clients[3].name "Bad_Name" must be a Kubernetes-style name (lower-case letters, digits, hyphens): it names the certificate and its Key Vault object',
            ],
        );
    });
});

describe("TemporalPki per stack kind", () => {
    it("prod: purge protection, a stable derived name, and the configured network rules", async () => {
        const subnet = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks";
        const built = await buildPki({
            stack: "prod",
            raw: stackRaw({ ...PROFILE_PATCH.prod, keyVault: { softDeleteRetentionDays: 90, allowedIpRanges: ["203.0.113.0/24"], allowedSubnetIds: [subnet], certificateContacts: ["pki@contoso.example"] } }),
        });
        const inputs = vaultInputs(built);
        const props = inputs.properties as Record<string, unknown>;
        assert.equal(inputs.vaultName, deriveVaultName("prod", `${TENANT}/prod`));
        assert.equal(props.enablePurgeProtection, true);
        assert.equal(props.softDeleteRetentionInDays, 90);
        assert.deepEqual(props.networkAcls, { bypass: "AzureServices", defaultAction: "Deny", ipRules: [{ value: "203.0.113.0/24" }], virtualNetworkRules: [{ id: subnet, ignoreMissingVnetServiceEndpoint: false }] });
        assert.equal(built.engine.ofType(T.randomId).length, 0);
        const contacts = built.engine.byName(T.contacts, "pki-certificate-contacts").inputs;
        assert.deepEqual(contacts.emails, ["pki@contoso.example"]);
    });

    it("ephemeral: no purge protection (left out: ARM refuses false) and a fresh vault name per deployment", async () => {
        const built = await buildPki({ stack: "pr-42", raw: stackRaw(PROFILE_PATCH.ephemeral) });
        const props = vaultInputs(built).properties as Record<string, unknown>;
        assert.equal("enablePurgeProtection" in props, false);
        const suffix = built.engine.byName(T.randomId, "pki-vault-suffix");
        assert.deepEqual(suffix.inputs, { byteLength: 4 });
        const name = await unwrap(built.pki.vaultName);
        assert.equal(name, deriveVaultName("pr-42", `${TENANT}/pr-42/${String(suffix.state.hex)}`));
        assert.notEqual(name, deriveVaultName("pr-42", `${TENANT}/pr-42`));
        assert.match(name, /^kv-tmprl-pr-42-[0-9a-f]{6}$/);
    });

    it("ephemeral and prod differ exactly where the profile says", () => {
        const kv = { publicNetworkAccess: "Disabled" as const, allowedIpRanges: [], allowedSubnetIds: [], softDeleteRetentionDays: 7 };
        const prod = vaultProperties({ ...kv, purgeProtection: true }, TENANT) as unknown as Record<string, unknown>;
        const eph = vaultProperties({ ...kv, purgeProtection: false }, TENANT) as unknown as Record<string, unknown>;
        const { enablePurgeProtection, ...rest } = prod;
        assert.equal(enablePurgeProtection, true);
        assert.deepEqual(eph, rest);
        assert.deepEqual((eph.networkAcls as Record<string, unknown>).defaultAction, "Deny", "public access disabled: deny by default");
    });

    it("RSA CAs by config: a real 3072-bit RSA CA signs the leaves", async () => {
        const built = await buildPki({ raw: stackRaw({ pki: { cas: [{ id: "2026", commonName: "Temporal RSA CA", keyAlgorithm: "RSA-3072" }] } }) });
        assert.deepEqual(built.engine.byName(T.privateKey, "pki-ca-2026-key").inputs, { algorithm: "RSA", rsaBits: 3072 });
        const ca = new X509Certificate(await unwrap(built.pki.caCertificates["2026"]!));
        assert.equal(ca.publicKey.asymmetricKeyType, "rsa");
        assert.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
        assert.ok(new X509Certificate(await unwrap(built.pki.frontend.certPem)).verify(ca.publicKey));
        // The internode CA of the generation has the same key algorithm, and its own key.
        assert.deepEqual(built.engine.byName(T.privateKey, "pki-ca-2026-internode-key").inputs, { algorithm: "RSA", rsaBits: 3072 });
        const internodeCa = new X509Certificate(await unwrap(built.pki.internodeCaCertificates["2026"]!));
        assert.equal(internodeCa.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
        assert.equal(internodeCa.publicKey.equals(ca.publicKey), false);
        assert.ok(new X509Certificate(await unwrap(built.pki.internode.certPem)).verify(internodeCa.publicKey));
    });
});
