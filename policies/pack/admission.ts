import type { StackValidationPolicy } from "@pulumi/policy";
import { SignJWT, exportJWK, generateKeyPair, type GenerateKeyPairResult, type JWK } from "jose";
import { accessMatrix, createClaimMapper, ClaimsError, entraEndpoints, parseApplicationJwksUrl, parsePermissions, SYSTEM_SCOPE } from "../claims";
import { getPath } from "./checks/values";

/**
 * Token admission over a whole stack: for every principal assigned app roles on the Temporal API,
 * sign the access token Entra would issue it (v2 issuer, the API's client id as audience, `roles` =
 * its role values) with a key made here, run the bundled validator with the SERVER's settings taken
 * from the Helm release (audience, claim name, regex, tenant of the JWKS URL), and check that each
 * role value opens exactly what it says on a namespace the release creates. This catches an
 * audience that is not the API's client id, a claim name that is not `roles`, a JWKS of another
 * tenant, and role values that the server would drop or misfile, before anything is deployed.
 */

export interface StackResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
}

export type Access = "none" | "read" | "write" | "admin";

export interface PrincipalAdmission {
    principalObjectId: string;
    principalType: string;
    /** Display name as Entra reports it on the assignment (empty until known). */
    principalDisplayName: string;
    roles: string[];
    verified: boolean;
    error?: string;
    cluster: "none" | "read" | "admin";
    namespaces: Record<string, Access>;
    /** Role values that did not open what they say. */
    problems: string[];
}

export interface AdmissionReport {
    /** Why admission could not run (unknown values during a first preview, no release). */
    skipped?: string;
    audience?: string;
    apiClientId?: string;
    tenantId?: string;
    namespaces: string[];
    principals: PrincipalAdmission[];
    violations: string[];
    /** What the settings leave open by design or by the server's own limits, for the reviewer to accept (never a pass or a fail). */
    residualRisks: string[];
}

/** The method where server v1.31.2 skips the audience (stream start has no request) and what it is. */
const REPLICATION_STREAM = "AdminService/StreamWorkflowReplicationMessages";

/**
 * What stays open once the release's authorization settings are right, for the plan to show: the
 * server checks no audience on streams and Nexus HTTP calls, so who may open the replication stream
 * depends on whose tokens verify (the JWKS) and on who holds temporal-system:admin.
 */
export function residualRisks(keySourceURIs: unknown[], audience: string | undefined, principals: PrincipalAdmission[]): string[] {
    const own = keySourceURIs.length > 0 && keySourceURIs.every((u) => typeof u === "string" && parseApplicationJwksUrl(u)?.appId.toLowerCase() === audience?.toLowerCase());
    const admins = principals.filter((p) => p.cluster === "admin").map((p) => (p.principalDisplayName ? `${p.principalType} "${p.principalDisplayName}"` : `${p.principalType} ${p.principalObjectId}`));
    const out: string[] = [];
    if (own) {
        out.push(
            `${REPLICATION_STREAM} and Nexus HTTP calls: server 1.31.2 checks no audience there; only tokens signed with the API's own key (keySourceURIs ?appid=${audience}) verify, ` +
                "so tokens minted for other applications or tenants are refused on every call. This rests on Entra publishing only this application's keys at that URL: npm run verify:live checks it against the tenant-wide key set.",
        );
    } else {
        out.push(
            `${REPLICATION_STREAM} and Nexus HTTP calls: server 1.31.2 checks no audience there and keySourceURIs include keys that sign other applications' tokens: ` +
                "any token from those keys carrying temporal-system:admin (anyone can mint one in a tenant of their own) is system admin on the replication stream for a holder of a client certificate of the stack's CA.",
        );
    }
    out.push(
        `A holder of a client certificate of the stack's CA and an API token carrying temporal-system:admin may open ${REPLICATION_STREAM} (what it sends on a single cluster: docs/identity.md); ` +
            `${admins.length === 0 ? "no principal of the access map holds that role" : `held by ${admins.length}: ${admins.join(", ")}`}.`,
    );
    return out;
}

const RANK: Record<Access, number> = { none: 0, read: 1, write: 2, admin: 3 };

export interface AdmissionOptions {
    /**
     * The RS256 key pair that signs the admission's tokens, when the caller started generating it
     * earlier (the offline plan does, so the key is made while the program runs); default: a fresh one.
     */
    signingKey?: Promise<GenerateKeyPairResult>;
}

