import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from "node:crypto";
// `@peculiar/x509` resolves its services through tsyringe, which needs the Reflect metadata API first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { emulatedNow, revealSecrets, rfc3339, type CallEmulator, type Emulator } from "../engine";

/**
 * `@pulumi/tls` made real under the offline engine: keys are generated, CSRs and certificates are
 * built and signed the way terraform-provider-tls does it (Go's x509.CreateCertificate), so the
 * offline plan and the tests hold certificates a TLS stack really accepts or rejects. Where the
 * provider rejects an input (camelCase `allowedUses`, a CA without subject, a CA key that does not
 * match the CA certificate) the emulator rejects it too, with the provider's wording.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

// ---------------------------------------------------------------------------------------------
// Keys

export interface GeneratedKey {
    algorithm: "RSA" | "ECDSA";
    ecdsaCurve: string;
    rsaBits: number;
    /** What the provider returns: PKCS#1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY". */
    privateKeyPem: string;
    privateKeyPemPkcs8: string;
    publicKeyPem: string;
    publicKeyFingerprintSha256: string;
}

const NODE_CURVES: Record<string, string> = { P224: "secp224r1", P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" };
const WEBCRYPTO_CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
/** Go signs with the hash that matches the curve size. */
const ECDSA_HASH: Record<string, string> = { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" };

/** The provider's `tls_private_key`: defaults rsaBits 2048 and ecdsaCurve P224, as the provider does. */
export function generatePrivateKey(algorithm: string, ecdsaCurve = "P224", rsaBits = 2048): GeneratedKey {
    let privateKey: KeyObject;
    if (algorithm === "RSA") {
        privateKey = generateKeyPairSync("rsa", { modulusLength: rsaBits }).privateKey;
    } else if (algorithm === "ECDSA") {
        const curve = NODE_CURVES[ecdsaCurve];
        if (curve === undefined) throw new Error(`invalid ECDSA curve; supported values are: [P224 P256 P384 P521]`);
        privateKey = generateKeyPairSync("ec", { namedCurve: curve }).privateKey;
    } else {
        throw new Error(`Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: "${algorithm}"${algorithm === "ED25519" ? " (ED25519 is not emulated offline)" : ""}`);
    }
    const publicKey = createPublicKey(privateKey);
    return {
        algorithm,
        ecdsaCurve: algorithm === "ECDSA" ? ecdsaCurve : "P224",
        rsaBits: algorithm === "RSA" ? rsaBits : 2048,
        privateKeyPem: privateKey.export({ type: algorithm === "RSA" ? "pkcs1" : "sec1", format: "pem" }) as string,
        privateKeyPemPkcs8: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
        publicKeyFingerprintSha256: `SHA256:${createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("base64").replace(/=+$/, "")}`,
    };
}

interface SigningKey {
    algorithm: "RSA" | "ECDSA";
    privateKey: webcrypto.CryptoKey;
    publicKey: webcrypto.CryptoKey;
    signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
    /** Go's generateSubjectKeyID: SHA-1 of the marshalled public key (the uncompressed point, or PKCS#1 for RSA). */
    subjectKeyId: string;
}

function subjectKeyId(publicKey: KeyObject): string {
    const raw =
        publicKey.asymmetricKeyType === "rsa"
            ? publicKey.export({ type: "pkcs1", format: "der" })
            : (() => {
                  const jwk = publicKey.export({ format: "jwk" });
                  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
              })();
    return createHash("sha1").update(raw).digest("hex");
}

/** Keys already imported, by PEM: a CA key signs every leaf of its hierarchy. */
const signingKeys = new Map<string, Promise<SigningKey>>();

function importSigningKey(privateKeyPem: string, what: string): Promise<SigningKey> {
    let key = signingKeys.get(privateKeyPem);
    if (!key) {
        key = importSigningKeyUncached(privateKeyPem, what);
        // A PEM that does not parse is refused every time, with the caller's wording.
        key.catch(() => signingKeys.delete(privateKeyPem));
        signingKeys.set(privateKeyPem, key);
    }
    return key;
}

async function importSigningKeyUncached(privateKeyPem: string, what: string): Promise<SigningKey> {
    let key: KeyObject;
    try {
        key = createPrivateKey(privateKeyPem);
    } catch (err) {
        throw new Error(`Failed to parse ${what} PEM: ${(err as Error).message}`);
    }
    const pkcs8 = key.export({ type: "pkcs8", format: "der" });
    const spki = createPublicKey(key).export({ type: "spki", format: "der" });
    const ski = () => subjectKeyId(createPublicKey(key));
    if (key.asymmetricKeyType === "rsa") {
        const params = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
        return {
            algorithm: "RSA",
            privateKey: await webcrypto.subtle.importKey("pkcs8", pkcs8, params, true, ["sign"]),
            publicKey: await webcrypto.subtle.importKey("spki", spki, params, true, ["verify"]),
            signingAlgorithm: { name: "RSASSA-PKCS1-v1_5" },
            subjectKeyId: ski(),
        };
    }
    if (key.asymmetricKeyType === "ec") {
        const nodeCurve = key.asymmetricKeyDetails?.namedCurve ?? "";
        const namedCurve = WEBCRYPTO_CURVES[nodeCurve];
        if (namedCurve === undefined) {
            throw new Error(
                `${what} uses curve ${nodeCurve}: the tls provider would sign with it, but Go's crypto/tls (Temporal) refuses P-224 certificates; set ecdsaCurve (P256) on the tls.PrivateKey, whose default is P224`,
            );
        }
        const params = { name: "ECDSA", namedCurve };
        return {
            algorithm: "ECDSA",
            privateKey: await webcrypto.subtle.importKey("pkcs8", pkcs8, params, true, ["sign"]),
            publicKey: await webcrypto.subtle.importKey("spki", spki, params, true, ["verify"]),
            signingAlgorithm: { name: "ECDSA", hash: ECDSA_HASH[namedCurve]! } as webcrypto.EcdsaParams,
            subjectKeyId: ski(),
        };
    }
    throw new Error(`${what}: unsupported private key type ${key.asymmetricKeyType ?? "unknown"}`);
}

// ---------------------------------------------------------------------------------------------
// Usages, subjects, names

const SAN_OID = "2.5.29.17";

const KEY_USAGES: Record<string, number> = {
    digital_signature: x509.KeyUsageFlags.digitalSignature,
    content_commitment: x509.KeyUsageFlags.nonRepudiation,
    key_encipherment: x509.KeyUsageFlags.keyEncipherment,
    data_encipherment: x509.KeyUsageFlags.dataEncipherment,
    key_agreement: x509.KeyUsageFlags.keyAgreement,
    cert_signing: x509.KeyUsageFlags.keyCertSign,
    crl_signing: x509.KeyUsageFlags.cRLSign,
    encipher_only: x509.KeyUsageFlags.encipherOnly,
    decipher_only: x509.KeyUsageFlags.decipherOnly,
};

const EXTENDED_KEY_USAGES: Record<string, string> = {
    any_extended: "2.5.29.37.0",
    server_auth: "1.3.6.1.5.5.7.3.1",
    client_auth: "1.3.6.1.5.5.7.3.2",
    code_signing: "1.3.6.1.5.5.7.3.3",
    email_protection: "1.3.6.1.5.5.7.3.4",
    ipsec_end_system: "1.3.6.1.5.5.7.3.5",
    ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
    ipsec_user: "1.3.6.1.5.5.7.3.7",
    timestamping: "1.3.6.1.5.5.7.3.8",
    ocsp_signing: "1.3.6.1.5.5.7.3.9",
    microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
    netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
    microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
    microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

/** The provider's accepted `allowed_uses` values, sorted as it lists them. */
export const SUPPORTED_KEY_USAGES = [...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)].sort();

/** The provider's validator (listvalidator.ValuesAre(stringvalidator.OneOf(...))): camelCase values fail here. */
export function validateAllowedUses(allowedUses: unknown): string[] {
    if (!Array.isArray(allowedUses)) throw new Error(`The argument "allowed_uses" is required, but no definition was found.`);
    for (const use of allowedUses) {
        if (typeof use !== "string" || !SUPPORTED_KEY_USAGES.includes(use)) {
            throw new Error(
                `Invalid Attribute Value Match: Attribute allowed_uses[Value(${JSON.stringify(use)})] value must be one of: [${SUPPORTED_KEY_USAGES.map((u) => JSON.stringify(JSON.stringify(u))).join(" ")}], got: ${JSON.stringify(use)}`,
            );
        }
    }
    return allowedUses as string[];
}

export interface TlsSubject {
    commonName?: string;
    organization?: string;
    organizationalUnit?: string;
    country?: string;
    province?: string;
    locality?: string;
    postalCode?: string;
    serialNumber?: string;
    streetAddresses?: string[];
}

/** Go's pkix.Name.ToRDNSequence order: C, ST, L, street, postal code, O, OU, CN, serial number. */
function subjectName(subject: TlsSubject | undefined): x509.JsonName {
    if (!subject) return [];
    const rdns: x509.JsonName = [];
    const add = (type: string, value: string | undefined) => {
        if (value !== undefined && value !== "") rdns.push({ [type]: [value] });
    };
    add("C", subject.country);
    add("ST", subject.province);
    add("L", subject.locality);
    for (const street of subject.streetAddresses ?? []) add("street", street);
    add("postalCode", subject.postalCode);
    add("O", subject.organization);
    add("OU", subject.organizationalUnit);
    add("CN", subject.commonName);
    add("serialNumber", subject.serialNumber);
    return rdns;
}

function sanExtension(dnsNames: string[] = [], ipAddresses: string[] = [], uris: string[] = [], critical = false): x509.Extension[] {
    const names: x509.JsonGeneralNames = [
        ...dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
        ...uris.map((value) => ({ type: "url" as const, value })),
    ];
    return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, critical)] : [];
}

