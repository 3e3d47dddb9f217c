import { distance as levenshtein } from "fastest-levenshtein";
import apiAccess from "./api-access.json";
import { Role, SYSTEM_SCOPE, roleNames, type Claims } from "./roles";

/**
 * The server's default authorizer (common/authorization/default_authorizer.go) with its method
 * table (common/api/metadata.go), kept as data in api-access.json (a copy of the project reference).
 */

export type MethodScope = "Namespace" | "Cluster";
export type MethodAccessLevel = "ReadOnly" | "Write" | "Admin";

export interface MethodAccess {
    /** Full gRPC method path, e.g. /temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution. */
    api: string;
    scope: MethodScope;
    access: MethodAccessLevel;
}

export interface CallTarget {
    /** Full gRPC method path, or an unambiguous short name such as "StartWorkflowExecution". */
    apiName: string;
    /** The request's namespace (ignored for cluster-scope methods). */
    namespace?: string;
}

export interface AuthorizeResult {
    decision: "allow" | "deny";
    /** A complete sentence: the rule applied, what was needed, what the caller has, and the fix. */
    reason: string;
    /** The full method path the decision was made for. */
    api: string;
    scope?: "cluster" | "namespace";
    /** The role number the method needs (2, 4 or 8). */
    required?: number;
    /** The caller's role number the server compared (system, or system OR namespace). */
    has?: number;
}

export const HEALTH_CHECK_APIS: readonly string[] = ["/grpc.health.v1.Health/Check", "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo"];

const PREFIX = {
    workflow: "/temporal.api.workflowservice.v1.WorkflowService/",
    operator: "/temporal.api.operatorservice.v1.OperatorService/",
    nexus: "/temporal.api.nexusservice.v1.NexusService/",
    admin: "/temporal.server.api.adminservice.v1.AdminService/",
} as const;

/** Every method of the table, as data. */
export const API_ACCESS: readonly MethodAccess[] = (apiAccess as { methods: MethodAccess[] }).methods;
export const API_ACCESS_SERVER_VERSION: string = (apiAccess as { serverVersion: string }).serverVersion;

/** The gRPC methods the frontend serves, those whose request carries a namespace, and the streams (from the server's service descriptors). */
export const FRONTEND_METHODS: { readonly grpc: readonly string[]; readonly withNamespace: readonly string[]; readonly streams: readonly string[] } = (
    apiAccess as { frontend: { grpc: string[]; withNamespace: string[]; streams: string[] } }
).frontend;
const GRPC_METHODS: ReadonlySet<string> = new Set(FRONTEND_METHODS.grpc);
const WITH_NAMESPACE: ReadonlySet<string> = new Set(FRONTEND_METHODS.withNamespace);
const STREAMS: ReadonlySet<string> = new Set(FRONTEND_METHODS.streams);

/**
 * How the frontend receives a call, which decides what the server checks:
 * - "unary": the unary interceptor; the audience mapper's audience is checked, the namespace is the
 *   request message's;
 * - "stream": the stream interceptor; no request exists at stream start, so the claim mapper gets an
 *   EMPTY audience (the audience check is skipped) and the authorizer an empty namespace;
 * - "nexus": the Nexus HTTP handlers (NexusService); an empty audience too ("TODO: support audience
 *   getter" in v1.31.2), and the namespace the request targets.
 */
export type CallKind = "unary" | "stream" | "nexus";

const byService = new Map<string, Map<string, MethodAccess>>();
const byShortName = new Map<string, string[]>();
for (const m of API_ACCESS) {
    const cut = m.api.lastIndexOf("/") + 1;
    const prefix = m.api.slice(0, cut);
    const name = m.api.slice(cut);
    if (!byService.has(prefix)) byService.set(prefix, new Map());
    byService.get(prefix)?.set(name, m);
}
for (const api of [...API_ACCESS.map((m) => m.api), ...HEALTH_CHECK_APIS, ...FRONTEND_METHODS.grpc]) {
    const name = api.slice(api.lastIndexOf("/") + 1);
    const list = byShortName.get(name) ?? [];
    if (!list.includes(api)) list.push(api);
    byShortName.set(name, list);
}

