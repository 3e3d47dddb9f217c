import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as random from "@pulumi/random";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import type { ResolvedConfig } from "../config/profiles";
import { temporalServiceNames, type TemporalServiceNames } from "../config/names";
import { K8S_NAME } from "../config/shared";
import {
    caProfile,
    CA_HIERARCHIES,
    clientProfile,
    defaultClientRequests,
    frontendProfile,
    INTERNODE_CA_SUFFIX,
    internodeProfile,
    issuingHierarchy,
    keySpec,
    keyVaultCertificatePolicy,
    type CaHierarchy,
    type CaSettings,
    type CertificateProfile,
    type ClientCertificateRequest,
} from "./profiles";
import {
    certificateObjectName,
    clientCertificateObjectName,
    deriveVaultName,
    INTERNODE_TRUST_BUNDLE_SECRET_NAME,
    KEY_VAULT_ROLES,
    roleAssignmentName,
    roleDefinitionId,
    secretScope,
    TRUST_BUNDLE_SECRET_NAME,
} from "./names";
import { KeyVaultCertificate, KeyVaultCertificateContacts } from "./keyvault-certificate";

export type { CaHierarchy, ClientCertificateRequest, CertificateProfile } from "./profiles";
export { defaultClientRequests, UI_CLIENT_NAME, ADMIN_CLIENT_NAME } from "./profiles";
export { INTERNODE_TRUST_BUNDLE_SECRET_NAME, KEY_VAULT_ROLES, TRUST_BUNDLE_SECRET_NAME } from "./names";

export interface TemporalPkiArgs {
    /** Pulumi stack name: the readable part of the derived vault name. */
    stack: string;
    /** Stack kind: ephemeral stacks get a fresh vault name per deployment and no purge protection. */
    profile: "dev" | "prod" | "ephemeral";
    /** The resolved `pki` config section (CAs, issuer, leaf key and lifetime). */
    pki: ResolvedConfig["pki"];
    /** The resolved `keyVault` config section (name, network, retention, purge protection). */
    keyVault: ResolvedConfig["keyVault"];
    /** Entra ID tenant of the vault (RBAC is evaluated there). */
    tenantId: string;
    /** Azure region of the vault. */
    location: string;
    /** Resource group of the vault. */
    resourceGroupName: pulumi.Input<string>;
    /** The SANs and server names the Temporal release uses (`temporalServiceNames`). */
    serviceNames: TemporalServiceNames;
    /** One client certificate per consumer: the Web UI, admin tooling, each worker. */
    clients: ClientCertificateRequest[];
}

export interface IssuedCertificate {
    /** The leaf certificate alone (public). */
    certPem: pulumi.Output<string>;
    /** Leaf + issuing CA (public): what goes into `tls.crt`. The internode leaf chains to the internode CA, every other leaf to the client-facing CA. */
    chainPem: pulumi.Output<string>;
    /** PKCS#8 private key. SECRET. */
    privateKeyPem: pulumi.Output<string>;
    /** DNS SANs (empty for client certificates). */
    dnsNames: string[];
    /** Subject common name. */
    commonName: string;
    /** Name of the Key Vault certificate, which is also the name of its backing secret (key + chain, PEM). */
    keyVaultCertificateName: string;
}

/** A self-signed root CA: its key and certificate. */
interface RootCa {
    key: tls.PrivateKey;
    cert: tls.SelfSignedCert;
}

/** One CA generation's resources: a root CA per hierarchy. */
type CaGeneration = { id: string } & Record<CaHierarchy, RootCa>;

/**
 * Pulumi resource name of a generation's CA in a hierarchy (its key adds `-key`): `<name>-ca-<id>`
 * for the client-facing CA, as before the split, so existing stacks keep that CA and its key;
 * `<name>-ca-<id>-internode` for the internode CA.
 */
export function caResourceName(component: string, id: string, hierarchy: CaHierarchy): string {
    return hierarchy === "internode" ? `${component}-ca-${id}-${INTERNODE_CA_SUFFIX}` : `${component}-ca-${id}`;
}

/**
 * The component's arguments from the resolved stack config: the UI, the admin tools and one client
 * certificate per declared worker, the SANs from the Temporal release's service names.
 */
