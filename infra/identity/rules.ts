import type { ConfigIssue, ConfigRule } from "../config/issues";
import type { StackConfig } from "../config/schema";
import type { AccessConfig } from "../config/identity";
import { isAccessMapError, parsePermissions, type Finding } from "../../policies/claims/permissions";
import { ROLE_WORDS, Role, SYSTEM_SCOPE } from "../../policies/claims/roles";
import { grantPrincipal, type Principal } from "./access";

/** Entra ID's limit on an app role's `value`. */
export const APP_ROLE_VALUE_MAX = 120;

const show = (v: string): string => JSON.stringify(v);

/**
 * The namespace a permission's author meant (before the colon, trimmed; any spelling of the
 * cluster scope is the cluster scope), or undefined when there is no colon to tell.
 */
function intendedNamespace(value: string): string | undefined {
    const colon = value.indexOf(":");
    if (colon < 0) return undefined;
    const ns = value.slice(0, colon).trim();
    return ns.toLowerCase() === SYSTEM_SCOPE || ns.toLowerCase() === "system" ? SYSTEM_SCOPE : ns;
}

/** What the author most likely meant, as a permission the server and Entra both take literally. */
function suggestion(value: string, declared: readonly string[]): string {
    const colon = value.indexOf(":");
    const rawWord = colon < 0 ? "" : value.slice(colon + 1);
    let ns = intendedNamespace(value) ?? value.trim();
    if (ns === "") ns = declared.length === 1 ? (declared[0] as string) : "<namespace>";
    const word = rawWord.trim().toLowerCase();
    // ROLE_WORDS has no prototype: "constructor" is not a role word.
    if (word !== "worker" && ROLE_WORDS[word] !== undefined) return show(`${ns}:${word}`);
    return `${show(`${ns}:read`)}, ${show(`${ns}:write`)} or ${show(`${ns}:admin`)}`;
}

/** A finding of the bundled validator, as an error naming the fix. */
function findingMessage(finding: Finding, value: string, declared: readonly string[]): string {
    // Findings that already name the replacement end with it; the others get one.
    if (/write "/.test(finding.message) || finding.code === "worker-without-write") return finding.message;
    if (finding.code === "role-case") {
        // The server would accept it, but Entra compares app role values exactly: it would be a second role.
        return `${finding.message}; Entra ID app role values are exact strings, so write ${suggestion(value, declared)}`;
    }
    return `${finding.message}; write ${suggestion(value, declared)}`;
}

export interface PermissionCheckOptions {
    /** The namespaces the access map declares; when given, a permission on another one is an error. */
    declared?: readonly string[];
    /** Parse as the server does with this permissionsRegex (the stack's release sets none). */
    permissionsRegex?: string;
}

/**
 * Every problem of one app-role value, all at once, as messages naming the fix: what the server
 * would skip or mis-file (isAccessMapError: a role word not in lower case counts, because Entra
 * compares app role values exactly), a value longer than Entra allows, and a namespace the access
 * map does not declare. The plan's access-map rule and `npm run claims -- check` both use this, so
 * they agree on what is an error.
 */
export function permissionValueProblems(value: string, options: PermissionCheckOptions = {}): string[] {
    const declared = options.declared ?? [];
    const parsed = parsePermissions([value], options.permissionsRegex ? { permissionsRegex: options.permissionsRegex } : {});
    const out = parsed.findings.filter((f) => f.code !== "worker-without-write" && f.index !== undefined && isAccessMapError(f)).map((f) => findingMessage(f, value, declared));
    if (value.length > APP_ROLE_VALUE_MAX) {
        out.push(`${show(value)} is ${value.length} characters long, but Entra ID app role values are at most ${APP_ROLE_VALUE_MAX}: use a shorter namespace name`);
    }
    const namespace = intendedNamespace(value);
    if (options.declared !== undefined && namespace !== undefined && namespace !== "" && namespace !== SYSTEM_SCOPE && !declared.includes(namespace)) {
        out.push(`${show(value)} names Temporal namespace ${show(namespace)}, which access.namespaces does not declare (${declared.join(", ")}): declare it or fix the name`);
    }
    return out;
}

/**
 * Every permission of an access map must mean, to server 1.31's default claim mapper, exactly the
 * namespace and role its author intended; anything the server would skip or mis-file is an error,
 * at preview, instead of a silent "Request unauthorized" later. Every problem of a value is
 * reported in the same run. (`npm run claims -- check --stack` prints exactly these.)
 */
export function accessPermissionIssues(access: Pick<AccessConfig, "namespaces" | "grants">): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const declared = access.namespaces.map((n) => n.name);
    const perPrincipal = new Map<string, string[]>();
    for (const grant of access.grants) {
        const p = grantPrincipal(grant);
        perPrincipal.set(p.key, [...(perPrincipal.get(p.key) ?? []), ...grant.permissions]);
    }

    access.grants.forEach((grant, g) => {
        const principal = grantPrincipal(grant);
        // Worker findings depend on the principal's other permissions: a worker role is fine next to write.
        const together = parsePermissions(perPrincipal.get(principal.key) ?? []).findings.filter((f) => f.code === "worker-without-write");
        grant.permissions.forEach((value, k) => {
            const path = `access.grants[${g}].permissions[${k}]`;
            const at = (message: string) => issues.push({ path, message: `${principal.label}: ${message}` });
            const problems = permissionValueProblems(value, { declared });
            for (const message of problems) at(message);
            if (problems.length > 0) return;
            const scope = intendedNamespace(value) ?? SYSTEM_SCOPE;
            const lonelyWorker = together.find((f) => f.namespace === scope);
            if (value.slice(value.indexOf(":") + 1) === "worker" && lonelyWorker) at(lonelyWorker.message);
        });
    });
    return issues;
}

