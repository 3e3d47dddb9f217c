import { z } from "zod";

/**
 * The stack configuration, as it is written in `stacks/Pulumi.<stack>.yaml` under the project's
 * namespace (`temporal-azure:<key>`). Every key is one section; each section is validated here, and
 * cross-section rules live in `validate.ts`. Messages name the fix: they are what a user reads at
 * preview time.
 */

export const PROJECT = "temporal-azure";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 1123 host name: labels of 1–63 letters, digits and hyphens, not starting or ending with a hyphen. */
export const DNS_NAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
/** Kubernetes object names (namespaces, service accounts): RFC 1123 label. */
export const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Temporal namespace names the server accepts (and that stay readable in a permission string). */
export const TEMPORAL_NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export const uuid = (what: string) =>
    z.string({ error: `${what} is required: give the GUID (e.g. from \`az account show --query tenantId\`)` }).regex(UUID, `${what} must be a GUID like 00000000-0000-0000-0000-000000000000`);

export const dnsName = (what: string) =>
    z.string().toLowerCase().regex(DNS_NAME, `${what} must be a DNS name (letters, digits, hyphens and dots, e.g. temporal.example.com)`);

/** Stack kinds. `profile` picks the defaults of everything else (database, replicas, purge protection). */
export const Profile = z.enum(["dev", "prod", "ephemeral"], {
    error: "profile must be one of dev, prod, ephemeral",
});
export type Profile = z.infer<typeof Profile>;

export const AzureConfig = z.strictObject({
    /** Entra ID tenant that issues tokens and holds the app registrations. */
    tenantId: uuid("azure.tenantId"),
    /** Azure region of every regional resource. */
    location: z.string().regex(/^[a-z0-9]+$/, "azure.location must be an Azure region name such as westeurope"),
    /** Resource group to create (name derived from the stack when absent). */
    resourceGroupName: z.string().regex(/^[-\w._()]{1,90}$/, "azure.resourceGroupName must be 1-90 letters, digits, _ - . ( )").optional(),
});

export const KeyVaultConfig = z.strictObject({
    /** Explicit vault name; derived from the project and stack when absent. */
    name: z.string().optional(),
    /** Public network access to the vault's data plane. */
    publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
    /** CIDR ranges allowed through the vault firewall; when any rule is given the default action is Deny. */
    allowedIpRanges: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, "keyVault.allowedIpRanges entries must be IPv4 addresses or CIDR ranges")).default([]),
    /** Subnet resource ids allowed through the vault firewall. */
    allowedSubnetIds: z.array(z.string().startsWith("/subscriptions/", "keyVault.allowedSubnetIds entries must be subnet resource ids")).default([]),
    /** Days a deleted vault is kept (7–90). */
    softDeleteRetentionDays: z.number().int().min(7, "keyVault.softDeleteRetentionDays must be 7-90").max(90, "keyVault.softDeleteRetentionDays must be 7-90").default(90),
    /** Purge protection; on by default for every profile but ephemeral, and required for prod. */
    purgeProtection: z.boolean().optional(),
});

export const KeyAlgorithm = z.enum(["ECDSA-P256", "RSA-3072", "RSA-4096"], {
    error: "key algorithm must be one of ECDSA-P256, RSA-3072, RSA-4096",
});
export type KeyAlgorithm = z.infer<typeof KeyAlgorithm>;

export const CaConfig = z.strictObject({
    /** Stable id of this CA generation (e.g. "2026"); part of the resource names, never reused. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,15}$/, "pki.cas[].id must be 1-16 lower-case letters, digits or hyphens (e.g. \"2026\")"),
    /** Subject common name of the CA certificate (required: a CA must have a subject). */
    commonName: z.string().min(1, "pki.cas[].commonName is required: a CA certificate must have a subject"),
    /** Subject organization. */
    organization: z.string().optional(),
    keyAlgorithm: KeyAlgorithm.default("ECDSA-P256"),
    validityYears: z.number().int().min(1).max(20).default(5),
});

