import { z } from "zod";
import { dnsName, K8S_NAME } from "./shared";

/** Config of the cluster, the database and the Temporal release (owned by infra/temporal). */

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

