import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { UPSTREAM_BINARIES } from "./binaries";
import { goBinary } from "./go";
import { spawnOwned, stopOwned } from "./process";
import type { TlsFiles } from "./server";

/**
 * The one place that runs the replication-stream probe (./replication-probe/main.go): one
 * `AdminService/StreamWorkflowReplicationMessages` stream per run, opened with the cluster-shard
 * headers of the server's own history client, and everything it gave, parsed.
 */

/** The cluster-shard headers (`temporal-{client,server}-{cluster,shard}-id`); cluster ids are clusters' initialFailoverVersion. */
export interface ClusterShardHeaders {
    clientCluster: number;
    clientShard: number;
    serverCluster: number;
    serverShard: number;
}

export interface ProbeAttempt {
    address: string;
    serverName: string;
    /** `ca` is the trust bundle; `cert`/`key` are presented unless `clientCertificate` is false. */
    files: TlsFiles;
    clientCertificate?: boolean;
    /** Bearer token (handed over on standard input, never as an argument). */
    token?: string;
    /** "none": send no cluster-shard header at all. */
    headers: ClusterShardHeaders | "none";
    /** SyncReplicationState messages sent once the first batch arrived: a watermark, or the tiered shape. */
    sync?: (number | { tiered: number })[];
    /** How long the stream is kept open (default 2000). */
    listenMs?: number;
}

export interface ProbeTask {
    taskType: string;
    sourceTaskId: number;
    namespaceIds: string[];
    workflowIds: string[];
    runIds: string[];
    bytes: number;
}

export interface ProbeMessage {
    ms: number;
    exclusiveHighWatermark: number;
    exclusiveHighWatermarkTime: string;
    priority: string;
    tasks: ProbeTask[];
}

export interface ProbeEnd {
    ms: number;
    /** "still-open": the listen time ended first; "closed-by-server": status OK; "failed": a non-OK status; "open-failed": the stream never opened. */
    how: "still-open" | "closed-by-server" | "failed" | "open-failed";
    code: string;
    message: string;
    messages: number;
    tasks: number;
}

export interface ProbeResult {
    messages: ProbeMessage[];
    sent: { ms: number; inclusiveLowWatermark: number; tiered: boolean; error?: string }[];
    end: ProbeEnd;
}

async function probePath(): Promise<string> {
    return (await goBinary(UPSTREAM_BINARIES.replicationProbe)).path;
}

/** Runs one stream; the TLS files go to a private temporary folder removed afterwards. */
export async function runReplicationProbe(attempt: ProbeAttempt): Promise<ProbeResult> {
    const binary = await probePath();
    const dir = mkdtempSync(join(tmpdir(), "replication-probe-"));
    chmodSync(dir, 0o700);
    try {
        const file = (name: string, text: string) => {
            const p = join(dir, name);
            writeFileSync(p, text, { mode: 0o600 });
            return p;
        };
        const listenMs = attempt.listenMs ?? 2000;
        const args = ["-address", attempt.address, "-server-name", attempt.serverName, "-ca", file("ca.crt", attempt.files.ca), "-listen", `${listenMs}ms`];
        if (attempt.clientCertificate !== false) args.push("-cert", file("tls.crt", attempt.files.cert), "-key", file("tls.key", attempt.files.key));
        if (attempt.token !== undefined) args.push("-token-stdin");
        if (attempt.headers === "none") args.push("-no-shard-headers");
        else {
            const h = attempt.headers;
            args.push("-client-cluster", String(h.clientCluster), "-client-shard", String(h.clientShard), "-server-cluster", String(h.serverCluster), "-server-shard", String(h.serverShard));
        }
        for (const s of attempt.sync ?? []) args.push("-sync", typeof s === "number" ? String(s) : `tiered:${s.tiered}`);

        const child = spawnOwned(binary, args);
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(attempt.token ?? "");
        let stderr = "";
        child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
        const result: ProbeResult = { messages: [], sent: [], end: undefined as unknown as ProbeEnd };
        const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
        lines.on("line", (line) => {
            const e = JSON.parse(line) as { event: string } & Record<string, unknown>;
            if (e.event === "message") result.messages.push(e as unknown as ProbeMessage);
            else if (e.event === "sent") result.sent.push(e as unknown as ProbeResult["sent"][number]);
            else if (e.event === "end") result.end = e as unknown as ProbeEnd;
            else if (e.event === "error") stderr += String(e.message);
        });
        const timer = setTimeout(() => void stopOwned(child, 1_000), listenMs + 15_000);
        const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
        clearTimeout(timer);
        if (code !== 0 || !result.end) throw new Error(`replication-probe exited with ${code ?? "a signal"}: ${stderr.trim()}`);
        return result;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
