import { createHash } from "node:crypto";

/**
 * Name-based UUIDs (RFC 9562 version 5: SHA-1 of a namespace UUID and a name). App role and scope
 * ids are UUIDs the program supplies; deriving them from the stack and the role's value keeps every
 * preview identical and survives a state rebuild. Written with `node:crypto` rather than the
 * `uuid` package: version 5 is a dozen lines, and the project does not depend on `uuid`.
 */

/** RFC 9562's predefined namespace for URLs (6ba7b811-…). */
export const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidV5(name: string, namespace: string): string {
    if (!UUID_TEXT.test(namespace)) throw new Error(`uuidV5: namespace "${namespace}" is not a UUID`);
    const bytes = createHash("sha1")
        .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
        .update(name, "utf8")
        .digest()
        .subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x50;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Namespace of every id this project derives (changing it would change every app role id). */
export const IDENTITY_NAMESPACE = uuidV5("urn:temporal-azure:identity", URL_NAMESPACE);

/** A stable UUID for one purpose in one stack, e.g. `deterministicUuid("dev", "app-role", "payments:read")`. */
export function deterministicUuid(stack: string, ...purpose: string[]): string {
    // JSON keeps the parts unambiguous ("a/b","c" and "a","b/c" differ).
    return uuidV5(JSON.stringify([stack, ...purpose]), IDENTITY_NAMESPACE);
}
