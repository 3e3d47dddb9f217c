import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type * as k8s from "@pulumi/kubernetes";
import { parse } from "yaml";
import { setupFullEngine } from "../../scripts/lib/offline/emulators";
import { settle, unwrap, type OfflineEngine, type RecordedResource } from "../../scripts/lib/offline/engine";
import { temporalServiceNames } from "../../infra/config/names";
import type { DatabaseConnection } from "../../infra/temporal/values";
import { API_CLIENT_ID, at, env, IN_CLUSTER_DB, ISSUER, JWKS, resolved, UI_CLIENT_ID, wasSecret } from "./fixtures";

/**
 * The components with hand-made inputs (no PKI, no identity component): what they register, what
 * stays secret, and how the pieces are wired. Plain PEM-looking strings stand in for certificates.
 */

const KEY = (who: string) => `-----BEGIN PRIVATE KEY-----\n${who}-key\n-----END PRIVATE KEY-----\n`;
const CERT = (who: string) => `-----BEGIN CERTIFICATE-----\n${who}\n-----END CERTIFICATE-----\n`;
/** Leaves chain to their issuing CA: the internode leaf to the internode CA, every other one to the client-facing CA. */
const issuerOf = (who: string) => (who === "internode" ? "internode-ca" : "ca");
const material = (who: string) => ({ certPem: CERT(who), chainPem: CERT(who) + CERT(issuerOf(who)), privateKeyPem: KEY(who) });
const BUNDLES = { client: CERT("ca"), internode: CERT("internode-ca"), frontendClients: CERT("ca") + CERT("internode-ca") };
const UI_SECRET = "ui-client-secret-value~123";

let engine: OfflineEngine;
let dbConnection: DatabaseConnection;
let flexConnection: DatabaseConnection;
let aksOutputs: { oidcIssuerUrl: string; egressIp: string; kubeconfig: string };

async function settleAll(): Promise<void> {
    let last = -1;
    for (let i = 0; i < 100 && engine.resources.length !== last; i++) {
        last = engine.resources.length;
        await new Promise((r) => setTimeout(r, 20));
        await settle();
    }
}

