import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { envValue, getPath } from "../../../policies/pack/checks/values";
import type { RecordedResource } from "../offline/engine";

/**
 * Real TLS handshakes on 127.0.0.1 with the exact material the release will mount: for each
 * connection Temporal makes, the server side presents the Secret the chart mounts for it, the
 * client side presents its own Secret, and the client verifies the server name from the values.
 */

export interface TlsMaterial {
    cert: string;
    key: string;
    ca: string;
}

export interface HandshakeResult {
    ok: boolean;
    /** OpenSSL / Node error code when the handshake failed (e.g. ERR_TLS_CERT_ALTNAME_INVALID). */
    error?: string;
    /** Which side refused: the server (the client's certificate) or the client (the server's). */
    refusedBy?: "server" | "client";
}

export interface TlsCheck {
    name: string;
    server: string;
    client: string;
    serverName: string;
    expect: "accept" | "reject";
    /** For a refusal: the side that must be the one refusing (a refusal by the other side proves nothing). */
    expectRefusedBy?: "server" | "client";
    result: HandshakeResult;
    passed: boolean;
}

/**
 * One mutual-TLS handshake: server requires a client certificate from its CA bundle. A client
 * without a certificate is refused by the TLS layer (as Go's RequireAndVerifyClientCert does); a
 * presented certificate is verified and refused unless it chains to the bundle, the decision Node's
 * `rejectUnauthorized` makes, taken here so that OpenSSL's reason reaches the report.
 */
