/**
 * Pulumi's secret envelope as the mock runtime hands inputs over, readable without loading the
 * Pulumi SDK (the plan's report and diff use it; loading the SDK takes seconds).
 */

/** Pulumi's wire envelope of a secret value: `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when a mock input arrived as a secret (the mock runtime passes secrets in their envelope). */
export function isSecretEnvelope(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** A copy with every secret envelope replaced by its value; `paths` collects where they were. */
export function revealSecrets<T>(value: T, paths?: string[], at = ""): T {
    if (isSecretEnvelope(value)) {
        paths?.push(at || "(root)");
        return revealSecrets(value.value, undefined, at) as T;
    }
    if (Array.isArray(value)) return value.map((v, i) => revealSecrets(v, paths, at ? `${at}.${i}` : String(i))) as T;
    if (value !== null && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = revealSecrets(v, paths, at ? `${at}.${k}` : k);
        return out as T;
    }
    return value;
}
