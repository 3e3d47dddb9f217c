import type { ConfigIssue, ConfigRule, Severity } from "../config/issues";
import { isNonPublic, parseIpv4Range, WIDEST_PREFIX } from "../config/network";
import type { StackConfig } from "../config/schema";

/** Config rules of the cluster, run at preview before any resource is registered. */

type Source = StackConfig["kubernetes"]["source"];

/** What a missing kubeconfig secret means, before any resource is registered. */
export function kubeconfigIssues(source: Source, hasKubeconfig: boolean): ConfigIssue[] {
    if (source === "kubeconfig" && !hasKubeconfig) {
        return [{ path: "kubeconfig", message: 'kubernetes.source is kubeconfig but the secret is not set: pulumi config set --secret temporal-azure:kubeconfig < path/to/kubeconfig (from standard input, so the kubeconfig is never a command-line argument)' }];
    }
    if (source !== "kubeconfig" && hasKubeconfig) {
        return [{ path: "kubeconfig", message: `is set but kubernetes.source is ${source}: remove it (pulumi config rm temporal-azure:kubeconfig) or set source: kubeconfig` }];
    }
    return [];
}

const AUTHORIZE_INSTEAD = "list the egress IPs of the machines that run `pulumi up` and `kubectl` (and CI's, see docs/pki.md, \"Reaching a locked vault from CI\")";

/**
 * The API server of a cluster this stack creates takes every Kubernetes credential the deployment
 * uses (the Pulumi provider's, the admins'): a prod API server is not reachable from anywhere.
 * Dev and ephemeral clusters may stay open, with a warning.
 */
export const apiServerAccessRule: ConfigRule = (cfg) => {
    const aks = cfg.kubernetes.source === "aks" ? cfg.kubernetes.aks : undefined;
    if (aks === undefined) return [];
    const prod = cfg.profile === "prod";
    const exposure: Severity = prod ? "error" : "warning";
    const issues: ConfigIssue[] = [];
    if (aks.authorizedIpRanges.length === 0) {
        issues.push({
            path: "kubernetes.aks.authorizedIpRanges",
            severity: exposure,
            message: prod
                ? `is empty, so the prod cluster's API server is reachable from any address: ${AUTHORIZE_INSTEAD}`
                : `is empty, so the cluster's API server is reachable from any address (only Entra ID sign-in stands in the way): acceptable for a ${cfg.profile} stack, but ${AUTHORIZE_INSTEAD} (a prod stack must)`,
        });
    }
    aks.authorizedIpRanges.forEach((text, i) => {
        const r = parseIpv4Range(text);
        if (r === undefined) return; // refused by the schema
        const path = `kubernetes.aks.authorizedIpRanges[${i}]`;
        if (r.prefix === 0) {
            issues.push({ path, severity: exposure, message: `"${text}" admits every IPv4 address, the same as no range at all: ${AUTHORIZE_INSTEAD}` });
        } else if (isNonPublic(r)) {
            issues.push({ path, message: `"${text}" is a private range: the API server's public endpoint sees public source addresses, so it admits nobody; list public egress IPs` });
        } else if (r.prefix < WIDEST_PREFIX) {
            issues.push({ path, severity: exposure, message: `"${text}" admits ${r.size} addresses: ${AUTHORIZE_INSTEAD} (a /${WIDEST_PREFIX} at most)` });
        }
    });
    return issues;
};

export const clusterRules: ConfigRule[] = [apiServerAccessRule];