before(async () => {
    engine = setupFullEngine({ stack: "component" });
    const pulumi = await import("@pulumi/pulumi");
    const { TemporalCluster, resolveTemporalSettings } = await import("../../infra/temporal");
    const { TemporalDatabase } = await import("../../infra/database");
    const { KubernetesCluster } = await import("../../infra/cluster");

    const cluster = new KubernetesCluster("ambient", { profile: "dev", source: "ambient", namespace: "temporal" });
    const viaKubeconfig = new KubernetesCluster("fromfile", { profile: "dev", source: "kubeconfig", kubeconfig: "apiVersion: v1\nkind: Config\n", namespace: "temporal-b" });
    const prod = resolved("prod");
    const aks = new KubernetesCluster("aks", {
        profile: "prod",
        source: "aks",
        namespace: "temporal-c",
        aks: { settings: prod.kubernetes.aks!, resourceGroupName: "rg-test", location: "westeurope", tenantId: prod.azure.tenantId, dnsPrefix: "temporal-test" },
    });
    void viaKubeconfig;

    const db = new TemporalDatabase("db", {
        kind: "in-cluster",
        provider: cluster.provider,
        namespace: cluster.namespaceName,
        namespaceName: "temporal",
        releaseName: "temporal",
        postgresVersion: "16",
        inCluster: { volumeSize: "5Gi" },
    });
    const flex = new TemporalDatabase("flex", {
        kind: "flexible-server",
        provider: aks.provider,
        namespace: aks.namespaceName,
        namespaceName: "temporal-c",
        releaseName: "temporal",
        postgresVersion: "16",
        inCluster: { volumeSize: "5Gi" },
        flexibleServer: {
            resourceGroupName: "rg-test",
            location: "westeurope",
            skuName: "Standard_D2ds_v5",
            skuTier: "GeneralPurpose",
            storageSizeGb: 64,
            highAvailability: true,
            backupRetentionDays: 35,
            allowedIps: ["20.30.40.50", aks.egressIp!],
        },
    });

    const dev = resolved("dev");
    new TemporalCluster("temporal", {
        provider: cluster.provider,
        serviceNames: temporalServiceNames("temporal"),
        namespace: cluster.namespaceName,
        settings: resolveTemporalSettings(dev),
        tls: {
            trustBundlePem: BUNDLES.client,
            internodeTrustBundlePem: BUNDLES.internode,
            frontendClientTrustBundlePem: BUNDLES.frontendClients,
            internode: material("internode"),
            frontend: material("frontend"),
            ui: material("ui"),
        },
        auth: { jwksUrl: JWKS, audience: pulumi.output(API_CLIENT_ID), permissionsClaimName: "roles" },
        ui: {
            host: "temporal.test.example",
            issuerUrl: ISSUER,
            clientId: pulumi.output(UI_CLIENT_ID),
            callbackUrl: "https://temporal.test.example/auth/sso/callback",
            scopes: pulumi.output(["openid", `api://${API_CLIENT_ID}/default`]),
            clientSecret: pulumi.secret(UI_SECRET),
            ingressClassName: "nginx",
        },
        database: db.connection,
        temporalNamespaces: [{ name: "payments", retention: "3d" }],
        workers: [
            { name: "payments-worker", kubernetesNamespace: "payments", certificate: material("payments-worker"), workloadIdentity: { serviceAccountName: "payments-worker", clientId: pulumi.output("0eb9fb05-2a97-4c85-a06f-7ac97b05d1e7") } },
            { name: "payments-batch", kubernetesNamespace: "payments", certificate: material("payments-batch") },
        ],
        network: { ingressNamespace: "ingress-nginx", createWorkerNamespaces: true },
    });

    dbConnection = await unwrap(db.connection);
    flexConnection = await unwrap(flex.connection);
    aksOutputs = { oidcIssuerUrl: await unwrap(aks.oidcIssuerUrl!), egressIp: await unwrap(aks.egressIp!), kubeconfig: await unwrap(aks.kubeconfig!) };
    await settleAll();
});

const k8sOf = (type: string, prefix: string) => engine.ofType(`kubernetes:${type}`).filter((r) => r.name.startsWith(prefix));
const secretData = (r: RecordedResource) => r.inputs.stringData as Record<string, string>;
const releaseValues = () => engine.byName("kubernetes:helm.sh/v3:Release", "temporal").inputs.values as Record<string, unknown>;