export function temporalPkiArgs(cfg: ResolvedConfig, resourceGroupName: pulumi.Input<string>): TemporalPkiArgs {
    return {
        stack: cfg.stack,
        profile: cfg.profile,
        pki: cfg.pki,
        keyVault: cfg.keyVault,
        tenantId: cfg.azure.tenantId,
        location: cfg.azure.location,
        resourceGroupName,
        serviceNames: temporalServiceNames(cfg.kubernetes.namespace, cfg.temporal.frontendExternalHost),
        clients: defaultClientRequests(cfg.workers),
    };
}

/** Concatenates PEM blocks, one newline-terminated block after the other. */
export function pemBundle(pems: string[]): string {
    return pems.map((p) => `${p.trim()}\n`).join("");
}

/** The vault's properties from config: RBAC on, soft delete, purge protection unless ephemeral, the firewall as configured. */
export function vaultProperties(kv: ResolvedConfig["keyVault"], tenantId: string): keyvault.VaultArgs["properties"] {
    const hasRules = kv.allowedIpRanges.length > 0 || kv.allowedSubnetIds.length > 0;
    return {
        tenantId,
        sku: { family: "A", name: "standard" },
        // The SDK defaults to access policies; every grant here is an Azure role assignment.
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: kv.softDeleteRetentionDays,
        // ARM refuses `false` ("cannot be set to false"): leave it out when off.
        ...(kv.purgeProtection ? { enablePurgeProtection: true } : {}),
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        publicNetworkAccess: kv.publicNetworkAccess,
        networkAcls: {
            bypass: "AzureServices",
            defaultAction: kv.publicNetworkAccess === "Disabled" || hasRules ? "Deny" : "Allow",
            ipRules: kv.allowedIpRanges.map((value) => ({ value })),
            virtualNetworkRules: kv.allowedSubnetIds.map((id) => ({ id, ignoreMissingVnetServiceEndpoint: false })),
        },
    };
}

/** Consumers of the server certificates; client names must differ from them. */
const SERVER_CONSUMERS = ["internode", "frontend"];

/** Checks the consumer list: each a distinct Kubernetes-style name, so every consumer gets exactly one certificate. */
export function clientRequestIssues(clients: ClientCertificateRequest[]): string[] {
    const issues: string[] = [];
    const names = clients.map((c) => c.name);
    clients.forEach((c, i) => {
        if (!K8S_NAME.test(c.name)) issues.push(`clients[${i}].name "${c.name}" must be a Kubernetes-style name (lower-case letters, digits, hyphens): it names the certificate and its Key Vault object`);
        if (SERVER_CONSUMERS.includes(c.name)) issues.push(`clients[${i}].name "${c.name}" is the name of a server certificate of this PKI: rename the client`);
        if (names.indexOf(c.name) !== i) issues.push(`clients[${i}].name "${c.name}" is requested twice: each consumer gets one certificate; give each a distinct name`);
    });
    return issues;
}

/**
 * The private PKI of a Temporal cluster, held in Azure Key Vault: root CA generations from
 * `@pulumi/tls` (each a client-facing and an internode CA), the internode, frontend and
 * per-consumer client certificates from named profiles, a vault with RBAC and the role assignments
 * the deployer and each consumer need, every end-entity certificate imported as a Key Vault
 * certificate, and the client-facing and internode trust bundles as secrets.
 */
export class TemporalPki extends pulumi.ComponentResource {
    readonly vaultId: pulumi.Output<string>;
    readonly vaultName: pulumi.Output<string>;
    readonly vaultUri: pulumi.Output<string>;
    /**
     * The client-facing CAs of every trusted generation, PEM concatenated, oldest first (public):
     * what the UI, the workers and admin tooling verify the frontend with (their `ca.crt`).
     */
    readonly trustBundlePem: pulumi.Output<string>;
    /** Key Vault secret holding `trustBundlePem`. */
    readonly trustBundleSecretName: string;
    /**
     * The internode CAs of every trusted generation, oldest first (public): `ca.crt` of the internode
     * servers (client CAs and root CAs) and of everything that dials the internal frontend.
     */
    readonly internodeTrustBundlePem: pulumi.Output<string>;
    /** Key Vault secret holding `internodeTrustBundlePem`. */
    readonly internodeTrustBundleSecretName: string;
    /**
     * Client-facing then internode CAs (public): whom the frontend accepts client certificates from
     * (the UI, workers, admin tooling, and Temporal's own services with the internode certificate).
     */
    readonly frontendClientTrustBundlePem: pulumi.Output<string>;
    readonly internode: IssuedCertificate;
    readonly frontend: IssuedCertificate;
    readonly clients: Record<string, IssuedCertificate>;
    readonly internodeServerName: string;
    readonly frontendServerName: string;
    /** Id of the CA generation that signs the end-entity certificates. */
    readonly issuerId: string;
    /** Each trusted generation's client-facing CA certificate (public), by generation id. */
    readonly caCertificates: Record<string, pulumi.Output<string>>;
    /** Each trusted generation's internode CA certificate (public), by generation id. */
    readonly internodeCaCertificates: Record<string, pulumi.Output<string>>;
    /** The Key Vault certificate resources, by consumer ("internode", "frontend", client names). */
    readonly keyVaultCertificates: Record<string, KeyVaultCertificate>;

