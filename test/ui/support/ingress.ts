import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

/**
 * What stands in for the release's Ingress (`web.ingress`, ingress-nginx): TLS termination for the
 * UI host on 127.0.0.1, then plain HTTP to the UI server, with the headers ingress-nginx sets
 * (Host kept, X-Forwarded-For/-Host/-Port/-Proto, X-Real-IP). Written by hand: it is one
 * `http.request` per request, and records the largest Cookie header of a request and the largest
 * header block of a response (the release raises ingress-nginx's `proxy-buffer-size`, 4k by
 * default, to 16k because the UI's sign-in callback answers with its tokens in Set-Cookie).
 */

export interface Ingress {
    /** `https://<ui host>`: what the browser opens. */
    url: string;
    host: string;
    /** The loopback port the browser's host mapping points at. */
    port: number;
    /** Largest Cookie header of a request so far, in bytes. */
    largestCookieHeader(): number;
    /** Largest header block of a response from the UI server so far (status line not counted), in bytes, and the path it answered. */
    largestResponseHeaders(): { bytes: number; path: string };
    close(): Promise<void>;
}

export async function startIngress(options: { host: string; backend: string; tls: { certPem: string; keyPem: string } }): Promise<Ingress> {
    const backend = new URL(options.backend);
    let largestCookie = 0;
    let largestResponse = { bytes: 0, path: "" };
    const server = https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
        largestCookie = Math.max(largestCookie, Buffer.byteLength(req.headers.cookie ?? ""));
        const client = req.socket.remoteAddress ?? "";
        const upstream = http.request(
            {
                host: backend.hostname,
                port: backend.port,
                method: req.method,
                path: req.url,
                headers: { ...req.headers, "x-forwarded-for": client, "x-real-ip": client, "x-forwarded-host": req.headers.host ?? "", "x-forwarded-port": "443", "x-forwarded-proto": "https", "x-scheme": "https" },
            },
            (answer) => {
                let bytes = 0;
                for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) bytes += Buffer.byteLength(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}\r\n`);
                if (bytes > largestResponse.bytes) largestResponse = { bytes, path: (req.url ?? "").split("?")[0] ?? "" };
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        upstream.on("error", (err) => {
            if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
            res.end(`ingress: ${err.message}`);
        });
        req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `https://${options.host}`,
        host: options.host,
        port,
        largestCookieHeader: () => largestCookie,
        largestResponseHeaders: () => largestResponse,
        close: async () => {
            server.closeAllConnections();
            await new Promise((r) => server.close(r));
        },
    };
}
