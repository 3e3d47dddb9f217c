import type { KeyAlgorithm } from "../config/shared";
import type { TemporalServiceNames } from "../config/names";

/**
 * Certificate profiles: pure data describing every certificate of the estate (subject, SANs,
 * usages, key, lifetime). The component turns them into `@pulumi/tls` resources and Key Vault
 * certificate policies; the offline emulator and the TLS tests mint certificates from the same
 * data, so what is tested is what is deployed.
 */

/**
 * The `@pulumi/tls` provider's `allowedUses` vocabulary (terraform-provider-tls `keyUsages` and
 * `extendedKeyUsages`), sorted as the provider lists it. The SDK's doc comments show camelCase
 * values; the provider rejects those.
 */
export const ALLOWED_USES = [
    "any_extended",
    "cert_signing",
    "client_auth",
    "code_signing",
    "content_commitment",
    "crl_signing",
    "data_encipherment",
    "decipher_only",
    "digital_signature",
    "email_protection",
    "encipher_only",
    "ipsec_end_system",
    "ipsec_tunnel",
    "ipsec_user",
    "key_agreement",
    "key_encipherment",
    "microsoft_commercial_code_signing",
    "microsoft_kernel_code_signing",
    "microsoft_server_gated_crypto",
    "netscape_server_gated_crypto",
    "ocsp_signing",
    "server_auth",
    "timestamping",
] as const;
export type AllowedUse = (typeof ALLOWED_USES)[number];

/** One client certificate the PKI issues: the Web UI, admin tooling, or a worker identity. */
export interface ClientCertificateRequest {
    /** Consumer name: the certificate's subject common name and its Key Vault object name stem. */
    name: string;
    kind: "ui" | "worker" | "admin";
}

/** What `@pulumi/tls`'s `PrivateKey` needs. */
export interface KeySpec {
    algorithm: "ECDSA" | "RSA";
    /** Set explicitly: the provider's default curve is P224, which Go's crypto/tls (Temporal) refuses. */
    ecdsaCurve?: "P256";
    rsaBits?: 3072 | 4096;
}

export interface CertificateSubject {
    commonName: string;
    organization?: string;
    organizationalUnit?: string;
}

export type CertificateRole = "ca" | "internode" | "frontend" | "client";

export interface CertificateProfile {
    role: CertificateRole;
    subject: CertificateSubject;
    /** DNS SANs (the names a peer verifies); empty for CAs and client certificates. */
    dnsNames: string[];
    allowedUses: AllowedUse[];
    isCaCertificate: boolean;
    validityPeriodHours: number;
    /** A `pulumi up` within this many hours of expiry replaces the certificate (`readyForRenewal`). */
    earlyRenewalHours: number;
    keyAlgorithm: KeyAlgorithm;
}

/** The PKI settings the profiles read (a subset of the resolved `pki` config section). */
export interface ProfileSettings {
    leafKeyAlgorithm: KeyAlgorithm;
    leafValidityDays: number;
    earlyRenewalHours: number;
    extraFrontendDnsNames?: string[];
}

/** The CA settings the profiles read (one entry of `pki.cas`). */
export interface CaSettings {
    id: string;
    commonName: string;
    organization?: string;
    keyAlgorithm: KeyAlgorithm;
    validityYears: number;
    earlyRenewalDays: number;
}

/** Average hours in a year (leap days included), so a 5-year CA really lasts five calendar years. */
const HOURS_PER_YEAR = 8766;

export function caValidityHours(validityYears: number): number {
    return validityYears * HOURS_PER_YEAR;
}

export function keySpec(algorithm: KeyAlgorithm): KeySpec {
    switch (algorithm) {
        case "ECDSA-P256":
            return { algorithm: "ECDSA", ecdsaCurve: "P256" };
        case "RSA-3072":
            return { algorithm: "RSA", rsaBits: 3072 };
        case "RSA-4096":
            return { algorithm: "RSA", rsaBits: 4096 };
    }
}

/**
 * Key usages of an end-entity certificate: ECDSA keys only sign (ECDHE handshakes), RSA keys may
 * also be used for key transport, which OpenSSL-based peers check on RSA server certificates.
 */
function leafKeyUsages(algorithm: KeyAlgorithm): AllowedUse[] {
    return algorithm.startsWith("RSA") ? ["digital_signature", "key_encipherment"] : ["digital_signature"];
}

