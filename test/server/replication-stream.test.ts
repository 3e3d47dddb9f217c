import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client, type Connection } from "@temporalio/client";
import { tokenMetadata } from "../../scripts/lib/live/probe";
import type { Principal } from "../upstream/plan";
import { runReplicationProbe, type ClusterShardHeaders, type ProbeAttempt, type ProbeResult } from "../upstream/replication-probe";
import type { TlsFiles } from "../upstream/server";
import { errorLines, openConnection, skip, startStackServer, tokenFor, type StackServer } from "./support";
import { getPath as at } from "../../policies/pack/checks/values";

/**
 * What `AdminService/StreamWorkflowReplicationMessages` gives a caller the v1.31.2 frontend lets in
 * without an audience check (issue 11 item 1): any client certificate of the stack's CA plus a token
 * minted for ANOTHER application whose `roles` carry `temporal-system:admin`. Measured on the real
 * server running the dev release (one cluster, local namespaces), after workflows were started in
 * both namespaces so there is history to leak.
 *
 * The caller speaks as a remote cluster's history service would (./replication-probe, the server's
 * own client/history headers). The frontend forwards the stream to the history shard named in
 * `temporal-server-shard-id`; history checks that `temporal-server-cluster-id` is its own cluster id
 * (the cluster's initialFailoverVersion), that `temporal-client-cluster-id` names a known cluster
 * (single-cluster metadata knows only itself) and that the two shard ids map onto each other, then
 * starts a stream sender: a send loop (catch-up from the reader state of that cluster-shard key,
 * then live replication tasks) and a receive loop (SyncReplicationState: the caller's ack level).
 *
 * What the measurement shows on this release: nothing is sent. With
 * `clusterMetadata.enableGlobalNamespace: false` (the chart's default, the release's value) the
 * history engine has no replication ack manager, so the send loop panics on its first call
 * (`SubscribeReplicationNotification`, a nil ack manager), recovers, retries, and the stream
 * receiver monitor stops the stream at its next 2 s tick, because the server's own cluster is not a
 * replication peer. The receive loop does run: a SyncReplicationState is applied to the shard's
 * replication queue reader state for the (cluster, shard) key the caller named.
 *
 * The measurement runs the server on the tenant-wide key set, as the release was configured before
 * the API had a signing key of its own (`tenantWideKeys`): that is where such a token verifies. The
 * last suite runs the release as it is deployed now (keySourceURIs = the API's own keys, `?appid=`)
 * and shows the same callers refused at stream start.
 */

type Values = Record<string, unknown>;

/** One attempt and what came of it, for the summary the lead quotes. */
interface Observation {
    name: string;
    result: ProbeResult;
    /** The frontend's and history's own words about the stream (message: error), in order. */
    serverSaid: string[];
    /** Bytes the server logged while the stream ran. */
    logBytes: number;
}

let s: StackServer;
const observations: Observation[] = [];
/** Workflows started with legitimate tokens before the probes, per namespace: what a leak would carry. */
const started: { namespace: string; workflowId: string; runId: string }[] = [];

const WAIT_FOR_MONITOR_MS = 6000;
const STREAM_LOG = /AdminStreamReplicationMessages|StreamSender|Replication(Stream|Service)Error|Panic is captured|service failures|Authorization error/;

/** The server's log lines about the stream, as `msg: error` (the panic's stack reduced to the frame that panicked). */
function streamLines(lines: string[]): string[] {
    return lines.flatMap((line) => {
        if (!line.startsWith("{") || !STREAM_LOG.test(line)) return [];
        const e = JSON.parse(line) as { msg?: string; error?: string; "sys-stack-trace"?: string };
        const frame = /service\/history\.\(\*historyEngineImpl\)\.(\w+)/.exec(e["sys-stack-trace"] ?? "")?.[1];
        return [`${e.msg ?? ""}${e.error ? `: ${e.error}` : ""}${frame ? ` (in historyEngineImpl.${frame})` : ""}`];
    });
}

function principal(label: string): Principal {
    const p = s.plan.principals.find((x) => x.label === label);
    assert.ok(p, `the dev access map has ${label}`);
    return p;
}

