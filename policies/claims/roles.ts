/**
 * Temporal's role bitmask and claims, as server 1.31 defines them (common/authorization/roles.go,
 * claim_mapper.go). Values are bits: several grants for one namespace are OR-ed together.
 */
export const Role = {
    Undefined: 0,
    Worker: 1,
    Reader: 2,
    Writer: 4,
    Admin: 8,
} as const;
export type RoleBits = number;

/** What the server's claim mapper hands its authorizer. */
export interface Claims {
    subject: string;
    /** Roles on the cluster-wide scope (`temporal-system:<word>`). */
    system: number;
    /** Roles per namespace; keys are case-sensitive and kept exactly as they appear in the token. */
    namespaces: Record<string, number>;
}

/** The literal namespace name the server maps to `Claims.system` (since server 1.21). */
export const SYSTEM_SCOPE = "temporal-system";

/**
 * A lookup table for keys that come from tokens or config: no prototype, so "constructor",
 * "toString" or "__proto__" are simply absent instead of reaching Object.prototype.
 */
export function lookupTable<V>(entries: Record<string, V>): Readonly<Record<string, V>> {
    return Object.freeze(Object.assign(Object.create(null) as Record<string, V>, entries));
}

/** Role words, matched case-insensitively by the server (a null-prototype table: see lookupTable). */
export const ROLE_WORDS: Readonly<Record<string, number>> = lookupTable({
    read: Role.Reader,
    write: Role.Writer,
    worker: Role.Worker,
    admin: Role.Admin,
});

/** "reader|writer" style rendering of a bitmask, for reports. */
export function roleNames(bits: number): string {
    if (bits === 0) return "none";
    const names: string[] = [];
    if (bits & Role.Admin) names.push("admin");
    if (bits & Role.Writer) names.push("writer");
    if (bits & Role.Reader) names.push("reader");
    if (bits & Role.Worker) names.push("worker");
    return names.join("|");
}

/** The access levels the default authorizer compares against (a number, not a bit test). */
export type Access = "read" | "write" | "admin";
export const ACCESS_REQUIRED_ROLE: Readonly<Record<Access, number>> = {
    read: Role.Reader,
    write: Role.Writer,
    admin: Role.Admin,
};

/** Highest access level a role number reaches under the default authorizer's `>=` comparison. */
export function effectiveAccess(bits: number): Access | "none" {
    if (bits >= Role.Admin) return "admin";
    if (bits >= Role.Writer) return "write";
    if (bits >= Role.Reader) return "read";
    return "none";
}
