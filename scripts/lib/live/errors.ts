/**
 * Failures of `verify-live` that are not a verdict about authorization: the caller asked for
 * something impossible (usage, exit 2) or the check could not be set up (outputs, token,
 * certificates, TLS, network: exit 3). Both carry a message that names the flag, field or file and
 * the fix, and never the token or a private key.
 */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

export class SetupError extends Error {
    constructor(
        message: string,
        /** What could not be set up, for reports. */
        readonly stage: "outputs" | "token" | "keys" | "certificates" | "tls" | "connection",
    ) {
        super(message);
        this.name = "SetupError";
    }
}

export const EXIT = {
    /** Every probe behaved as the validator predicted (and as the principal needs). */
    ok: 0,
    /** A probe disagreed with the prediction, or a worker was denied something it needs. */
    mismatch: 1,
    usage: 2,
    /** No verdict: the stack outputs, token, certificates or connection could not be had. */
    setup: 3,
} as const;