async function probe(name: string, attempt: Partial<ProbeAttempt> & Pick<ProbeAttempt, "headers">, files: TlsFiles, token: string | undefined): Promise<Observation> {
    const mark = s.server.logMark();
    const result = await runReplicationProbe({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, files, ...(token !== undefined ? { token } : {}), listenMs: WAIT_FOR_MONITOR_MS, ...attempt });
    // The stream's last log lines follow its end by a moment.
    await new Promise((r) => setTimeout(r, 150));
    const lines = s.server.logSince(mark);
    const o: Observation = { name, result, serverSaid: streamLines(lines), logBytes: lines.reduce((n, l) => n + l.length + 1, 0) };
    observations.push(o);
    return o;
}

/** A workflow started (and described) in `namespace` with the namespace's worker: the release works. */
async function startWorkflow(namespace: "payments" | "orders", prefix: string): Promise<{ workflowId: string; runId: string }> {
    const worker = principal(`worker:${namespace}-worker`);
    const token = await tokenFor(s.entra, s.plan, worker);
    const connection: Connection = await openConnection({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, files: s.files(`${namespace}/${namespace}-worker`) });
    try {
        const client = new Client({ connection, namespace });
        const workflowId = `${prefix}-${randomUUID()}`;
        const handle = await connection.withMetadata(tokenMetadata(token), () => client.workflow.start("Reconciliation", { taskQueue: namespace, workflowId, args: [{ secret: `history of ${workflowId}` }] }));
        const described = await connection.withMetadata(tokenMetadata(token), () => handle.describe());
        assert.equal(described.status.name, "RUNNING");
        started.push({ namespace, workflowId, runId: handle.firstExecutionRunId });
        return { workflowId, runId: handle.firstExecutionRunId };
    } finally {
        await connection.close();
    }
}

function nothingReceived(o: Observation): void {
    assert.deepEqual(o.result.messages, [], `${o.name}: no WorkflowReplicationMessages batch`);
    assert.equal(o.result.end.tasks, 0, `${o.name}: no replication task`);
}

