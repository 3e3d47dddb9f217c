import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { TRUST_BUNDLES_ANNOTATION } from "../../infra/temporal/values";
import { checkTls, type TlsCheck } from "../../scripts/lib/live/tls-check";
import { tokenMetadata } from "../../scripts/lib/live/probe";
import { planStack, type PlannedStack } from "../upstream/plan";
import type { TlsFiles } from "../upstream/server";
import { errorLines, material, openConnection, secretFiles, skip, startStackServer, tokenFor, type StackServer } from "./support";

/**
 * Certificate renewal and CA rotation against the running server, with the Secrets each `pulumi up`
 * plans (successive plans keep unchanged keys and certificates, as Pulumi does), written into the
 * server's volumes as kubelet writes an updated Secret. The server reloads its files every
 * `refreshInterval` (shortened for the test, the one test-only substitution): no restart.
 */

const REFRESH = "1s";
const RELOAD_WAIT_MS = 3_000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

let s: StackServer;
const ns = () => s.plan.release.namespace;

/** The certificate a listener serves (fingerprint and issuer), over a fresh connection. */
function served(address: string, serverName: string, files: TlsFiles): Promise<{ fingerprint: string; issuer: string }> {
    const [host, port] = address.split(":");
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host, port: Number(port), servername: serverName, ca: files.ca, cert: files.cert, key: files.key, ALPNProtocols: ["h2"], rejectUnauthorized: false }, () => {
            const cert = socket.getPeerX509Certificate();
            socket.destroy();
            if (!cert) reject(new Error("no certificate"));
            else resolve({ fingerprint: cert.fingerprint256, issuer: cert.issuer.split("\n").find((l) => l.startsWith("CN=")) ?? cert.issuer });
        });
        socket.on("error", reject);
    });
}

const trustAnnotation = (plan: PlannedStack) => ((plan.values.server as { podAnnotations?: Record<string, string> }).podAnnotations ?? {})[TRUST_BUNDLES_ANNOTATION];
const leafOf = (pem: string) => new X509Certificate(pem.match(PEM_CERT)![0]!);
const caNames = (pem: string) => (pem.match(PEM_CERT) ?? []).map((c) => new X509Certificate(c).subject.split("\n").find((l) => l.startsWith("CN="))!.slice(3));