    private readonly componentName: string;
    private readonly subscriptionId: pulumi.Output<string>;

    constructor(name: string, args: TemporalPkiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("temporal-azure:pki:TemporalPki", name, {}, opts);
        this.componentName = name;

        const problems = clientRequestIssues(args.clients);
        if (problems.length > 0) throw new Error(`TemporalPki ${name}: ${problems.join("; ")}`);
        const issuerConfig = args.pki.cas.find((c) => c.id === args.pki.issuer);
        if (issuerConfig === undefined) {
            throw new Error(`TemporalPki ${name}: temporal-azure:pki.issuer "${args.pki.issuer}" is not the id of a CA in pki.cas (${args.pki.cas.map((c) => c.id).join(", ")}): set it to one of them`);
        }
        this.issuerId = issuerConfig.id;
        this.internodeServerName = args.serviceNames.internodeServerName;
        this.frontendServerName = args.serviceNames.frontendServerName;
        this.trustBundleSecretName = TRUST_BUNDLE_SECRET_NAME;
        this.internodeTrustBundleSecretName = INTERNODE_TRUST_BUNDLE_SECRET_NAME;

        // ----- Key Vault
        const client = authorization.getClientConfigOutput({ parent: this });
        this.subscriptionId = client.subscriptionId;
        this.vaultName = this.deriveVaultName(name, args);
        const vault = new keyvault.Vault(
            `${name}-vault`,
            {
                vaultName: this.vaultName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                properties: vaultProperties(args.keyVault, args.tenantId),
                tags: { "temporal-azure/stack": args.stack, "temporal-azure/profile": args.profile },
            },
            { parent: this },
        );
        this.vaultId = vault.id;
        this.vaultUri = vault.properties.apply((p) => p.vaultUri ?? "");

        const deployerRole = (suffix: string, roleId: string, description: string) =>
            new authorization.RoleAssignment(
                `${name}-deployer-${suffix}`,
                {
                    scope: vault.id,
                    principalId: client.objectId,
                    roleDefinitionId: client.subscriptionId.apply((s) => roleDefinitionId(s, roleId)),
                    roleAssignmentName: pulumi.all([vault.id, client.objectId]).apply(([scope, principal]) => roleAssignmentName(scope, principal, roleId)),
                    description,
                },
                { parent: this },
            );
        // Exactly what the certificate import (and the certificate contacts) need on the data plane.
        const certificatesOfficer = deployerRole("certificates-officer", KEY_VAULT_ROLES.certificatesOfficer, "Deployer: imports the Temporal PKI's certificates (Pulumi)");
        // The deployer can write secrets on the data plane too (az keyvault secret set, runbooks).
        deployerRole("secrets-officer", KEY_VAULT_ROLES.secretsOfficer, "Deployer: writes the Temporal PKI's secrets (Pulumi, runbooks)");

        // ----- CA generations: two root CAs each (see CA_HIERARCHIES)
        const rootCa = (ca: CaSettings, hierarchy: CaHierarchy): RootCa => {
            const profile = caProfile(ca, hierarchy);
            const resourceName = caResourceName(name, ca.id, hierarchy);
            const key = new tls.PrivateKey(`${resourceName}-key`, keySpec(profile.keyAlgorithm), { parent: this });
            const cert = new tls.SelfSignedCert(
                resourceName,
                {
                    privateKeyPem: pulumi.secret(key.privateKeyPem),
                    subject: profile.subject,
                    isCaCertificate: true,
                    allowedUses: profile.allowedUses,
                    validityPeriodHours: profile.validityPeriodHours,
                    earlyRenewalHours: profile.earlyRenewalHours,
                    setSubjectKeyId: true,
                },
                { parent: this },
            );
            return { key, cert };
        };
        const cas: CaGeneration[] = args.pki.cas.map((ca) => ({ id: ca.id, client: rootCa(ca, "client"), internode: rootCa(ca, "internode") }));
        const caCertificates = (hierarchy: CaHierarchy) => Object.fromEntries(cas.map((c) => [c.id, c[hierarchy].cert.certPem]));
        const trustBundle = (hierarchies: readonly CaHierarchy[]) => pulumi.all(hierarchies.flatMap((h) => cas.map((c) => c[h].cert.certPem))).apply(pemBundle);
        this.caCertificates = caCertificates("client");
        this.internodeCaCertificates = caCertificates("internode");
        this.trustBundlePem = trustBundle(["client"]);
        this.internodeTrustBundlePem = trustBundle(["internode"]);
        this.frontendClientTrustBundlePem = trustBundle(CA_HIERARCHIES);
        const issuer = cas.find((c) => c.id === this.issuerId)!;

        const trustBundleSecret = (resourceName: string, secretName: string, pem: pulumi.Output<string>) =>
            new keyvault.Secret(
                resourceName,
                {
                    vaultName: vault.name,
                    resourceGroupName: args.resourceGroupName,
                    secretName,
                    // Public data, but azure-native does not mark a secret's value secret: it stays encrypted in the state anyway.
                    properties: { value: pulumi.secret(pem), contentType: "application/x-pem-file" },
                    tags: { "temporal-azure/cas": args.pki.cas.map((c) => c.id).join(" ") },
                },
                { parent: this },
            );
        trustBundleSecret(`${name}-ca-bundle`, TRUST_BUNDLE_SECRET_NAME, this.trustBundlePem);
        trustBundleSecret(`${name}-internode-ca-bundle`, INTERNODE_TRUST_BUNDLE_SECRET_NAME, this.internodeTrustBundlePem);

        if (args.keyVault.certificateContacts !== undefined && args.keyVault.certificateContacts.length > 0) {
            new KeyVaultCertificateContacts(`${name}-certificate-contacts`, { vaultUri: this.vaultUri, emails: args.keyVault.certificateContacts }, { parent: this, dependsOn: [certificatesOfficer] });
        }

        // ----- End-entity certificates
        const organization = issuerConfig.organization;
        this.keyVaultCertificates = {};
        const issue = (consumer: string, resourceName: string, objectName: string, profile: CertificateProfile): IssuedCertificate => {
            const signer = issuer[issuingHierarchy(profile.role)];
            const key = new tls.PrivateKey(`${resourceName}-key`, keySpec(profile.keyAlgorithm), { parent: this });
            const csr = new tls.CertRequest(
                `${resourceName}-csr`,
                { privateKeyPem: pulumi.secret(key.privateKeyPem), subject: profile.subject, dnsNames: profile.dnsNames },
                { parent: this },
            );
            const cert = new tls.LocallySignedCert(
                resourceName,
                {
                    certRequestPem: csr.certRequestPem,
                    caCertPem: signer.cert.certPem,
                    caPrivateKeyPem: pulumi.secret(signer.key.privateKeyPem),
                    allowedUses: profile.allowedUses,
                    validityPeriodHours: profile.validityPeriodHours,
                    earlyRenewalHours: profile.earlyRenewalHours,
                    isCaCertificate: false,
                    setSubjectKeyId: true,
                },
                { parent: this },
            );
            const chainPem = pulumi.all([cert.certPem, signer.cert.certPem]).apply(([leaf, ca]) => pemBundle([leaf, ca]));
            // PKCS#8: what Key Vault's PEM import requires, and what Go and Node read alike.
            const privateKeyPem = pulumi.secret(key.privateKeyPemPkcs8);
            this.keyVaultCertificates[consumer] = new KeyVaultCertificate(
                `${resourceName}-kv`,
                {
                    vaultUri: this.vaultUri,
                    certificateName: objectName,
                    pem: pulumi.all([privateKeyPem, chainPem]).apply(([k, chain]) => pemBundle([k, chain])),
                    policy: keyVaultCertificatePolicy(profile),
                    tags: { "temporal-azure/profile": profile.role, "temporal-azure/consumer": consumer, "temporal-azure/ca": issuer.id },
                },
                { parent: this, dependsOn: [certificatesOfficer] },
            );
            return {
                certPem: cert.certPem,
                chainPem,
                privateKeyPem,
                dnsNames: [...profile.dnsNames],
                commonName: profile.subject.commonName,
                keyVaultCertificateName: objectName,
            };
        };

        this.internode = issue("internode", `${name}-internode`, certificateObjectName("internode"), internodeProfile(args.serviceNames, args.pki, organization));
        this.frontend = issue("frontend", `${name}-frontend`, certificateObjectName("frontend"), frontendProfile(args.serviceNames, args.pki, organization));
        this.clients = Object.fromEntries(
            args.clients.map((request) => [request.name, issue(request.name, `${name}-client-${request.name}`, clientCertificateObjectName(request.name), clientProfile(request, args.pki, organization))]),
        );

        this.registerOutputs({
            vaultId: this.vaultId,
            vaultName: this.vaultName,
            vaultUri: this.vaultUri,
            trustBundlePem: this.trustBundlePem,
            trustBundleSecretName: this.trustBundleSecretName,
            internodeTrustBundlePem: this.internodeTrustBundlePem,
            internodeTrustBundleSecretName: this.internodeTrustBundleSecretName,
            frontendClientTrustBundlePem: this.frontendClientTrustBundlePem,
            internodeServerName: this.internodeServerName,
            frontendServerName: this.frontendServerName,
            issuerId: this.issuerId,
        });
    }

