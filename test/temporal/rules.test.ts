import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { ConfigError } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { temporalServiceNames } from "../../infra/config/names";
import { aksClusterSpec, aksDnsPrefix, kubeconfigIssues, parseResourceId, useKubeloginMode } from "../../infra/cluster";
import { workerConnectionEnv } from "../../infra/temporal/connection";
import { exampleStackRaw } from "../support/config";

function issuesOf(stack: string, patch: (raw: Record<string, unknown>) => Record<string, unknown>): string[] {
    try {
        parseStackConfig(patch(exampleStackRaw(stack)), stack);
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
}
const section = (raw: Record<string, unknown>, key: string) => (raw[key] ?? {}) as Record<string, unknown>;

describe("config rules of the cluster, database and release", () => {
    it("every example stack passes", () => {
        for (const stack of ["dev", "prod", "ephemeral"]) assert.deepEqual(issuesOf(stack, (r) => r), [], stack);
    });

    it("refuses v1 tokens: the server's audience check would refuse every one", () => {
        assert.deepEqual(issuesOf("dev", (r) => ({ ...r, identity: { ...section(r, "identity"), acceptV1Tokens: true } })), [
            "identity.acceptV1Tokens: the Temporal server compares aud with one value, the API's client id as v2 tokens carry it; v1 tokens carry api://<client-id> and would all be refused: set it to false",
        ]);
    });

    it("refuses one host for both the UI and the frontend", () => {
        const issues = issuesOf("dev", (r) => ({ ...r, temporal: { frontendExternalHost: "temporal.dev.contoso.example" } }));
        assert.deepEqual(issues, ['temporal.frontendExternalHost: "temporal.dev.contoso.example" is also identity.uiHost: the frontend (TLS passthrough) and the UI (TLS terminated) need different host names']);
    });

    it("a public Flexible Server on a cluster this stack does not create needs the cluster's egress IPs", () => {
        assert.deepEqual(issuesOf("dev", (r) => ({ ...r, database: { kind: "flexible-server" } })), [
            "database.allowedIps: a Flexible Server with public access admits only the cluster's egress IPs, and this stack does not create the cluster: list them here (e.g. the outbound IP of the cluster's load balancer or NAT gateway) or set database.privateAccess",
        ]);
        assert.deepEqual(issuesOf("dev", (r) => ({ ...r, database: { kind: "flexible-server", allowedIps: ["20.1.2.3"] } })), []);
    });

    it("names settings that do not apply or that Azure refuses", () => {
        assert.deepEqual(issuesOf("dev", (r) => ({ ...r, database: { kind: "in-cluster", allowedIps: ["20.1.2.3"] } })), [
            "database.allowedIps: applies to a Flexible Server, but database.kind is in-cluster: remove it or set database.kind: flexible-server",
        ]);
        assert.deepEqual(issuesOf("prod", (r) => ({ ...r, database: { ...section(r, "database"), skuTier: "Burstable" } })), [
            "database.highAvailability: Flexible Server high availability is not offered on the Burstable tier: set database.skuTier to GeneralPurpose or turn highAvailability off",
        ]);
        const privateAndPublic = { delegatedSubnetId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/pg", privateDnsZoneId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/privateDnsZones/z" };
        assert.deepEqual(issuesOf("prod", (r) => ({ ...r, database: { ...section(r, "database"), privateAccess: privateAndPublic, allowedIps: ["20.1.2.3"] } })), [
            "database.allowedIps: a Flexible Server with private access has no public firewall: remove allowedIps or privateAccess",
        ]);
    });

    it("checks durations as Go reads them", () => {
        assert.deepEqual(issuesOf("dev", (r) => ({ ...r, temporal: { tlsRefreshInterval: "1 minute" } })), ["temporal.tlsRefreshInterval: temporal.tlsRefreshInterval must be a Go duration like 1m"]);
    });

    it("the kubeconfig secret goes with source kubeconfig, and only with it", () => {
        assert.deepEqual(kubeconfigIssues("kubeconfig", true), []);
        assert.deepEqual(kubeconfigIssues("ambient", false), []);
        assert.deepEqual(kubeconfigIssues("kubeconfig", false), [
            { path: "kubeconfig", message: 'kubernetes.source is kubeconfig but the secret is not set: pulumi config set --secret temporal-azure:kubeconfig < path/to/kubeconfig (from standard input, so the kubeconfig is never a command-line argument)' },
        ]);
        assert.deepEqual(kubeconfigIssues("aks", true), [{ path: "kubeconfig", message: "is set but kubernetes.source is aks: remove it (pulumi config rm temporal-azure:kubeconfig) or set source: kubeconfig" }]);
    });
});

describe("AKS", () => {
    const prod = parseStackConfig(exampleStackRaw("prod"), "prod");
    const spec = aksClusterSpec({ profile: "prod", location: "westeurope", tenantId: prod.azure.tenantId, dnsPrefix: aksDnsPrefix("prod"), aks: prod.kubernetes.aks! });

    it("turns on the OIDC issuer and workload identity, and an enforcing NetworkPolicy dataplane", () => {
        assert.deepEqual(spec.oidcIssuerProfile, { enabled: true });
        assert.deepEqual(spec.securityProfile, { workloadIdentity: { enabled: true } });
        assert.equal(spec.networkProfile.networkPolicy, "cilium");
        assert.equal(spec.networkProfile.networkDataplane, "cilium");
    });

    it("signs everyone in through Entra ID (local accounts off, Azure RBAC on)", () => {
        assert.equal(spec.disableLocalAccounts, true);
        assert.deepEqual(spec.aadProfile, { managed: true, enableAzureRBAC: true, tenantID: prod.azure.tenantId });
    });

    it("is sized from config, zonal, on the paid tier for prod", () => {
        assert.deepEqual(spec.agentPoolProfiles[0]!.availabilityZones, ["1", "2", "3"]);
        assert.equal(spec.agentPoolProfiles[0]!.count, 3);
        assert.equal(spec.agentPoolProfiles[0]!.vmSize, "Standard_D4s_v5");
        assert.equal(spec.kubernetesVersion, "1.33");
        assert.equal(spec.sku.tier, "Standard");
    });

    it("replaces kubelogin's device-code login with the configured non-interactive one", () => {
        const kubeconfig = stringify({
            users: [
                { name: "u", user: { exec: { command: "kubelogin", args: ["get-token", "--login", "devicecode", "--server-id", "x"] } } },
                { name: "short", user: { exec: { command: "/usr/local/bin/kubelogin", args: ["get-token", "-l", "devicecode"] } } },
                { name: "bare", user: { exec: { command: "kubelogin", args: ["get-token"] } } },
                { name: "other", user: { exec: { command: "aws", args: ["--login", "devicecode"] } } },
            ],
        });
        const users = (parse(useKubeloginMode(kubeconfig, "workloadidentity")) as { users: { user: { exec: { args: string[] } } }[] }).users.map((u) => u.user.exec.args);
        assert.deepEqual(users, [
            ["get-token", "--login", "workloadidentity", "--server-id", "x"],
            ["get-token", "-l", "workloadidentity"],
            ["get-token", "--login", "workloadidentity"],
            ["--login", "devicecode"],
        ]);
    });

    it("reads ARM ids and names DNS prefixes", () => {
        assert.deepEqual(parseResourceId("/subscriptions/s/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Network/publicIPAddresses/ip-1"), { resourceGroupName: "MC_rg_aks_westeurope", name: "ip-1" });
        assert.throws(() => parseResourceId("ip-1"), /not an Azure resource id: ip-1/);
        assert.equal(aksDnsPrefix("Feature_Branch.42"), "temporal-feature-branch-42");
    });
});

describe("worker connection profile", () => {
    const names = temporalServiceNames("temporal", "temporal-grpc.contoso.example");

    it("workers on the cluster dial the Service and verify its in-cluster name", () => {
        assert.deepEqual(workerConnectionEnv({ runsOn: "aks", temporalNamespace: "payments", serviceNames: names, frontendExternalHost: "temporal-grpc.contoso.example" }), {
            TEMPORAL_ADDRESS: "temporal-frontend.temporal.svc:7233",
            TEMPORAL_NAMESPACE: "payments",
            TEMPORAL_TLS_CLIENT_CERT_PATH: "/etc/temporal/tls/tls.crt",
            TEMPORAL_TLS_CLIENT_KEY_PATH: "/etc/temporal/tls/tls.key",
            TEMPORAL_TLS_SERVER_CA_CERT_PATH: "/etc/temporal/tls/ca.crt",
            TEMPORAL_TLS_SERVER_NAME: "temporal-frontend.temporal.svc",
        });
    });

    it("workers elsewhere dial the external host, which is a SAN of the frontend certificate", () => {
        const e = workerConnectionEnv({ runsOn: "external", temporalNamespace: "orders", serviceNames: names, frontendExternalHost: "temporal-grpc.contoso.example" });
        assert.equal(e.TEMPORAL_ADDRESS, "temporal-grpc.contoso.example:443");
        assert.equal(e.TEMPORAL_TLS_SERVER_NAME, "temporal-grpc.contoso.example");
        assert.ok(names.frontendDnsNames.includes(e.TEMPORAL_TLS_SERVER_NAME));
        assert.equal(workerConnectionEnv({ runsOn: "external", temporalNamespace: "orders", serviceNames: names }).TEMPORAL_ADDRESS, "temporal-frontend.temporal.svc:7233");
    });
});