describe("the replication stream with another application's temporal-system:admin token, on the real server (dev release, tenant-wide keys)", { skip }, () => {
    let ownCluster: number;
    let shards: number;
    let wrongAudience: string;
    let anyCertificate: TlsFiles;
    const own = (shard: number): ClusterShardHeaders => ({ clientCluster: ownCluster, clientShard: shard, serverCluster: ownCluster, serverShard: shard });

    before(async () => {
        s = await startStackServer("dev", { tenantWideKeys: true });
        const config = s.server.config;
        const current = String(at(config, "clusterMetadata.currentClusterName"));
        ownCluster = Number(at(config, `clusterMetadata.clusterInformation.${current}.initialFailoverVersion`));
        shards = Number(at(config, "persistence.numHistoryShards"));
        // Anyone can mint this in a tenant of their own: a role valued temporal-system:admin, for their own application.
        wrongAudience = await s.entra.appToken(randomUUID(), ["temporal-system:admin"], { aud: randomUUID() });
        // Any certificate the stack's CA issued: a worker's.
        anyCertificate = s.files("payments/payments-worker");
        for (const namespace of ["payments", "orders"] as const) for (let i = 0; i < 4; i++) await startWorkflow(namespace, "before-probe");
    });

    after(async () => {
        await s?.stop();
        const rows = observations.map((o) => {
            const r = o.result;
            const got = `${r.end.how}${r.end.code ? ` ${r.end.code}` : ""}${r.end.message ? ` "${r.end.message}"` : ""} after ${r.end.ms} ms, ${r.messages.length} messages, ${r.end.tasks} tasks`;
            const sent = r.sent.length ? `; sent ${r.sent.map((x) => `${x.tiered ? "tiered " : ""}SyncReplicationState(${x.inclusiveLowWatermark})`).join(", ")}` : "";
            const said = [...new Set(o.serverSaid)].join(" | ");
            return `  ${o.name}: ${got}${sent}; server log ${o.logBytes} bytes: ${said}`;
        });
        console.log(`StreamWorkflowReplicationMessages on Temporal server ${s?.server.version ?? "?"} (dev release; ${started.length} workflows started first):\n${rows.join("\n")}`);
    });

    it("the release runs one cluster without global namespaces: what the measurement depends on", () => {
        assert.equal(at(s.server.config, "clusterMetadata.enableGlobalNamespace"), false, "with global namespaces the history engine has a replication ack manager and the stream can send tasks: measure again");
        assert.deepEqual(Object.keys(at(s.server.config, "clusterMetadata.clusterInformation") as Values), [String(at(s.server.config, "clusterMetadata.currentClusterName"))]);
        assert.equal(ownCluster, 1);
        assert.equal(shards, 4);
    });

    it("gets past the authorizer on every shard of the server's own cluster, and receives nothing: no batch, no watermark, no task", async () => {
        for (let shard = 1; shard <= shards; shard++) {
            const o = await probe(`own cluster ${ownCluster}, shard ${shard}`, { headers: own(shard) }, anyCertificate, wrongAudience);
            nothingReceived(o);
            // Ended by the server (status OK), well before the probe's own deadline: the receiver monitor's 2 s tick.
            assert.equal(o.result.end.how, "closed-by-server", `${o.name}: ${JSON.stringify(o.result.end)}`);
            assert.equal(o.result.end.code, "OK");
            assert.ok(o.result.end.ms < WAIT_FOR_MONITOR_MS - 1000, `${o.name}: ended after ${o.result.end.ms} ms`);
            // The server's own account: authorized, a stream sender started, its send loop panicked before sending, the sender stopped.
            assert.equal(o.serverSaid[0], "AdminStreamReplicationMessages started.", o.serverSaid.join("\n"));
            assert.ok(!o.serverSaid.some((l) => l.startsWith("Authorization error")), o.serverSaid.join("\n"));
            assert.ok(o.serverSaid.includes("StreamSender started."), o.serverSaid.join("\n"));
            assert.ok(o.serverSaid.includes("Panic is captured: runtime error: invalid memory address or nil pointer dereference (in historyEngineImpl.SubscribeReplicationNotification)"), o.serverSaid.join("\n"));
            assert.ok(o.serverSaid.includes("ReplicationServiceError: runtime error: invalid memory address or nil pointer dereference"), o.serverSaid.join("\n"));
            assert.ok(o.serverSaid.includes("StreamSender stopped."), o.serverSaid.join("\n"));
        }
    });

    it("still nothing while workflows run: a stream open while the namespaces' workers start workflows", async () => {
        const streams = Promise.all([1, 2, 3, 4].slice(0, shards).map((shard) => probe(`live (4 streams at once, one log) shard ${shard} while 6 workflows start`, { headers: own(shard) }, anyCertificate, wrongAudience)));
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < 3; i++) {
            await startWorkflow("payments", "during-probe");
            await startWorkflow("orders", "during-probe");
        }
        for (const o of await streams) {
            nothingReceived(o);
            assert.equal(o.result.end.how, "closed-by-server", `${o.name}: ${JSON.stringify(o.result.end)}`);
        }
    });

    it("every other cluster-shard key is refused by history before a stream sender exists (and still ends with status OK)", async () => {
        const cases: [string, ProbeAttempt["headers"], { how: string; code: string; message: string }, string][] = [
            ["an unknown client cluster (2)", { ...own(1), clientCluster: 2 }, { how: "closed-by-server", code: "OK", message: "" }, "AdminStreamReplicationMessages server -> client encountered error: unknown cluster ID: 2"],
            ["another server cluster (2)", { ...own(1), serverCluster: 2 }, { how: "closed-by-server", code: "OK", message: "" }, "AdminStreamReplicationMessages server -> client encountered error: wrong cluster: target: 2, current: 1"],
            ["shard 0", own(0), { how: "failed", code: "Unknown", message: "Invalid ShardID: 0" }, "AdminStreamReplicationMessages stopped."],
            [`shard ${shards + 1} (beyond numHistoryShards)`, own(shards + 1), { how: "closed-by-server", code: "OK", message: "" }, "AdminStreamReplicationMessages server -> client encountered error: shard Id cannot be larger than max shard count"],
            ["client shard 1 to server shard 2", { ...own(1), serverShard: 2 }, { how: "closed-by-server", code: "OK", message: "" }, `AdminStreamReplicationMessages server -> client encountered error: shard ID mapping verification failed; shard count: ${shards} vs ${shards}, shard ID: 1 vs 2`],
            ["no cluster-shard headers", "none", { how: "failed", code: "Unknown", message: "missing cluster & shard ID metadata" }, ""],
        ];
        for (const [name, headers, end, said] of cases) {
            const o = await probe(name, { headers }, anyCertificate, wrongAudience);
            nothingReceived(o);
            assert.deepEqual({ how: o.result.end.how, code: o.result.end.code, message: o.result.end.message }, end, name);
            if (said) assert.ok(o.serverSaid.includes(said), `${name}:\n${o.serverSaid.join("\n")}`);
            assert.ok(!o.serverSaid.includes("StreamSender started."), `${name}: no stream sender`);
        }
    });

    it("a legitimate temporal-system:admin token (this API's audience) gets exactly the same: nothing", async () => {
        const admins = s.plan.principals.find((p) => p.roles.includes("temporal-system:admin"));
        assert.ok(admins, "the dev access map grants temporal-system:admin");
        const o = await probe("this API's temporal-system:admin token, shard 1", { headers: own(1) }, s.files(`${s.plan.release.namespace}/temporal-web-tls`), await tokenFor(s.entra, s.plan, admins));
        nothingReceived(o);
        assert.equal(o.result.end.how, "closed-by-server");
        assert.ok(o.serverSaid.includes("Panic is captured: runtime error: invalid memory address or nil pointer dereference (in historyEngineImpl.SubscribeReplicationNotification)"));
    });

    it("SyncReplicationState: the caller sets the shard's replication reader state for its key; a malformed one ends the stream; the server keeps working", async () => {
        // Watermark 0: "I have nothing; resend everything"; 2^53-1: "I have everything up to far
        // beyond the queue". Both are taken without a word (the receive loop runs though the send loop panics):
        // UpdateReplicationQueueReaderState (in memory; written to the shards table with the next
        // shard-info update) and UpdateRemoteReaderInfo for the named cluster-shard key.
        for (const [shard, watermark] of [
            [1, 0],
            [2, Number.MAX_SAFE_INTEGER],
        ] as const) {
            const o = await probe(`SyncReplicationState(${watermark}) on shard ${shard}`, { headers: own(shard), sync: [watermark] }, anyCertificate, wrongAudience);
            nothingReceived(o);
            assert.deepEqual(
                o.result.sent.map((x) => x.error ?? "sent"),
                ["sent"],
            );
            assert.ok(!o.serverSaid.some((l) => /SyncReplicationState/.test(l)), `${o.name}: the server said\n${o.serverSaid.join("\n")}`);
            assert.equal(o.result.end.how, "closed-by-server");
        }
        // The tiered shape while the server runs the single stack: the receive loop refuses it and the stream ends at once.
        const tiered = await probe("tiered SyncReplicationState(0) on shard 3", { headers: own(3), sync: [{ tiered: 0 }] }, anyCertificate, wrongAudience);
        nothingReceived(tiered);
        assert.ok(tiered.serverSaid.includes("ReplicationStreamError: streamSender unable to handle SyncReplicationState: StreamError: streamSender encountered unsupported SyncReplicationState | GRPC Error: <nil>"), tiered.serverSaid.join("\n"));
        assert.equal(tiered.result.end.how, "closed-by-server");

        // The same keys again: still nothing (the send loop never reaches the catch-up that would read the reader state).
        for (const shard of [1, 2]) nothingReceived(await probe(`shard ${shard} after its SyncReplicationState`, { headers: own(shard) }, anyCertificate, wrongAudience));

        // The server works normally: the workflows started before are there, and a new one starts in each namespace.
        const worker = principal("worker:payments-worker");
        const token = await tokenFor(s.entra, s.plan, worker);
        const connection = await openConnection({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, files: s.files("payments/payments-worker") });
        try {
            for (const w of started.filter((x) => x.namespace === "payments")) {
                const d = await connection.withMetadata(tokenMetadata(token), () => connection.workflowService.describeWorkflowExecution({ namespace: "payments", execution: { workflowId: w.workflowId, runId: w.runId } }));
                assert.equal(d.workflowExecutionInfo?.execution?.runId, w.runId);
            }
        } finally {
            await connection.close();
        }
        await startWorkflow("payments", "after-probe");
        await startWorkflow("orders", "after-probe");
        assert.equal(errorLines(s.server.log().split("\n")).filter((l) => /fatal/i.test(l)).length, 0);
    });

    it("this API's token without the system role is refused; without a client certificate the handshake is refused", async () => {
        const o = await probe("payments-worker's token (this API, payments:write)", { headers: own(1) }, anyCertificate, await tokenFor(s.entra, s.plan, principal("worker:payments-worker")));
        nothingReceived(o);
        assert.deepEqual({ how: o.result.end.how, code: o.result.end.code, message: o.result.end.message }, { how: "failed", code: "Unknown", message: "Request unauthorized." });
        assert.ok(!o.serverSaid.includes("AdminStreamReplicationMessages started."), o.serverSaid.join("\n"));

        const mark = s.server.logMark();
        const bare = await probe("no client certificate (the admin token of another application)", { headers: own(1), clientCertificate: false }, anyCertificate, wrongAudience);
        nothingReceived(bare);
        assert.equal(bare.result.end.how, "open-failed");
        assert.equal(bare.result.end.code, "Unavailable");
        assert.ok(errorLines(s.server.logSince(mark)).includes("handshake failed: tls: client didn't provide a certificate"), s.server.logSince(mark).join("\n"));
    });
});