const REQUIRED: Readonly<Record<MethodAccessLevel, number>> = { ReadOnly: Role.Reader, Write: Role.Writer, Admin: Role.Admin };
const REQUIRED_NAME: Readonly<Record<number, string>> = { [Role.Reader]: "Reader", [Role.Writer]: "Writer", [Role.Admin]: "Admin" };

/**
 * The server's api.GetMethodMetadata: the service is chosen by prefix and the method by the text
 * after the LAST "/"; every AdminService path is cluster/admin; anything else is unknown.
 */
export function methodAccess(fullApiName: string): MethodAccess | undefined {
    const method = fullApiName.slice(fullApiName.lastIndexOf("/") + 1);
    for (const prefix of [PREFIX.workflow, PREFIX.operator, PREFIX.nexus]) {
        if (fullApiName.startsWith(prefix)) {
            const m = byService.get(prefix)?.get(method);
            return m ? { api: fullApiName, scope: m.scope, access: m.access } : undefined;
        }
    }
    if (fullApiName.startsWith(PREFIX.admin)) return { api: fullApiName, scope: "Cluster", access: "Admin" };
    return undefined;
}

/** How the frontend receives a call to `fullApiName`; undefined when it serves no such path (gRPC answers Unimplemented before any authorization). */
export function callKind(fullApiName: string): CallKind | undefined {
    if (fullApiName.startsWith(PREFIX.nexus)) return byService.get(PREFIX.nexus)?.has(fullApiName.slice(PREFIX.nexus.length)) ? "nexus" : undefined;
    if (STREAMS.has(fullApiName)) return "stream";
    return GRPC_METHODS.has(fullApiName) ? "unary" : undefined;
}

/**
 * Whether the server authorizes a call to `fullApiName` on the namespace it targets: unary methods
 * whose request message has a "namespace" field, and Nexus calls. Every other call (cluster methods,
 * health checks, streams) is authorized on namespace "", whatever the caller meant.
 */
export function carriesNamespace(fullApiName: string): boolean {
    return WITH_NAMESPACE.has(fullApiName) || callKind(fullApiName) === "nexus";
}

/**
 * A full method path for `apiName`: itself when it starts with "/", else the one method of the
 * server's table or the frontend's gRPC services it names ("StartWorkflowExecution",
 * "OperatorService/ListClusters"). An unknown or ambiguous short name is an error that lists the
 * candidates or the closest names.
 */
export function resolveApiName(apiName: string): { api: string; shortened: boolean } | { error: string; suggestions: string[] } {
    if (apiName.startsWith("/")) return { api: apiName, shortened: false };
    const slash = apiName.lastIndexOf("/");
    const name = apiName.slice(slash + 1);
    const candidates = (byShortName.get(name) ?? []).filter((full) => slash < 0 || full.endsWith(`/${apiName}`) || full.endsWith(`.${apiName}`));
    if (candidates.length === 1) return { api: candidates[0] as string, shortened: true };
    if (candidates.length > 1) {
        const services = candidates.map((c) => c.slice(c.lastIndexOf(".", c.lastIndexOf("/")) + 1));
        return { error: `"${apiName}" names ${candidates.length} methods (${candidates.join(", ")}): say which, e.g. ${services.map((s) => JSON.stringify(s)).join(" or ")}`, suggestions: services };
    }
    const suggestions = closestMethodNames(name);
    const hint = suggestions.length ? `did you mean ${suggestions.map((s) => JSON.stringify(s)).join(" or ")}? ` : "";
    return {
        error: `"${apiName}" is not a method of the server's table or of the frontend's gRPC services: ${hint}Give a method name or its full gRPC path (/temporal.api.workflowservice.v1.WorkflowService/<Method>)`,
        suggestions,
    };
}

/** Known method names closest to `name`: the same in another case, else the nearest by edit distance, else those containing it (at most three). */
function closestMethodNames(name: string): string[] {
    const lower = name.toLowerCase();
    const names = [...byShortName.keys()];
    const exact = names.filter((n) => n.toLowerCase() === lower);
    if (exact.length) return exact;
    const scored = names.map((n) => ({ n, d: levenshtein(lower, n.toLowerCase()) })).filter(({ n, d }) => d <= Math.max(2, Math.floor(n.length / 4)));
    const best = Math.min(...scored.map((x) => x.d));
    const near = scored.filter((x) => x.d === best).map((x) => x.n);
    if (near.length) return near.sort().slice(0, 3);
    if (lower.length < 4) return [];
    return names
        .filter((n) => n.toLowerCase().includes(lower))
        .sort((a, b) => a.length - b.length || a.localeCompare(b))
        .slice(0, 3);
}

