import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { NetworkPolicy, type INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import { StatefulSet } from "kubernetes-models/apps/v1";
import {
    chartPodLabels,
    namespaceManifest,
    opaqueSecret,
    temporalNetworkPolicies,
    tlsSecret,
    trustBundleFor,
    workloadIdentityServiceAccount,
} from "../../infra/temporal/manifests";
import { POSTGRES_IMAGES, postgresNetworkPolicy, postgresService, postgresStatefulSet, type InClusterPostgresInput } from "../../infra/database/postgres";

const policies = temporalNetworkPolicies({
    namespace: "temporal",
    releaseName: "temporal",
    workerNamespaces: ["payments", "orders", "payments"],
    ingressNamespace: "ingress-nginx",
    monitoringNamespace: "monitoring",
});
const pg: InClusterPostgresInput = {
    name: "temporal-postgres",
    namespace: "temporal",
    version: "16",
    user: "temporal",
    passwordSecretName: "temporal-db",
    volumeSize: "10Gi",
    releaseName: "temporal",
};

describe("which trust bundle each TLS Secret's ca.crt holds", () => {
    const bundles = { clientFacing: "client CAs", internode: "internode CAs", frontendClients: "client + internode CAs" };

    it("internode: the internode CAs only, so no client certificate passes the internode servers (the internal frontend would make it admin)", () => {
        assert.equal(trustBundleFor("internode", bundles), "internode CAs");
    });

    it("frontend: client-facing and internode CAs (UI, workers, admin tooling, and Temporal's services with the internode certificate)", () => {
        assert.equal(trustBundleFor("frontend", bundles), "client + internode CAs");
    });

    it("the UI and the workers: the client-facing CAs, to verify the frontend", () => {
        assert.equal(trustBundleFor("web", bundles), "client CAs");
        assert.equal(trustBundleFor("worker", bundles), "client CAs");
    });
});

describe("Kubernetes objects created directly validate against the Kubernetes schemas", () => {
    it("TLS and Opaque Secrets, namespaces, service accounts", () => {
        const tls = tlsSecret("temporal-internode-tls", "temporal", { chainPem: "leaf+ca", privateKeyPem: "key", trustBundlePem: "cas" });
        new Secret(tls).validate();
        assert.equal(tls.type, "kubernetes.io/tls");
        assert.deepEqual(Object.keys(tls.stringData).sort(), ["ca.crt", "tls.crt", "tls.key"]);
        new Secret(opaqueSecret("temporal-web-auth", "temporal", { TEMPORAL_AUTH_CLIENT_SECRET: "x" })).validate();
        new Namespace(namespaceManifest("payments")).validate();
        const sa = workloadIdentityServiceAccount("payments-worker", "payments", "0eb9fb05-2a97-4c85-a06f-7ac97b05d1e7");
        new ServiceAccount(sa).validate();
        assert.equal(sa.metadata.annotations["azure.workload.identity/client-id"], "0eb9fb05-2a97-4c85-a06f-7ac97b05d1e7");
    });

    it("the release's NetworkPolicies", () => {
        assert.deepEqual(
            policies.map((p) => p.metadata.name),
            ["temporal-frontend", "temporal-internode", "temporal-web"],
        );
        for (const p of policies) new NetworkPolicy(p).validate();
    });

    it("the in-cluster PostgreSQL: StatefulSet, Service, NetworkPolicy", () => {
        new StatefulSet(postgresStatefulSet(pg)).validate();
        new Service(postgresService(pg)).validate();
        new NetworkPolicy(postgresNetworkPolicy(pg)).validate();
    });

    it("rejects what the API server would reject (the check is real)", () => {
        const broken = { ...policies[0]!, spec: { ...policies[0]!.spec, policyTypes: ["Sideways"] } };
        assert.throws(() => new NetworkPolicy(broken as unknown as INetworkPolicy).validate(), /policyTypes/);
    });
});

describe("in-cluster PostgreSQL", () => {
    const sts = postgresStatefulSet(pg);
    const container = sts.spec.template.spec.containers[0]!;

    it("runs a pinned image per major version, never a floating tag", () => {
        assert.equal(container.image, "postgres:16.6-bookworm");
        for (const image of Object.values(POSTGRES_IMAGES)) assert.match(image, /^postgres:\d+\.\d+-bookworm$/);
    });

    it("reads the password from the Secret and keeps data on a volume deleted with the StatefulSet", () => {
        assert.deepEqual(container.env.find((e) => e.name === "POSTGRES_PASSWORD"), { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: "temporal-db", key: "password" } } });
        assert.equal(JSON.stringify(sts).includes("value\":\"temporal-db"), false);
        assert.deepEqual(sts.spec.volumeClaimTemplates[0]!.spec.resources.requests, { storage: "10Gi" });
        assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Delete", whenScaled: "Retain" });
    });
});

