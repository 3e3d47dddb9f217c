import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runVerifyLive } from "../../scripts/lib/live/run";
import { planStack, type PlannedStack } from "../upstream/plan";
import { runVerifyLiveCli } from "../live/support/cli";
import { secretFiles, skip, startStackServer, tokenFor, uiClientId, type StackServer } from "./support";

/**
 * `verify:live` against the real server, as an operator runs it with a port-forward: the stack's
 * outputs (the JWKS URL being the test's, as the `jwks` substitution has it), the worker's
 * certificate files as `kubectl get secret` gives them, a token as Entra issues it on standard
 * input, and `--address` pointing at the forwarded frontend. Every expected outcome matches; a
 * server whose authorization drifted from the stack is reported as a MISMATCH.
 */

type Values = Record<string, unknown>;

let plan: PlannedStack;
let dir: string;

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    report: { verdict: { exitCode: number; summary: string; problems: string[] }; probes: { name: string; predicted: { decision: string }; observed: { decision: string; status: string }; match: boolean }[] };
}

function outputsFile(s: StackServer): string {
    const file = join(dir, `outputs-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify({ ...s.plan.outputs, jwksUrl: s.entra.jwksUrl }, null, 2));
    return file;
}

function workerFiles(worker: string): string[] {
    const w = (plan.raw.workers as { name: string; kubernetesNamespace: string }[]).find((x) => x.name === worker)!;
    const files = secretFiles(plan, `${w.kubernetesNamespace}/${w.name}`);
    const base = join(dir, worker);
    writeFileSync(`${base}-ca.crt`, files.ca);
    writeFileSync(`${base}-tls.crt`, files.cert);
    writeFileSync(`${base}-tls.key`, files.key, { mode: 0o600 });
    return ["--tls-ca", `${base}-ca.crt`, "--tls-cert", `${base}-tls.crt`, "--tls-key", `${base}-tls.key`];
}

/** verify-live's CLI function in this process (what scripts/verify-live.ts binds to the process). */
async function verify(s: StackServer, args: string[], token: string): Promise<Run> {
    let stdout = "";
    let stderr = "";
    const argv = ["--outputs", outputsFile(s), "--address", s.server.addresses.frontend, "--token", "-", "--json", ...args];
    const code = await runVerifyLive(argv, { stdin: Readable.from([`${token}\n`]), stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
    return { code, stdout, stderr, report: JSON.parse(stdout) as Run["report"] };
}

const principal = (label: string) => {
    const p = plan.principals.find((x) => x.label === label);
    assert.ok(p, label);
    return p;
};

describe("verify:live against the real server", { skip }, () => {
    before(async () => {
        plan = await planStack({ stack: "dev" });
        dir = mkdtempSync(join(tmpdir(), "verify-live-server-"));
    });
    after(() => {
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    describe("the release as planned", () => {
        let s: StackServer;
        before(async () => {
            s = await startStackServer(plan);
        });
        after(async () => {
            await s?.stop();
        });

        it("each worker: every probe matches the validator and the worker's own namespace is open (exit 0)", async () => {
            // The payments worker through the real CLI, as `npm run verify:live` runs it...
            const paymentsToken = await tokenFor(s.entra, plan, principal("worker:payments-worker"));
            const run = await runVerifyLiveCli(["--outputs", outputsFile(s), "--as", "worker:payments-worker", "--address", s.server.addresses.frontend, "--token", "-", ...workerFiles("payments-worker")], `${paymentsToken}\n`);
            assert.equal(run.code, 0, run.stdout + run.stderr);
            assert.match(run.stdout, /result: all 5 probes match the validator's prediction/);
            assert.match(run.stdout, /SignalWorkflowExecution\s+write\s+payments\s+allow\s+allow \(NOT_FOUND\)\s+match/);
            assert.equal(run.stdout.includes(paymentsToken) || run.stderr.includes(paymentsToken), false, "the token is never printed");
            // ...and the orders worker through the same code in this process.
            const orders = await verify(s, ["--as", "worker:orders-worker", ...workerFiles("orders-worker")], await tokenFor(s.entra, plan, principal("worker:orders-worker")));
            assert.equal(orders.code, 0, orders.stdout);
            assert.deepEqual(
                orders.report.probes.map((p) => `${p.name}:${p.observed.decision}:${p.match}`),
                ["DescribeNamespace:allow:true", "DescribeWorkflowExecution:allow:true", "SignalWorkflowExecution:allow:true", "ListNamespaces:deny:true", "ListClusters:deny:true"],
            );
        });

        it("a user through the UI, a cluster admin, and a token for another application: every probe matches", async () => {
            const alice = await verify(s, ["--as", "user", "--namespace", "payments", ...workerFiles("payments-worker")], await tokenFor(s.entra, plan, principal("user:Alice")));
            assert.equal(alice.code, 0, alice.stdout);
            assert.deepEqual(
                alice.report.probes.map((p) => `${p.name}:${p.observed.decision}`),
                ["DescribeNamespace:allow", "DescribeWorkflowExecution:allow", "SignalWorkflowExecution:allow", "ListNamespaces:deny", "ListClusters:deny"],
            );
            const admin = await verify(s, ["--as", "user", "--namespace", "orders", ...workerFiles("payments-worker")], await tokenFor(s.entra, plan, principal("group:Temporal Platform Admins")));
            assert.equal(admin.code, 0, admin.stdout);
            assert.ok(admin.report.probes.every((p) => p.observed.decision === "allow"));
            // The server refuses even GetSystemInfo to a token its mapper rejects: verify-live connects without it.
            const foreign = await verify(s, ["--as", "user", "--namespace", "payments", ...workerFiles("payments-worker")], await s.entra.userToken(randomUUID(), uiClientId(plan), ["temporal-system:admin"], { aud: randomUUID() }));
            assert.equal(foreign.code, 0, foreign.stdout);
            assert.ok(foreign.report.probes.every((p) => p.observed.decision === "deny" && p.observed.status === "PERMISSION_DENIED" && p.match));
        });
    });

    describe("a server whose authorization drifted from the stack", () => {
        let s: StackServer;
        before(async () => {
            // Someone hand-edited the release: the permissions claim is the server's default again, not Entra's "roles".
            s = await startStackServer(plan, {
                values: (v: Values) => {
                    (((v.server as Values).config as Values).authorization as Values).permissionsClaimName = "permissions";
                    return v;
                },
            });
        });
        after(async () => {
            await s?.stop();
        });

        it("is reported as a MISMATCH naming the probes and what to compare (exit 1)", async () => {
            const token = await tokenFor(s.entra, plan, principal("worker:payments-worker"));
            const run = await verify(s, ["--as", "worker:payments-worker", ...workerFiles("payments-worker")], token);
            assert.equal(run.code, 1, run.stdout);
            assert.equal(run.report.verdict.summary, "3 of 5 probes disagree with the validator: DescribeNamespace, DescribeWorkflowExecution, SignalWorkflowExecution");
            assert.match(run.report.verdict.problems[0] ?? "", /^MISMATCH DescribeNamespace on "payments": the frontend denied it \(PERMISSION_DENIED "Request unauthorized."\), but the validator predicts allow/);
            assert.ok(run.report.verdict.problems.some((p) => /Compare its global.authorization \(permissionsClaimName roles/.test(p)));
        });
    });
});
