import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as authorization from "@pulumi/azure-native/authorization";
import * as network from "@pulumi/azure-native/network";
import type { Profile } from "../config";
import { namespaceManifest } from "../temporal/manifests";
import { roleAssignmentName, roleDefinitionId } from "../pki/names";
import { aksClusterSpec, AKS_RBAC_CLUSTER_ADMIN_ROLE, parseResourceId, useKubeloginMode, type AksSettings } from "./aks";

export { kubeconfigIssues } from "./rules";
export { aksClusterSpec, aksDnsPrefix, useKubeloginMode, parseResourceId, AKS_RBAC_CLUSTER_ADMIN_ROLE, type AksSettings } from "./aks";

export interface KubernetesClusterArgs {
    profile: Profile;
    /** kubeconfig: `kubeconfig` below; ambient: the current context; aks: a cluster created here. */
    source: "kubeconfig" | "ambient" | "aks";
    /** The secret config `temporal-azure:kubeconfig` (source kubeconfig). */
    kubeconfig?: pulumi.Input<string>;
    /** Context of the ambient kubeconfig (source ambient); the current one when absent. */
    context?: string;
    /** Namespace of the Temporal release, created here. */
    namespace: string;
    /** Required when source is aks. */
    aks?: {
        settings: AksSettings;
        resourceGroupName: pulumi.Input<string>;
        location: string;
        tenantId: string;
        dnsPrefix: string;
        tags?: Record<string, string>;
    };
}

/**
 * The Kubernetes cluster the release goes to, and the provider every Kubernetes object is created
 * with: from a kubeconfig held as a secret, from the ambient context, or an AKS cluster created by
 * this stack (OIDC issuer and workload identity on; its issuer URL feeds the worker identities).
 * Also creates the release namespace.
 */
export class KubernetesCluster extends pulumi.ComponentResource {
    readonly provider: k8s.Provider;
    /** The release namespace. */
    readonly namespace: k8s.core.v1.Namespace;
    /** Its name, read through the resource (orders dependants after it). */
    readonly namespaceName: pulumi.Output<string>;
    /** The AKS cluster, when created here. */
    readonly managedCluster?: containerservice.ManagedCluster;
    /** OIDC issuer of the AKS cluster created here (federated credentials of workers). */
    readonly oidcIssuerUrl?: pulumi.Output<string>;
    /** Outbound IP of the AKS cluster created here (the database firewall admits it). */
    readonly egressIp?: pulumi.Output<string>;
    /** Kubeconfig of the AKS cluster created here (secret). */
    readonly kubeconfig?: pulumi.Output<string>;

    constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("temporal-azure:cluster:KubernetesCluster", name, {}, opts);
        // Ephemeral stacks are often destroyed after their cluster: let destroy drop what it cannot reach.
        const providerCommon = { deleteUnreachable: args.profile === "ephemeral" };

        if (args.source === "aks") {
            const aks = args.aks;
            if (aks === undefined) throw new Error("KubernetesCluster: source aks needs aks args");
            const cluster = new containerservice.ManagedCluster(
                `${name}-aks`,
                {
                    resourceGroupName: aks.resourceGroupName,
                    ...aksClusterSpec({ profile: args.profile, location: aks.location, tenantId: aks.tenantId, dnsPrefix: aks.dnsPrefix, aks: aks.settings }),
                    ...(aks.tags ? { tags: aks.tags } : {}),
                },
                { parent: this },
            );
            this.managedCluster = cluster;
            this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((p) => {
                if (!p?.issuerURL) throw new Error("the AKS cluster reports no OIDC issuer URL: oidcIssuerProfile.enabled must be true");
                return p.issuerURL;
            });

            const deployer = authorization.getClientConfigOutput({ parent: this });
            const clusterAdmin = new authorization.RoleAssignment(
                `${name}-deployer-cluster-admin`,
                {
                    // Same naming as the PKI's grants: guid(scope, principal, role), stable across runs.
                    roleAssignmentName: pulumi.all([cluster.id, deployer.objectId]).apply(([id, principal]) => roleAssignmentName(id, principal, AKS_RBAC_CLUSTER_ADMIN_ROLE)),
                    principalId: deployer.objectId,
                    roleDefinitionId: deployer.subscriptionId.apply((s) => roleDefinitionId(s, AKS_RBAC_CLUSTER_ADMIN_ROLE)),
                    scope: cluster.id,
                },
                { parent: this },
            );

            const credentials = containerservice.listManagedClusterUserCredentialsOutput(
                { resourceGroupName: aks.resourceGroupName, resourceName: cluster.name, format: "exec" },
                { parent: this },
            );
            this.kubeconfig = pulumi.secret(
                credentials.kubeconfigs.apply((k) => {
                    const first = k[0];
                    if (!first) throw new Error("the AKS cluster returned no user kubeconfig");
                    return useKubeloginMode(Buffer.from(first.value, "base64").toString("utf8"), aks.settings.kubeloginMode);
                }),
            );
            this.provider = new k8s.Provider(`${name}-provider`, { ...providerCommon, kubeconfig: this.kubeconfig }, { parent: this, dependsOn: [clusterAdmin] });

            this.egressIp = cluster.networkProfile.apply((np) => {
                const id = np?.loadBalancerProfile?.effectiveOutboundIPs?.[0]?.id;
                if (!id) throw new Error("the AKS cluster reports no outbound IP: its load balancer has no effectiveOutboundIPs");
                return id;
            }).apply((id) => {
                const { resourceGroupName, name: publicIpAddressName } = parseResourceId(id);
                return network.getPublicIPAddressOutput({ resourceGroupName, publicIpAddressName }, { parent: this }).apply((ip) => {
                    if (!ip.ipAddress) throw new Error(`public IP ${id} has no address`);
                    return ip.ipAddress;
                });
            });
        } else if (args.source === "kubeconfig") {
            if (args.kubeconfig === undefined) throw new Error("KubernetesCluster: source kubeconfig needs a kubeconfig");
            this.provider = new k8s.Provider(`${name}-provider`, { ...providerCommon, kubeconfig: pulumi.secret(args.kubeconfig) }, { parent: this });
        } else {
            this.provider = new k8s.Provider(`${name}-provider`, { ...providerCommon, ...(args.context !== undefined ? { context: args.context } : {}) }, { parent: this });
        }

        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, namespaceManifest(args.namespace), { parent: this, provider: this.provider });
        this.namespaceName = this.namespace.metadata.name;

        this.registerOutputs({
            namespaceName: this.namespaceName,
            oidcIssuerUrl: this.oidcIssuerUrl,
            egressIp: this.egressIp,
        });
    }
}
