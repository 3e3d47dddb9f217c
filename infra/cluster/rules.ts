import type { ConfigIssue } from "../config/issues";
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