function leafLifetime(pki: ProfileSettings): Pick<CertificateProfile, "validityPeriodHours" | "earlyRenewalHours" | "keyAlgorithm"> {
    return { validityPeriodHours: pki.leafValidityDays * 24, earlyRenewalHours: pki.earlyRenewalHours, keyAlgorithm: pki.leafKeyAlgorithm };
}

/**
 * The two root CAs of every generation. `client` signs what clients verify or present at the
 * frontend (the frontend's server certificate, the UI's, the workers' and the admin tooling's
 * client certificates); `internode` signs only the internode certificate. The internode servers,
 * the internal frontend among them, trust only `internode`: the internal frontend makes every
 * caller that passes internode mTLS a system admin, so a client certificate must not pass it.
 */
export const CA_HIERARCHIES = ["client", "internode"] as const;
export type CaHierarchy = (typeof CA_HIERARCHIES)[number];

/** Appended to a generation's common name (and resource names) for its internode CA. */
export const INTERNODE_CA_SUFFIX = "internode";

/** The CA hierarchy that signs a leaf of this role: the internode certificate alone comes from the internode CA. */
export function issuingHierarchy(role: CertificateRole): CaHierarchy {
    return role === "internode" ? "internode" : "client";
}

/** Subject common name of a generation's CA in a hierarchy: the configured name, plus ` internode` for the internode CA. */
export function caCommonName(ca: Pick<CaSettings, "commonName">, hierarchy: CaHierarchy): string {
    return hierarchy === "internode" ? `${ca.commonName} ${INTERNODE_CA_SUFFIX}` : ca.commonName;
}

/**
 * A root CA of one generation in one hierarchy: signs certificates and CRLs, nothing else. Both
 * hierarchies of a generation share its key algorithm, validity and renewal window, each with its
 * own key.
 */
export function caProfile(ca: CaSettings, hierarchy: CaHierarchy = "client"): CertificateProfile {
    return {
        role: "ca",
        subject: { commonName: caCommonName(ca, hierarchy), ...(ca.organization !== undefined ? { organization: ca.organization } : {}) },
        dnsNames: [],
        allowedUses: ["cert_signing", "crl_signing"],
        isCaCertificate: true,
        validityPeriodHours: caValidityHours(ca.validityYears),
        earlyRenewalHours: ca.earlyRenewalDays * 24,
        keyAlgorithm: ca.keyAlgorithm,
    };
}

/**
 * The certificate every Temporal service presents to the others, as server AND as client (the
 * server reuses its internode certificate when it dials a peer), so it carries both extended key
 * usages; its SAN is the name every service verifies (`internode.client.serverName`). Signed by
 * the internode CA, which signs nothing else.
 */
export function internodeProfile(names: TemporalServiceNames, pki: ProfileSettings, organization?: string): CertificateProfile {
    return {
        role: "internode",
        subject: { commonName: names.internodeServerName, ...(organization !== undefined ? { organization } : {}), organizationalUnit: "Temporal internode" },
        dnsNames: [names.internodeServerName],
        allowedUses: [...leafKeyUsages(pki.leafKeyAlgorithm), "server_auth", "client_auth"],
        isCaCertificate: false,
        ...leafLifetime(pki),
    };
}

/** The frontend's server certificate: every name a client may dial (in-cluster names, external host, extra names). */
export function frontendProfile(names: TemporalServiceNames, pki: ProfileSettings, organization?: string): CertificateProfile {
    const dnsNames = [...new Set([...names.frontendDnsNames, ...(pki.extraFrontendDnsNames ?? [])])];
    return {
        role: "frontend",
        subject: { commonName: names.frontendServerName, ...(organization !== undefined ? { organization } : {}), organizationalUnit: "Temporal frontend" },
        dnsNames,
        allowedUses: [...leafKeyUsages(pki.leafKeyAlgorithm), "server_auth"],
        isCaCertificate: false,
        ...leafLifetime(pki),
    };
}

/** A consumer's client certificate (UI, worker, admin tooling): client authentication only, subject naming the consumer. */
export function clientProfile(request: ClientCertificateRequest, pki: ProfileSettings, organization?: string): CertificateProfile {
    return {
        role: "client",
        subject: { commonName: request.name, ...(organization !== undefined ? { organization } : {}), organizationalUnit: `Temporal ${request.kind}` },
        dnsNames: [],
        allowedUses: [...leafKeyUsages(pki.leafKeyAlgorithm), "client_auth"],
        isCaCertificate: false,
        ...leafLifetime(pki),
    };
}

/** The client certificates a stack issues by default: the Web UI, admin tooling, and one per declared worker. */
export const UI_CLIENT_NAME = "temporal-ui";
export const ADMIN_CLIENT_NAME = "temporal-admin";