export const PkiConfig = z.strictObject({
    /**
     * Every CA currently trusted, oldest first. To rotate: add the next CA (both trusted), then set
     * `issuer` to it (leaves reissued), then remove the old one (retired).
     */
    cas: z.array(CaConfig).min(1, "pki.cas must list at least one CA"),
    /** Id of the CA in `cas` that signs the end-entity certificates; defaults to the first. */
    issuer: z.string().optional(),
    /** Key algorithm of the end-entity certificates. */
    leafKeyAlgorithm: KeyAlgorithm.default("ECDSA-P256"),
    /** Validity of end-entity certificates, in days. */
    leafValidityDays: z.number().int().positive().max(825).default(90),
    /** A scheduled `pulumi up` reissues a leaf this many hours before it expires. */
    earlyRenewalHours: z.number().int().positive().default(720),
});

export const IdentityConfig = z.strictObject({
    /** Host name of the Temporal Web UI (its ingress and the OIDC callback). */
    uiHost: dnsName("identity.uiHost"),
    /** Also register http://localhost:8080/auth/sso/callback (port-forwarded UI); refused for prod. */
    allowLocalhostCallback: z.boolean().default(false),
    /** The UI's client secret is replaced after this many days. */
    uiSecretRotationDays: z.number().int().min(1).max(730).default(90),
    /** Accept v1 tokens too (issuer sts.windows.net). Off: the API pins v2. */
    acceptV1Tokens: z.boolean().default(false),
});

export const TemporalNamespaceConfig = z.strictObject({
    name: z.string().regex(TEMPORAL_NAMESPACE, "access.namespaces[].name must be letters, digits, '.', '_' or '-' (and not start with a symbol)"),
    /** Workflow retention, as Temporal writes durations (e.g. 72h, 7d). */
    retention: z.string().regex(/^\d+[hd]$/, "access.namespaces[].retention must look like 72h or 7d").default("3d"),
});

export const Grant = z
    .strictObject({
        /** An Entra group: object id (GUID) or display name. */
        group: z.string().min(1).optional(),
        /** An Entra user: user principal name. */
        user: z.string().regex(/^[^@\s]+@[^@\s]+$/, "access.grants[].user must be a user principal name like alice@contoso.com").optional(),
        /** A worker identity declared in `workers`. */
        worker: z.string().optional(),
        /** Temporal permissions: `<namespace>:<read|write|admin>` or `temporal-system:<read|write|admin>`. */
        permissions: z.array(z.string()).min(1, "access.grants[].permissions must list at least one permission"),
    })
    .refine((g) => [g.group, g.user, g.worker].filter((p) => p !== undefined).length === 1, {
        message: "access.grants[] must name exactly one principal: group, user or worker",
    });
export type Grant = z.infer<typeof Grant>;

export const AccessConfig = z.strictObject({
    /** Temporal namespaces this stack creates and grants on. */
    namespaces: z.array(TemporalNamespaceConfig).min(1, "access.namespaces must declare at least one Temporal namespace"),
    /** Who may do what: each grant gives one principal a list of permissions. */
    grants: z.array(Grant).default([]),
});

