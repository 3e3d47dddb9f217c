import { API_ACCESS_SERVER_VERSION, authorize, callKind, carriesNamespace, resolveApiName, type AuthorizeResult, type CallKind, type CallTarget } from "./authorizer";
import { ClaimsError } from "./errors";
import type { ClaimMapper } from "./mapper";
import type { Claims } from "./roles";

/**
 * The server's authorization interceptor (common/authorization/interceptor.go, v1.31.2) around the
 * claim mapper and the authorizer: which audience the mapper is given, which namespace the
 * authorizer sees, and what happens when there is no token or the mapper rejects it.
 */
export interface Admission {
    decision: "allow" | "deny";
    /** A complete sentence: why, and for streams and Nexus calls, that the audience was not checked. */
    reason: string;
    /** The full method path. */
    api: string;
    /** How the frontend receives the call; undefined when it serves no such method. */
    call?: CallKind;
    /** The claims handed to the authorizer: null when there was no token (no AuthInfo). */
    claims?: Claims | null;
    /** Why the claim mapper rejected the token. */
    error?: ClaimsError;
    /** The authorizer's own result, when it ran. */
    authorization?: AuthorizeResult;
    /** The namespace the authorizer was asked about (streams: always ""). */
    namespace?: string;
    /** An audience is configured but this kind of call does not check it. */
    audienceSkipped: boolean;
    /** With `audienceSkipped`: the same token is rejected on unary calls for its audience. */
    rejectedOnUnaryCalls?: ClaimsError;
}

const SKIPPED: Record<Exclude<CallKind, "unary">, string> = {
    stream: "this is a streaming call: the server's stream interceptor has no request at stream start and hands the claim mapper an EMPTY audience, so authorization.audience is not checked here",
    nexus: "this is a Nexus HTTP call: the frontend's Nexus handlers hand the claim mapper an EMPTY audience (v1.31.2 has no audience getter for them), so authorization.audience is not checked here",
};

/**
 * What the frontend decides for one call carrying `authorization` (the header value; undefined or
 * "" for none), as the interceptor drives the mapper and the authorizer:
 * - a path the frontend does not serve is answered Unimplemented before any authorization: deny;
 * - no header: no claims at all; only health checks pass;
 * - a token the mapper rejects: every call is denied, health checks included;
 * - unary: the configured audience, the request's namespace (only methods whose request has a
 *   namespace field; the others are authorized on ""); stream: no audience, namespace "";
 *   Nexus: no audience, the request's namespace.
 * Never throws for a token; a key source that cannot load keys is a deny whose `error` says so.
 */
export async function admit(mapper: ClaimMapper, authorization: string | undefined, target: CallTarget): Promise<Admission> {
    const resolved = resolveApiName(target.apiName);
    if ("error" in resolved) return { decision: "deny", api: target.apiName, reason: `deny: ${resolved.error}; the server denies a method it does not know`, audienceSkipped: false };
    const api = resolved.api;
    const call = callKind(api);
    if (call === undefined) {
        return {
            decision: "deny",
            api,
            reason: `deny: the frontend serves no method ${api}, so gRPC answers Unimplemented before any authorization (server ${API_ACCESS_SERVER_VERSION}'s services: WorkflowService, OperatorService, AdminService, Health, ServerReflection)`,
            audienceSkipped: false,
        };
    }
    const audience = mapper.settings.audience;
    const audienceSkipped = call !== "unary" && audience !== undefined;
    const namespace = carriesNamespace(api) ? (target.namespace ?? "") : "";
    const base = { api, call, namespace, audienceSkipped };
    let claims: Claims | null = null;
    if (authorization !== undefined && authorization !== "") {
        try {
            claims = await mapper.getClaims({ authorization, call });
        } catch (e) {
            if (!(e instanceof ClaimsError)) throw e;
            const undecided = e.code === "keys-unavailable" || e.code === "jwks-too-large" ? " The validator could not decide, so it denies (fail closed)." : "";
            return {
                ...base,
                decision: "deny",
                error: e,
                reason: `deny: the claim mapper rejects the token (${e.code}): ${e.message}; the server answers "PermissionDenied: Request unauthorized" to every call, health checks included.${undecided}`,
            };
        }
    }
    const result = authorize(claims, { apiName: api, namespace });
    let reason = result.reason;
    if (target.namespace && namespace === "" && result.scope === "namespace") {
        reason += call === "stream" ? ` The namespace ${JSON.stringify(target.namespace)} was not used: at stream start there is no request, so the authorizer sees namespace "".` : ` The namespace ${JSON.stringify(target.namespace)} was not used: this method's request has no namespace field.`;
    }
    const admission: Admission = { ...base, decision: result.decision, reason, claims, authorization: result };
    if (audienceSkipped && claims !== null) {
        admission.reason += ` Note: ${SKIPPED[call as Exclude<CallKind, "unary">]}.`;
        const unary = await mapper.inspect({ authorization, call: "unary" });
        const mismatch = unary.errors.find((e) => e.code === "audience-mismatch");
        if (mismatch) {
            admission.rejectedOnUnaryCalls = mismatch;
            admission.reason += ` Every unary call rejects this token (${mismatch.message.split(":")[0]}), but ${result.decision === "allow" ? "this call is ALLOWED" : "this call does not depend on it"}: a token minted for another application${result.decision === "allow" ? " passes here" : ""}.`;
        }
    }
    return admission;
}
