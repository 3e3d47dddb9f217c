import { parse, stringify } from "yaml";
import type { Profile } from "../config";
import type { AksConfig } from "../config/platform";
import type { z } from "zod";

/** Pure decisions about the AKS cluster this stack may create, and about reaching it. */

export type AksSettings = z.infer<typeof AksConfig>;

/** Built-in role "Azure Kubernetes Service RBAC Cluster Admin": lets the deployer apply the release through Azure RBAC. */
export const AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-4693973ce19b";

/** The API server's DNS prefix: letters, digits and hyphens, at most 54 characters. */
export function aksDnsPrefix(stack: string): string {
    const prefix = `temporal-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 54).replace(/-+$/, "");
    return prefix;
}

export interface AksSpecInput {
    profile: Profile;
    location: string;
    tenantId: string;
    /** DNS prefix of the API server (derived from project and stack). */
    dnsPrefix: string;
    aks: AksSettings;
}

/**
 * The ManagedCluster's properties (besides resource group and name). Local accounts are off and
 * Azure RBAC is on, so every kubeconfig is an Entra sign-in; the OIDC issuer and workload identity
 * are on so workers exchange service-account tokens for their Entra identity without secrets; the
 * network dataplane enforces NetworkPolicies (Cilium), which the release relies on.
 */
export function aksClusterSpec(p: AksSpecInput) {
    const zones = p.aks.availabilityZones;
    return {
        location: p.location,
        dnsPrefix: p.dnsPrefix,
        kubernetesVersion: p.aks.kubernetesVersion,
        sku: { name: "Base", tier: p.profile === "prod" ? "Standard" : "Free" },
        identity: { type: "SystemAssigned" as const },
        enableRBAC: true,
        disableLocalAccounts: true,
        aadProfile: {
            managed: true,
            enableAzureRBAC: true,
            tenantID: p.tenantId,
            ...(p.aks.adminGroupObjectIds.length > 0 ? { adminGroupObjectIDs: p.aks.adminGroupObjectIds } : {}),
        },
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: true } },
        networkProfile: {
            networkPlugin: "azure",
            networkPluginMode: "overlay",
            networkDataplane: "cilium",
            networkPolicy: "cilium",
            loadBalancerSku: "standard",
            outboundType: "loadBalancer",
        },
        autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
        ...(p.aks.authorizedIpRanges.length > 0 ? { apiServerAccessProfile: { authorizedIPRanges: p.aks.authorizedIpRanges } } : {}),
        agentPoolProfiles: [
            {
                name: "system",
                mode: "System",
                osType: "Linux",
                osSKU: "AzureLinux",
                type: "VirtualMachineScaleSets",
                vmSize: p.aks.nodeVmSize,
                count: p.aks.nodeCount,
                ...(zones.length > 0 ? { availabilityZones: zones } : {}),
            },
        ],
    };
}

interface KubeconfigUser {
    name: string;
    user?: { exec?: { command?: string; args?: string[] } };
}

/**
 * An AKS user kubeconfig (`format: exec`) runs kubelogin with `--login devicecode`, which waits for
 * a human: set the login mode the deployment actually has (Azure CLI, workload identity, ...). Other
 * users and non-kubelogin exec plugins are left as they are.
 */
export function useKubeloginMode(kubeconfig: string, mode: AksSettings["kubeloginMode"]): string {
    const doc = parse(kubeconfig) as { users?: KubeconfigUser[] };
    for (const u of doc.users ?? []) {
        const exec = u.user?.exec;
        if (!exec || !exec.command || !/(^|\/)kubelogin(\.exe)?$/.test(exec.command)) continue;
        const args = [...(exec.args ?? [])];
        const i = args.findIndex((a) => a === "--login" || a === "-l");
        if (i >= 0 && i + 1 < args.length) args[i + 1] = mode;
        else args.push("--login", mode);
        exec.args = args;
    }
    return stringify(doc);
}

/** Resource group and name of an ARM resource id (`/subscriptions/…/resourceGroups/<rg>/providers/…/<name>`). */
export function parseResourceId(id: string): { resourceGroupName: string; name: string } {
    const m = /\/resourceGroups\/([^/]+)\/providers\/.+\/([^/]+)$/i.exec(id);
    if (!m) throw new Error(`not an Azure resource id: ${id}`);
    return { resourceGroupName: m[1]!, name: m[2]! };
}
