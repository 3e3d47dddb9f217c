import { authorize, createClaimMapper, explain, roleNames, SYSTEM_SCOPE, type Claims } from "../../../policies/claims";
import { SetupError } from "./errors";
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
    /** Role strings the server skips or files elsewhere, and the validator's other observations. */
    advice: string[];
    decide(apiName: string, namespace: string): Prediction;
}

export type ClaimMapperFactory = typeof createClaimMapper;

/** The validator could not judge the token at all: no prediction, so no comparison either. */
const NO_PREDICTION = new Set(["keys-unavailable", "jwks-too-large", "invalid-options"]);

export async function predictForToken(token: string, outputs: StackOutputs, factory: ClaimMapperFactory = createClaimMapper): Promise<TokenPrediction> {
    const options = claimMapperOptions(outputs);
    const report = await explain(token, { ...options, mapper: factory(options) });
    const advice = [...report.findings.map((f) => f.message), ...report.notes];
    const error = report.error;
    if (report.claims && !error) {
        const claims = report.claims;
        return {
            claims,
            advice,
            decide: (apiName, namespace) => {
                const { decision, reason } = authorize(claims, { apiName, namespace });
                return { decision, reason };
            },
        };
    }
    if (!error) throw new SetupError("the validator neither accepted nor rejected the token", "keys");
    if (NO_PREDICTION.has(error.code)) {
        throw new SetupError(`the validator cannot judge the token (${error.code}): ${error.message}`, "keys");
    }
    return {
        rejected: { code: error.code, message: error.message },
        advice,
        decide: () => ({ decision: "deny", reason: `deny: the claim mapper rejects the token (${error.code}): ${error.message}` }),
    };
}

/** "temporal-system: none; "payments": writer" — the roles the token carries, never the token. */
export function describeClaims(claims: Claims): string {
    const parts = [`${SYSTEM_SCOPE}: ${roleNames(claims.system)}`];
    for (const [ns, bits] of Object.entries(claims.namespaces)) parts.push(`${JSON.stringify(ns)}: ${roleNames(bits)}`);
    return parts.join("; ");
}