    /**
     * Lets one consumer's identity read its own certificate and key: Key Vault Secrets User on that
     * certificate's backing secret only (`<vaultId>/secrets/<name>`), nothing else in the vault.
     */
    grantRead(consumer: string, principalId: pulumi.Input<string>, principalType: "ServicePrincipal" | "User" | "Group" = "ServicePrincipal"): authorization.RoleAssignment {
        const certificate = this.issued(consumer);
        return this.grantSecretsUser(`${this.componentName}-read-${consumer}`, certificate.keyVaultCertificateName, principalId, principalType, [this.keyVaultCertificates[consumer]!], `Temporal PKI: ${consumer} reads its own certificate`);
    }

    /** Lets an identity read the trust bundle secret (public data, but the vault is RBAC-only). */
    grantTrustBundleRead(consumer: string, principalId: pulumi.Input<string>, principalType: "ServicePrincipal" | "User" | "Group" = "ServicePrincipal"): authorization.RoleAssignment {
        return this.grantSecretsUser(`${this.componentName}-read-ca-bundle-${consumer}`, TRUST_BUNDLE_SECRET_NAME, principalId, principalType, [], `Temporal PKI: ${consumer} reads the trust bundle`);
    }

    /** The issued certificate of a consumer ("internode", "frontend" or a client name); throws naming the known consumers. */
    issued(consumer: string): IssuedCertificate {
        const certificate = consumer === "internode" ? this.internode : consumer === "frontend" ? this.frontend : this.clients[consumer];
        if (certificate === undefined) {
            const known = ["internode", "frontend", ...Object.keys(this.clients)].join(", ");
            throw new Error(`TemporalPki: no certificate for consumer "${consumer}" (known: ${known}): add it to TemporalPkiArgs.clients (a worker: declare it in temporal-azure:workers)`);
        }
        return certificate;
    }