describe("the replication stream on the release as deployed (the API's own signing key): other applications' and tenants' tokens are refused", { skip }, () => {
    let d: StackServer;
    let ownHeaders: ClusterShardHeaders;
    const lines: string[] = [];

    before(async () => {
        d = await startStackServer("dev");
        const current = String(at(d.server.config, "clusterMetadata.currentClusterName"));
        const id = Number(at(d.server.config, `clusterMetadata.clusterInformation.${current}.initialFailoverVersion`));
        ownHeaders = { clientCluster: id, clientShard: 1, serverCluster: id, serverShard: 1 };
    });
    after(async () => {
        await d?.stop();
        console.log(`StreamWorkflowReplicationMessages with the API's own keys (keySourceURIs ${JSON.stringify(d?.plan.values && at(d.plan.values, "server.config.authorization.jwtKeyProvider.keySourceURIs"))}):\n${lines.join("\n")}`);
    });

    async function attempt(name: string, token: string): Promise<{ end: ProbeResult["end"]; said: string[] }> {
        const mark = d.server.logMark();
        const result = await runReplicationProbe({ address: d.server.addresses.frontend, serverName: d.server.serverNames.frontend, files: d.files("payments/payments-worker"), token, listenMs: WAIT_FOR_MONITOR_MS, headers: ownHeaders });
        await new Promise((r) => setTimeout(r, 150));
        const said = [...new Set(errorLines(d.server.logSince(mark)))];
        lines.push(`  ${name}: ${result.end.how} ${result.end.code ?? ""} "${result.end.message ?? ""}"; server: ${said.join(" | ") || "nothing at error level"}`);
        assert.deepEqual(result.messages, [], `${name}: nothing received`);
        return { end: result.end, said };
    }

    it("the release names only the API's own key set", () => {
        const uris = at(d.plan.values, "server.config.authorization.jwtKeyProvider.keySourceURIs") as string[];
        assert.deepEqual(uris, [`https://login.microsoftonline.com/${d.entra.tenantId}/discovery/v2.0/keys?appid=${d.entra.apiClientId}`]);
    });

    it("another application's token carrying temporal-system:admin: refused at stream start (its key is not the API's)", async () => {
        const r = await attempt("another application's temporal-system:admin token", await d.entra.appToken(randomUUID(), ["temporal-system:admin"], { aud: randomUUID() }));
        assert.deepEqual({ how: r.end.how, code: r.end.code, message: r.end.message }, { how: "failed", code: "Unknown", message: "Request unauthorized." });
        assert.ok(r.said.some((l) => /^Authorization error: .*(kid|key)/i.test(l)), r.said.join("\n"));
    });

    it("another tenant's token carrying temporal-system:admin, even with this API's client id as audience: refused", async () => {
        const other = randomUUID();
        const r = await attempt("another tenant's token for this API's client id", await d.entra.appToken(randomUUID(), ["temporal-system:admin"], { iss: d.entra.issuer(other), tid: other }));
        assert.deepEqual({ how: r.end.how, code: r.end.code, message: r.end.message }, { how: "failed", code: "Unknown", message: "Request unauthorized." });
    });

    it("this API's token carrying temporal-system:admin still opens it (and gets nothing on one cluster): the role is the remaining gate", async () => {
        const admins = d.plan.principals.find((p) => p.roles.includes("temporal-system:admin"));
        assert.ok(admins);
        const r = await attempt("this API's temporal-system:admin token", await tokenFor(d.entra, d.plan, admins));
        assert.equal(r.end.how, "closed-by-server", JSON.stringify(r.end));
        assert.ok(!r.said.some((l) => l.startsWith("Authorization error")), r.said.join("\n"));
    });
});
