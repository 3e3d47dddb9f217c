import { getPath } from "./values";

/**
 * `server.config.tls` as the server reads it. Chart 1.6.0 pastes it verbatim under `global.tls`,
 * and server 1.31.2 decodes that with yaml.v3 without strict field checking: a key it does not know
 * (a typo, a wrong case, a key of another version) is silently dropped, and a file path no volume
 * mounts makes the server exit at start. Both were seen on the real server (test/server): a
 * misspelt `requireClientAuth` left the frontend accepting clients without a certificate.
 */

type Schema = "value" | { [key: string]: Schema } | { "*": Schema };

const CLIENT: Schema = { serverName: "value", disableHostVerification: "value", rootCaFiles: "value", rootCaData: "value", forceTLS: "value" };
const SERVER: Schema = { certFile: "value", keyFile: "value", clientCaFiles: "value", certData: "value", keyData: "value", clientCaData: "value", requireClientAuth: "value" };
const GROUP: Schema = { client: CLIENT, server: SERVER, hostOverrides: { "*": SERVER } };

/** The keys of `global.tls` in server 1.31.2 (common/config/config.go: RootTLS, GroupTLS, ServerTLS, ClientTLS, WorkerTLS, CertExpirationValidation). */
export const SERVER_TLS_KEYS: Schema = {
    internode: GROUP,
    frontend: GROUP,
    systemWorker: { certFile: "value", keyFile: "value", certData: "value", keyData: "value", client: CLIENT },
    remoteClusters: { "*": GROUP },
    expirationChecks: { warningWindow: "value", errorWindow: "value", checkInterval: "value" },
    refreshInterval: "value",
};

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function suggestion(key: string, known: string[]): string {
    const lower = key.toLowerCase();
    const close = known.find((k) => k.toLowerCase() === lower) ?? known.find((k) => lower.startsWith(k.toLowerCase()) || k.toLowerCase().startsWith(lower));
    return close !== undefined ? `did you mean ${close}?` : `the keys there are ${known.join(", ")}`;
}

/** Keys under `server.config.tls` that server 1.31.2 does not read (it drops them without a word). */
export function checkServerTlsKeys(values: unknown): string[] {
    const out: string[] = [];
    const walk = (value: unknown, schema: Schema, path: string) => {
        if (schema === "value" || !isMap(value)) return;
        const wildcard = (schema as { "*"?: Schema })["*"];
        for (const [key, child] of Object.entries(value)) {
            const sub = wildcard ?? (schema as Record<string, Schema>)[key];
            if (sub === undefined) {
                out.push(`values.${path}.${key} is not a key server 1.31.2 reads: it is silently ignored (${suggestion(key, Object.keys(schema))})`);
                continue;
            }
            walk(child, sub, `${path}.${key}`);
        }
    };
    walk(getPath(values, "server.config.tls"), SERVER_TLS_KEYS, "server.config.tls");
    return out;
}

/** Every file `server.config.tls` names, as [values path, file]. */
function tlsFiles(tls: unknown, path = "server.config.tls"): Array<[string, string]> {
    if (!isMap(tls)) return [];
    return Object.entries(tls).flatMap(([key, v]): Array<[string, string]> => {
        const p = `${path}.${key}`;
        if ((key === "certFile" || key === "keyFile") && typeof v === "string" && v !== "") return [[p, v]];
        if ((key === "clientCaFiles" || key === "rootCaFiles") && Array.isArray(v)) return v.filter((f): f is string => typeof f === "string" && f !== "").map((f, i) => [`${p}[${i}]`, f]);
        return tlsFiles(v, p);
    });
}

/** TLS files that no Secret or ConfigMap volume of the server Deployments mounts: the server exits at start. */
export function checkServerTlsFiles(values: unknown): string[] {
    const volumes = new Set(((getPath(values, "server.additionalVolumes") ?? []) as { name?: unknown }[]).map((v) => v.name));
    const mounts = ((getPath(values, "server.additionalVolumeMounts") ?? []) as { name?: unknown; mountPath?: unknown }[]).filter(
        (m): m is { name: string; mountPath: string } => typeof m.mountPath === "string" && volumes.has(m.name),
    );
    const mounted = mounts.map((m) => m.mountPath.replace(/\/+$/, ""));
    return tlsFiles(getPath(values, "server.config.tls"))
        .filter(([, file]) => !mounted.some((m) => file.startsWith(`${m}/`)))
        .map(
            ([path, file]) =>
                `values.${path} "${file}" lies on no volume the server mounts (server.additionalVolumeMounts: ${mounted.join(", ") || "none"}): ` +
                "the server cannot read it and exits at start; mount the Secret that holds it there, or point at a mounted path",
        );
}