// A small NetworkPolicy evaluator: is a connection from `source` to `target` on `port` admitted?
interface Pod {
    namespace: string;
    labels: Record<string, string>;
}
const NAMESPACE_LABEL = "kubernetes.io/metadata.name";
function selects(selector: ILabelSelector, labels: Record<string, string>): boolean {
    const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const byExpressions = (selector.matchExpressions ?? []).every((e) => {
        const values = e.values ?? [];
        if (e.operator === "In") return e.key in labels && values.includes(labels[e.key]!);
        if (e.operator === "NotIn") return !(e.key in labels) || !values.includes(labels[e.key]!);
        return e.operator === "Exists" ? e.key in labels : !(e.key in labels);
    });
    return byLabels && byExpressions;
}
function admits(all: INetworkPolicy[], source: Pod, target: Pod, port: number): boolean {
    const applicable = all.filter((p) => p.metadata?.namespace === target.namespace && selects(p.spec?.podSelector ?? {}, target.labels));
    if (applicable.length === 0) return true;
    return applicable.some((p) =>
        (p.spec?.ingress ?? []).some(
            (rule) =>
                (rule.ports ?? []).some((r) => typeof r.port === "number" && port >= r.port && port <= (r.endPort ?? r.port)) &&
                (rule.from ?? []).some((peer) => {
                    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, { [NAMESPACE_LABEL]: source.namespace }) : source.namespace === p.metadata?.namespace;
                    const podOk = peer.podSelector ? selects(peer.podSelector, source.labels) : true;
                    return nsOk && podOk;
                }),
        ),
    );
}
const pod = (component: string): Pod => ({ namespace: "temporal", labels: chartPodLabels("temporal", component) });
const elsewhere = (namespace: string): Pod => ({ namespace, labels: { app: "x" } });

describe("NetworkPolicies: who reaches what", () => {
    it("the frontend's gRPC port: only the UI, the ingress controller and the declared workers' namespaces", () => {
        const frontend = pod("frontend");
        assert.equal(admits(policies, pod("web"), frontend, 7233), true);
        assert.equal(admits(policies, elsewhere("ingress-nginx"), frontend, 7233), true);
        assert.equal(admits(policies, elsewhere("payments"), frontend, 7233), true);
        assert.equal(admits(policies, elsewhere("orders"), frontend, 7233), true);
        assert.equal(admits(policies, elsewhere("default"), frontend, 7233), false);
        assert.equal(admits(policies, pod("history"), frontend, 7233), false);
    });

    it("internode and membership ports: only pods of the release, not the UI, not other namespaces", () => {
        for (const [target, port] of [["history", 7234], ["matching", 7235], ["internal-frontend", 7236], ["worker", 7239], ["frontend", 6933], ["history", 6934], ["worker", 6939]] as const) {
            assert.equal(admits(policies, pod("frontend"), pod(target), port), true, `${target}:${port} from frontend`);
            assert.equal(admits(policies, pod("web"), pod(target), port), false, `${target}:${port} from web`);
            assert.equal(admits(policies, elsewhere("payments"), pod(target), port), false, `${target}:${port} from a worker namespace`);
        }
        assert.equal(admits(policies, pod("admintools"), pod("internal-frontend"), 7236), true);
        assert.equal(admits(policies, pod("database"), pod("internal-frontend"), 7236), true, "the namespace job");
    });

    it("metrics only from the monitoring namespace; the UI only from the ingress controller", () => {
        assert.equal(admits(policies, elsewhere("monitoring"), pod("history"), 9090), true);
        assert.equal(admits(policies, elsewhere("payments"), pod("history"), 9090), false);
        assert.equal(admits(policies, elsewhere("ingress-nginx"), pod("web"), 8080), true);
        assert.equal(admits(policies, elsewhere("payments"), pod("web"), 8080), false);
        const closed = temporalNetworkPolicies({ namespace: "temporal", releaseName: "temporal", workerNamespaces: [], ingressNamespace: "ingress-nginx" });
        assert.equal(admits(closed, elsewhere("monitoring"), pod("history"), 9090), false);
        assert.equal(admits(closed, elsewhere("payments"), pod("frontend"), 7233), false);
    });

    it("the in-cluster database only from the release's server-side pods", () => {
        const db = [postgresNetworkPolicy(pg)];
        const target: Pod = { namespace: "temporal", labels: postgresStatefulSet(pg).spec.template.metadata.labels };
        assert.equal(admits(db, pod("history"), target, 5432), true);
        assert.equal(admits(db, pod("database"), target, 5432), true, "the schema job");
        assert.equal(admits(db, pod("web"), target, 5432), false);
        assert.equal(admits(db, elsewhere("payments"), target, 5432), false);
    });
});