export async function handshake(server: TlsMaterial, client: Partial<TlsMaterial> & { ca: string }, serverName: string, timeoutMs = 5000): Promise<HandshakeResult> {
    let serverError: string | undefined;
    const srv = tls.createServer({ cert: server.cert, key: server.key, ca: server.ca, requestCert: true, rejectUnauthorized: client.cert === undefined }, (socket) => {
        if (!socket.authorized) {
            serverError = String(socket.authorizationError);
            socket.destroy();
            return;
        }
        socket.end("ok");
    });
    srv.on("tlsClientError", (err: NodeJS.ErrnoException) => {
        serverError ??= err.code ?? err.message;
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
        return await new Promise<HandshakeResult>((resolve) => {
            const timer = setTimeout(() => {
                socket.destroy();
                resolve({ ok: false, error: "TIMEOUT" });
            }, timeoutMs);
            const refused = (clientError: string): HandshakeResult => (serverError !== undefined ? { ok: false, error: serverError, refusedBy: "server" } : { ok: false, error: clientError, refusedBy: "client" });
            const socket = tls.connect({ host: "127.0.0.1", port, servername: serverName, ca: client.ca, ...(client.cert ? { cert: client.cert, key: client.key } : {}) });
            let data = "";
            socket.on("data", (d) => (data += d.toString()));
            socket.on("end", () => {
                clearTimeout(timer);
                resolve(data === "ok" ? { ok: true } : refused("CONNECTION_CLOSED_BY_SERVER"));
            });
            socket.on("error", (err: NodeJS.ErrnoException) => {
                clearTimeout(timer);
                resolve(refused(err.code ?? err.message));
            });
        });
    } finally {
        await new Promise((r) => srv.close(r));
    }
}

/** The PEMs of a kubernetes.io/tls Secret registered by the program, by name (and namespace, if given). */
export function tlsSecret(resources: RecordedResource[], name: string, namespace?: string): TlsMaterial | undefined {
    const data = secretData(resources, name, namespace);
    const [cert, key, ca] = [data?.["tls.crt"], data?.["tls.key"], data?.["ca.crt"]];
    return cert && key && ca ? { cert, key, ca } : undefined;
}

export interface Volume {
    name: string;
    secret?: { secretName?: string; items?: Array<{ key: string; path: string }> };
}
export interface Mount {
    name: string;
    mountPath: string;
    subPath?: string;
}

/**
 * Where a file the pod reads comes from: the Secret and key behind the volume mounted at the
 * longest matching mount path (what the kubelet does for Secret volumes).
 */
export function secretSourceOfFile(file: string, volumes: Volume[], mounts: Mount[]): { secretName: string; key: string } | undefined {
    const candidates = mounts
        .filter((m) => (m.subPath ? file === m.mountPath : file.startsWith(`${m.mountPath.replace(/\/$/, "")}/`)))
        .sort((a, b) => b.mountPath.length - a.mountPath.length);
    const mount = candidates[0];
    if (!mount) return undefined;
    const secretName = volumes.find((v) => v.name === mount.name)?.secret?.secretName;
    if (!secretName) return undefined;
    const rel = mount.subPath ?? file.slice(mount.mountPath.replace(/\/$/, "").length + 1);
    const items = volumes.find((v) => v.name === mount.name)?.secret?.items;
    const key = items ? items.find((i) => i.path === rel)?.key : rel;
    return key ? { secretName, key } : undefined;
}

/** The data of a Secret the program registered (stringData over base64 data), by name and namespace. */
export function secretData(resources: readonly RecordedResource[], name: string, namespace: string | undefined): Record<string, string> | undefined {
    const secret = resources.find(
        (r) => r.type === "kubernetes:core/v1:Secret" && getPath(r.inputs, "metadata.name") === name && (namespace === undefined || getPath(r.inputs, "metadata.namespace") === namespace),
    );
    if (!secret) return undefined;
    const data: Record<string, string> = { ...((secret.inputs.stringData ?? {}) as Record<string, string>) };
    for (const [k, b] of Object.entries((secret.inputs.data ?? {}) as Record<string, string>)) data[k] ??= Buffer.from(b, "base64").toString("utf8");
    return data;
}

/** Every handshake Temporal's deployment depends on, derived from the release values. */
export async function runTlsChecks(resources: RecordedResource[]): Promise<{ checks: TlsCheck[]; problems: string[] }> {
    const problems: string[] = [];
    const checks: TlsCheck[] = [];
    const release = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "temporal");
    if (!release) return { checks, problems: ["no Temporal release registered: nothing to check"] };
    const values = release.inputs.values;
    const ns = getPath(release.inputs, "namespace") as string | undefined;
    const podFiles = (component: "server" | "web") => ({
        volumes: (getPath(values, `${component}.additionalVolumes`) ?? []) as Volume[],
        mounts: (getPath(values, `${component}.additionalVolumeMounts`) ?? []) as Mount[],
    });
    /** Reads files as a pod of `component` sees them; each missing one is a problem. */
    const read = (component: "server" | "web", what: string, files: unknown): string | undefined => {
        const list = (Array.isArray(files) ? files : [files]).filter((f): f is string => typeof f === "string" && f !== "");
        if (list.length === 0) {
            problems.push(`${what}: no file configured`);
            return undefined;
        }
        const { volumes, mounts } = podFiles(component);
        const parts: string[] = [];
        for (const file of list) {
            const src = secretSourceOfFile(file, volumes, mounts);
            const content = src ? secretData(resources, src.secretName, ns)?.[src.key] : undefined;
            if (!src || content === undefined) {
                problems.push(`${what}: ${file} is not mounted from a Secret key the program creates${src ? ` (Secret ${src.secretName}, key ${src.key})` : ""}`);
                return undefined;
            }
            parts.push(content);
        }
        return parts.join("\n");
    };
    const tlsCfg = getPath(values, "server.config.tls");
    const side = (section: "internode" | "frontend") => {
        const base = `server.config.tls.${section}`;
        const cert = read("server", `${base}.server.certFile`, getPath(tlsCfg, `${section}.server.certFile`));
        const key = read("server", `${base}.server.keyFile`, getPath(tlsCfg, `${section}.server.keyFile`));
        const clientCas = read("server", `${base}.server.clientCaFiles`, getPath(tlsCfg, `${section}.server.clientCaFiles`));
        const rootCas = read("server", `${base}.client.rootCaFiles`, getPath(tlsCfg, `${section}.client.rootCaFiles`));
        return {
            server: cert && key && clientCas ? { cert, key, ca: clientCas } : undefined,
            rootCas,
            serverName: String(getPath(tlsCfg, `${section}.client.serverName`) ?? ""),
        };
    };
    const internode = side("internode");
    const frontend = side("frontend");
    const webEnv = (n: string) => envValue(values, "web.additionalEnv", n);
    const webCert = read("web", "web TEMPORAL_TLS_CERT", webEnv("TEMPORAL_TLS_CERT"));
    const webKey = read("web", "web TEMPORAL_TLS_KEY", webEnv("TEMPORAL_TLS_KEY"));
    const webCa = read("web", "web TEMPORAL_TLS_CA", webEnv("TEMPORAL_TLS_CA"));
    const ui = webCert && webKey && webCa ? { cert: webCert, key: webKey, ca: webCa } : undefined;
    const uiServerName = webEnv("TEMPORAL_TLS_SERVER_NAME") ?? "";

    const add = async (
        name: string,
        serverLabel: string,
        server: TlsMaterial | undefined,
        clientLabel: string,
        client: (Partial<TlsMaterial> & { ca: string }) | undefined,
        serverName: string,
        expect: "accept" | "reject",
        expectRefusedBy?: "server" | "client",
    ) => {
        if (!server || !client) return;
        const result = await handshake(server, client, serverName);
        const passed = expect === "accept" ? result.ok : !result.ok && (expectRefusedBy === undefined || result.refusedBy === expectRefusedBy);
        checks.push({ name, server: serverLabel, client: clientLabel, serverName, expect, ...(expectRefusedBy ? { expectRefusedBy } : {}), result, passed });
    };
    /**
     * A client certificate presented to the internode servers, the client trusting the internode CAs
     * (so the server's certificate verifies): only the server's client-certificate decision is tested.
     * The internal frontend makes every caller that passes it a system admin.
     */
    const atInternode = (m: TlsMaterial | undefined) => (m && internode.rootCas ? { cert: m.cert, key: m.key, ca: internode.rootCas } : undefined);
    // Temporal services present the internode certificate both as servers and as clients (to each other and to the frontend).
    const internodeAsClient = internode.server && internode.rootCas ? { cert: internode.server.cert, key: internode.server.key, ca: internode.rootCas } : undefined;
    const internodeToFrontend = internode.server && frontend.rootCas ? { cert: internode.server.cert, key: internode.server.key, ca: frontend.rootCas } : undefined;
    await add("internode: service to service", "internode", internode.server, "internode", internodeAsClient, internode.serverName, "accept");
    await add("frontend: Web UI client", "frontend", frontend.server, "web", ui, uiServerName, "accept");
    await add("frontend: internal services (internode certificate as client)", "frontend", frontend.server, "internode", internodeToFrontend, frontend.serverName, "accept");
    await add("frontend: client without a certificate is refused", "frontend", frontend.server, "anonymous", frontend.rootCas ? { ca: frontend.rootCas } : undefined, frontend.serverName, "reject");
    await add("frontend: wrong server name is refused", "frontend", frontend.server, "web", ui, "not-a-san.invalid", "reject");
    await add("frontend: the UI certificate cannot serve (client-only)", "web", ui, "web", ui, uiServerName, "reject");

    await add("internode: the Web UI's client certificate is refused", "internode", internode.server, "web", atInternode(ui), internode.serverName, "reject", "server");

    const workerSecrets = resources.filter(
        (r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/tls" && getPath(r.inputs, "metadata.namespace") !== ns,
    );
    for (const s of workerSecrets) {
        const name = String(getPath(s.inputs, "metadata.name"));
        const namespace = String(getPath(s.inputs, "metadata.namespace"));
        const m = tlsSecret(resources, name, namespace);
        await add(`frontend: worker ${namespace}/${name}`, "frontend", frontend.server, `${namespace}/${name}`, m, frontend.serverName, "accept");
        await add(
            `internode: a worker's client certificate is refused (the internal frontend would make it cluster admin): ${namespace}/${name}`,
            "internode",
            internode.server,
            `${namespace}/${name}`,
            atInternode(m),
            internode.serverName,
            "reject",
            "server",
        );
    }
    for (const c of checks) {
        const expected = c.expectRefusedBy ? `${c.expect} by the ${c.expectRefusedBy}` : c.expect;
        if (!c.passed) problems.push(`${c.name}: expected ${expected}, got ${c.result.ok ? "accepted" : `rejected${c.result.refusedBy ? ` by the ${c.result.refusedBy}` : ""} (${c.result.error})`}`);
    }
    return { checks, problems };
}