const has = (bits: number): string => (bits === 0 ? "none" : `${roleNames(bits)} (${bits})`);

function namespaceRole(claims: Claims, namespace: string): number {
    const ns = claims.namespaces;
    return ns && Object.prototype.hasOwnProperty.call(ns, namespace) ? (ns[namespace] ?? 0) : 0;
}

/**
 * The server's default authorizer, decision and reason:
 * 1. `/grpc.health.v1.Health/Check` and `WorkflowService/GetSystemInfo` are always allowed;
 * 2. no claims (null/undefined): deny;
 * 3. the method's scope and access from the table; a method not in it is denied even to a system admin;
 * 4. cluster scope uses `claims.system`; namespace scope `claims.system | claims.namespaces[namespace]`
 *    (exact, case-sensitive key);
 * 5. allow when that role, as a NUMBER, is >= the required one (ReadOnly 2, Write 4, Admin 8).
 */
export function authorize(claims: Claims | null | undefined, target: CallTarget): AuthorizeResult {
    const resolved = resolveApiName(target.apiName);
    if ("error" in resolved) return { decision: "deny", api: target.apiName, reason: `deny: ${resolved.error}, and the server denies a method it does not know` };
    const api = resolved.api;
    const short = api.slice(api.lastIndexOf("/") + 1);
    const readAs = resolved.shortened ? ` ("${target.apiName}" was read as ${api}.)` : "";
    if (HEALTH_CHECK_APIS.includes(api)) {
        return { decision: "allow", api, reason: `allow: ${short} is a health check, which the server allows to everyone.${readAs}` };
    }
    if (claims === null || claims === undefined) {
        return { decision: "deny", api, reason: `deny: there are no claims (no token and no client certificate), so the server allows only health checks.${readAs}` };
    }
    const meta = methodAccess(api);
    if (!meta) {
        return {
            decision: "deny",
            api,
            reason: `deny: ${api} is not in the server's method table (server ${API_ACCESS_SERVER_VERSION}), so its scope is unknown and the default authorizer denies it, even to a system admin.${readAs}`,
        };
    }
    const required = REQUIRED[meta.access];
    const needs = `${short} needs ${REQUIRED_NAME[required]} (${required})`;
    const system = claims.system | 0;
    if (meta.scope === "Cluster") {
        const allowed = system >= required;
        const hints: string[] = [];
        if (!allowed) {
            const nsRoles = Object.values(claims.namespaces ?? {}).some((b) => b >= required);
            if (api.startsWith(PREFIX.admin)) hints.push(`only a system admin ("${SYSTEM_SCOPE}:admin") may call AdminService`);
            else if (nsRoles) hints.push(`namespace roles never open cluster-scope calls: grant "${SYSTEM_SCOPE}:${required >= Role.Admin ? "admin" : "read"}"`);
            else hints.push(`grant "${SYSTEM_SCOPE}:${required >= Role.Admin ? "admin" : required >= Role.Writer ? "write" : "read"}"`);
            if (system & (system - 1) && required === Role.Admin) hints.push(`roles are compared as numbers, so ${has(system)} is still below admin (8)`);
        }
        const reason = `${allowed ? "allow" : "deny"}: ${needs} on the cluster (${SYSTEM_SCOPE}); the caller has ${has(system)} there${hints.length ? `; ${hints.join("; ")}` : ""}.${readAs}`;
        return { decision: allowed ? "allow" : "deny", api, scope: "cluster", required, has: system, reason };
    }
    const namespace = target.namespace ?? "";
    const nsBits = namespaceRole(claims, namespace);
    const role = system | nsBits;
    const allowed = role >= required;
    const hints: string[] = [];
    if (!allowed) {
        if (namespace === "") hints.push("the request names no namespace, so only the cluster role counts");
        if (role === Role.Worker) hints.push("worker (1) alone grants nothing: roles are compared as numbers and every method needs at least Reader; a worker polls and completes tasks with Writer");
        else if (role & (role - 1) && required === Role.Admin) hints.push(`roles are compared as numbers, so ${has(role)} is still below admin (8)`);
        const variants = Object.keys(claims.namespaces ?? {}).filter((k) => k !== namespace && k.trim().toLowerCase() === namespace.trim().toLowerCase());
        if (variants.length) hints.push(`the token has roles for ${variants.map((v) => JSON.stringify(v)).join(", ")}, but namespace names are matched exactly (case and spaces)`);
        if (variants.length === 0 && namespace !== "") {
            const word = required === Role.Admin ? "admin" : required === Role.Writer ? "write" : "read";
            hints.push(`grant "${namespace}:${word}" (or "${SYSTEM_SCOPE}:${word}" for every namespace)`);
        }
    }
    const source = allowed ? (nsBits >= required && system < required ? " (from the namespace role)" : system >= required && nsBits < required ? " (from the cluster role)" : "") : "";
    const reason = `${allowed ? "allow" : "deny"}: ${needs} on namespace ${JSON.stringify(namespace)}; the caller has ${has(nsBits)} there and ${has(system)} on the cluster${source}${hints.length ? `; ${hints.join("; ")}` : ""}.${readAs}`;
    return { decision: allowed ? "allow" : "deny", api, scope: "namespace", required, has: role, reason };
}