// ---------------------------------------------------------------------------------------------
// Certificates

export interface CertificateTemplate {
    subject?: TlsSubject;
    dnsNames?: string[];
    ipAddresses?: string[];
    uris?: string[];
    allowedUses: string[];
    isCaCertificate?: boolean;
    validityPeriodHours: number;
    earlyRenewalHours?: number;
    setSubjectKeyId?: boolean;
    setAuthorityKeyId?: boolean;
}

export interface IssuedCertificateState {
    certPem: string;
    validityStartTime: string;
    validityEndTime: string;
    readyForRenewal: boolean;
    /** The provider's resource id: the serial number in decimal. */
    serialNumber: string;
}

export function isReadyForRenewal(validityEndTime: string, earlyRenewalHours: number, now: Date = emulatedNow()): boolean {
    return new Date(validityEndTime).getTime() - earlyRenewalHours * 3_600_000 <= now.getTime();
}

function randomSerialHex(): string {
    const bytes = randomBytes(16);
    bytes[0] = bytes[0]! & 0x7f; // positive, as Go's rand.Int below 2^128
    if (bytes[0] === 0) bytes[0] = 1;
    return bytes.toString("hex");
}

function pemOf(cert: x509.X509Certificate | x509.Pkcs10CertificateRequest): string {
    return `${cert.toString("pem").replace(/\r\n/g, "\n").trim()}\n`;
}

