import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/**
 * A throwaway private PKI for the local end-to-end test: one CA, the frontend's server certificate
 * and a worker's client certificate, all ECDSA P-256 like the stack's defaults. Real certificates,
 * real keys: the TLS handshakes on 127.0.0.1 verify them exactly as they would verify the stack's.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export interface Issued {
    certPem: string;
    keyPem: string;
}

export interface TestPki {
    ca: Issued;
    /** Frontend server certificate with the given DNS SANs. */
    server: Issued;
    /** Worker client certificate (clientAuth). */
    client: Issued;
    /** A client certificate from a CA the server does not trust. */
    strangerClient: Issued;
}

async function keyPair(): Promise<CryptoKeyPair> {
    return (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
    const der = await webcrypto.subtle.exportKey("pkcs8", key);
    return x509.PemConverter.encode(der, "PRIVATE KEY");
}

const validity = () => ({ notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 24 * 3600_000) });

async function makeCa(commonName: string): Promise<Issued & { keys: CryptoKeyPair; cert: x509.X509Certificate }> {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
        name: `CN=${commonName}`,
        keys,
        signingAlgorithm: SIGN,
        ...validity(),
        extensions: [
            new x509.BasicConstraintsExtension(true, 0, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
    });
    return { keys, cert, certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

async function issue(
    ca: { keys: CryptoKeyPair; cert: x509.X509Certificate },
    commonName: string,
    usage: x509.ExtendedKeyUsage,
    dnsNames: string[],
): Promise<Issued> {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.create({
        subject: `CN=${commonName}`,
        issuer: ca.cert.subject,
        publicKey: keys.publicKey,
        signingKey: ca.keys.privateKey,
        signingAlgorithm: SIGN,
        ...validity(),
        extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([usage]),
            ...(dnsNames.length ? [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: /^\d+(\.\d+){3}$/.test(value) ? ("ip" as const) : ("dns" as const), value })))] : []),
            await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
        ],
    });
    return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

export async function createTestPki(serverDnsNames: string[], workerName: string): Promise<TestPki> {
    const ca = await makeCa("temporal-azure test CA");
    const stranger = await makeCa("some other CA");
    return {
        ca: { certPem: ca.certPem, keyPem: ca.keyPem },
        server: await issue(ca, serverDnsNames[0] ?? "frontend", x509.ExtendedKeyUsage.serverAuth, serverDnsNames),
        client: await issue(ca, workerName, x509.ExtendedKeyUsage.clientAuth, []),
        strangerClient: await issue(stranger, workerName, x509.ExtendedKeyUsage.clientAuth, []),
    };
}

/** A CA and one server certificate for these names (DNS names, or IPv4 addresses as IP SANs): what a public web endpoint presents. */
export async function createServerPki(names: string[]): Promise<{ ca: Issued; server: Issued }> {
    const ca = await makeCa("temporal-azure test web CA");
    return { ca: { certPem: ca.certPem, keyPem: ca.keyPem }, server: await issue(ca, names[0] ?? "localhost", x509.ExtendedKeyUsage.serverAuth, names) };
}
