import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { FRONTEND_PORT } from "../config/names";
import { TEMPORAL_CHART } from "./versions";

/**
 * Kubernetes objects this program creates itself (the chart creates the rest), as pure builders.
 * Generic over the value type so the component passes Pulumi inputs and the tests plain strings
 * (which they validate against the Kubernetes schemas).
 */

export const MANAGED_LABELS = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "temporal-azure" } as const;

export interface Metadata {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

/** The three keys of a `kubernetes.io/tls` Secret as the chart and the Temporal SDKs read them. */
export interface TlsSecretData<T> {
    /** Leaf then issuing CA. */
    "tls.crt": T;
    "tls.key": T;
    /** The CAs the holder trusts (old and new during a CA rotation): see `trustBundleFor`. */
    "ca.crt": T;
}

/** The PKI's trust bundles, as `ca.crt` of the TLS Secrets needs them. */
export interface TrustBundles<T> {
    /** Client-facing CAs: what the UI and the workers verify the frontend with. */
    clientFacing: T;
    /** Internode CAs: the only CAs internode servers (the internal frontend among them) accept client certificates from. */
    internode: T;
    /** Client-facing and internode CAs: whom the frontend accepts client certificates from. */
    frontendClients: T;
}

/** The holder of a TLS Secret. */
export type TlsSecretHolder = "internode" | "frontend" | "web" | "worker";

/**
 * The bundle behind each Secret's `ca.crt`. The internode Secret gets the internode CAs only: it is
 * `internode.server.clientCaFiles`, and the internal frontend makes every caller that passes it a
 * system admin, so no client certificate may. It is also the roots of every internode client and of
 * the admin tools and namespace job, which dial the internal frontend (internode certificate). The
 * frontend Secret is `frontend.server.clientCaFiles` (UI, workers, admin tooling, and Temporal's
 * services with the internode certificate) and `frontend.client.rootCaFiles`. The UI and the
 * workers only verify the frontend.
 */
export function trustBundleFor<T>(holder: TlsSecretHolder, bundles: TrustBundles<T>): T {
    switch (holder) {
        case "internode":
            return bundles.internode;
        case "frontend":
            return bundles.frontendClients;
        case "web":
        case "worker":
            return bundles.clientFacing;
    }
}

export function tlsSecret<T>(name: string, namespace: string, material: { chainPem: T; privateKeyPem: T; trustBundlePem: T }) {
    return {
        apiVersion: "v1" as const,
        kind: "Secret" as const,
        metadata: { name, namespace, labels: { ...MANAGED_LABELS } },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": material.chainPem, "tls.key": material.privateKeyPem, "ca.crt": material.trustBundlePem } satisfies TlsSecretData<T>,
    };
}

/** An Opaque Secret of environment variables (`envFrom`) or of one password. */
export function opaqueSecret<T>(name: string, namespace: string, stringData: Record<string, T>) {
    return {
        apiVersion: "v1" as const,
        kind: "Secret" as const,
        metadata: { name, namespace, labels: { ...MANAGED_LABELS } },
        type: "Opaque",
        stringData,
    };
}

export function namespaceManifest(name: string, labels: Record<string, string> = {}) {
    return {
        apiVersion: "v1" as const,
        kind: "Namespace" as const,
        metadata: {
            name,
            labels: {
                ...MANAGED_LABELS,
                // The chart's jobs do not set every restricted-profile field; baseline is enforced, restricted reported.
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
                ...labels,
            },
        },
    };
}

/** The service account a worker's pods run as: workload identity exchanges its token for the worker identity's. */
export function workloadIdentityServiceAccount<T>(name: string, namespace: string, clientId: T) {
    return {
        apiVersion: "v1" as const,
        kind: "ServiceAccount" as const,
        metadata: { name, namespace, labels: { ...MANAGED_LABELS }, annotations: { "azure.workload.identity/client-id": clientId } },
    };
}

/** Ports a Temporal server service listens on besides the frontend's gRPC port. */
export const INTERNODE_PORTS: readonly NetworkPolicyPort[] = [
    { protocol: "TCP", port: 6933, endPort: 6939 }, // membership (ringpop) of every service
    { protocol: "TCP", port: 7234, endPort: 7236 }, // history, matching, internal frontend gRPC
    { protocol: "TCP", port: 7239 }, // worker gRPC
];
export const METRICS_PORT = 9090;
export const WEB_PORT = 8080;

export interface NetworkPolicyInput {
    namespace: string;
    releaseName: string;
    /** Namespaces of declared workers: they dial the frontend. */
    workerNamespaces: string[];
    /** The ingress controller's namespace: it forwards to the UI and (TLS passthrough) the frontend. */
    ingressNamespace: string;
    /** Prometheus's namespace, allowed to scrape the metrics port. */
    monitoringNamespace?: string;
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}
export interface NetworkPolicyPeer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
}
export interface NetworkPolicyPort {
    protocol: "TCP" | "UDP";
    port: number;
    endPort?: number;
}
export interface NetworkPolicyIngressRule {
    from: NetworkPolicyPeer[];
    ports: NetworkPolicyPort[];
}

