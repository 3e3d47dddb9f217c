import { z } from "zod";
import { dnsName, K8S_NAME, textOrNumber } from "./shared";
import { acceptedRange, ipv4Range, isNonPublic, WIDEST_PREFIX, type Ipv4Range } from "./network";

/**
 * Config of the cluster, the database and the Temporal release (owned by infra/cluster,
 * infra/database and infra/temporal).
 *
 * `database` and `temporal` have whole-section defaults in `schema.ts`, which zod hands back as is
 * (without parsing them), so the fields added to them are optional here and their defaults are
 * resolved by the components (`infra/temporal/settings.ts`). Sections without a whole-section
 * default (`kubernetes`, `kubernetes.aks`) keep their defaults in the schema.
 */

const IPV4_CIDR = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The largest `persistence.numHistoryShards` server 1.31.2 loads: the field is an int32. */
export const MAX_HISTORY_SHARDS = 2 ** 31 - 1;
/** Durations as Go's time.ParseDuration reads them in the Temporal server config (e.g. 30s, 1m, 1h30m). */
export const GO_DURATION = /^(\d+(ns|us|µs|ms|s|m|h))+$/;

export const AksConfig = z.strictObject({
    kubernetesVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "kubernetes.aks.kubernetesVersion must be a version like 1.33"),
    nodeVmSize: z.string().default("Standard_D4s_v5"),
    nodeCount: z.number().int().min(1).max(100).default(3),
    availabilityZones: z.array(z.string()).default([]),
    /** CIDR ranges allowed to reach the API server; empty = no restriction. */
    authorizedIpRanges: z.array(z.string().regex(IPV4_CIDR, "kubernetes.aks.authorizedIpRanges entries must be IPv4 addresses or CIDR ranges")).default([]),
    /** Entra groups that are cluster admins (Azure RBAC on the cluster is on; local accounts are off). */
    adminGroupObjectIds: z.array(z.string().regex(GUID, "kubernetes.aks.adminGroupObjectIds entries must be group object ids (GUIDs)")).default([]),
    /**
     * How the Pulumi Kubernetes provider signs in through kubelogin (local accounts are disabled):
     * azurecli on a workstation, workloadidentity in CI with a federated credential, msi on an Azure VM,
     * spn with AAD_SERVICE_PRINCIPAL_* variables.
     */
    kubeloginMode: z.enum(["azurecli", "workloadidentity", "msi", "spn"]).default("azurecli"),
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
    /**
     * Ingress class of the UI ingress (and of the frontend's TLS-passthrough ingress): an ingress-nginx
     * class (community, or the AKS app routing add-on's); Application Gateway classes cannot carry the
     * external frontend (infra/temporal/rules.ts, docs/temporal.md).
     */
    ingressClassName: z.string().default("nginx"),
    /** Namespace of the ingress controller: the only namespace a NetworkPolicy lets reach the UI and the frontend from outside. */
    ingressNamespace: z.string().regex(K8S_NAME, "kubernetes.ingressNamespace must be a Kubernetes namespace name").default("ingress-nginx"),
    /** Namespace of the Prometheus that scrapes the server's metrics port (9090); none = metrics port closed. */
    monitoringNamespace: z.string().regex(K8S_NAME, "kubernetes.monitoringNamespace must be a Kubernetes namespace name").optional(),
    /** Create the workers' Kubernetes namespaces (off when their teams own them; they must exist before `pulumi up`). */
    createWorkerNamespaces: z.boolean().default(true),
    aks: AksConfig.optional(),
});

const EGRESS_INSTEAD = "list the cluster's public egress IPs instead (its load balancer's outbound IPs or its NAT gateway's public IP or prefix), or set database.privateAccess";

/**
 * What a Flexible Server firewall entry would really admit. Azure reads the rule 0.0.0.0-0.0.0.0 as
 * "allow public access from any Azure service" (every tenant's, not only yours); a cluster's egress
 * is a few addresses (an Azure public IP prefix is /28 at most), so anything wider than a /24 is a
 * mistake of the same size; and a private address never reaches a public firewall.
 */
export function databaseFirewallProblem(r: Ipv4Range): string | undefined {
    if (r.prefix === 32 && r.first === 0) {
        return `"${r.text}" makes the firewall rule 0.0.0.0-0.0.0.0, which Azure reads as "allow public access from any Azure service": every Azure customer's services and VMs, not only yours, could connect: ${EGRESS_INSTEAD}`;
    }
    if (r.prefix === 0) return `"${r.text}" admits every IPv4 address: ${EGRESS_INSTEAD}`;
    if (isNonPublic(r)) return `"${r.text}" is a private range, which a public firewall never sees (connections arrive from the cluster's public egress IP): ${EGRESS_INSTEAD}`;
    if (r.prefix < WIDEST_PREFIX) return `"${r.text}" admits ${r.size} addresses, far more than a cluster's egress (an Azure public IP prefix is at most a /28): ${EGRESS_INSTEAD}`;
    return undefined;
}

