import { CONFIG_KEYS } from "./schema";
import { PROJECT } from "./shared";
import type { ConfigIssue } from "./issues";

/**
 * Which stack config keys the program reads, decided once for the program (`infra/index.ts`), the
 * offline plan and the ephemeral CLI: each section `temporal-azure:<section>` (structured values),
 * and the secret `temporal-azure:kubeconfig`, whose value only the program reads (as a secret). Any
 * other key of the project's namespace is a mistake the program would silently ignore, so it is
 * reported; other namespaces belong to the providers and are left alone.
 */

/** Project keys that hold secrets: set with `pulumi config set --secret`, read by the program with `getSecret`. */
export const SECRET_CONFIG_KEYS = ["kubeconfig"] as const;

export interface StackConfigSource {
    /** Every key of the stack's config, as Pulumi names them (`temporal-azure:pki`, `azure-native:location`). */
    keys: readonly string[];
    /** The value of a key (structured values as objects). Called for the sections only, never for a secret key. */
    get: (key: string) => unknown;
    /** Whether a key is a secret; when known (the stack file says `secure:`), a plain kubeconfig is refused. */
    isSecret?: (key: string) => boolean;
}

export interface ProjectConfig {
    /** Each section's value by section name (`pki`, `access`, ...), as the schema takes them. */
    sections: Record<string, unknown>;
    /** Whether `temporal-azure:kubeconfig` is set. */
    kubeconfigSet: boolean;
    /** Keys the program would not read, or not as written. */
    issues: ConfigIssue[];
}

/** `ns:name`, or Pulumi's older `ns:config:name`; a key without a namespace has none. */
function splitKey(key: string): { namespace?: string; name: string } {
    const parts = key.split(":");
    if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
    if (parts.length === 3 && parts[1] === "config") return { namespace: parts[0]!, name: parts[2]! };
    return { name: key };
}

const SECTIONS: readonly string[] = CONFIG_KEYS;
const PROJECT_KEYS: readonly string[] = [...SECTIONS, ...SECRET_CONFIG_KEYS];

export function readProjectConfig(source: StackConfigSource): ProjectConfig {
    const sections: Record<string, unknown> = {};
    const issues: ConfigIssue[] = [];
    let kubeconfigSet = false;
    const elsewhere = new Map<string, string>();

    for (const key of source.keys) {
        const { namespace, name } = splitKey(key);
        if (namespace !== PROJECT) {
            // A section written without the namespace, or under another one, is read only if the project's own key is absent (below).
            if (PROJECT_KEYS.includes(name)) {
                if (!elsewhere.has(name)) elsewhere.set(name, key);
            } else if (namespace === undefined) {
                issues.push({ path: name, message: `the stack file has the key "${key}" without a namespace, which Pulumi refuses (keys are <namespace>:<name>): write it as <namespace>:${key}` });
            }
            continue;
        }
        if (SECTIONS.includes(name)) {
            sections[name] = source.get(key);
        } else if (name === "kubeconfig") {
            kubeconfigSet = true;
            if (source.isSecret !== undefined && !source.isSecret(key)) {
                issues.push({
                    path: name,
                    message: `is plain text in the stack file, but a kubeconfig holds the cluster's credentials: remove it from the file and set it as a secret: pulumi config set --secret ${PROJECT}:kubeconfig < path/to/kubeconfig`,
                });
            }
        } else {
            issues.push({ path: name, message: `unknown key: the program reads ${PROJECT}:<section> for ${SECTIONS.join(", ")}, and the secret ${PROJECT}:kubeconfig: remove it or fix the spelling` });
        }
    }

    for (const [name, key] of elsewhere) {
        const own = name === "kubeconfig" ? kubeconfigSet : name in sections;
        if (own) continue;
        const where = splitKey(key).namespace === undefined ? "without a namespace, which Pulumi refuses (keys are <namespace>:<name>)" : `in the namespace "${splitKey(key).namespace}", which this program does not read`;
        issues.push({ path: name, message: `is missing; the stack file has the key "${key}", ${where}: rename it to ${PROJECT}:${name}` });
        // Checked where it stands, so its own problems are listed in the same run.
        if (name !== "kubeconfig") sections[name] = source.get(key);
    }
    return { sections, kubeconfigSet, issues };
}
