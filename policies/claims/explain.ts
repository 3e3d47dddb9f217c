import { accessDetails, authorize, type AccessMatrix } from "./authorizer";
import { ClaimsError, type ClaimsErrorCode } from "./errors";
import { createClaimMapper, type ClaimMapper, type ClaimMapperOptions } from "./mapper";
import { parsePermissions, type Finding } from "./permissions";
import { roleNames, SYSTEM_SCOPE, type Claims } from "./roles";

/**
 * One token, explained: whether the server's claim mapper accepts it, the claims it produces, what
 * they open (cluster and per namespace) with the authorizer's reason for every denial, and the traps
 * found on the way. The server itself only ever says "Request unauthorized".
 */

export interface ExplainOptions extends ClaimMapperOptions {
    /** Namespaces to report access on (default: the namespaces named in the token). */
    namespaces?: string[];
    /** Reuse a mapper (and its cached keys) instead of building one from the options. */
    mapper?: ClaimMapper;
}

export type TokenKind = "entra-v2-access" | "entra-v1-access" | "entra-id-token" | "graph" | "jwt" | "none" | "unreadable";

export interface ExplainReport {
    /** True only when the server would accept the token (and, with profile "entra", Entra's rules pass). */
    verified: boolean;
    profile: "temporal" | "entra";
    /** Why the token is rejected: what the server logs, and what getClaims throws. */
    error?: { code: ClaimsErrorCode; message: string };
    /** Every rule the token breaks (the first is `error`). */
    problems: Array<{ code: ClaimsErrorCode; message: string }>;
    header?: { alg?: unknown; kid?: unknown; typ?: unknown };
    tokenKind?: TokenKind;
    /** The claims the server hands its authorizer (only when verified, or empty for an absent token). */
    claims?: Claims;
    /** Permission elements the server skips or files elsewhere (from the token's claim, even when rejected). */
    findings: Finding[];
    access?: AccessMatrix;
    /** The authorizer's reason for each access level not reached. */
    denials: string[];
    /**
     * Set when unary calls reject the token for its audience but the calls that check no audience
     * accept it: the server's stream interceptor and its Nexus HTTP handlers hand the mapper an
     * empty audience. What the token opens there.
     */
    withoutAudienceCheck?: {
        claims: Claims;
        /** AdminService/StreamWorkflowReplicationMessages (cluster admin). */
        replicationStream: "allow" | "deny";
        /** Nexus DispatchByNamespaceAndTaskQueue, per namespace of the token. */
        nexus: Record<string, "allow" | "deny">;
        reason: string;
    };
    notes: string[];
}

/** The streaming call a v1.31.2 frontend serves (cluster admin), and a Nexus call (namespace write): both skip the audience check. */
export const REPLICATION_STREAM = "/temporal.server.api.adminservice.v1.AdminService/StreamWorkflowReplicationMessages";
const NEXUS_DISPATCH = "/temporal.api.nexusservice.v1.NexusService/DispatchByNamespaceAndTaskQueue";

const GRAPH = ["00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com", "https://graph.microsoft.com/"];

function kindOf(header: Record<string, unknown> | undefined, payload: Record<string, unknown> | undefined): TokenKind {
    if (!header || !payload) return "unreadable";
    const aud = typeof payload.aud === "string" ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    if (header.nonce !== undefined || aud.some((a) => GRAPH.includes(String(a)))) return "graph";
    const iss = typeof payload.iss === "string" ? payload.iss : "";
    const v2 = /^https:\/\/login\.microsoftonline\.com\/[^/]+\/v2\.0$/.test(iss);
    const v1 = /^https:\/\/sts\.windows\.net\/[^/]+\/$/.test(iss);
    if (!v1 && !v2) return "jwt";
    if (typeof payload.azp !== "string" && typeof payload.appid !== "string") return "entra-id-token";
    return v2 ? "entra-v2-access" : "entra-v1-access";
}

/** A bare JWT becomes "Bearer <jwt>"; anything with a space is taken as the header value itself. */
export function authorizationFor(token: string): string {
    return token === "" || token.includes(" ") ? token : `Bearer ${token}`;
}

/**
 * Explains one token (a bare JWT, or a whole `authorization` header value). Never throws for a bad
 * token or bad options: anything undecidable is `verified: false` with the reason.
 */
