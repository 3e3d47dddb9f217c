import { authorize, createClaimMapper, isClaimsError, roleNames, SYSTEM_SCOPE, type Claims } from "../../../policies/claims";
import type { Prediction } from "./probe";
import type { StackOutputs } from "./stack-outputs";

/**
 * What the bundled validator says the stack's frontend will decide for a token: the claim mapper
 * configured as the stack configures the server (Entra ID keys, the API's client id as audience,
 * app roles in `roles`), plus the tenant pin a careful Entra deployment adds.
 */
export function claimMapperOptions(outputs: StackOutputs) {
    return {
        profile: "entra" as const,
        tenantId: outputs.tenantId,
        audience: outputs.apiClientId,
        jwksUri: outputs.jwksUrl,
        permissionsClaimName: "roles",
    };
}

export interface TokenPrediction {
    /** The claims the server's mapper produces; absent when it rejects the token. */
    claims?: Claims;
    /** Why the mapper rejects the token (then every call is denied). */
    rejected?: { code: string; message: string };
    decide(apiName: string, namespace: string): Prediction;
}

export type ClaimMapperFactory = typeof createClaimMapper;

export async function predictForToken(token: string, outputs: StackOutputs, factory: ClaimMapperFactory = createClaimMapper): Promise<TokenPrediction> {
    const mapper = factory(claimMapperOptions(outputs));
    let claims: Claims;
    try {
        claims = await mapper.getClaims({ authorization: `Bearer ${token}` });
    } catch (err) {
        if (!isClaimsError(err)) throw err;
        const rejected = { code: err.code, message: err.message };
        return {
            rejected,
            decide: () => ({ decision: "deny", reason: `the claim mapper rejects the token (${err.code}): ${err.message}` }),
        };
    }
    return {
        claims,
        decide: (apiName, namespace) => {
            const { decision, reason } = authorize(claims, { apiName, namespace });
            return { decision, reason };
        },
    };
}

/** "payments: writer; temporal-system: none" — the roles the token carries, never the token. */
export function describeClaims(claims: Claims): string {
    const parts = [`${SYSTEM_SCOPE}: ${roleNames(claims.system)}`];
    for (const [ns, bits] of Object.entries(claims.namespaces)) parts.push(`${JSON.stringify(ns)}: ${roleNames(bits)}`);
    return parts.join("; ");
}