/** The server's two Secrets of a plan, written where kubelet would. */
function rollSecrets(plan: PlannedStack): void {
    s.server.updateSecret("internode-tls", plan.secrets[`${ns()}/temporal-internode-tls`]!);
    s.server.updateSecret("frontend-tls", plan.secrets[`${ns()}/temporal-frontend-tls`]!);
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    for (;;) {
        if (await check()) return Date.now() - started;
        if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/**
 * Workers calling the frontend over NEW connections (a TLS handshake each time) while the rotation
 * runs: one with the material of the current step, one lagging a step behind (a pod that has not
 * reloaded its Secret yet). The three-step procedure promises both always work.
 */
class Callers {
    current!: TlsFiles;
    lagging!: TlsFiles;
    calls = 0;
    failures: string[] = [];
    private running = false;
    private loop?: Promise<void>;
    constructor(private readonly token: string) {}

    start(): void {
        this.running = true;
        this.loop = (async () => {
            while (this.running) {
                for (const [who, files] of [["current", this.current], ["lagging", this.lagging]] as const) {
                    try {
                        // The handshake alone first: grpc-js would quietly retry a refused one.
                        const handshake = await checkTls({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, serverNameSource: "test", tls: material(files, who) });
                        if (!handshake.ok) throw new Error(`TLS ${handshake.kind}: ${handshake.message}`);
                        const connection = await openConnection({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, files });
                        try {
                            await connection.withMetadata(tokenMetadata(this.token), () => connection.workflowService.describeNamespace({ namespace: "payments" }));
                        } finally {
                            await connection.close();
                        }
                        this.calls++;
                    } catch (err) {
                        this.failures.push(`${who} (${leafOf(files.cert).issuer.split("\n").pop()}): ${(err as Error).message} ${String((err as { cause?: Error }).cause?.message ?? "")}`);
                    }
                }
                await new Promise((r) => setTimeout(r, 150));
            }
        })();
    }

    async stop(): Promise<void> {
        this.running = false;
        await this.loop;
    }

    /** The next step's material reaches the callers (the previous step's becomes the lagging one), between two rounds of calls. */
    async advance(files: TlsFiles): Promise<void> {
        await this.stop();
        this.lagging = this.current;
        this.current = files;
        this.start();
    }
}

describe("renewal and CA rotation on the running server", { skip }, () => {
    let plan0: PlannedStack;
    before(async () => {
        plan0 = await planStack({ stack: "dev" });
        s = await startStackServer(plan0, { refreshInterval: REFRESH });
    });
    after(async () => {
        await s?.stop();
    });

    it("uses the test-only substitution, and only it, for the short reload interval", () => {
        assert.equal(((s.server.config.global as { tls: { refreshInterval: string } }).tls).refreshInterval, REFRESH);
        assert.equal((plan0.values.server as { config: { tls: { refreshInterval: string } } }).config.tls.refreshInterval, "1m", "the release reloads every minute");
    });

    let renewed: PlannedStack;
    it("a scheduled pulumi up inside the renewal window reissues every leaf; the server serves the renewed ones within refreshInterval, without a restart", async () => {
        const pki = plan0.raw.pki as { leafValidityDays: number; earlyRenewalHours: number };
        const renewAt = new Date(Date.now() + (pki.leafValidityDays * 24 - pki.earlyRenewalHours + 1) * 3600_000);
        renewed = await planStack({ stack: "dev", prior: plan0, renewAt: renewAt.toISOString() });
        const frontend0 = leafOf(plan0.secrets[`${ns()}/temporal-frontend-tls`]!["tls.crt"]!);
        const frontend1 = leafOf(renewed.secrets[`${ns()}/temporal-frontend-tls`]!["tls.crt"]!);
        const internode1 = leafOf(renewed.secrets[`${ns()}/temporal-internode-tls`]!["tls.crt"]!);
        assert.notEqual(frontend1.fingerprint256, frontend0.fingerprint256, "the frontend leaf is reissued");
        assert.ok(frontend1.publicKey.equals(frontend0.publicKey), "with the same key, as @pulumi/tls renews a LocallySignedCert");
        assert.deepEqual(caNames(renewed.secrets[`${ns()}/temporal-frontend-tls`]!["ca.crt"]!), caNames(plan0.secrets[`${ns()}/temporal-frontend-tls`]!["ca.crt"]!), "the CAs stay");
        assert.equal(renewed.secrets[`${ns()}/temporal-frontend-tls`]!["ca.crt"], plan0.secrets[`${ns()}/temporal-frontend-tls`]!["ca.crt"]);

        const web = secretFiles(renewed, `${ns()}/temporal-web-tls`);
        const internodeFiles = secretFiles(renewed, `${ns()}/temporal-internode-tls`);
        const pid = s.server.pid;
        assert.equal((await served(s.server.addresses.frontend, s.server.serverNames.frontend, web)).fingerprint, frontend0.fingerprint256);
        rollSecrets(renewed);
        const frontendMs = await until("the frontend serves the renewed leaf", 10_000, async () => (await served(s.server.addresses.frontend, s.server.serverNames.frontend, web)).fingerprint === frontend1.fingerprint256);
        const internalMs = await until("the internal frontend serves the renewed internode leaf", 10_000, async () => (await served(s.server.addresses.internalFrontend!, s.server.serverNames.internode, internodeFiles)).fingerprint === internode1.fingerprint256);
        console.log(`renewed leaves served after ${frontendMs} ms (frontend) and ${internalMs} ms (internal frontend), refreshInterval ${REFRESH}, same process ${pid}`);
        assert.equal(s.server.pid, pid);
        assert.equal(await Promise.race([s.server.exited().then(() => "exited"), Promise.resolve("running")]), "running");
    });

    it("the three-step CA rotation: the pods roll when the trusted CAs change, no call fails at any step, and after step 3 certificates of the retired CA are refused", async () => {
        const pki = plan0.raw.pki as { cas: Record<string, unknown>[] };
        const next = { id: "2027", commonName: "Temporal dev CA 2027", organization: "Contoso Platform" };
        const pkiConfig = (cas: Record<string, unknown>[], issuer?: string) => ({ "temporal-azure:pki": { ...(plan0.raw.pki as object), cas, ...(issuer ? { issuer } : {}) } });
        // Three pulumi ups, each from the state the previous one left.
        const step1 = await planStack({ stack: "dev", prior: renewed, config: pkiConfig([...pki.cas, next]) });
        const step2 = await planStack({ stack: "dev", prior: step1, config: pkiConfig([...pki.cas, next], "2027") });
        const step3 = await planStack({ stack: "dev", prior: step2, config: pkiConfig([next], "2027") });
        const frontendSecret = (plan: PlannedStack) => plan.secrets[`${ns()}/temporal-frontend-tls`]!;
        const internodeSecret = (plan: PlannedStack) => plan.secrets[`${ns()}/temporal-internode-tls`]!;
        const workerFiles = (plan: PlannedStack) => secretFiles(plan, "payments/payments-worker");
        const internode = (plan: PlannedStack) => secretFiles(plan, `${ns()}/temporal-internode-tls`);
        const rolls = (a: PlannedStack, b: PlannedStack) => trustAnnotation(a) !== trustAnnotation(b);

        assert.equal(frontendSecret(step1)["tls.crt"], frontendSecret(renewed)["tls.crt"], "step 1 reissues nothing");
        assert.deepEqual(caNames(frontendSecret(step1)["ca.crt"]!), ["Temporal dev CA 2026", "Temporal dev CA 2027", "Temporal dev CA 2026 internode", "Temporal dev CA 2027 internode"]);
        assert.deepEqual(caNames(internodeSecret(step1)["ca.crt"]!), ["Temporal dev CA 2026 internode", "Temporal dev CA 2027 internode"]);
        assert.match(leafOf(frontendSecret(step2)["tls.crt"]!).issuer, /CN=Temporal dev CA 2027$/);
        assert.match(leafOf(internodeSecret(step2)["tls.crt"]!).issuer, /CN=Temporal dev CA 2027 internode$/);
        assert.equal(frontendSecret(step2)["ca.crt"], frontendSecret(step1)["ca.crt"], "step 2 keeps step 1's CAs");
        assert.deepEqual(caNames(frontendSecret(step3)["ca.crt"]!), ["Temporal dev CA 2027", "Temporal dev CA 2027 internode"]);
        assert.equal(frontendSecret(step3)["tls.crt"], frontendSecret(step2)["tls.crt"], "step 3 reissues nothing");
        // What rolls the server pods: a change of the trusted CAs (steps 1 and 3), not a new leaf (renewal, step 2).
        assert.deepEqual([rolls(plan0, renewed), rolls(renewed, step1), rolls(step1, step2), rolls(step2, step3)], [false, true, false, true]);

        const worker = s.plan.principals.find((p) => p.label === "worker:payments-worker")!;
        const callers = new Callers(await tokenFor(s.entra, s.plan, worker));
        callers.current = workerFiles(renewed);
        callers.lagging = workerFiles(renewed);
        const mark = s.server.logMark();
        const newCaClient = { ...workerFiles(step2), ca: workerFiles(step1).ca };
        const frontendCheck = (files: TlsFiles, what: string) => checkTls({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, serverNameSource: "test", tls: material(files, what) });
        const outcome = (c: TlsCheck) => (c.ok ? "accepted" : c.kind);
        const restarts: number[] = [];
        /** The pods roll (here: the one process restarts; callers wait, as the cluster's clients go to the other replicas). */
        const roll = async () => {
            await callers.stop();
            restarts.push(await s.server.restart());
            callers.start();
        };
        callers.start();
        try {
            // Step 1: every bundle gains the next CA; nothing is reissued.
            await callers.advance(workerFiles(step1));
            rollSecrets(step1);
            await new Promise((r) => setTimeout(r, RELOAD_WAIT_MS));
            // Without a restart, server 1.31.2 has not taken up the appended CA (temporalio/temporal#11230): a
            // certificate of the next CA is still refused after three reload intervals. Hence the roll.
            const beforeRoll = await frontendCheck(newCaClient, "a worker certificate of the next CA");
            assert.equal(outcome(beforeRoll), "client-certificate-rejected", "server 1.31.2 took up an appended CA without a restart: the roll may no longer be needed");
            await roll();
            assert.equal(outcome(await frontendCheck(newCaClient, "a worker certificate of the next CA")), "accepted");

            // Step 2: the next CA issues every leaf; the server reloads them (no roll).
            await callers.advance(workerFiles(step2));
            rollSecrets(step2);
            await until("the frontend serves the leaf of the next CA", 10_000, async () => (await served(s.server.addresses.frontend, s.server.serverNames.frontend, workerFiles(step2))).issuer === "CN=Temporal dev CA 2027");
            await new Promise((r) => setTimeout(r, RELOAD_WAIT_MS));
            // A client that skipped step 1 (its bundle lacks the next CA) cannot verify the frontend any more: why step 1 comes first.
            assert.equal(outcome(await frontendCheck(workerFiles(plan0), "a worker still on the bundle of before step 1")), "server-untrusted");

            // Step 3: the old CA is retired everywhere.
            await callers.advance(workerFiles(step3));
            rollSecrets(step3);
            await new Promise((r) => setTimeout(r, RELOAD_WAIT_MS));
            await roll();
            await new Promise((r) => setTimeout(r, RELOAD_WAIT_MS));
            await callers.stop();

            console.log(`CA rotation: ${callers.calls} calls over new connections (each step's material and the previous step's), ${callers.failures.length} failed; pods rolled twice (${restarts.join(" ms, ")} ms until both frontends answered)`);
            assert.deepEqual(callers.failures, []);
            assert.ok(callers.calls >= 40, `only ${callers.calls} calls`);

            // After step 3: the retired CA's certificates are refused, the new ones accepted.
            const retiredWorker = await frontendCheck({ ...workerFiles(step1), ca: workerFiles(step3).ca }, "the worker certificate of step 1 (retired CA)");
            assert.equal(outcome(retiredWorker), "client-certificate-rejected");
            const internalFrontend = (files: TlsFiles, what: string) =>
                checkTls({ address: s.server.addresses.internalFrontend!, serverName: s.server.serverNames.internode, serverNameSource: "test", tls: material(files, what) });
            assert.equal(outcome(await internalFrontend({ ...internode(step1), ca: internode(step3).ca }, "the internode certificate of step 1 (retired CA)")), "client-certificate-rejected");
            assert.equal(outcome(await internalFrontend(internode(step3), "the internode certificate of step 3")), "accepted");
            const said = errorLines(s.server.logSince(mark));
            const unknownAuthority = said.filter((l) => /unknown authority/.test(l));
            // The one refusal before the roll of step 1, and the two retired certificates.
            assert.equal(unknownAuthority.length, 3, said.join("\n"));
            assert.deepEqual(said.filter((l) => /tls|x509|certificate/i.test(l) && !/unknown authority/.test(l)), [], "no other TLS failure on the server");
            console.log(`after step 3, the retired CA's certificates: client ${outcome(retiredWorker)}; server: ${unknownAuthority.at(-1)}`);
        } finally {
            await callers.stop();
        }
    });
});
