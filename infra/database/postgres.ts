import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IService } from "kubernetes-models/v1/Service";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { MANAGED_LABELS } from "../temporal/manifests";

/**
 * The in-cluster PostgreSQL of dev and ephemeral stacks, as pure manifests: one pinned image, one
 * replica, a volume per pod that is deleted with the StatefulSet, reachable only from the release.
 */

/** Per major version: explicit minor and Debian release (all from the 2024-11-14 upstream release), never a floating tag. */
export const POSTGRES_IMAGES = {
    "14": "postgres:14.15-bookworm",
    "15": "postgres:15.10-bookworm",
    "16": "postgres:16.6-bookworm",
    "17": "postgres:17.2-bookworm",
} as const satisfies Record<"14" | "15" | "16" | "17", string>;
export type PostgresMajorVersion = keyof typeof POSTGRES_IMAGES;

export const POSTGRES_PORT = 5432;
/** The official image's postgres user. */
const POSTGRES_UID = 999;

export interface InClusterPostgresInput {
    /** StatefulSet and Service name (the database host is `<name>.<namespace>.svc`). */
    name: string;
    namespace: string;
    version: PostgresMajorVersion;
    user: string;
    /** Secret holding the password under `password`. */
    passwordSecretName: string;
    volumeSize: string;
    storageClassName?: string;
    /** Helm release whose pods may connect. */
    releaseName: string;
}

const appLabels = (name: string) => ({ "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": name });

export function postgresStatefulSet(p: InClusterPostgresInput) {
    const labels = appLabels(p.name);
    return {
        apiVersion: "apps/v1" as const,
        kind: "StatefulSet" as const,
        metadata: { name: p.name, namespace: p.namespace, labels: { ...MANAGED_LABELS, ...labels } },
        spec: {
            serviceName: p.name,
            replicas: 1,
            selector: { matchLabels: labels },
            // Dev and ephemeral data go with the stack: the claim is deleted with the StatefulSet.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
            template: {
                metadata: { labels },
                spec: {
                    securityContext: { runAsUser: POSTGRES_UID, runAsGroup: POSTGRES_UID, fsGroup: POSTGRES_UID, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                    containers: [
                        {
                            name: "postgres",
                            image: POSTGRES_IMAGES[p.version],
                            imagePullPolicy: "IfNotPresent",
                            ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
                            env: [
                                { name: "POSTGRES_USER", value: p.user },
                                { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: p.passwordSecretName, key: "password" } } },
                                // A subdirectory: the volume's root holds lost+found, which initdb refuses.
                                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                            ],
                            readinessProbe: { exec: { command: ["pg_isready", "-U", p.user, "-h", "127.0.0.1"] }, periodSeconds: 5, failureThreshold: 6 },
                            livenessProbe: { exec: { command: ["pg_isready", "-U", p.user, "-h", "127.0.0.1"] }, initialDelaySeconds: 30, periodSeconds: 10 },
                            resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }],
                        },
                    ],
                },
            },
            volumeClaimTemplates: [
                {
                    metadata: { name: "data" },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        resources: { requests: { storage: p.volumeSize } },
                        ...(p.storageClassName !== undefined ? { storageClassName: p.storageClassName } : {}),
                    },
                },
            ],
        },
    } satisfies IStatefulSet;
}

export function postgresService(p: InClusterPostgresInput) {
    return {
        apiVersion: "v1" as const,
        kind: "Service" as const,
        metadata: { name: p.name, namespace: p.namespace, labels: { ...MANAGED_LABELS, ...appLabels(p.name) } },
        spec: { type: "ClusterIP", selector: appLabels(p.name), ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }] },
    } satisfies IService;
}

/** Only pods of the Temporal release (server, schema job, admin tools; not the UI) reach the database. */
export function postgresNetworkPolicy(p: InClusterPostgresInput) {
    return {
        apiVersion: "networking.k8s.io/v1" as const,
        kind: "NetworkPolicy" as const,
        metadata: { name: p.name, namespace: p.namespace, labels: { ...MANAGED_LABELS } },
        spec: {
            podSelector: { matchLabels: appLabels(p.name) },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        {
                            podSelector: {
                                matchLabels: { "app.kubernetes.io/instance": p.releaseName },
                                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "NotIn", values: ["web"] }],
                            },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: POSTGRES_PORT }],
                },
            ],
        },
    } satisfies INetworkPolicy;
}
