import { X509Certificate, createPrivateKey } from "node:crypto";
import * as fs from "node:fs";
import type { TokenCredential } from "@azure/identity";
import { SetupError } from "./errors";

/**
 * The mTLS material a client presents to the frontend: the CA that signed the frontend's
 * certificate and the client's own certificate and key. Buffers, because that is what
 * `@temporalio/client` takes; the key never leaves this process and is never printed.
 */
export interface TlsMaterial {
    serverRootCa: Buffer;
    /** Absent only when the caller deliberately connects without a client certificate. */
    clientCertPair?: { crt: Buffer; key: Buffer };
    /** Where the material came from, for reports (paths or vault and secret names, never contents). */
    source: string;
    /** Subject, issuer and expiry of the client certificate, for reports. */
    clientCertificate?: { subject: string; issuer: string; validTo: string };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;

/** Splits a PEM bundle (as Key Vault returns an imported certificate) into its key and certificates, in order. */
export function splitPemBundle(pem: string): { key?: string; certificates: string[] } {
    let key: string | undefined;
    const certificates: string[] = [];
    for (const match of pem.matchAll(PEM_BLOCK)) {
        const label = match[1] ?? "";
        if (label === "CERTIFICATE") certificates.push(`${match[0]}\n`);
        else if (/PRIVATE KEY$/.test(label) && !label.startsWith("ENCRYPTED")) key ??= `${match[0]}\n`;
        else if (label === "ENCRYPTED PRIVATE KEY") {
            throw new SetupError("the PEM bundle holds an ENCRYPTED private key: verify-live needs the unencrypted key the worker mounts", "certificates");
        }
    }
    return key === undefined ? { certificates } : { key, certificates };
}

function parseCertificate(pem: string, what: string): X509Certificate {
    try {
        return new X509Certificate(pem);
    } catch (err) {
        throw new SetupError(`${what} holds a certificate that cannot be parsed (${(err as Error).message})`, "certificates");
    }
}

function describe(cert: X509Certificate): { subject: string; issuer: string; validTo: string } {
    const oneLine = (dn: string) => dn.split("\n").join(", ");
    return { subject: oneLine(cert.subject), issuer: oneLine(cert.issuer), validTo: new Date(cert.validTo).toISOString() };
}

/**
 * Checks the pieces fit before any network traffic, so the report says "the key does not belong to
 * the certificate" instead of an opaque handshake failure. `what` names each piece's origin.
 */
export function assembleTls(
    parts: { ca: string; cert?: string; key?: string },
    what: { ca: string; cert: string; key: string },
    source: string,
): TlsMaterial {
    const caCerts = splitPemBundle(parts.ca).certificates;
    if (caCerts.length === 0) throw new SetupError(`${what.ca} holds no PEM certificate: it must be the CA that signed the frontend's certificate`, "certificates");
    for (const pem of caCerts) {
        const ca = parseCertificate(pem, what.ca);
        if (!ca.ca) throw new SetupError(`${what.ca} holds ${describe(ca).subject}, which is not a CA certificate: give the CA that signed the frontend's certificate`, "certificates");
    }
    const material: TlsMaterial = { serverRootCa: Buffer.from(caCerts.join("")), source };
    if (parts.cert === undefined && parts.key === undefined) return material;
    if (parts.cert === undefined || parts.key === undefined) {
        throw new SetupError(`${parts.cert === undefined ? what.cert : what.key} is missing: a client certificate needs both the certificate and its key`, "certificates");
    }
    const chain = splitPemBundle(parts.cert).certificates;
    const leafPem = chain[0];
    if (leafPem === undefined) throw new SetupError(`${what.cert} holds no PEM certificate`, "certificates");
    const keyPem = splitPemBundle(parts.key).key;
    if (keyPem === undefined) throw new SetupError(`${what.key} holds no unencrypted PEM private key`, "certificates");
    const leaf = parseCertificate(leafPem, what.cert);
    let matches: boolean;
    try {
        matches = leaf.checkPrivateKey(createPrivateKey(keyPem));
    } catch {
        matches = false;
    }
    if (!matches) throw new SetupError(`the private key in ${what.key} does not belong to the certificate in ${what.cert} (${describe(leaf).subject})`, "certificates");
    material.clientCertPair = { crt: Buffer.from(chain.join("")), key: Buffer.from(keyPem) };
    material.clientCertificate = describe(leaf);
    return material;
}

export function readPem(file: string, what: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint =
            code === "ENOENT"
                ? " (the connection profile's paths are where the worker pod mounts its Secret; outside the pod, copy the files or use --tls-source keyvault)"
                : "";
        throw new SetupError(`${what} ${file}: cannot read it (${code ?? String(err)})${hint}`, "certificates");
    }
}