export function defaultClientRequests(workers: ReadonlyArray<{ name: string }>): ClientCertificateRequest[] {
    return [{ name: UI_CLIENT_NAME, kind: "ui" }, { name: ADMIN_CLIENT_NAME, kind: "admin" }, ...workers.map((w) => ({ name: w.name, kind: "worker" as const }))];
}

// ---------------------------------------------------------------------------------------------
// Key Vault certificate policy

/** Key Vault certificate policy of an imported certificate (the `ImportCertificatePolicy` shape of `@azure/keyvault-certificates`). */
export interface KeyVaultCertificatePolicy {
    /** The backing secret holds key + chain as PEM: what the CSI driver's `secret` objects and `az keyvault secret download` return. */
    contentType: "application/x-pem-file";
    exportable: true;
    reuseKey: false;
    /** Imported from our own CA: Key Vault renews nothing itself (Pulumi does). */
    issuerName: "Unknown";
    keyType: "EC" | "RSA";
    keyCurveName?: "P-256";
    keySize?: number;
    subject: string;
    subjectAlternativeNames?: { dnsNames: string[] };
    keyUsage: string[];
    enhancedKeyUsage: string[];
    validityInMonths: number;
    /** EmailContacts only: AutoRenew needs an issuer Key Vault knows, and renewal is Pulumi's job. */
    lifetimeActions: Array<{ action: "EmailContacts"; daysBeforeExpiry: number }>;
}

const KEY_VAULT_KEY_USAGE: Partial<Record<AllowedUse, string>> = {
    digital_signature: "digitalSignature",
    content_commitment: "nonRepudiation",
    key_encipherment: "keyEncipherment",
    data_encipherment: "dataEncipherment",
    key_agreement: "keyAgreement",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
};

const EXTENDED_KEY_USAGE_OID: Partial<Record<AllowedUse, string>> = {
    server_auth: "1.3.6.1.5.5.7.3.1",
    client_auth: "1.3.6.1.5.5.7.3.2",
    code_signing: "1.3.6.1.5.5.7.3.3",
    email_protection: "1.3.6.1.5.5.7.3.4",
    timestamping: "1.3.6.1.5.5.7.3.8",
    ocsp_signing: "1.3.6.1.5.5.7.3.9",
};

/** RFC 4514 escaping of one attribute value. */
function escapeDnValue(value: string): string {
    return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, "\\ ");
}

/** The subject as an X.500 distinguished name string (what Key Vault shows and `az keyvault certificate show` prints). */
export function subjectDn(subject: CertificateSubject): string {
    const parts = [`CN=${escapeDnValue(subject.commonName)}`];
    if (subject.organizationalUnit !== undefined) parts.push(`OU=${escapeDnValue(subject.organizationalUnit)}`);
    if (subject.organization !== undefined) parts.push(`O=${escapeDnValue(subject.organization)}`);
    return parts.join(", ");
}

/**
 * Days before expiry Key Vault emails the contacts: half the renewal window, i.e. only when a
 * scheduled `pulumi up` has already missed the point where it would have reissued the certificate.
 */
export function expiryNoticeDays(earlyRenewalHours: number): number {
    return Math.max(1, Math.floor(earlyRenewalHours / 48));
}

export function keyVaultCertificatePolicy(profile: CertificateProfile): KeyVaultCertificatePolicy {
    const key = keySpec(profile.keyAlgorithm);
    return {
        contentType: "application/x-pem-file",
        exportable: true,
        reuseKey: false,
        issuerName: "Unknown",
        ...(key.algorithm === "ECDSA" ? { keyType: "EC" as const, keyCurveName: "P-256" as const } : { keyType: "RSA" as const, keySize: key.rsaBits! }),
        subject: subjectDn(profile.subject),
        ...(profile.dnsNames.length > 0 ? { subjectAlternativeNames: { dnsNames: [...profile.dnsNames] } } : {}),
        keyUsage: profile.allowedUses.flatMap((u) => KEY_VAULT_KEY_USAGE[u] ?? []),
        enhancedKeyUsage: profile.allowedUses.flatMap((u) => EXTENDED_KEY_USAGE_OID[u] ?? []),
        validityInMonths: Math.max(1, Math.ceil(profile.validityPeriodHours / 24 / 30)),
        lifetimeActions: [{ action: "EmailContacts", daysBeforeExpiry: expiryNoticeDays(profile.earlyRenewalHours) }],
    };
}
