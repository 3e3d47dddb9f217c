import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import type { TlsMaterial } from "./certificates";

/**
 * A TLS handshake with the frontend before the gRPC client connects. Why hand-written: when the
 * handshake fails, `@temporalio/client`'s `Connection.connect` (grpc-js underneath) waits out its
 * whole connect timeout and then says only "Failed to connect before the deadline"; the reason
 * (wrong server name, untrusted CA, client certificate missing or rejected) is lost. Node's own TLS
 * socket keeps it, so the report can name the fix. The check ends by opening an HTTP/2 session:
 * under TLS 1.3 a server rejects the client certificate only after the client's handshake is done,
 * so "the server answered with its HTTP/2 settings" is the first moment mTLS is known to work.
 */

export type TlsFailureKind =
    | "unreachable"
    | "server-name"
    | "server-untrusted"
    | "server-certificate-expired"
    | "client-certificate-required"
    | "client-certificate-rejected"
    | "not-http2"
    | "handshake";

export interface PeerCertificate {
    subject: string;
    issuer: string;
    subjectAltName: string;
    validTo: string;
}

export type TlsCheck =
    | { ok: true; protocol: string; serverCertificate: PeerCertificate }
    | { ok: false; kind: TlsFailureKind; message: string; serverCertificate?: PeerCertificate };

export interface TlsCheckTarget {
    /** `host:port` the client dials. */
    address: string;
    /** Name the frontend's certificate is verified against (SNI and host check). */
    serverName: string;
    /** Where the server name came from, so the message can say what to change. */
    serverNameSource: string;
    tls: TlsMaterial;
}

export function parseAddress(address: string): { host: string; port: number } {
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(address);
    const host = m?.[1] ?? m?.[2];
    if (!m || host === undefined) throw new Error(`address ${JSON.stringify(address)} is not host:port`);
    return { host, port: m[3] === undefined ? 7233 : Number(m[3]) };
}

function oneLine(dn: unknown): string {
    if (typeof dn === "string") return dn;
    if (dn && typeof dn === "object") {
        return Object.entries(dn as Record<string, unknown>)
            .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
            .join(", ");
    }
    return "";
}

function describePeer(cert: tls.PeerCertificate | undefined): PeerCertificate | undefined {
    if (!cert || Object.keys(cert).length === 0) return undefined;
    return {
        subject: oneLine(cert.subject),
        issuer: oneLine(cert.issuer),
        subjectAltName: cert.subjectaltname ?? "",
        validTo: cert.valid_to ? new Date(cert.valid_to).toISOString() : "",
    };
}

const SERVER_UNTRUSTED = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "CERT_SIGNATURE_FAILURE",
    "CERT_UNTRUSTED",
]);
const SERVER_EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"]);

/** Classifies a verification failure of the frontend's certificate (found with `rejectUnauthorized: false`). */
function serverVerdict(target: TlsCheckTarget, code: string, cert: tls.PeerCertificate): TlsCheck | undefined {
    const peer = describePeer(cert);
    const names = peer?.subjectAltName || "no subjectAltName";
    if (SERVER_UNTRUSTED.has(code)) {
        return {
            ok: false,
            kind: "server-untrusted",
            serverCertificate: peer,
            message:
                `the frontend's certificate (${peer?.subject}, issued by ${peer?.issuer}) is not signed by the CA given (${target.tls.source}) [${code}]: ` +
                "use the stack's CA bundle (TEMPORAL_TLS_SERVER_CA_CERT_PATH, --tls-ca); during a CA rotation it must hold the old and the new CA",
        };
    }
    if (SERVER_EXPIRED.has(code)) {
        return {
            ok: false,
            kind: "server-certificate-expired",
            serverCertificate: peer,
            message: `the frontend's certificate (${peer?.subject}) is outside its validity (until ${peer?.validTo}) [${code}]: reissue it (pulumi up) and make sure the server reloads it (global.tls.refreshInterval)`,
        };
    }
    const hostError = tls.checkServerIdentity(target.serverName, cert);
    if (hostError || code === "ERR_TLS_CERT_ALTNAME_INVALID" || /altname|hostname/i.test(code)) {
        return {
            ok: false,
            kind: "server-name",
            serverCertificate: peer,
            message:
                `the frontend's certificate is not valid for the server name "${target.serverName}" (from ${target.serverNameSource}): ` +
                `its names are ${names}. Set the server name to one of them (TEMPORAL_TLS_SERVER_NAME, --server-name)`,
        };
    }
    return { ok: false, kind: "handshake", serverCertificate: peer, message: `the frontend's certificate was refused: ${code}` };
}

function clientRejected(target: TlsCheckTarget, how: string, peer?: PeerCertificate): TlsCheck {
    const who = target.tls.clientCertificate;
    return {
        ok: false,
        kind: "client-certificate-rejected",
        serverCertificate: peer,
        message:
            `the frontend rejected the client certificate${who ? ` (${who.subject}, issued by ${who.issuer}, valid until ${who.validTo})` : ""}: ${how}. ` +
            "It must be signed by a CA in the frontend's client CA bundle (TEMPORAL_TLS_CLIENT1_CA_CERT), be unexpired and allow clientAuth",
    };
}

