/**
 * Every rejection of the claim mapper is a `ClaimsError` with a stable `code`. The server itself only
 * ever answers `PermissionDenied: Request unauthorized.` and writes the reason to its log; these
 * codes name that reason, and each message says what to change. Messages never contain the token.
 */
export type ClaimsErrorCode =
    // The authorization header and the token's shape.
    | "malformed-header"
    | "unsupported-scheme"
    | "malformed-token"
    | "token-too-large"
    // Header and signature.
    | "unsupported-alg"
    | "missing-kid"
    | "unknown-kid"
    | "bad-signature"
    // The server's claim rules.
    | "expired"
    | "not-yet-valid"
    | "issued-in-future"
    | "bad-time-claim"
    | "audience-mismatch"
    | "missing-subject"
    // What a careful Entra ID deployment adds (profile "entra").
    | "wrong-issuer"
    | "wrong-tenant"
    | "missing-exp"
    | "id-token"
    | "graph-token"
    | "wrong-version"
    // Keys and configuration.
    | "keys-unavailable"
    | "jwks-too-large"
    | "invalid-options";

export const CLAIMS_ERROR_CODES: readonly ClaimsErrorCode[] = [
    "malformed-header",
    "unsupported-scheme",
    "malformed-token",
    "token-too-large",
    "unsupported-alg",
    "missing-kid",
    "unknown-kid",
    "bad-signature",
    "expired",
    "not-yet-valid",
    "issued-in-future",
    "bad-time-claim",
    "audience-mismatch",
    "missing-subject",
    "wrong-issuer",
    "wrong-tenant",
    "missing-exp",
    "id-token",
    "graph-token",
    "wrong-version",
    "keys-unavailable",
    "jwks-too-large",
    "invalid-options",
];

export class ClaimsError extends Error {
    override readonly name = "ClaimsError";

    constructor(
        readonly code: ClaimsErrorCode,
        message: string,
    ) {
        super(message);
    }
}

export function isClaimsError(err: unknown): err is ClaimsError {
    return err instanceof ClaimsError;
}