describe("TemporalCluster", () => {
    it("creates kubernetes.io/tls Secrets with chain, key and each holder's trust bundle: internode CAs for internode, both for the frontend, client-facing for the UI", () => {
        for (const [name, who, bundle] of [
            ["temporal-internode-tls", "internode", BUNDLES.internode],
            ["temporal-frontend-tls", "frontend", BUNDLES.frontendClients],
            ["temporal-web-tls", "ui", BUNDLES.client],
        ] as const) {
            const r = engine.byName("kubernetes:core/v1:Secret", `temporal-${name.replace(/^temporal-/, "")}`);
            assert.equal(r.inputs.type, "kubernetes.io/tls");
            assert.deepEqual((r.inputs.metadata as { name: string; namespace: string }).name, name);
            assert.deepEqual(secretData(r), { "tls.crt": CERT(who) + CERT(issuerOf(who)), "tls.key": KEY(who), "ca.crt": bundle });
        }
    });

    it("keeps every Secret's data a Pulumi secret, and the UI's client secret only in its env Secret", () => {
        const secrets = k8sOf("core/v1:Secret", "temporal-");
        assert.equal(secrets.length, 6);
        for (const s of secrets) assert.ok(wasSecret(s, "stringData"), `${s.name}: stringData was not secret`);
        assert.deepEqual(secretData(engine.byName("kubernetes:core/v1:Secret", "temporal-web-auth")), { TEMPORAL_AUTH_CLIENT_SECRET: UI_SECRET });
    });

    it("puts each worker's certificate Secret in the worker's namespace, creating that namespace once", () => {
        const ns = k8sOf("core/v1:Namespace", "temporal-ns-");
        assert.deepEqual(ns.map((n) => (n.inputs.metadata as { name: string }).name), ["payments"]);
        for (const w of ["payments-worker", "payments-batch"]) {
            const r = engine.byName("kubernetes:core/v1:Secret", `temporal-worker-${w}-tls`);
            assert.deepEqual(r.inputs.metadata, { name: w, namespace: "payments", labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "temporal-azure" } });
            assert.equal(secretData(r)["tls.key"], KEY(w));
            assert.equal(secretData(r)["ca.crt"], BUNDLES.client, "a worker verifies the frontend with the client-facing CAs");
        }
        const sa = engine.byName("kubernetes:core/v1:ServiceAccount", "temporal-worker-payments-worker-sa");
        assert.equal((sa.inputs.metadata as { annotations: Record<string, string> }).annotations["azure.workload.identity/client-id"], "0eb9fb05-2a97-4c85-a06f-7ac97b05d1e7");
        assert.equal(engine.ofType("kubernetes:core/v1:ServiceAccount").length, 1, "only workers on the cluster get a workload-identity service account");
    });

    it("installs the pinned chart with hooks (helm.v3.Release) into the release namespace", () => {
        const r = engine.byName("kubernetes:helm.sh/v3:Release", "temporal");
        assert.equal(r.inputs.chart, "temporal");
        assert.equal(r.inputs.version, "1.6.0");
        assert.deepEqual(r.inputs.repositoryOpts, { repo: "https://go.temporal.io/helm-charts" });
        assert.equal(r.inputs.name, "temporal");
        assert.equal(r.inputs.namespace, "temporal");
        assert.equal(r.inputs.waitForJobs, true);
    });

    it("hands the chart secret-free values: Secret names only", () => {
        const r = engine.byName("kubernetes:helm.sh/v3:Release", "temporal");
        assert.deepEqual(r.secretPaths, [], "nothing in the release is secret");
        const text = JSON.stringify(releaseValues());
        for (const secret of [UI_SECRET, "PRIVATE KEY", "internode-key"]) assert.equal(text.includes(secret), false, secret);
        assert.equal(at(releaseValues(), "web.additionalEnvSecretName"), "temporal-web-auth");
        assert.equal(env(at(releaseValues(), "web.additionalEnv")).TEMPORAL_AUTH_CLIENT_ID, UI_CLIENT_ID);
    });

    it("connects the chart to the database through its Service and password Secret", () => {
        const sql = at(releaseValues(), "server.config.persistence.datastores.default.sql") as Record<string, unknown>;
        assert.equal(sql.connectAddr, "temporal-postgres.temporal.svc:5432");
        assert.equal(sql.existingSecret, "temporal-db");
    });

    it("creates the release's NetworkPolicies", () => {
        assert.deepEqual(k8sOf("networking.k8s.io/v1:NetworkPolicy", "temporal-").map((p) => p.name).sort(), ["temporal-temporal-frontend", "temporal-temporal-internode", "temporal-temporal-web"]);
    });
});

