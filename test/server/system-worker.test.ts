import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client, type Connection } from "@temporalio/client";
import { tokenMetadata } from "../../scripts/lib/live/probe";
import { planStack, type PlannedStack } from "../upstream/plan";
import { ServerExitedError } from "../upstream/server";
import { errorLines, openConnection, planViolations, skip, startStackServer, tokenFor, type StackServer } from "./support";

/**
 * The server's own worker service with authorization on: schedules are run by the scheduler
 * workflow of the per-namespace system worker, which reaches the frontend API through the internal
 * frontend (internode mTLS, no token). A schedule created by the payments worker fires and starts
 * its workflow. Without the internal frontend (what the policy pack refuses), the same system worker
 * dials the public frontend with the internode certificate and no token, and the authorizer refuses
 * it: the schedule never fires.
 */

type Values = Record<string, unknown>;

async function paymentsClient(s: StackServer): Promise<{ client: Client; connection: Connection; token: string }> {
    const worker = s.plan.principals.find((p) => p.label === "worker:payments-worker");
    assert.ok(worker, "the dev access map has worker:payments-worker");
    assert.deepEqual(worker.roles, ["payments:write"]);
    const token = await tokenFor(s.entra, s.plan, worker);
    const connection = await openConnection({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, files: s.files("payments/payments-worker") });
    return { client: new Client({ connection, namespace: "payments" }), connection, token };
}

/** Creates a schedule that triggers once immediately and then hourly; returns its id and the id of the workflows it starts. */
async function createSchedule(client: Client, connection: Connection, token: string) {
    const scheduleId = `system-worker-${randomUUID()}`;
    const workflowId = `scheduled-${randomUUID()}`;
    await connection.withMetadata(tokenMetadata(token), () =>
        client.schedule.create({
            scheduleId,
            spec: { intervals: [{ every: "1h" }] },
            action: { type: "startWorkflow", workflowType: "PaymentsReconciliation", taskQueue: "payments", workflowId, args: [] },
            state: { triggerImmediately: true },
        }),
    );
    return { scheduleId, workflowId };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
    const until = Date.now() + timeoutMs;
    for (;;) {
        const v = await probe();
        if (v !== undefined || Date.now() > until) return v;
        await new Promise((r) => setTimeout(r, 250));
    }
}

describe("the server's own worker with authorization on", { skip }, () => {
    let plan: PlannedStack;
    before(async () => {
        plan = await planStack({ stack: "dev" });
    });

    describe("the release (internal frontend on)", () => {
        let s: StackServer;
        before(async () => {
            s = await startStackServer(plan);
        });
        after(async () => {
            await s?.stop();
        });

        it("a schedule the payments worker creates fires and starts its workflow", async () => {
            const { client, connection, token } = await paymentsClient(s);
            try {
                const { scheduleId, workflowId } = await createSchedule(client, connection, token);
                const handle = client.schedule.getHandle(scheduleId);
                const started = Date.now();
                const action = await waitFor("the schedule's first action", 60_000, async () =>
                    (await connection.withMetadata(tokenMetadata(token), () => handle.describe())).info.recentActions[0],
                );
                assert.ok(action, `the schedule did not fire within 60 s; server errors: ${s.server.logSince(0).filter((l) => /"level":"error"/.test(l)).slice(-5).join("\n")}`);
                console.log(`schedule ${scheduleId} fired after ${Date.now() - started} ms and started ${action.action.workflow.workflowId}`);
                assert.match(action.action.workflow.workflowId, new RegExp(`^${workflowId}`));
                const described = await connection.withMetadata(tokenMetadata(token), () =>
                    connection.workflowService.describeWorkflowExecution({ namespace: "payments", execution: { workflowId: action.action.workflow.workflowId } }),
                );
                assert.equal(described.workflowExecutionInfo?.type?.name, "PaymentsReconciliation");
                assert.equal(described.workflowExecutionInfo?.taskQueue, "payments");
                await connection.withMetadata(tokenMetadata(token), () => handle.delete());
            } finally {
                await connection.close();
            }
        });
    });

    describe("a release without the internal frontend (what the policy pack refuses)", () => {
        const withoutInternalFrontend = (v: Values) => {
            ((v.server as Values)["internal-frontend"] as Values).enabled = false;
            return v;
        };

        it("is refused by the plan first", () => {
            const violations = planViolations(withoutInternalFrontend(structuredClone(plan.values)));
            assert.ok(violations.some((v) => v.startsWith("temporal-jwt-authorization: values.server.internal-frontend.enabled must be true")), violations.join("\n"));
        });

        it("its system worker dials the public frontend with the internode certificate and no token, is refused, and the worker service dies", async () => {
            let log: string;
            let code: number | null;
            try {
                const s = await startStackServer(plan, { values: withoutInternalFrontend, createNamespaces: false });
                assert.equal(s.server.addresses.internalFrontend, undefined);
                assert.match(String((s.server.config.publicClient as Values | undefined)?.hostPort), /^127\.0\.0\.1:\d+$/, "the chart renders publicClient: the frontend");
                let timer: NodeJS.Timeout | undefined;
                const exit = await Promise.race([s.server.exited(), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 60_000)))]);
                clearTimeout(timer);
                log = s.server.log();
                code = exit?.code ?? null;
                await s.stop();
                assert.ok(exit, "the server kept running for 60 s");
            } catch (err) {
                if (!(err instanceof ServerExitedError)) throw err;
                log = err.logTail;
                code = err.code;
            }
            const said = errorLines(log.split("\n"));
            // The system worker's first calls (starting the scanners) are refused by the authorizer...
            assert.ok(said.some((l) => l === "error starting workflow: Request unauthorized."), said.join("\n"));
            // ...and the worker service gives up: in the cluster its pod would crash-loop; here the one process exits.
            assert.ok(said.includes("error starting scanner: failed reaching server: Request unauthorized."), said.join("\n"));
            assert.equal(code, 1);
            console.log(`without the internal frontend the worker service exits (code ${String(code)}): ${said.filter((l) => /unauthorized/.test(l)).slice(0, 3).join(" | ")}`);
        });
    });
});