    private grantSecretsUser(
        resourceName: string,
        secretName: string,
        principalId: pulumi.Input<string>,
        principalType: "ServicePrincipal" | "User" | "Group",
        dependsOn: pulumi.Resource[],
        description: string,
    ): authorization.RoleAssignment {
        const scope = this.vaultId.apply((id) => secretScope(id, secretName));
        return new authorization.RoleAssignment(
            resourceName,
            {
                scope,
                principalId,
                principalType,
                roleDefinitionId: this.subscriptionId.apply((s) => roleDefinitionId(s, KEY_VAULT_ROLES.secretsUser)),
                roleAssignmentName: pulumi.all([scope, pulumi.output(principalId)]).apply(([s, p]) => roleAssignmentName(s, p, KEY_VAULT_ROLES.secretsUser)),
                description,
            },
            // The scope (the backing secret) exists only once the certificate is imported.
            { parent: this, dependsOn },
        );
    }

    private deriveVaultName(name: string, args: TemporalPkiArgs): pulumi.Output<string> {
        if (args.keyVault.name !== undefined) return pulumi.output(args.keyVault.name);
        if (args.profile !== "ephemeral") return pulumi.output(deriveVaultName(args.stack, `${args.tenantId}/${args.stack}`));
        // A destroyed vault keeps its name reserved for the soft-delete retention: each ephemeral
        // deployment draws a fresh suffix (stable for the life of the stack).
        const suffix = new random.RandomId(`${name}-vault-suffix`, { byteLength: 4 }, { parent: this });
        return suffix.hex.apply((hex) => deriveVaultName(args.stack, `${args.tenantId}/${args.stack}/${hex}`));
    }
}
