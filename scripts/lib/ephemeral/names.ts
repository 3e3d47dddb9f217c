import { UsageError } from "../live/errors";

/**
 * Names of ephemeral stacks. An id (`pr-42`) becomes the stack `ephemeral-pr-42`, and the stack
 * name becomes part of Azure names the program derives from it. The longest id is set by the
 * tightest of those names:
 *
 * | derived name (infra/)                               | Azure limit | longest id |
 * | --------------------------------------------------- | ----------- | ---------- |
 * | Pulumi stack `ephemeral-<id>`                       | 100         | 90         |
 * | resource group `rg-temporal-<stack>` (index.ts)     | 90          | 68         |
 * | managed identity `id-temporal-<stack>-<worker>`     | 128         | 42         |
 * | AKS DNS prefix `temporal-<stack>` (cluster/aks.ts)  | 54, cut     | no limit   |
 * | Key Vault `kv-tmprl-<stack>-<hash>` (pki/names.ts)  | 24, cut     | no limit   |
 *
 * The managed identity of a worker that runs on AKS is the one that bites: `managedIdentityName`
 * cuts the name at 128 characters, and with a worker name of up to 63 (a Kubernetes name) a
 * longer id would cut into the worker's name, so two workers could get the same identity. The DNS
 * prefix and the vault name are cut on purpose and need not be unique (AKS adds its own hash to
 * the API server's FQDN; the vault name carries a random suffix per deployment).
 */

export const EPHEMERAL_PREFIX = "ephemeral-";
/** `id-temporal-` + `ephemeral-` + id + `-` + a 63-character worker name = 128. */
export const MAX_ID_LENGTH = 128 - "id-temporal-".length - EPHEMERAL_PREFIX.length - 1 - 63;

const ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface EphemeralName {
    /** The id the user chose, e.g. `pr-42`. */
    id: string;
    /** The Pulumi stack: `ephemeral-<id>`. */
    stack: string;
}

/**
 * The stack of `--name`: an id (`pr-42`) or the stack name itself (`ephemeral-pr-42`, as `list`
 * prints it). Lower-case only, because the id ends up in resource names where case is folded
 * (two ids differing in case would collide there).
 */
export function ephemeralName(name: string | undefined): EphemeralName {
    if (name === undefined || name === "") throw new UsageError("--name is required: the id of the ephemeral stack (e.g. pr-42 for pull request 42)");
    const id = name.startsWith(EPHEMERAL_PREFIX) ? name.slice(EPHEMERAL_PREFIX.length) : name;
    if (!ID.test(id)) {
        throw new UsageError(
            `--name ${JSON.stringify(name)} must be lower-case letters, digits and hyphens, starting and ending with a letter or digit (e.g. pr-42): it names the stack ${EPHEMERAL_PREFIX}<id> and its Azure resources`,
        );
    }
    if (id.length > MAX_ID_LENGTH) {
        throw new UsageError(
            `--name ${JSON.stringify(name)}: the id is ${id.length} characters, at most ${MAX_ID_LENGTH} fit: a worker's managed identity is named id-temporal-${EPHEMERAL_PREFIX}<id>-<worker>, Azure allows 128 characters and worker names have up to 63; use a shorter id (e.g. pr-1234)`,
        );
    }
    return { id, stack: `${EPHEMERAL_PREFIX}${id}` };
}

export function isEphemeralStack(stackName: string): boolean {
    // Pulumi Cloud may list fully qualified names (org/project/stack).
    const short = stackName.split("/").pop() ?? stackName;
    return short.startsWith(EPHEMERAL_PREFIX) && short.length > EPHEMERAL_PREFIX.length;
}

/** The vault name of a Key Vault URI (`https://<name>.vault.azure.net/`, or a sovereign cloud's host). */
export function vaultNameFromUri(uri: string): string | undefined {
    const m = /^https:\/\/([a-zA-Z0-9-]{3,24})\.vault\.[a-z0-9.-]+\/?$/.exec(uri.trim());
    return m?.[1];
}