/** Files named by a connection profile (`TEMPORAL_TLS_*_PATH`) or by flags. `cert`/`key` omitted: no client certificate. */
export function loadTlsFromFiles(files: { ca: string; cert?: string; key?: string }, names: { ca: string; cert: string; key: string }): TlsMaterial {
    const parts: { ca: string; cert?: string; key?: string } = { ca: readPem(files.ca, names.ca) };
    if (files.cert !== undefined) parts.cert = readPem(files.cert, names.cert);
    if (files.key !== undefined) parts.key = readPem(files.key, names.key);
    const what = { ca: `${names.ca} ${files.ca}`, cert: `${names.cert} ${files.cert ?? ""}`.trim(), key: `${names.key} ${files.key ?? ""}`.trim() };
    return assembleTls(parts, what, [files.cert, files.key, files.ca].filter((f) => f !== undefined).join(", "));
}

/** The slice of `@azure/keyvault-secrets`' SecretClient this module uses (injectable for tests). */
export interface SecretReader {
    getSecret(name: string): Promise<{ value?: string; properties: { contentType?: string } }>;
}

/** A real SecretClient; loaded on demand, since runs that read files never need it. */
export async function keyVaultSecretReader(vaultUri: string, credential: TokenCredential): Promise<SecretReader> {
    const { SecretClient } = await import("@azure/keyvault-secrets");
    return new SecretClient(vaultUri, credential);
}

async function readSecretPem(reader: SecretReader, vaultUri: string, name: string): Promise<string> {
    let secret: { value?: string; properties: { contentType?: string } };
    try {
        secret = await reader.getSecret(name);
    } catch (err) {
        const e = err as { statusCode?: number; code?: string; message?: string };
        const why =
            e.statusCode === 403
                ? "access denied: reading it needs the Key Vault Secrets User role on the vault (and the vault firewall must let you in)"
                : e.statusCode === 404
                  ? "no such secret"
                  : (e.code ?? e.message ?? String(err)).split("\n")[0];
        throw new SetupError(`Key Vault ${vaultUri} secret "${name}": ${why}`, "certificates");
    }
    const contentType = secret.properties.contentType ?? "";
    if (/pkcs12/i.test(contentType)) {
        throw new SetupError(
            `Key Vault ${vaultUri} secret "${name}" is a PKCS#12 bundle (${contentType}): verify-live reads PEM; store the certificate with content type application/x-pem-file`,
            "certificates",
        );
    }
    if (!secret.value) throw new SetupError(`Key Vault ${vaultUri} secret "${name}" has no value`, "certificates");
    return secret.value;
}

/**
 * The PEM bundle of a certificate kept in Key Vault (key, leaf, then its chain). The CA is, in this
 * order: `ca` (a file the caller read), the secret `caSecretName` (the stack's trust bundle, which
 * holds old and new CA during a rotation), or the bundle's own chain.
 */
export async function loadTlsFromKeyVault(
    args: { vaultUri: string; secretName: string; caSecretName?: string; ca?: { pem: string; what: string } },
    reader: SecretReader,
): Promise<TlsMaterial> {
    const bundle = splitPemBundle(await readSecretPem(reader, args.vaultUri, args.secretName));
    const where = `Key Vault ${args.vaultUri} secret "${args.secretName}"`;
    if (bundle.key === undefined) throw new SetupError(`${where} holds no private key: it must be the PEM bundle of the client certificate (key and certificate)`, "certificates");
    const [leaf, ...chain] = bundle.certificates;
    if (leaf === undefined) throw new SetupError(`${where} holds no certificate`, "certificates");
    let ca: string;
    let caWhat: string;
    if (args.ca !== undefined) {
        ca = args.ca.pem;
        caWhat = args.ca.what;
    } else if (args.caSecretName !== undefined) {
        ca = await readSecretPem(reader, args.vaultUri, args.caSecretName);
        caWhat = `Key Vault ${args.vaultUri} secret "${args.caSecretName}"`;
    } else {
        if (chain.length === 0) throw new SetupError(`${where} carries no CA chain: name the secret holding the CA with --key-vault-ca-secret, or give --tls-ca`, "certificates");
        ca = chain.join("");
        caWhat = `the chain in ${where}`;
    }
    return assembleTls({ ca, cert: leaf, key: bundle.key }, { ca: caWhat, cert: where, key: where }, `${args.vaultUri} secret ${args.secretName}`);
}
