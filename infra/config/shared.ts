import { z } from "zod";

/** Building blocks shared by every config section. */

export const PROJECT = "temporal-azure";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 1123 host name: labels of 1–63 letters, digits and hyphens, not starting or ending with a hyphen. */
export const DNS_NAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
/** Kubernetes object names (namespaces, service accounts): RFC 1123 label. */
export const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Temporal namespace names the server accepts (and that stay readable in a permission string). */
export const TEMPORAL_NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export const uuid = (what: string) =>
    z.string({ error: `${what} is required: give the GUID (e.g. from \`az account show --query tenantId\`)` }).regex(UUID, `${what} must be a GUID like 00000000-0000-0000-0000-000000000000`);

export const dnsName = (what: string) =>
    z.string().toLowerCase().regex(DNS_NAME, `${what} must be a DNS name (letters, digits, hyphens and dots, e.g. temporal.example.com)`);

/** Stack kinds. `profile` picks the defaults of everything else (database, replicas, purge protection). */
export const Profile = z.enum(["dev", "prod", "ephemeral"], {
    error: "profile must be one of dev, prod, ephemeral",
});
export type Profile = z.infer<typeof Profile>;

export const KeyAlgorithm = z.enum(["ECDSA-P256", "RSA-3072", "RSA-4096"], {
    error: "key algorithm must be one of ECDSA-P256, RSA-3072, RSA-4096",
});
export type KeyAlgorithm = z.infer<typeof KeyAlgorithm>;