function hasSubject(subject: TlsSubject | undefined): boolean {
    return subjectName(subject).length > 0;
}

interface Issuer {
    name: x509.Name | x509.JsonName;
    key: SigningKey;
    subjectKeyId?: string;
    selfSigned: boolean;
}

/** createCertificate of terraform-provider-tls: serial, validity, usages, basic constraints, key identifiers, then Go's signing. */
async function createCertificate(template: CertificateTemplate, subject: x509.Name | x509.JsonName, publicKey: x509.PublicKey | webcrypto.CryptoKey, subjectKeyIdHex: string, issuer: Issuer, now: Date): Promise<IssuedCertificateState> {
    const allowedUses = validateAllowedUses(template.allowedUses);
    if (!(template.validityPeriodHours >= 0)) throw new Error("Attribute validity_period_hours value must be at least 0");
    const earlyRenewalHours = template.earlyRenewalHours ?? 0;
    if (earlyRenewalHours < 0) throw new Error("Attribute early_renewal_hours value must be at least 0");

    const notBefore = now;
    const notAfter = new Date(now.getTime() + template.validityPeriodHours * 3_600_000);
    const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(template.isCaCertificate === true, undefined, true)];
    const keyUsage = allowedUses.reduce((flags, u) => flags | (KEY_USAGES[u] ?? 0), 0);
    if (keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
    const ekus = allowedUses.flatMap((u) => EXTENDED_KEY_USAGES[u] ?? []);
    if (ekus.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(ekus, false));
    const isCa = template.isCaCertificate === true;
    if (isCa || template.setSubjectKeyId === true) extensions.push(new x509.SubjectKeyIdentifierExtension(subjectKeyIdHex));
    // Go takes the authority key id from the parent's subject key id, except on self-signed certificates
    // (there the provider sets it only with set_authority_key_id).
    const akid = issuer.selfSigned ? (template.setAuthorityKeyId === true ? subjectKeyIdHex : undefined) : issuer.subjectKeyId;
    if (akid !== undefined) extensions.push(new x509.AuthorityKeyIdentifierExtension(akid));
    const subjectIsEmpty = Array.isArray(subject) ? subject.length === 0 : subject.toString() === "";
    extensions.push(...sanExtension(template.dnsNames, template.ipAddresses, template.uris, subjectIsEmpty));

    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerialHex(),
        subject,
        issuer: issuer.name,
        notBefore,
        notAfter,
        extensions,
        publicKey,
        signingKey: issuer.key.privateKey,
        signingAlgorithm: issuer.key.signingAlgorithm,
    });
    return {
        certPem: pemOf(cert),
        // The provider writes Go's time.RFC3339: whole seconds, as the certificate holds them.
        validityStartTime: rfc3339(notBefore),
        validityEndTime: rfc3339(notAfter),
        readyForRenewal: isReadyForRenewal(notAfter.toISOString(), earlyRenewalHours, now),
        serialNumber: BigInt(`0x${cert.serialNumber}`).toString(10),
    };
}

