import { z } from "zod";
import { describeValue } from "./messages";

/** Building blocks shared by every config section. */

export const PROJECT = "temporal-azure";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 1123 host name: labels of 1–63 letters, digits and hyphens, not starting or ending with a hyphen. */
export const DNS_NAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
/** Kubernetes object names (namespaces, service accounts): RFC 1123 label. */
export const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Characters of a Temporal namespace name that stay readable in a permission string (`<namespace>:<role>`). */
export const TEMPORAL_NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The server's PostgreSQL schema keeps a namespace's name in `namespaces.name VARCHAR(255)` (schema/postgresql/v12/temporal/schema.sql). */
export const TEMPORAL_NAMESPACE_MAX_LENGTH = 255;

const GUID_EXAMPLE = "00000000-0000-0000-0000-000000000000";

export const uuid = (what: string) =>
    z
        .string({
            error: (iss) =>
                iss.input === undefined
                    ? `${what} is required: give the GUID (e.g. from \`az account show --query tenantId\`)`
                    : `${what} must be a GUID like ${GUID_EXAMPLE}, got ${describeValue(iss.input)}`,
        })
        .regex(UUID, `${what} must be a GUID like ${GUID_EXAMPLE}`);

/**
 * What keeps `value` from being a host name, told as the user's own mistake: a URL's scheme, a port
 * or a path around a host name (the example is their host), or a name that is no DNS name at all.
 */
export function hostNameProblem(what: string, value: string): string | undefined {
    if (DNS_NAME.test(value)) return undefined;
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0];
    let url: URL | undefined;
    try {
        // A scheme WHATWG URL parsing treats as opaque, so a default port such as :443 is kept as written.
        url = new URL(`host-name-check://${value.slice(scheme?.length ?? 0)}`);
    } catch {
        url = undefined;
    }
    if (url !== undefined && DNS_NAME.test(url.hostname)) {
        const path = `${url.pathname}${url.search}${url.hash}`;
        const extras = [...(url.port !== "" ? [`the port (":${url.port}")`] : []), ...(path !== "" && path !== "/" ? [`the path ("${path}")`] : [])];
        const only = `write the host name only, e.g. ${url.hostname}`;
        if (scheme !== undefined) return `${what} is a URL: drop the scheme "${scheme}"${extras.map((e) => ` and ${e}`).join("")} and ${only}`;
        if (extras.length > 0) return `${what} has ${extras.join(" and ").replace(/^the /, "a ").replace(/ and the /, " and a ")}: ${only}`;
    }
    return `${what} must be a DNS name (letters, digits, hyphens and dots, e.g. temporal.example.com)`;
}

export const dnsName = (what: string) =>
    z
        .string()
        .toLowerCase()
        .superRefine((value, ctx) => {
            const problem = hostNameProblem(what, value);
            if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
        });

/** Text that YAML reads as a number when unquoted (`id: 2026`, `postgresVersion: 16`), taken as the text it was meant to be. */
export const textOrNumber = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === "number" && Number.isInteger(v) ? String(v) : v), schema);

/** Stack kinds. `profile` picks the defaults of everything else (database, replicas, purge protection). */
export const Profile = z.enum(["dev", "prod", "ephemeral"], {
    // A value that is there but wrong goes to the config's error map (what was given, the case).
    error: (iss) => (iss.input === undefined ? "is required: dev, prod or ephemeral (it decides the defaults of everything else)" : undefined),
});
export type Profile = z.infer<typeof Profile>;

export const KeyAlgorithm = z.enum(["ECDSA-P256", "RSA-3072", "RSA-4096"]);
export type KeyAlgorithm = z.infer<typeof KeyAlgorithm>;