export const WorkerConfig = z.strictObject({
    /** Worker identity name; also its certificate and Kubernetes Secret name. */
    name: z.string().regex(K8S_NAME, "workers[].name must be a Kubernetes name (lower-case letters, digits, hyphens)"),
    /** Where it runs: on the stack's AKS cluster (workload identity, no secret) or elsewhere (app registration + certificate). */
    runsOn: z.enum(["aks", "external"]).default("aks"),
    /** Kubernetes namespace of the worker (its certificate Secret goes there). */
    kubernetesNamespace: z.string().regex(K8S_NAME, "workers[].kubernetesNamespace must be a Kubernetes namespace name"),
    /** Service account the worker pods run as (the federated credential's subject). */
    serviceAccount: z.string().regex(K8S_NAME, "workers[].serviceAccount must be a Kubernetes name").optional(),
    /** Temporal namespace the worker's connection profile points at. */
    temporalNamespace: z.string(),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;

export const AksConfig = z.strictObject({
    kubernetesVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "kubernetes.aks.kubernetesVersion must be a version like 1.33"),
    nodeVmSize: z.string().default("Standard_D4s_v5"),
    nodeCount: z.number().int().min(1).max(100).default(3),
    availabilityZones: z.array(z.string()).default([]),
});

export const KubernetesConfig = z.strictObject({
    /** kubeconfig: the secret config key `temporal-azure:kubeconfig`; ambient: the current context; aks: a cluster this stack creates. */
    source: z.enum(["kubeconfig", "ambient", "aks"]),
    /** Context to use with `ambient`. */
    context: z.string().optional(),
    /** Namespace of the Temporal release. */
    namespace: z.string().regex(K8S_NAME, "kubernetes.namespace must be a Kubernetes namespace name").default("temporal"),
    /** OIDC issuer URL of an existing cluster (for worker federated credentials when source is not aks). */
    oidcIssuerUrl: z.url({ protocol: /^https$/, error: "kubernetes.oidcIssuerUrl must be an https URL" }).optional(),
    /** Ingress class of the UI ingress. */
    ingressClassName: z.string().default("nginx"),
    aks: AksConfig.optional(),
});

export const DatabaseConfig = z.strictObject({
    /** in-cluster: a pinned PostgreSQL StatefulSet; flexible-server: Azure Database for PostgreSQL. Defaults by profile. */
    kind: z.enum(["in-cluster", "flexible-server"]).optional(),
    /** PostgreSQL major version. */
    postgresVersion: z.enum(["14", "15", "16", "17"]).default("16"),
    /** Flexible Server SKU. */
    skuName: z.string().default("Standard_D2ds_v5"),
    skuTier: z.enum(["Burstable", "GeneralPurpose", "MemoryOptimized"]).default("GeneralPurpose"),
    storageSizeGb: z.number().int().min(32).default(64),
    highAvailability: z.boolean().optional(),
    /** In-cluster volume size. */
    volumeSize: z.string().regex(/^\d+(Gi|Mi)$/, "database.volumeSize must look like 10Gi").default("10Gi"),
});

export const TemporalConfig = z.strictObject({
    /** External host of the frontend (gRPC), when exposed outside the cluster; added to its SANs. */
    frontendExternalHost: dnsName("temporal.frontendExternalHost").optional(),
    /** History shards; fixed forever after the first deployment. */
    numHistoryShards: z.number().int().min(1).default(512),
    /** Replicas per server service; defaults by profile. */
    replicas: z.number().int().min(1).max(20).optional(),
});

export const StackConfig = z.strictObject({
    profile: Profile,
    azure: AzureConfig,
    keyVault: KeyVaultConfig.default({ publicNetworkAccess: "Enabled", allowedIpRanges: [], allowedSubnetIds: [], softDeleteRetentionDays: 90 }),
    pki: PkiConfig,
    identity: IdentityConfig,
    access: AccessConfig,
    workers: z.array(WorkerConfig).default([]),
    kubernetes: KubernetesConfig,
    database: DatabaseConfig.default({ postgresVersion: "16", skuName: "Standard_D2ds_v5", skuTier: "GeneralPurpose", storageSizeGb: 64, volumeSize: "10Gi" }),
    temporal: TemporalConfig.default({ numHistoryShards: 512 }),
});
export type StackConfigInput = z.input<typeof StackConfig>;
export type StackConfig = z.infer<typeof StackConfig>;

/** Config keys read by the program (each a structured value under `temporal-azure:`). */
export const CONFIG_KEYS = Object.keys(StackConfig.shape) as Array<keyof StackConfig>;
