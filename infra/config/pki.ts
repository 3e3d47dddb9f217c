import { z } from "zod";
import { dnsName, KeyAlgorithm, textOrNumber } from "./shared";
import { ipv4Range } from "./network";

/**
 * Config of the PKI and its Key Vault (owned by infra/pki). Single-field checks live here;
 * checks that relate fields (validity vs renewal window, leaf vs CA lifetime, vault names per
 * profile, the SANs the certificates will carry) are in `infra/pki/rules.ts`.
 */

export const KeyVaultConfig = z.strictObject({
    /** Explicit vault name; derived from the stack when absent (see infra/pki/names.ts). Checked in infra/pki/rules.ts. */
    name: z.string().optional(),
    /** Public network access to the vault's data plane. */
    publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
    /**
     * Public IPv4 addresses or CIDR ranges allowed through the vault firewall; when any rule is given
     * the default action is Deny. A prod vault needs a rule (or no public access); see infra/pki/rules.ts.
     */
    allowedIpRanges: z.array(ipv4Range()).default([]),
    /** Subnet resource ids allowed through the vault firewall. */
    allowedSubnetIds: z.array(z.string().startsWith("/subscriptions/", "keyVault.allowedSubnetIds entries must be subnet resource ids")).default([]),
    /** Days a deleted vault is kept (7–90). */
    softDeleteRetentionDays: z.number().int().min(7, "keyVault.softDeleteRetentionDays must be 7-90").max(90, "keyVault.softDeleteRetentionDays must be 7-90").default(90),
    /** Purge protection; on by default for every profile but ephemeral, and required for prod. */
    purgeProtection: z.boolean().optional(),
    /**
     * Email addresses Key Vault notifies when a certificate nears expiry (the vault's certificate
     * contacts). A notice means a scheduled `pulumi up` did not renew in time.
     */
    certificateContacts: z.array(z.email({ error: "keyVault.certificateContacts entries must be email addresses like pki-team@contoso.com" })).optional(),
});

export const CaConfig = z.strictObject({
    /**
     * Stable id of this CA generation (e.g. "2026"); part of the resource names (`pki-ca-<id>`, and
     * `pki-ca-<id>-internode` for the generation's internode CA), never reused.
     */
    id: textOrNumber(z.string().regex(/^[a-z0-9][a-z0-9-]{0,15}$/, "pki.cas[].id must be 1-16 lower-case letters, digits or hyphens (e.g. \"2026\")")),
    /**
     * Subject common name of the generation's client-facing CA (required: a CA must have a subject);
     * its internode CA is named `<commonName> internode`, so at most 54 characters (checked in
     * infra/pki/rules.ts).
     */
    commonName: z.string().min(1, "pki.cas[].commonName is required: a CA certificate must have a subject"),
    /** Subject organization. */
    organization: z.string().optional(),
    keyAlgorithm: KeyAlgorithm.default("ECDSA-P256"),
    validityYears: z.number().int().min(1).max(20).default(5),
    /**
     * A scheduled `pulumi up` re-signs the CA certificate with the SAME key this many days before it
     * expires: certificates it issued stay valid, so this needs no rotation procedure.
     */
    earlyRenewalDays: z.number().int().min(1, "pki.cas[].earlyRenewalDays must be at least 1").default(90),
});

export const PkiConfig = z.strictObject({
    /**
     * Every CA generation currently trusted, oldest first; each is a client-facing and an internode
     * CA. To rotate: add the next generation (both trusted), then set `issuer` to it (leaves
     * reissued), then remove the old one (retired). See docs/pki.md.
     */
    cas: z.array(CaConfig).min(1, "pki.cas must list at least one CA"),
    /** Id of the CA in `cas` that signs the end-entity certificates; defaults to the first. */
    issuer: z.string().optional(),
    /** Key algorithm of the end-entity certificates. */
    leafKeyAlgorithm: KeyAlgorithm.default("ECDSA-P256"),
    /** Validity of end-entity certificates, in days. */
    leafValidityDays: z
        .number()
        .int()
        .min(1, { error: (iss) => `pki.leafValidityDays must be 1-825 days, got ${String(iss.input)}` })
        .max(825, { error: (iss) => `pki.leafValidityDays must be 1-825 days, got ${String(iss.input)}` })
        .default(90),
    /** A scheduled `pulumi up` reissues a leaf this many hours before it expires. */
    earlyRenewalHours: z.number().int().positive().default(720),
    /** More names clients dial for the frontend (e.g. a private DNS name), added to its SANs. */
    extraFrontendDnsNames: z.array(dnsName("pki.extraFrontendDnsNames[]")).default([]),
});
