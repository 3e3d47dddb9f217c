import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TlsFiles } from "../../upstream/server";

/**
 * A recording tap between the UI server and the real frontend: what the server received, call by
 * call (method, `authorization`, `authorization-extras`, and the gRPC status the server answered).
 * It terminates TLS with the frontend's own planned certificate and requires a client certificate
 * signed by what the frontend trusts (its Secret's ca.crt), so the UI verifies the server name and
 * presents its certificate exactly as it would to the frontend; it then calls the frontend with the
 * UI's planned certificate, passing every header, message and trailer through unchanged. Written by
 * hand because no maintained package proxies gRPC byte for byte with node:http2.
 */

export interface TappedCall {
    /** `/temporal.api.workflowservice.v1.WorkflowService/<Method>`. */
    path: string;
    /** The method's name (the path's last segment). */
    method: string;
    authorization?: string;
    authorizationExtras?: string;
    /** gRPC status code the frontend answered (0 OK, 7 PermissionDenied, …). */
    grpcStatus?: number;
    grpcMessage?: string;
    /** Common name of the client certificate the UI presented. */
    clientCertificateCN?: string;
}

export interface FrontendTap {
    /** `127.0.0.1:<port>`. */
    address: string;
    calls: TappedCall[];
    close(): Promise<void>;
}

const HOP_BY_HOP = new Set([":authority", ":scheme", ":method", ":path", "connection", "host", "keep-alive", "transfer-encoding", "upgrade"]);

/** grpc-message is percent-encoded; a malformed one is kept as sent. */
function safeDecode(v: string): string {
    try {
        return decodeURIComponent(v);
    } catch {
        return v;
    }
}

function forwardable(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
    return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k) && !k.startsWith(":")));
}

export async function startFrontendTap(options: {
    /** The real frontend, `127.0.0.1:<port>`. */
    frontend: string;
    /** The TLS server name the frontend's certificate answers to. */
    serverName: string;
    /** The frontend's planned Secret (certificate, key, and the CAs it trusts for clients). */
    frontendFiles: TlsFiles;
    /** What the tap presents to the frontend: the UI's planned Secret. */
    clientFiles: TlsFiles;
}): Promise<FrontendTap> {
    const calls: TappedCall[] = [];
    const upstream = http2.connect(`https://${options.frontend}`, {
        servername: options.serverName,
        ca: options.clientFiles.ca,
        cert: options.clientFiles.cert,
        key: options.clientFiles.key,
    });
    upstream.on("error", () => undefined);
    const server = http2.createSecureServer({
        cert: options.frontendFiles.cert,
        key: options.frontendFiles.key,
        ca: options.frontendFiles.ca,
        requestCert: true,
        rejectUnauthorized: true,
    });
    server.on("stream", (stream, headers) => {
        const path = String(headers[":path"] ?? "");
        const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
        const call: TappedCall = {
            path,
            method: path.split("/").pop() ?? "",
            ...(typeof headers.authorization === "string" ? { authorization: headers.authorization } : {}),
            ...(typeof headers["authorization-extras"] === "string" ? { authorizationExtras: headers["authorization-extras"] } : {}),
            ...(peer?.subject?.CN ? { clientCertificateCN: String(peer.subject.CN) } : {}),
        };
        calls.push(call);
        const request = upstream.request({ ":method": String(headers[":method"] ?? "POST"), ":path": path, ...forwardable(headers) });
        const status = (h: http2.IncomingHttpHeaders) => {
            if (h["grpc-status"] !== undefined) call.grpcStatus = Number(h["grpc-status"]);
            if (typeof h["grpc-message"] === "string") call.grpcMessage = safeDecode(h["grpc-message"]);
        };
        let trailers: http2.OutgoingHttpHeaders = {};
        request.on("response", (h, flags) => {
            status(h);
            // A trailers-only answer (an error before any message) ends the stream in its HEADERS frame.
            const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
            if (stream.closed || stream.destroyed || stream.headersSent) return;
            stream.respond({ ":status": Number(h[":status"] ?? 200), ...forwardable(h) }, endStream ? { endStream: true } : { waitForTrailers: true });
        });
        request.on("trailers", (h) => {
            status(h);
            trailers = forwardable(h);
        });
        stream.on("wantTrailers", () => {
            if (!stream.closed && !stream.destroyed) stream.sendTrailers(trailers);
        });
        request.on("error", (err) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR, () => void err));
        stream.on("error", () => request.close(http2.constants.NGHTTP2_CANCEL));
        stream.pipe(request);
        request.on("data", (d: Buffer) => {
            if (!stream.writableEnded) stream.write(d);
        });
        request.on("end", () => {
            if (!stream.writableEnded && !stream.closed) stream.end();
        });
    });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("session", (s) => {
        sessions.add(s);
        s.once("close", () => sessions.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls,
        close: async () => {
            for (const s of sessions) s.destroy();
            upstream.destroy();
            await new Promise((r) => server.close(r));
        },
    };
}