const byNamespace = (ns: string): NetworkPolicyPeer => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } });

/** Labels the chart puts on every pod of one of its components. */
export function chartPodLabels(releaseName: string, component?: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": TEMPORAL_CHART.name,
        "app.kubernetes.io/instance": releaseName,
        ...(component !== undefined ? { "app.kubernetes.io/component": component } : {}),
    };
}

/**
 * Ingress rules for the release: the frontend's gRPC port only from the UI, the ingress controller
 * and the workers' namespaces; internode ports only from pods of the release (the UI excluded);
 * the UI only from the ingress controller. Kubernetes unions policies per pod, so a frontend pod gets
 * both its public rule and the internode one.
 */
export function temporalNetworkPolicies(p: NetworkPolicyInput) {
    const policy = (suffix: string, podSelector: LabelSelector, ingress: NetworkPolicyIngressRule[]) => ({
        apiVersion: "networking.k8s.io/v1" as const,
        kind: "NetworkPolicy" as const,
        metadata: { name: `${p.releaseName}-${suffix}`, namespace: p.namespace, labels: { ...MANAGED_LABELS } },
        spec: { podSelector, policyTypes: ["Ingress"], ingress },
    }) satisfies INetworkPolicy;
    const frontendPort: NetworkPolicyPort[] = [{ protocol: "TCP", port: FRONTEND_PORT }];
    const workerNamespaces = [...new Set(p.workerNamespaces)].sort();
    const serverPods: LabelSelector = {
        matchLabels: chartPodLabels(p.releaseName),
        matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["frontend", "internal-frontend", "history", "matching", "worker"] }],
    };
    const releasePodsButWeb: NetworkPolicyPeer = {
        podSelector: {
            matchLabels: { "app.kubernetes.io/instance": p.releaseName },
            matchExpressions: [{ key: "app.kubernetes.io/component", operator: "NotIn", values: ["web"] }],
        },
    };
    return [
        policy("frontend", { matchLabels: chartPodLabels(p.releaseName, "frontend") }, [
            { from: [{ podSelector: { matchLabels: chartPodLabels(p.releaseName, "web") } }], ports: frontendPort },
            { from: [byNamespace(p.ingressNamespace)], ports: frontendPort },
            ...(workerNamespaces.length > 0 ? [{ from: workerNamespaces.map(byNamespace), ports: frontendPort }] : []),
        ]),
        policy("internode", serverPods, [
            { from: [releasePodsButWeb], ports: INTERNODE_PORTS.map((port) => ({ ...port })) },
            ...(p.monitoringNamespace !== undefined ? [{ from: [byNamespace(p.monitoringNamespace)], ports: [{ protocol: "TCP" as const, port: METRICS_PORT }] }] : []),
        ]),
        policy("web", { matchLabels: chartPodLabels(p.releaseName, "web") }, [
            { from: [byNamespace(p.ingressNamespace)], ports: [{ protocol: "TCP" as const, port: WEB_PORT }] },
        ]),
    ];
}