const permissionRule: ConfigRule = (cfg) => accessPermissionIssues(cfg.access);

/** Hex digits and hyphens only, long enough to be meant as an object id rather than a name. */
const GUID_LIKE = /^[{(]?[0-9a-f-]+[})]?$/i;
const GUID_OTHER_NOTATION = /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[})]?$/i;

function canonicalGuid(value: string): string {
    const hex = value.replace(/[^0-9a-f]/gi, "").toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Principals: a group is either an object id (used as is) or a display name (looked up at
 * preview); something that is almost a GUID would silently become a display-name lookup. One grant
 * per principal, one mention per permission, so the map reads as what it grants.
 */
const principalRule: ConfigRule = (cfg) => {
    const issues: ConfigIssue[] = [];
    const firstGrant = new Map<string, number>();
    cfg.access.grants.forEach((grant, g) => {
        const principal: Principal = grantPrincipal(grant);
        if (principal.kind === "group" && !principal.byObjectId) {
            const v = principal.value;
            const hexDigits = v.replace(/[^0-9a-f]/gi, "").length;
            if (GUID_OTHER_NOTATION.test(v)) {
                issues.push({
                    path: `access.grants[${g}].group`,
                    message: `${show(v)} is a group object id in another notation, so it would be looked up as a display name: write it as ${show(canonicalGuid(v))}`,
                });
            } else if (GUID_LIKE.test(v) && hexDigits >= 16) {
                issues.push({
                    path: `access.grants[${g}].group`,
                    message: `${show(v)} looks like a group object id but is not a GUID (8-4-4-4-12 hex digits), so it would be looked up as a display name: fix the id (az ad group show --group <name> --query id)`,
                });
            }
        }
        const first = firstGrant.get(principal.key);
        if (first !== undefined) {
            issues.push({
                path: `access.grants[${g}]`,
                message: `${principal.label} is already granted in access.grants[${first}]: merge its permissions into that grant`,
            });
        } else {
            firstGrant.set(principal.key, g);
        }
        grant.permissions.forEach((value, k) => {
            const earlier = grant.permissions.indexOf(value);
            if (earlier !== k) {
                issues.push({
                    path: `access.grants[${g}].permissions[${k}]`,
                    message: `${principal.label}: ${show(value)} is listed twice (also access.grants[${g}].permissions[${earlier}]): remove the duplicate`,
                });
            }
        });
    });
    return issues;
};

/** A worker polls and completes tasks, which the default authorizer files under Write. */
const workerWriteRule: ConfigRule = (cfg) => {
    const issues: ConfigIssue[] = [];
    const declared = cfg.access.namespaces.map((n) => n.name);
    cfg.workers.forEach((worker, i) => {
        if (!declared.includes(worker.temporalNamespace)) return; // reported by the structure rules
        const permissions = cfg.access.grants.filter((g) => g.worker === worker.name).flatMap((g) => g.permissions);
        const parsed = parsePermissions(permissions);
        const bits = parsed.system | (parsed.namespaces[worker.temporalNamespace] ?? 0);
        if (bits >= Role.Writer) return;
        const own = cfg.access.grants.findIndex((g) => g.worker === worker.name);
        const wanted = show(`${worker.temporalNamespace}:write`);
        const fix = own >= 0 ? `add ${wanted} to access.grants[${own}].permissions` : `add a grant { worker: ${worker.name}, permissions: [${wanted}] }`;
        issues.push({
            path: "access.grants",
            message: `worker "${worker.name}" polls Temporal namespace "${worker.temporalNamespace}" (workers[${i}].temporalNamespace) but no grant gives it write there: ${fix}`,
        });
    });
    return issues;
};

/** Cross-section config rules of this component, run at preview before any resource is registered. */
export const identityRules: ConfigRule[] = [permissionRule, principalRule, workerWriteRule];

/** Issues of the identity rules alone (what `parseStackConfig` reports for the access map). */
export function accessMapIssues(cfg: StackConfig, stack: string): ConfigIssue[] {
    return identityRules.flatMap((rule) => rule(cfg, stack));
}
