import type { ConfigIssue, ConfigRule } from "../config/issues";
import type { StackConfig } from "../config/schema";
import { parsePermissions, type Finding } from "../../policies/claims/permissions";
import { ROLE_WORDS, Role, SYSTEM_SCOPE } from "../../policies/claims/roles";
import { grantPrincipal, type Principal } from "./access";

/** Entra ID's limit on an app role's `value`. */
export const APP_ROLE_VALUE_MAX = 120;

const show = (v: string): string => JSON.stringify(v);

/** What the author most likely meant, as a permission the server and Entra both take literally. */
function suggestion(value: string, declared: string[]): string {
    const colon = value.indexOf(":");
    const rawNs = colon < 0 ? value : value.slice(0, colon);
    const rawWord = colon < 0 ? "" : value.slice(colon + 1);
    let ns = rawNs.trim();
    if (ns.toLowerCase() === SYSTEM_SCOPE || ns.toLowerCase() === "system") ns = SYSTEM_SCOPE;
    if (ns === "") ns = declared.length === 1 ? declared[0]! : "<namespace>";
    const word = rawWord.trim().toLowerCase();
    if (word !== "worker" && ROLE_WORDS[word] !== undefined) return show(`${ns}:${word}`);
    return `${show(`${ns}:read`)}, ${show(`${ns}:write`)} or ${show(`${ns}:admin`)}`;
}

/** A finding of the bundled validator, as an error naming the fix. */
function findingMessage(finding: Finding, value: string, declared: string[]): string {
    // Findings that already name the replacement end with it; the others get one.
    if (/write "/.test(finding.message) || finding.code === "worker-without-write") return finding.message;
    if (finding.code === "role-case") {
        // The server would accept it, but Entra compares app role values exactly: it would be a second role.
        return `${finding.message}; Entra ID app role values are exact strings, so write ${suggestion(value, declared)}`;
    }
    return `${finding.message}; write ${suggestion(value, declared)}`;
}

/**
 * Every permission of the access map must mean, to server 1.31's default claim mapper, exactly the
 * namespace and role its author intended; anything the server would skip or mis-file is an error
 * here, at preview, instead of a silent "Request unauthorized" later.
 */
const permissionRule: ConfigRule = (cfg) => {
    const issues: ConfigIssue[] = [];
    const declared = cfg.access.namespaces.map((n) => n.name);
    const perPrincipal = new Map<string, string[]>();
    for (const grant of cfg.access.grants) {
        const p = grantPrincipal(grant);
        perPrincipal.set(p.key, [...(perPrincipal.get(p.key) ?? []), ...grant.permissions]);
    }

    cfg.access.grants.forEach((grant, g) => {
        const principal = grantPrincipal(grant);
        // Worker findings depend on the principal's other permissions: a worker role is fine next to write.
        const together = parsePermissions(perPrincipal.get(principal.key) ?? []).findings.filter((f) => f.code === "worker-without-write");
        grant.permissions.forEach((value, k) => {
            const path = `access.grants[${g}].permissions[${k}]`;
            const at = (message: string) => issues.push({ path, message: `${principal.label}: ${message}` });
            const parsed = parsePermissions([value]);
            const findings = parsed.findings.filter((f) => f.code !== "worker-without-write");
            for (const f of findings) at(findingMessage(f, value, declared));
            if (value.length > APP_ROLE_VALUE_MAX) {
                at(`${show(value)} is ${value.length} characters long, but Entra ID app role values are at most ${APP_ROLE_VALUE_MAX}: use a shorter namespace name`);
            }
            if (findings.length > 0) return;
            const namespace = Object.keys(parsed.namespaces)[0];
            if (namespace !== undefined && !declared.includes(namespace)) {
                at(`${show(value)} names Temporal namespace ${show(namespace)}, which access.namespaces does not declare (${declared.join(", ")}): declare it or fix the name`);
                return;
            }
            const scope = namespace ?? SYSTEM_SCOPE;
            const lonelyWorker = together.find((f) => f.namespace === scope);
            if (value.slice(value.indexOf(":") + 1) === "worker" && lonelyWorker) at(lonelyWorker.message);
        });
    });
    return issues;
};

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