/** `tls_self_signed_cert`. */
export async function selfSignedCertificate(privateKeyPem: string, template: CertificateTemplate, now: Date = emulatedNow()): Promise<IssuedCertificateState & { keyAlgorithm: string }> {
    if (template.isCaCertificate === true && !hasSubject(template.subject)) {
        throw new Error("Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)");
    }
    const key = await importSigningKey(privateKeyPem, "private key");
    const name = subjectName(template.subject);
    const state = await createCertificate(template, name, key.publicKey, key.subjectKeyId, { name, key, subjectKeyId: key.subjectKeyId, selfSigned: true }, now);
    return { ...state, keyAlgorithm: key.algorithm };
}

/** `tls_cert_request`. */
export async function certificateRequest(privateKeyPem: string, subject: TlsSubject | undefined, dnsNames?: string[], ipAddresses?: string[], uris?: string[]): Promise<{ certRequestPem: string; keyAlgorithm: string }> {
    const key = await importSigningKey(privateKeyPem, "private key");
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: subjectName(subject),
        keys: { privateKey: key.privateKey, publicKey: key.publicKey },
        signingAlgorithm: key.signingAlgorithm,
        extensions: sanExtension(dnsNames, ipAddresses, uris),
    });
    return { certRequestPem: pemOf(csr), keyAlgorithm: key.algorithm };
}

/** `tls_locally_signed_cert`: subject and SANs come from the CSR; only the first PEM block of `caCertPem` is read, as the provider does. */
export async function locallySignedCertificate(
    certRequestPem: string,
    caCertPem: string,
    caPrivateKeyPem: string,
    template: Omit<CertificateTemplate, "subject" | "dnsNames" | "ipAddresses" | "uris" | "setAuthorityKeyId">,
    now: Date = emulatedNow(),
): Promise<IssuedCertificateState & { caKeyAlgorithm: string }> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
        csr = new x509.Pkcs10CertificateRequest(certRequestPem);
    } catch (err) {
        throw new Error(`Failed to parse certificate request PEM: ${(err as Error).message}`);
    }
    let caCert: x509.X509Certificate;
    try {
        caCert = new x509.X509Certificate(x509.PemConverter.decodeFirst(caCertPem));
    } catch (err) {
        throw new Error(`Failed to parse CA certificate PEM: ${(err as Error).message}`);
    }
    const caKey = await importSigningKey(caPrivateKeyPem, "CA private key");
    const caSpki = Buffer.from(caCert.publicKey.rawData).toString("hex");
    const keySpki = Buffer.from(await webcrypto.subtle.exportKey("spki", caKey.publicKey)).toString("hex");
    if (caSpki !== keySpki) throw new Error("Failed to create certificate: x509: provided PrivateKey doesn't match parent's PublicKey");

    const sanRaw = csr.getExtension(SAN_OID);
    const san = sanRaw ? new x509.SubjectAlternativeNameExtension(sanRaw.rawData) : undefined;
    const sanJson = san?.names.toJSON() ?? [];
    const dnsNames = sanJson.filter((n) => n.type === "dns").map((n) => n.value);
    const ipAddresses = sanJson.filter((n) => n.type === "ip").map((n) => n.value);
    const uris = sanJson.filter((n) => n.type === "url").map((n) => n.value);
    const csrKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" });
    const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const state = await createCertificate(
        { ...template, dnsNames, ipAddresses, uris },
        csr.subjectName,
        csr.publicKey,
        subjectKeyId(csrKey),
        { name: caCert.subjectName, key: caKey, ...(caSki !== undefined ? { subjectKeyId: caSki } : {}), selfSigned: false },
        now,
    );
    return { ...state, caKeyAlgorithm: caKey.algorithm };
}