export async function runTokenAdmission(resources: StackResource[], options: AdmissionOptions = {}): Promise<AdmissionReport> {
    const report: AdmissionReport = { namespaces: [], principals: [], violations: [], residualRisks: [] };
    const release = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.props.chart === "temporal");
    const api = resources.find((r) => r.type === "azuread:index/application:Application" && Array.isArray(r.props.appRoles) && (r.props.appRoles as unknown[]).length > 0);
    if (!release || !api) {
        report.skipped = "no Temporal release or no API registration with app roles in this stack";
        return report;
    }
    const auth = (getPath(release.props.values, "server.config.authorization") ?? {}) as Record<string, unknown>;
    const audience = typeof auth.audience === "string" ? auth.audience : undefined;
    const claimName = typeof auth.permissionsClaimName === "string" ? auth.permissionsClaimName : "permissions";
    const regex = typeof auth.permissionsRegex === "string" && auth.permissionsRegex !== "" ? auth.permissionsRegex : undefined;
    const uris = (getPath(auth, "jwtKeyProvider.keySourceURIs") as unknown[] | undefined) ?? [];
    const tenantId = uris.map((u) => /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\//i.exec(String(u))?.[1]).find((t) => t !== undefined);
    const apiClientId = typeof api.props.clientId === "string" ? api.props.clientId : undefined;
    const nsList = getPath(release.props.values, "server.config.namespaces.namespace");
    report.namespaces = Array.isArray(nsList) ? nsList.map((n) => String((n as { name?: unknown }).name)) : [];
    Object.assign(report, { audience, apiClientId, tenantId });
    if (!audience || !apiClientId || !tenantId) {
        report.skipped = "the API client id, the release's audience or its tenant JWKS URL is not known yet (first preview): admission runs on the next preview or during up";
        if (audience === undefined) report.violations.push("the Temporal release sets no authorization audience: any tenant's token would verify");
        return report;
    }
    if (audience !== apiClientId) {
        report.violations.push(`the release's authorization.audience (${audience}) is not the API registration's client id (${apiClientId}): every real token would be rejected`);
    }

    const roleValueById = new Map<string, string>();
    for (const role of api.props.appRoles as Array<Record<string, unknown>>) roleValueById.set(String(role.id), String(role.value));
    const byPrincipal = new Map<string, { type: string; displayName: string; roles: string[] }>();
    for (const a of resources.filter((r) => r.type === "azuread:index/appRoleAssignment:AppRoleAssignment")) {
        const value = roleValueById.get(String(a.props.appRoleId));
        if (value === undefined) continue; // an assignment on another app (e.g. the UI's default access)
        const pid = String(a.props.principalObjectId);
        const entry = byPrincipal.get(pid) ?? { type: String(a.props.principalType ?? "principal"), displayName: String(a.props.principalDisplayName ?? ""), roles: [] };
        entry.roles.push(value);
        byPrincipal.set(pid, entry);
    }

    // A key of our own stands in for Microsoft's: the point is what the server does with the claims.
    const { privateKey, publicKey } = await (options.signingKey ?? generateKeyPair("RS256"));
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "admission", alg: "RS256", use: "sig" };
    let mapper: ReturnType<typeof createClaimMapper>;
    try {
        mapper = createClaimMapper({
            profile: "entra",
            tenantId,
            audience,
            permissionsClaimName: claimName,
            ...(regex ? { permissionsRegex: regex } : {}),
            jwks: { keys: [jwk] },
        });
    } catch (err) {
        // Fail closed: settings the validator cannot evaluate are a violation, not a pass.
        report.violations.push(`the release's authorization settings cannot be evaluated: ${err instanceof ClaimsError ? `${err.code}: ${err.message}` : String(err)}`);
        return report;
    }
    const now = Math.floor(Date.now() / 1000);
    for (const [principalObjectId, { type, displayName, roles }] of [...byPrincipal.entries()].sort()) {
        const token = await new SignJWT({ roles, tid: tenantId, oid: principalObjectId, azp: apiClientId === audience ? "00000000-0000-0000-0000-000000000001" : audience, ver: "2.0" })
            .setProtectedHeader({ alg: "RS256", kid: "admission", typ: "JWT" })
            .setIssuer(entraEndpoints(tenantId).issuerUrl)
            .setAudience(apiClientId)
            .setSubject(principalObjectId)
            .setIssuedAt(now - 300)
            .setNotBefore(now - 300)
            .setExpirationTime(now + 3600)
            .sign(privateKey);
        const entry: PrincipalAdmission = { principalObjectId, principalType: type, principalDisplayName: displayName, roles: [...roles].sort(), verified: false, cluster: "none", namespaces: {}, problems: [] };
        try {
            const claims = await mapper.getClaims({ authorization: `Bearer ${token}` });
            const matrix = accessMatrix(claims, report.namespaces);
            entry.verified = true;
            entry.cluster = matrix.cluster;
            entry.namespaces = matrix.namespaces;
            for (const value of roles) entry.problems.push(...roleProblems(value, matrix, report.namespaces, regex));
        } catch (err) {
            entry.error = err instanceof ClaimsError ? `${err.code}: ${err.message}` : String(err);
            entry.problems.push(`the token Entra would issue is rejected by the server: ${entry.error}`);
        }
        for (const p of entry.problems) report.violations.push(`principal ${principalObjectId}: ${p}`);
        report.principals.push(entry);
    }
    report.residualRisks = residualRisks(uris, audience, report.principals);
    return report;
}

function roleProblems(value: string, matrix: { cluster: string; namespaces: Record<string, Access> }, namespaces: string[], regex?: string): string[] {
    const parsed = parsePermissions([value], regex ? { permissionsRegex: regex } : {});
    const word = value.slice(value.indexOf(":") + 1).toLowerCase();
    const wanted: Access = word === "admin" ? "admin" : word === "write" ? "write" : word === "read" ? "read" : "none";
    if (parsed.system) {
        const ok = wanted === "admin" ? matrix.cluster === "admin" : matrix.cluster !== "none";
        return ok ? [] : [`"${value}" should open the cluster (${wanted}) but the server gives ${matrix.cluster}`];
    }
    const ns = Object.keys(parsed.namespaces)[0];
    if (ns === undefined) return [`"${value}" grants nothing: the server skips it`];
    if (ns === SYSTEM_SCOPE) return [];
    if (!namespaces.includes(ns)) return [`"${value}" grants on namespace "${ns}", which the release does not create`];
    const got = matrix.namespaces[ns] ?? "none";
    return RANK[got] >= RANK[wanted] && wanted !== "none" ? [] : [`"${value}" should give ${wanted} on "${ns}" but the server gives ${got}`];
}

export const tokenAdmission: StackValidationPolicy = {
    name: "temporal-token-admission",
    description: "Every assigned principal's Entra token is accepted by the server's claim mapper and opens exactly what its app roles say.",
    enforcementLevel: "mandatory",
    validateStack: async (args, reportViolation) => {
        const report = await runTokenAdmission(args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props })));
        for (const v of report.violations) reportViolation(v);
    },
};
