import { createHash } from "node:crypto";
import type { AccessConfig, Grant, WorkerConfig } from "../config/identity";
import { parsePermissions } from "../../policies/claims/permissions";
import { effectiveAccess, Role } from "../../policies/claims/roles";
import { deterministicUuid } from "./uuid";

/**
 * The access map as Entra ID objects, decided without Azure: who the principals are, which app
 * roles the API registration declares, and which assignments connect them. The component only
 * turns these values into resources.
 */

export type PrincipalKind = "group" | "user" | "worker";

export interface Principal {
    kind: PrincipalKind;
    /** As written in the stack config. */
    value: string;
    /** Identity of the principal: Entra compares GUIDs, display names and UPNs case-insensitively. */
    key: string;
    /** How messages and descriptions name it, e.g. `group "Temporal Admins"`. */
    label: string;
    /** A group given by object id (used as is) rather than display name (looked up). */
    byObjectId: boolean;
}

/** A GUID as Entra writes object ids (any case). */
export const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function grantPrincipal(grant: Grant): Principal {
    if (grant.group !== undefined) {
        const byObjectId = OBJECT_ID.test(grant.group);
        return {
            kind: "group",
            value: grant.group,
            key: `group:${grant.group.toLowerCase()}`,
            label: `group "${grant.group}"`,
            byObjectId,
        };
    }
    if (grant.user !== undefined) {
        return { kind: "user", value: grant.user, key: `user:${grant.user.toLowerCase()}`, label: `user "${grant.user}"`, byObjectId: false };
    }
    if (grant.worker !== undefined) {
        // Worker names are Kubernetes names, already lower case.
        return { kind: "worker", value: grant.worker, key: `worker:${grant.worker}`, label: `worker "${grant.worker}"`, byObjectId: false };
    }
    throw new Error("access.grants[] must name exactly one principal: group, user or worker");
}

/** Entra's member types: users and groups are "User", service principals (workers) "Application". */
export type MemberType = "Application" | "User";

export interface AppRoleSpec {
    /** Deterministic: the same stack and value always give the same id, so previews stay stable. */
    id: string;
    /** The permission string itself: what lands in the token's `roles` claim. */
    value: string;
    displayName: string;
    description: string;
    allowedMemberTypes: MemberType[];
    enabled: boolean;
}

/** Reads of what a single, valid permission means (the rules have rejected everything else). */
function describePermission(value: string): { displayName: string; description: string } {
    const parsed = parsePermissions([value]);
    const colon = value.indexOf(":");
    const word = value.slice(colon + 1).toLowerCase();
    if (parsed.system !== 0) {
        const description: Record<string, string> = {
            read: "Read-only access to every Temporal namespace, and cluster-wide reads such as ListNamespaces",
            write: "Write access to every Temporal namespace (start, signal, run workflows; poll tasks)",
            admin: "Administers the Temporal cluster: every namespace and the admin service",
            worker: "Worker role on every namespace (grants nothing without write)",
        };
        return { displayName: `Temporal cluster ${word}`, description: description[word] ?? `Temporal role ${value}` };
    }
    const namespace = value.slice(0, colon);
    const description: Record<string, string> = {
        read: `Reads workflows, schedules and history in Temporal namespace ${namespace}`,
        write: `Starts, signals and runs workflows, and polls tasks, in Temporal namespace ${namespace}`,
        admin: `Administers Temporal namespace ${namespace}, and everything write allows there`,
        worker: `Worker role on Temporal namespace ${namespace} (grants nothing without write)`,
    };
    return { displayName: `Temporal ${namespace} ${word}`, description: description[word] ?? `Temporal role ${value}` };
}

/** Every (principal, permission) of the map once, in the order the config lists them. */
export function grantedPermissions(access: AccessConfig): Array<{ principal: Principal; permission: string; grantIndex: number }> {
    const seen = new Set<string>();
    const out: Array<{ principal: Principal; permission: string; grantIndex: number }> = [];
    access.grants.forEach((grant, grantIndex) => {
        const principal = grantPrincipal(grant);
        for (const permission of grant.permissions) {
            const k = JSON.stringify([principal.key, permission]);
            if (seen.has(k)) continue;
            seen.add(k);
            out.push({ principal, permission, grantIndex });
        }
    });
    return out;
}

/** The API registration's app roles: one per distinct permission, sorted by value. */
export function appRoleTable(stack: string, access: AccessConfig): AppRoleSpec[] {
    const holders = new Map<string, Set<MemberType>>();
    for (const { principal, permission } of grantedPermissions(access)) {
        const types = holders.get(permission) ?? new Set<MemberType>();
        types.add(principal.kind === "worker" ? "Application" : "User");
        holders.set(permission, types);
    }
    return [...holders.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([value, types]) => ({
            id: deterministicUuid(stack, "app-role", value),
            value,
            ...describePermission(value),
            allowedMemberTypes: [...types].sort(),
            enabled: true,
        }));
}

const GUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

function suffixOf(parts: string[], keepGuids: boolean): string {
    const slug = (part: string) => {
        const s = part
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, "-")
            .replace(/^-+|-+$/g, "");
        // A group named by object id keeps the whole GUID: a cut one reads as a malformed id.
        return keepGuids && GUID_IN_TEXT.test(s) ? s : s.slice(0, 40).replace(/-+$/, "");
    };
    const hash = createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 8);
    return [...parts.map(slug), hash].join("-");
}

/** A readable, unique suffix for child resource names (the hash keeps `a.b` and `a-b` apart). */
export function nameSuffix(...parts: string[]): string {
    return suffixOf(parts, true);
}

/**
 * The suffix 0.1.0 gave (it cut every part at 40 characters, GUIDs included). Where it differs, the
 * resource keeps it as an alias, so a deployed stack does not delete and recreate the assignment.
 */
export function previousNameSuffix(...parts: string[]): string {
    return suffixOf(parts, false);
}

export interface RoleAssignmentSpec {
    principal: Principal;
    permission: string;
    appRoleId: string;
    /** Suffix of the AppRoleAssignment's resource name. */
    nameSuffix: string;
    /** The suffix 0.1.0 gave it (see previousNameSuffix). */
    previousNameSuffix: string;
}

/** Every (principal, permission) as an app role assignment on the API's service principal. */
export function roleAssignments(stack: string, access: AccessConfig): RoleAssignmentSpec[] {
    const ids = new Map(appRoleTable(stack, access).map((r) => [r.value, r.id]));
    return grantedPermissions(access).map(({ principal, permission }) => ({
        principal,
        permission,
        appRoleId: ids.get(permission)!,
        nameSuffix: nameSuffix(principal.key, permission),
        previousNameSuffix: previousNameSuffix(principal.key, permission),
    }));
}

/** Every distinct principal of the map, in the order the config first names it. */
export function principals(access: AccessConfig): Principal[] {
    const byKey = new Map<string, Principal>();
    for (const grant of access.grants) {
        const p = grantPrincipal(grant);
        if (!byKey.has(p.key)) byKey.set(p.key, p);
    }
    return [...byKey.values()];
}

/**
 * Who may sign in to the UI: every user and group of the map. Workers authenticate with client
 * credentials against the API and never sign in to the UI.
 */
export function uiSignInPrincipals(access: AccessConfig): Principal[] {
    return principals(access).filter((p) => p.kind !== "worker");
}

/** The app role every app has when it declares none for users: "Default Access". */
export const DEFAULT_ACCESS_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000";

export type ClusterAccess = "none" | "read" | "admin";
export type NamespaceAccess = "none" | "read" | "write" | "admin";

export interface DeclaredAccess {
    principal: Principal;
    /** Every permission of the principal, across its grants, in config order. */
    permissions: string[];
    /** What the default authorizer lets it do: cluster-scope methods are ReadOnly or Admin. */
    cluster: ClusterAccess;
    namespaces: Record<string, NamespaceAccess>;
}

/** The access each principal of the map ends up with on the declared namespaces. */
export function declaredAccess(access: AccessConfig): DeclaredAccess[] {
    const perms = new Map<string, string[]>();
    for (const { principal, permission } of grantedPermissions(access)) {
        perms.set(principal.key, [...(perms.get(principal.key) ?? []), permission]);
    }
    return principals(access).map((principal) => {
        const permissions = perms.get(principal.key) ?? [];
        const parsed = parsePermissions(permissions);
        const cluster: ClusterAccess = parsed.system >= Role.Admin ? "admin" : parsed.system >= Role.Reader ? "read" : "none";
        const namespaces: Record<string, NamespaceAccess> = {};
        for (const ns of access.namespaces) {
            namespaces[ns.name] = effectiveAccess(parsed.system | (parsed.namespaces[ns.name] ?? 0));
        }
        return { principal, permissions, cluster, namespaces };
    });
}

/** The service account a worker's pods run as: its own name unless the config says otherwise. */
export function workerServiceAccount(worker: WorkerConfig): string {
    return worker.serviceAccount ?? worker.name;
}

/** The federated credential's subject: what the cluster's OIDC issuer writes into the pod's token. */
export function workloadIdentitySubject(worker: WorkerConfig): string {
    return `system:serviceaccount:${worker.kubernetesNamespace}:${workerServiceAccount(worker)}`;
}