export async function explain(token: string, options: ExplainOptions): Promise<ExplainReport> {
    const profile = options.mapper?.settings.profile ?? options.profile ?? "temporal";
    const report: ExplainReport = { verified: false, profile, problems: [], findings: [], denials: [], notes: [] };
    let mapper: ClaimMapper;
    try {
        mapper = options.mapper ?? createClaimMapper(options);
    } catch (e) {
        if (!(e instanceof ClaimsError)) throw e;
        report.error = { code: e.code, message: e.message };
        report.problems.push(report.error);
        return report;
    }
    const settings = mapper.settings;
    const inspection = await mapper.inspect({ authorization: authorizationFor(token) });
    for (const e of inspection.errors) report.problems.push({ code: e.code, message: e.message });
    report.error = report.problems[0];
    const { header, payload } = inspection;
    if (header) report.header = { alg: header.alg, kid: header.kid, typ: header.typ };
    report.tokenKind = token === "" ? "none" : kindOf(header, payload);

    if (payload) {
        const claim = Object.prototype.hasOwnProperty.call(payload, settings.permissionsClaimName) ? payload[settings.permissionsClaimName] : undefined;
        report.findings = parsePermissions(claim, { permissionsRegex: settings.permissionsRegex, claimName: settings.permissionsClaimName }).findings;
        if (claim === undefined && settings.permissionsClaimName !== "roles" && Array.isArray(payload.roles)) {
            report.notes.push(`the token carries Entra app roles in "roles", but the server reads "${settings.permissionsClaimName}": set permissionsClaimName to "roles" (env TEMPORAL_JWT_PERMISSIONS_CLAIM=roles)`);
        }
        if (claim === undefined && typeof payload.scp === "string") {
            report.notes.push(`the token has delegated scopes (scp "${payload.scp}") but no app roles: scopes are not Temporal permissions; assign the user an app role`);
        }
    }

    const verified = token !== "" && inspection.claims !== undefined && inspection.errors.length === 0;
    report.verified = verified;
    if (token === "") {
        report.notes.push("no token: the server gives empty claims (no error), and the authorizer then denies everything but health checks");
    }
    if (inspection.claims && inspection.errors.length === 0) report.claims = inspection.claims;

    const namespaces = options.namespaces ?? (report.claims ? Object.keys(report.claims.namespaces) : []);
    if (report.claims) {
        const details = accessDetails(report.claims, namespaces);
        report.access = { cluster: details.cluster, namespaces: details.namespaces };
        report.denials = details.denials;
    } else if (report.error) {
        const none: AccessMatrix = { cluster: "none", namespaces: {} };
        for (const ns of namespaces) Object.defineProperty(none.namespaces, ns, { value: "none", enumerable: true, writable: true, configurable: true });
        report.access = none;
        report.denials = [`every call, even a health check: the claim mapper rejects the token (${report.error.code}), and the server answers "PermissionDenied: Request unauthorized"`];
    }

    if (settings.audience !== undefined && token !== "" && inspection.errors.some((e) => e.code === "audience-mismatch")) {
        const unchecked = await mapper.inspect({ authorization: authorizationFor(token), call: "stream" });
        if (unchecked.claims && unchecked.errors.length === 0) {
            const claims = unchecked.claims;
            const replicationStream = authorize(claims, { apiName: REPLICATION_STREAM, namespace: "" }).decision;
            const nexus: Record<string, "allow" | "deny"> = {};
            for (const ns of Object.keys(claims.namespaces)) {
                Object.defineProperty(nexus, ns, { value: authorize(claims, { apiName: NEXUS_DISPATCH, namespace: ns }).decision, enumerable: true, writable: true, configurable: true });
            }
            const opened = [replicationStream === "allow" ? "AdminService/StreamWorkflowReplicationMessages (it is a system admin)" : "", ...Object.entries(nexus).filter(([, d]) => d === "allow").map(([ns]) => `Nexus calls on namespace ${JSON.stringify(ns)}`)].filter((x) => x !== "");
            const reason = `every unary call rejects this token for its audience, but the server checks no audience on streaming calls (its stream interceptor has no request at stream start and passes an empty audience) nor on Nexus HTTP calls: there the token is accepted${opened.length ? `, and it opens ${opened.join(", ")}` : ", though it opens nothing there"}`;
            report.withoutAudienceCheck = { claims, replicationStream, nexus, reason };
            report.denials = report.denials.map((d) => d.replace(/^every call, even a health check:/, "every unary call, even a health check:"));
            report.notes.push(reason);
        }
    }

    if (inspection.keyRefetched && inspection.key) {
        report.notes.push(
            `key ${JSON.stringify(inspection.key.kid)} was found only after refetching the JWKS: the server refreshes its keys only on its timer (jwtKeyProvider.refreshInterval), so it rejects this token until its next refresh`,
        );
    }
    if (inspection.key?.note) report.notes.push(inspection.key.note);
    report.notes.push(...inspection.notes);
    if (payload && inspection.signatureVerified) {
        if (typeof payload.exp === "number" && payload.exp !== 0 && verified) {
            const left = Math.floor(payload.exp) - Math.floor((options.now ?? Date.now)() / 1000);
            report.notes.push(`the token expires at ${new Date(Math.floor(payload.exp) * 1000).toISOString()} (in ${Math.max(0, Math.round(left / 60))} min)`);
        } else if (payload.exp === undefined && profile === "temporal") {
            report.notes.push('the token has no "exp": the server accepts it forever');
        }
        if (profile === "temporal") {
            if (settings.audience === undefined) {
                report.notes.push("no audience is configured: the server accepts a token minted for ANY application by any issuer whose keys it loads (with Entra ID: any app in any tenant); set authorization.audience");
            }
            if (report.tokenKind?.startsWith("entra")) {
                report.notes.push('the server never checks "iss" or "tid": use profile "entra" with the tenant id to also pin the tenant and the token kind');
            }
        }
    }
    if (report.tokenKind === "graph" && profile === "temporal") {
        report.notes.push("this looks like a Microsoft Graph token (nonce header or Graph audience): the client requested only OIDC scopes; request api://<api-client-id>/default");
    }
    if (report.tokenKind === "entra-id-token" && profile === "temporal" && verified) {
        report.notes.push('this looks like an ID token (no "azp"/"appid"): the server accepts it because the audience matches; separate the UI and API registrations');
    }
    return report;
}