/** Classifies an error raised by the socket or the HTTP/2 session. */
function errorVerdict(target: TlsCheckTarget, err: NodeJS.ErrnoException, handshakeDone: boolean, peer?: PeerCertificate): TlsCheck {
    const code = err.code ?? "";
    const text = `${code} ${err.message}`;
    const sentCert = target.tls.clientCertPair !== undefined;
    if (UNREACHABLE.has(code) || (!handshakeDone && code === "ECONNRESET")) {
        return {
            ok: false,
            kind: "unreachable",
            message:
                `cannot reach the frontend at ${target.address} (${code || err.message}): an in-cluster address needs ` +
                "`kubectl port-forward -n <namespace> svc/<release>-frontend 7233:7233` and --address localhost:7233",
        };
    }
    if (/CERTIFICATE_REQUIRED|alert number 116/i.test(text) || (!sentCert && /HANDSHAKE_FAILURE|alert number 40|BAD_CERTIFICATE/i.test(text))) {
        return {
            ok: false,
            kind: "client-certificate-required",
            serverCertificate: peer,
            message: `the frontend requires a client certificate (mTLS) and none was presented: give the worker's certificate and key (TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH, --tls-cert/--tls-key or --tls-source keyvault) [${code}]`,
        };
    }
    if (/UNKNOWN_CA|BAD_CERTIFICATE|DECRYPT_ERROR|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|alert number (42|43|44|45|48|49|51)\b/i.test(text)) {
        return clientRejected(target, `it answered ${code || err.message.split("\n")[0]}`, peer);
    }
    return { ok: false, kind: "handshake", serverCertificate: peer, message: `TLS with the frontend at ${target.address} failed: ${code ? `${code}: ` : ""}${err.message.split("\n")[0]}` };
}

export function checkTls(target: TlsCheckTarget, timeoutMs = 5000): Promise<TlsCheck> {
    const { host, port } = parseAddress(target.address);
    return new Promise<TlsCheck>((resolve) => {
        let settled = false;
        let handshakeDone = false;
        let peer: PeerCertificate | undefined;
        let session: http2.ClientHttp2Session | undefined;
        const socket = tls.connect({
            host,
            port,
            // SNI may not be an IP address; the host check below still uses the server name.
            servername: net.isIP(target.serverName) ? undefined : target.serverName,
            ca: target.tls.serverRootCa,
            cert: target.tls.clientCertPair?.crt,
            key: target.tls.clientCertPair?.key,
            ALPNProtocols: ["h2"],
            // Verified by hand right after the handshake, to report *why* it failed with the certificate at hand.
            rejectUnauthorized: false,
        });
        const finish = (result: TlsCheck) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            session?.destroy();
            socket.destroy();
            resolve(result);
        };
        const timer = setTimeout(() => {
            finish(
                handshakeDone
                    ? { ok: false, kind: "not-http2", serverCertificate: peer, message: `the frontend at ${target.address} completed TLS but sent no HTTP/2 settings within ${timeoutMs} ms: is it a gRPC endpoint?` }
                    : { ok: false, kind: "unreachable", message: `no TLS handshake with ${target.address} within ${timeoutMs} ms: check the address, port-forward and firewall` },
            );
        }, timeoutMs);
        socket.on("error", (err: NodeJS.ErrnoException) => finish(errorVerdict(target, err, handshakeDone, peer)));
        socket.once("secureConnect", () => {
            handshakeDone = true;
            const cert = socket.getPeerCertificate();
            peer = describePeer(cert);
            const authError = socket.authorizationError as unknown as Error | string | null;
            const code = authError === null ? undefined : typeof authError === "string" ? authError : ((authError as NodeJS.ErrnoException).code ?? authError.message);
            const verdict = code !== undefined ? serverVerdict(target, code, cert) : tls.checkServerIdentity(target.serverName, cert) ? serverVerdict(target, "ERR_TLS_CERT_ALTNAME_INVALID", cert) : undefined;
            if (verdict) return finish(verdict);
            if (socket.alpnProtocol !== "h2") {
                return finish({ ok: false, kind: "not-http2", serverCertificate: peer, message: `the frontend at ${target.address} did not agree to HTTP/2 (ALPN ${String(socket.alpnProtocol)}): is it a gRPC endpoint?` });
            }
            session = http2.connect(`https://${target.serverName}`, { createConnection: () => socket });
            session.once("error", (err: NodeJS.ErrnoException) => finish(errorVerdict(target, err, true, peer)));
            const serverCertificate = peer ?? { subject: "", issuer: "", subjectAltName: "", validTo: "" };
            session.once("remoteSettings", () => finish({ ok: true, protocol: socket.getProtocol() ?? "TLS", serverCertificate }));
            // A close can overtake the socket's alert by a tick; let the error, which says why, win.
            session.once("close", () => setImmediate(() => finish(clientRejected(target, "it closed the connection right after the TLS handshake", peer))));
        });
    });
}