const databaseFirewallEntry = ipv4Range().superRefine((value, ctx) => {
    const r = acceptedRange(value);
    const problem = r !== undefined ? databaseFirewallProblem(r) : undefined;
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

export const DatabaseConfig = z.strictObject({
    /** in-cluster: a pinned PostgreSQL StatefulSet; flexible-server: Azure Database for PostgreSQL. Defaults by profile. */
    kind: z.enum(["in-cluster", "flexible-server"]).optional(),
    /** PostgreSQL major version. */
    postgresVersion: textOrNumber(z.enum(["14", "15", "16", "17"])).default("16"),
    /** Flexible Server SKU. */
    skuName: z.string().default("Standard_D2ds_v5"),
    skuTier: z.enum(["Burstable", "GeneralPurpose", "MemoryOptimized"]).default("GeneralPurpose"),
    storageSizeGb: z.number().int().min(32).default(64),
    highAvailability: z.boolean().optional(),
    /** In-cluster volume size. */
    volumeSize: z.string().regex(/^\d+(Gi|Mi)$/, "database.volumeSize must look like 10Gi").default("10Gi"),
    /** Storage class of the in-cluster volume (the cluster's default when absent). */
    storageClassName: z.string().regex(K8S_NAME, "database.storageClassName must be a Kubernetes name").optional(),
    /** Flexible Server backup retention in days (7-35); 35 for prod, 7 otherwise. */
    backupRetentionDays: z.number().int().min(7, "database.backupRetentionDays must be 7-35").max(35, "database.backupRetentionDays must be 7-35").optional(),
    /**
     * Flexible Server private access: the server gets an address in this delegated subnet and public
     * access is off. Without it the server is public but its firewall admits only `allowedIps`
     * (and the egress IPs of an AKS cluster this stack creates).
     */
    privateAccess: z
        .strictObject({
            delegatedSubnetId: z.string().startsWith("/subscriptions/", "database.privateAccess.delegatedSubnetId must be a subnet resource id"),
            privateDnsZoneId: z.string().startsWith("/subscriptions/", "database.privateAccess.privateDnsZoneId must be a private DNS zone resource id"),
        })
        .optional(),
    /**
     * Egress IPs of the cluster (addresses, or CIDR ranges such as a NAT gateway's public IP
     * prefix), admitted by the Flexible Server firewall (public access only). Never 0.0.0.0 (Azure's
     * "any Azure service"), a private range, or anything wider than a /24.
     */
    allowedIps: z.array(databaseFirewallEntry).optional(),
});

export const TemporalConfig = z.strictObject({
    /** External host of the frontend (gRPC), when exposed outside the cluster; added to its SANs. */
    frontendExternalHost: dnsName("temporal.frontendExternalHost").optional(),
    /**
     * History shards; fixed forever after the first deployment (the server records the count in its
     * database on first start and ignores any later value). Bounded by what server 1.31.2 loads: its
     * `persistence.numHistoryShards` is an int32 validated nonzero (go.temporal.io/server
     * common/config/config.go), and shards are numbered 1..count.
     */
    numHistoryShards: z
        .number()
        .int()
        .min(1, { error: (iss) => `temporal.numHistoryShards must be at least 1 (history shards are numbered from 1), got ${String(iss.input)}` })
        .max(MAX_HISTORY_SHARDS, {
            error: (iss) =>
                `temporal.numHistoryShards is ${String(iss.input)}, more than server 1.31.2 loads (its persistence.numHistoryShards is a 32-bit integer: at most ${MAX_HISTORY_SHARDS}); the count is fixed for the life of the cluster (the server records it in its database on first start and ignores any later value), so choose it for the largest the cluster will ever be, e.g. 512`,
        })
        .default(512),
    /** Replicas per server service; defaults by profile. */
    replicas: z.number().int().min(1).max(20).optional(),
    /** How often the server re-reads its certificate files (rotation without restarts); default 1m. */
    tlsRefreshInterval: z.string().regex(GO_DURATION, "temporal.tlsRefreshInterval must be a Go duration like 1m").optional(),
    /** How often the server re-fetches the API's JWKS (it never re-fetches on an unknown kid); default 5m. */
    jwksRefreshInterval: z.string().regex(GO_DURATION, "temporal.jwksRefreshInterval must be a Go duration like 5m").optional(),
    /** Server log level; default info. */
    logLevel: z.enum(["debug", "info", "warn", "error"]).optional(),
    /** Run the admin-tools pod (it holds the internode key = cluster admin); default on except for prod. */
    adminTools: z.boolean().optional(),
    /** Secret holding the UI ingress's browser-facing certificate (publicly trusted, not from the private PKI); default temporal-web-ingress-tls. */
    uiIngressTlsSecretName: z.string().regex(K8S_NAME, "temporal.uiIngressTlsSecretName must be a Kubernetes name").optional(),
    /** cert-manager ClusterIssuer that fills `uiIngressTlsSecretName`; without it the Secret must be provided. */
    uiCertManagerClusterIssuer: z.string().optional(),
});
