import { createHash } from "node:crypto";

/**
 * Names in Azure's own terms: the vault, the Key Vault objects, role definitions and role
 * assignment names. Pure, so previews are stable and tests call them directly.
 */

/** Key Vault names: 3-24 letters, digits and single hyphens, start with a letter, end with a letter or digit. */
export const VAULT_NAME = /^(?=.{3,24}$)[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/;

/** Key Vault object (certificate, secret) names: 1-127 letters, digits and hyphens. */
export const VAULT_OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

const VAULT_NAME_PREFIX = "kv-tmprl-";
const VAULT_NAME_HASH_LENGTH = 6;

/**
 * A valid vault name unique per stack: `kv-tmprl-<stack>-<hash>`, at most 24 characters. Vault
 * names are global DNS names (`<name>.vault.azure.net`), so the hash of `seed` (tenant, stack and,
 * for ephemeral stacks, a per-deployment random value) keeps two organisations' `dev` stacks from
 * colliding; the readable stack part is truncated to what fits.
 */
export function deriveVaultName(stack: string, seed: string): string {
    const hash = createHash("sha256").update(seed).digest("hex").slice(0, VAULT_NAME_HASH_LENGTH);
    const room = 24 - VAULT_NAME_PREFIX.length - 1 - VAULT_NAME_HASH_LENGTH;
    const stackPart = stack
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+/, "")
        .slice(0, room)
        .replace(/-+$/, "");
    return stackPart ? `${VAULT_NAME_PREFIX}${stackPart}-${hash}` : `${VAULT_NAME_PREFIX}${hash}`;
}

/** Name of the Key Vault certificate (and of its backing secret) of a server certificate ("internode", "frontend"). */
export function certificateObjectName(consumer: string): string {
    return `temporal-${consumer}`;
}

/** Name of the Key Vault certificate (and backing secret) of a consumer's client certificate. */
export function clientCertificateObjectName(consumer: string): string {
    return `${consumer}-client`;
}

/** Name of the Key Vault secret holding the trust bundle (`ca.crt` of the UI and the workers: the client-facing CAs). */
export const TRUST_BUNDLE_SECRET_NAME = "temporal-ca-bundle";

/** Name of the Key Vault secret holding the internode trust bundle (the internode CAs). */
export const INTERNODE_TRUST_BUNDLE_SECRET_NAME = "temporal-internode-ca-bundle";

/** Built-in Azure role definition ids (the GUIDs are the same in every tenant). */
export const KEY_VAULT_ROLES = {
    /** Read secret contents: what a consumer needs for its certificate's backing secret. */
    secretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
    /** Write secrets. */
    secretsOfficer: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    /** Import, update and delete certificates (and manage certificate contacts): what the import needs. */
    certificatesOfficer: "a4417e6f-fecd-4de8-b567-7b0420556985",
} as const;

export function roleDefinitionId(subscriptionId: string, roleId: string): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/**
 * A role assignment name (a GUID) derived from scope, principal and role, as ARM templates do with
 * `guid(scope, principalId, roleId)`: the same assignment keeps its name across runs, and a new
 * principal gets a new name, so Pulumi can create the new assignment before deleting the old one.
 */
export function roleAssignmentName(scope: string, principalId: string, roleId: string): string {
    const h = createHash("sha256").update(`${scope.toLowerCase()}|${principalId.toLowerCase()}|${roleId.toLowerCase()}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Scope of one Key Vault secret, for a role assignment that grants exactly that secret. */
export function secretScope(vaultId: string, secretName: string): string {
    return `${vaultId}/secrets/${secretName}`;
}