// ---------------------------------------------------------------------------------------------
// Emulators

type Inputs = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? (v as string[]) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function template(inputs: Inputs): CertificateTemplate {
    return {
        subject: inputs.subject as TlsSubject | undefined,
        dnsNames: strs(inputs.dnsNames),
        ipAddresses: strs(inputs.ipAddresses),
        uris: strs(inputs.uris),
        allowedUses: inputs.allowedUses as string[],
        isCaCertificate: inputs.isCaCertificate === true,
        validityPeriodHours: num(inputs.validityPeriodHours) ?? Number.NaN,
        earlyRenewalHours: num(inputs.earlyRenewalHours) ?? 0,
        setSubjectKeyId: inputs.setSubjectKeyId === true,
        setAuthorityKeyId: inputs.setAuthorityKeyId === true,
    };
}

function required(inputs: Inputs, key: string, attribute: string): string {
    const v = str(inputs[key]);
    if (v === undefined || v === "") throw new Error(`The argument "${attribute}" is required, but no definition was found.`);
    return v;
}

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const tlsEmulators: Record<string, Emulator> = {
    "tls:index/privateKey:PrivateKey": ({ inputs: raw }) => {
        const inputs = revealSecrets(raw as Inputs);
        const key = generatePrivateKey(required(inputs, "algorithm", "algorithm"), str(inputs.ecdsaCurve), num(inputs.rsaBits));
        return { ...key, publicKeyOpenssh: "", privateKeyOpenssh: "" };
    },
    "tls:index/certRequest:CertRequest": async ({ inputs: raw }) => {
        const inputs = revealSecrets(raw as Inputs);
        return certificateRequest(required(inputs, "privateKeyPem", "private_key_pem"), inputs.subject as TlsSubject | undefined, strs(inputs.dnsNames), strs(inputs.ipAddresses), strs(inputs.uris));
    },
    "tls:index/selfSignedCert:SelfSignedCert": async ({ inputs: raw }) => {
        const inputs = revealSecrets(raw as Inputs);
        const { serialNumber: _serial, ...state } = await selfSignedCertificate(required(inputs, "privateKeyPem", "private_key_pem"), template(inputs));
        return { ...state, isCaCertificate: inputs.isCaCertificate === true, earlyRenewalHours: num(inputs.earlyRenewalHours) ?? 0 };
    },
    "tls:index/locallySignedCert:LocallySignedCert": async ({ inputs: raw }) => {
        const inputs = revealSecrets(raw as Inputs);
        const { subject: _s, dnsNames: _d, ipAddresses: _i, uris: _u, setAuthorityKeyId: _a, ...t } = template(inputs);
        const { serialNumber: _serial, ...state } = await locallySignedCertificate(
            required(inputs, "certRequestPem", "cert_request_pem"),
            required(inputs, "caCertPem", "ca_cert_pem"),
            required(inputs, "caPrivateKeyPem", "ca_private_key_pem"),
            t,
        );
        return { ...state, isCaCertificate: inputs.isCaCertificate === true, earlyRenewalHours: num(inputs.earlyRenewalHours) ?? 0 };
    },
};

const CERTIFICATE_VOLATILE = ["certPem", "validityStartTime", "validityEndTime"];

/** What these emulators compute that is random by nature (keys, signatures) or read from the clock. */
export const tlsVolatile: Record<string, string[]> = {
    "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyPemPkcs8", "publicKeyPem", "publicKeyFingerprintSha256", "privateKeyOpenssh", "publicKeyOpenssh"],
    "tls:index/certRequest:CertRequest": ["certRequestPem"],
    "tls:index/selfSignedCert:SelfSignedCert": CERTIFICATE_VOLATILE,
    "tls:index/locallySignedCert:LocallySignedCert": CERTIFICATE_VOLATILE,
};

/** Provider functions (invokes) answered locally. */
export const tlsCalls: Record<string, CallEmulator> = {};
