import * as tls from "node:tls";
import type { AddressInfo } from "node:net";

/**
 * Real TLS on 127.0.0.1 the way Temporal uses it: a server presenting its chain and requiring and
 * verifying a client certificate against its CA bundle, a client verifying the server's chain and
 * name against its own bundle and presenting its certificate.
 */

export interface TlsServerSide {
    key: string;
    /** Leaf + issuing CA (`tls.crt`). */
    cert: string;
    /** Trusted CAs for client certificates (`ca.crt`). */
    ca: string;
}

export interface TlsClientSide {
    key?: string;
    cert?: string;
    /** Trusted CAs for the server certificate. */
    ca: string;
    /** The name the client verifies (`serverName`). */
    servername: string;
}

export interface HandshakeResult {
    accepted: boolean;
    /** Why the server refused the client (OpenSSL's verify code or the TLS error code). */
    serverError?: string;
    /** Why the client refused the server, or the alert it received. */
    clientError?: string;
    /** Common name of the client certificate the server accepted. */
    clientCommonName?: string;
}

/**
 * One connection. By default the server requests a client certificate and refuses any that does
 * not verify, reporting OpenSSL's reason (Node hides it when it rejects by itself). With
 * `strictServer` Node's own `rejectUnauthorized` does the refusing, which is also what makes the
 * TLS layer refuse a client that sends no certificate at all.
 */
export function handshake(server: TlsServerSide, client: TlsClientSide, options: { strictServer?: boolean } = {}): Promise<HandshakeResult> {
    return new Promise((resolve, reject) => {
        const result: HandshakeResult = { accepted: false };
        let finished = false;
        const finish = () => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            srv.close();
            resolve(result);
        };
        const timer = setTimeout(() => reject(new Error("TLS handshake did not finish within 5s")), 5000);
        const strict = options.strictServer === true;
        const srv = tls.createServer({ key: server.key, cert: server.cert, ca: server.ca, requestCert: true, rejectUnauthorized: strict }, (socket) => {
            if (!socket.authorized) {
                result.serverError = String(socket.authorizationError);
                socket.destroy();
                return;
            }
            result.clientCommonName = String(socket.getPeerCertificate().subject?.CN ?? "");
            socket.end("accepted");
        });
        srv.on("tlsClientError", (err: NodeJS.ErrnoException) => {
            result.serverError ??= err.code ?? err.message;
        });
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as AddressInfo;
            const socket = tls.connect({ host: "127.0.0.1", port, servername: client.servername, ca: client.ca, ...(client.key ? { key: client.key } : {}), ...(client.cert ? { cert: client.cert } : {}) });
            let received = "";
            socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
            socket.on("error", (err: NodeJS.ErrnoException) => {
                result.clientError ??= err.code ?? err.message;
                socket.destroy();
                // Let the server side report its reason before finishing.
                setTimeout(finish, 20);
            });
            socket.on("close", () => {
                result.accepted = received === "accepted";
                setTimeout(finish, 20);
            });
        });
    });
}