describe("TemporalDatabase", () => {
    it("in-cluster: a generated password, kept secret in the Secret the StatefulSet reads", () => {
        const password = engine.byName("random:index/randomPassword:RandomPassword", "db-password").state.result as string;
        assert.match(password, /^[A-Za-z0-9]{40}$/);
        const secret = engine.byName("kubernetes:core/v1:Secret", "db-password");
        assert.ok(wasSecret(secret, "stringData"));
        assert.deepEqual(secretData(secret), { password });
        const sts = engine.byName("kubernetes:apps/v1:StatefulSet", "db-postgres").inputs as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
        assert.equal(sts.spec.template.spec.containers[0]!.image, "postgres:16.6-bookworm");
        assert.deepEqual(dbConnection, IN_CLUSTER_DB);
    });

    it("Flexible Server: pinned major version, zone-redundant HA, secret admin password, TLS required, btree_gin allowed", () => {
        const server = engine.byName("azure-native:dbforpostgresql:Server", "flex-server");
        assert.equal(server.inputs.version, "16");
        assert.equal((server.inputs.highAvailability as { mode: string }).mode, "ZoneRedundant");
        assert.ok(wasSecret(server, "administratorLoginPassword"), "administratorLoginPassword is not secret");
        assert.equal(server.inputs.administratorLoginPassword, engine.byName("random:index/randomPassword:RandomPassword", "flex-password").state.result);
        const parameters = engine.ofType("azure-native:dbforpostgresql:Configuration").map((c) => [c.inputs.configurationName, c.inputs.value]);
        assert.deepEqual(parameters, [["azure.extensions", "BTREE_GIN"], ["require_secure_transport", "ON"], ["ssl_min_protocol_version", "TLSv1.2"]]);
        assert.deepEqual(engine.ofType("azure-native:dbforpostgresql:Database").map((d) => d.inputs.databaseName), ["temporal", "temporal_visibility"]);
    });

    it("Flexible Server: the firewall admits only the listed IPs and the AKS cluster's outbound IP", () => {
        const rules = engine.ofType("azure-native:dbforpostgresql:FirewallRule").map((r) => [r.inputs.startIpAddress, r.inputs.endIpAddress]);
        assert.deepEqual(rules, [["20.30.40.50", "20.30.40.50"], [aksOutputs.egressIp, aksOutputs.egressIp]]);
        assert.match(aksOutputs.egressIp, /^20\.\d+\.\d+\.\d+$/);
    });

    it("Flexible Server: the chart verifies the server's certificate against its FQDN and does not create databases", () => {
        const fqdn = engine.byName("azure-native:dbforpostgresql:Server", "flex-server").state.fullyQualifiedDomainName;
        assert.equal(flexConnection.host, fqdn);
        assert.equal(flexConnection.tlsServerName, fqdn);
        assert.equal(flexConnection.createDatabase, false);
        assert.equal(flexConnection.user, "temporaladmin");
    });
});

describe("KubernetesCluster", () => {
    const provider = (name: string) => engine.byName("pulumi:providers:kubernetes", name);

    it("ambient: the current context, no kubeconfig in state", () => {
        assert.equal(provider("ambient-provider").inputs.kubeconfig, undefined);
    });

    it("kubeconfig: the secret config reaches the provider as a secret", () => {
        assert.ok(wasSecret(provider("fromfile-provider"), "kubeconfig"));
    });

    it("aks: OIDC issuer and workload identity on, the issuer URL exported, the user kubeconfig secret with non-interactive kubelogin", () => {
        const mc = engine.byName("azure-native:containerservice:ManagedCluster", "aks-aks");
        assert.deepEqual(mc.inputs.oidcIssuerProfile, { enabled: true });
        assert.deepEqual(mc.inputs.securityProfile, { workloadIdentity: { enabled: true } });
        assert.match(aksOutputs.oidcIssuerUrl, /^https:\/\/westeurope\.oic\.prod-aks\.azure\.com\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/$/);
        assert.ok(wasSecret(provider("aks-provider"), "kubeconfig"));
        assert.equal(provider("aks-provider").inputs.kubeconfig, aksOutputs.kubeconfig);
        const kubeconfig = parse(aksOutputs.kubeconfig) as { users: { user: { exec: { args: string[] } } }[] };
        const args = kubeconfig.users[0]!.user.exec.args;
        assert.equal(args[args.indexOf("--login") + 1], "workloadidentity");
    });

    it("aks: the deployer gets AKS RBAC Cluster Admin on the cluster, with a GUID name", () => {
        const ra = engine.ofType("azure-native:authorization:RoleAssignment").find((r) => r.name === "aks-deployer-cluster-admin")!;
        assert.match(ra.inputs.roleDefinitionId as string, /\/roleDefinitions\/b1ff04bb-8a4e-4dc4-8eb5-4693973ce19b$/);
        assert.equal(ra.inputs.scope, engine.byName("azure-native:containerservice:ManagedCluster", "aks-aks").id);
    });

    it("creates the release namespace through the provider", () => {
        const ns = engine.byName("kubernetes:core/v1:Namespace", "ambient-namespace");
        assert.equal((ns.inputs.metadata as { name: string }).name, "temporal");
        assert.ok(ns.provider?.includes("ambient-provider"));
    });
});

export type { k8s };