export type ClusterAccess = "none" | "read" | "admin";
export type NamespaceAccess = "none" | "read" | "write" | "admin";

export interface AccessMatrix {
    cluster: ClusterAccess;
    namespaces: Record<string, NamespaceAccess>;
}

/** The representative methods `accessMatrix` asks the authorizer about. */
export const REPRESENTATIVE_METHODS = {
    namespace: {
        read: `${PREFIX.workflow}GetWorkflowExecutionHistory`,
        write: `${PREFIX.workflow}StartWorkflowExecution`,
        admin: `${PREFIX.workflow}UpdateNamespace`,
    },
    cluster: {
        read: `${PREFIX.workflow}ListNamespaces`,
        admin: `${PREFIX.operator}ListClusters`,
    },
} as const;

/**
 * Effective access per scope, computed THROUGH `authorize()` on representative methods (namespace:
 * GetWorkflowExecutionHistory / StartWorkflowExecution / UpdateNamespace; cluster: ListNamespaces /
 * OperatorService ListClusters). `denials` gives the authorizer's reason for every level not reached.
 */
export function accessDetails(claims: Claims | null | undefined, namespaces: string[]): AccessMatrix & { denials: string[] } {
    const denials: string[] = [];
    const level = <L extends string>(levels: Array<[L, string]>, namespace: string | undefined, label: string): L | "none" => {
        let best: L | "none" = "none";
        for (const [name, api] of levels) {
            const r = authorize(claims, { apiName: api, ...(namespace !== undefined ? { namespace } : {}) });
            if (r.decision === "allow") best = name;
            else denials.push(`${label} ${name}: ${r.reason}`);
        }
        return best;
    };
    const c = REPRESENTATIVE_METHODS.cluster;
    const cluster = level<"read" | "admin">(
        [
            ["read", c.read],
            ["admin", c.admin],
        ],
        undefined,
        "cluster",
    );
    const out: Record<string, NamespaceAccess> = {};
    const n = REPRESENTATIVE_METHODS.namespace;
    for (const ns of namespaces) {
        const value = level<"read" | "write" | "admin">(
            [
                ["read", n.read],
                ["write", n.write],
                ["admin", n.admin],
            ],
            ns,
            `namespace ${JSON.stringify(ns)}`,
        );
        Object.defineProperty(out, ns, { value, enumerable: true, writable: true, configurable: true });
    }
    return { cluster, namespaces: out, denials };
}

/** `{ cluster, namespaces }` access levels of `claims`, decided by `authorize()` (see accessDetails). */
export function accessMatrix(claims: Claims | null | undefined, namespaces: string[]): AccessMatrix {
    const { cluster, namespaces: ns } = accessDetails(claims, namespaces);
    return { cluster, namespaces: ns };
}