function describeClaims(claims: Claims): string[] {
    const lines = [`subject: ${JSON.stringify(claims.subject)}`, `${SYSTEM_SCOPE} (cluster): ${roleNames(claims.system)}${claims.system ? ` (${claims.system})` : ""}`];
    for (const [ns, bits] of Object.entries(claims.namespaces)) lines.push(`namespace ${JSON.stringify(ns)}: ${roleNames(bits)}${bits ? ` (${bits})` : ""}`);
    return lines;
}

/** The report as text for people; never contains the token. */
export function formatExplain(report: ExplainReport): string {
    const out: string[] = [];
    if (report.verified) out.push(`VALID: the server accepts this token (profile ${report.profile})`);
    else if (report.error) out.push(`REJECTED (${report.error.code}): ${report.error.message}`);
    else out.push(`NOT VERIFIED (profile ${report.profile})`);
    for (const p of report.problems.slice(1)) out.push(`  also (${p.code}): ${p.message}`);
    if (report.header) out.push(`header: alg ${JSON.stringify(report.header.alg) ?? "-"}, kid ${JSON.stringify(report.header.kid) ?? "-"}, typ ${JSON.stringify(report.header.typ) ?? "-"}`);
    if (report.tokenKind) out.push(`token kind: ${report.tokenKind}`);
    if (report.claims) {
        out.push("claims:");
        for (const l of describeClaims(report.claims)) out.push(`  ${l}`);
    }
    if (report.access) {
        out.push("access:");
        out.push(`  cluster: ${report.access.cluster}`);
        for (const [ns, level] of Object.entries(report.access.namespaces)) out.push(`  ${JSON.stringify(ns)}: ${level}`);
    }
    if (report.withoutAudienceCheck) {
        const w = report.withoutAudienceCheck;
        out.push("without the audience check (streams, Nexus HTTP calls): ACCEPTED");
        out.push(`  StreamWorkflowReplicationMessages: ${w.replicationStream}`);
        for (const [ns, d] of Object.entries(w.nexus)) out.push(`  Nexus on ${JSON.stringify(ns)}: ${d}`);
    }
    if (report.findings.length) {
        out.push("findings:");
        for (const f of report.findings) out.push(`  - [${f.effect}] ${f.message}`);
    }
    if (report.denials.length) {
        out.push("denied:");
        for (const d of report.denials) out.push(`  - ${d}`);
    }
    if (report.notes.length) {
        out.push("notes:");
        for (const n of report.notes) out.push(`  - ${n}`);
    }
    return out.join("\n");
}
