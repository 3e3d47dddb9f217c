import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { up, type UpOptions } from "../../scripts/lib/ephemeral/lifecycle";
import { runOfflinePlan, type PlanOutcome } from "../../scripts/lib/ephemeral/runners";
import { commandError } from "./support/memory-backend";
import { DEPLOYED_OUTPUTS, deployedState, harness, passedPlan, ROOT, tempDirRemoved, VAULT } from "./support/harness";

const options = (o: Partial<UpOptions> = {}): UpOptions => ({ name: "pr-42", from: "ephemeral", sets: [], ttl: "24h", ...o });

describe("ephemeral up", () => {
    it("runs the real offline plan on the real template, then creates, configures, tags and updates the stack, in that order", async () => {
        const h = harness({ plan: runOfflinePlan });
        let plan: PlanOutcome | undefined;
        const realPlan = h.deps.runPlan;
        h.deps.runPlan = async (args) => (plan = await realPlan(args));
        h.backend.deployment = { outputs: DEPLOYED_OUTPUTS, state: deployedState("ephemeral-pr-42") };

        const report = await up(options({ sets: ["identity.uiHost=pr-42.temporal.example.com"] }), h.deps);

        assert.equal(report.exitCode, 0, h.log.join("\n"));
        assert.equal(plan?.exitCode, 0, plan?.stderr);
        assert.equal(plan?.report?.ok, true);
        assert.equal(plan?.report?.stack, "ephemeral-pr-42", "the plan ran on the generated stack, not the template");
        assert.equal(plan?.report?.outputs.uiUrl, "https://pr-42.temporal.example.com", "with the override");
        assert.equal(h.planCalls.length, 1);
        assert.ok(tempDirRemoved(h.planCalls[0]!), "the plan's temporary stacks folder is removed");
        assert.deepEqual(h.backend.ops, ["createOrSelect", "getConfig", "removeConfig", "setConfig", "setTags", "up", "outputs"]);
        assert.ok(h.backend.calls.every((c) => c.endsWith(" ephemeral-pr-42")));

        const stack = h.backend.stacks.get("ephemeral-pr-42")!;
        assert.deepEqual(stack.tags, { "temporal-azure:profile": "ephemeral", "temporal-azure:expires": "2026-03-11T12:00:00Z" });
        assert.equal(stack.config["temporal-azure:profile"]!.value, "ephemeral");
        assert.equal(JSON.parse(stack.config["temporal-azure:identity"]!.value).uiHost, "pr-42.temporal.example.com");
        assert.deepEqual(Object.keys(stack.config).sort(), Object.keys(h.planCalls[0]!.config).sort(), "the stack gets exactly the config the plan checked");
        assert.equal(report.plan?.resources, plan?.report?.resources.length);
        assert.ok(h.engine.some((t) => t.includes(`with policy packs ${join(ROOT, "policies", "pack")}`)), "the update runs the policy pack");
    });

    it("prints the outputs, never a secret one", async () => {
        const h = harness();
        h.backend.deployment = { outputs: DEPLOYED_OUTPUTS, state: deployedState("ephemeral-pr-42") };
        const report = await up(options(), h.deps);
        assert.equal(report.exitCode, 0);
        assert.deepEqual(report.outputs, {
            frontendAddress: "temporal-frontend.temporal.svc:7233",
            keyVaultUri: `https://${VAULT}.vault.azure.net/`,
            workers: { "ci-worker": { clientId: "55973b99-2f46-4dcc-a7c6-0b25dba48826" } },
            clusterKubeconfig: "[secret]",
        });
        const printed = [...h.log, JSON.stringify(report)].join("\n");
        assert.match(printed, /^ {2}clusterKubeconfig: \[secret\]$/m);
        assert.match(printed, /^ {2}workers: \{"ci-worker":\{"clientId":"55973b99-2f46-4dcc-a7c6-0b25dba48826"\}\}$/m);
        assert.doesNotMatch(printed, /SECRET-TOKEN-VALUE/);
        assert.equal(h.log.at(-6), "✓ ephemeral-pr-42 is up (create 3)");
    });

    it("stops on a broken --set before the plan or the backend is touched, with the config errors verbatim", async () => {
        const h = harness();
        const report = await up(options({ sets: ["pki.leafValidityDays=1"] }), h.deps);
        assert.equal(report.exitCode, 1);
        assert.equal(report.error?.stage, "config");
        assert.equal(
            report.error?.message,
            [
                'Invalid stack config for stack "ephemeral-pr-42" (1 problem):',
                "  - temporal-azure:pki.leafValidityDays: 1 days (24 hours) is not longer than the renewal window (pki.earlyRenewalHours 168), so every `pulumi up` would reissue every certificate: raise leafValidityDays above 7 days, or lower earlyRenewalHours (e.g. to a third of the validity, 8)",
                "Nothing was created.",
            ].join("\n"),
        );
        assert.equal(h.log.at(-1), report.error?.message);
        assert.deepEqual(h.planCalls, []);
        assert.deepEqual(h.backend.calls, []);
    });

    it("refuses a kubeconfig source without its secret at the config check, as the program would, before the plan runs", async () => {
        // The config check reads exactly the keys the program reads, so what the program refuses is refused here first.
        const h = harness({ plan: runOfflinePlan });
        const report = await up(options({ name: "pr-43", sets: ["kubernetes.source=kubeconfig"] }), h.deps);
        assert.equal(report.exitCode, 1);
        assert.equal(report.error?.stage, "config");
        assert.match(
            report.error!.message,
            /^ {2}- temporal-azure:kubeconfig: kubernetes\.source is kubeconfig but the secret is not set: pulumi config set --secret temporal-azure:kubeconfig < path\/to\/kubeconfig /m,
        );
        assert.match(report.error!.message, /\nNothing was created\.$/);
        assert.deepEqual(h.planCalls, []);
        assert.deepEqual(h.backend.calls, []);
    });

    it("lists a failed plan's problems from its report", async () => {
        const h = harness({
            plan: async ({ stack }) => ({
                exitCode: 1,
                stdout: "",
                stderr: "",
                durationMs: 10,
                report: {
                    ...passedPlan(stack, 3),
                    ok: false,
                    violations: [{ policy: "keyvault-hardened", resource: "azure-native:keyvault:Vault::pki-vault", message: "properties.enableRbacAuthorization must be true" }],
                    admission: { namespaces: [], principals: [], violations: ["worker ci-worker cannot write default"], residualRisks: [], audience: "a", apiClientId: "a", tenantId: "t" },
                    tlsProblems: ["internode: service to service: expected accept, got rejected (SELF_SIGNED_CERT_IN_CHAIN)"],
                },
            }),
        });
        const report = await up(options(), h.deps);
        assert.equal(report.exitCode, 1);
        assert.deepEqual(report.plan?.problems, [
            "policy keyvault-hardened: azure-native:keyvault:Vault::pki-vault: properties.enableRbacAuthorization must be true",
            "token admission: worker ci-worker cannot write default",
            "TLS: internode: service to service: expected accept, got rejected (SELF_SIGNED_CERT_IN_CHAIN)",
        ]);
        assert.deepEqual(h.backend.calls, []);
    });

    it("refuses usage errors before reading anything", async () => {
        const h = harness();
        await assert.rejects(up(options({ name: "PR 42" }), h.deps), { name: "UsageError", message: /^--name "PR 42" must be lower-case/ });
        await assert.rejects(up(options({ ttl: "2w" }), h.deps), { message: '--ttl "2w" must be a duration like 24h, 90m, 3d or 1d12h' });
        await assert.rejects(up(options({ from: "staging" }), h.deps), { message: /^--from staging: no stack file .*Pulumi\.staging\.yaml/ });
        await assert.rejects(up(options({ verify: "user" }), h.deps), { message: '--verify "user" must be worker:<name>, a worker the stack declares (e.g. worker:ci-worker)' });
        await assert.rejects(up(options({ verify: "worker:payments-worker" }), h.deps), { message: "--verify worker:payments-worker: the stack declares no such worker (workers: ci-worker)" });
        await assert.rejects(up(options({ verifyAddress: "localhost:7233" }), h.deps), { message: "--verify-address needs --verify worker:<name>" });
        await assert.rejects(up(options({ sets: ["profile=prod"] }), h.deps), { message: "--set profile: an ephemeral stack's profile is always ephemeral: remove this --set" });
        assert.deepEqual(h.planCalls, []);
        assert.deepEqual(h.backend.calls, []);
    });

    it("says what a template or a shared cluster means for the stack", async () => {
        const h = harness();
        const report = await up(options({ from: "dev", sets: ["kubernetes.namespace=temporal-pr-42", "workers[0].kubernetesNamespace=payments-pr-42"] }), h.deps);
        assert.equal(report.exitCode, 0, h.log.join("\n"));
        assert.deepEqual(report.notes, [
            "profile is ephemeral (the template says dev)",
            'workers[1].kubernetesNamespace is "orders" as in the template: on a shared cluster add --set workers[1].kubernetesNamespace=orders-pr-42',
        ]);
        const plain = harness();
        const defaults = await up(options(), plain.deps);
        assert.deepEqual(defaults.notes, [
            'kubernetes.namespace is "temporal" as in the template: another ephemeral stack on the same cluster would collide with it; on a shared cluster add --set kubernetes.namespace=temporal-pr-42',
            'workers[0].kubernetesNamespace is "ci-worker" as in the template: on a shared cluster add --set workers[0].kubernetesNamespace=ci-worker-pr-42',
        ]);
    });

    it("on a second run selects the stack, drops the config keys the template no longer sets, and extends the expiry", async () => {
        const h = harness();
        await up(options(), h.deps);
        const stack = h.backend.stacks.get("ephemeral-pr-42")!;
        stack.config["temporal-azure:kubeconfig"] = { value: "[secret]", secret: true };
        stack.config["azure-native:subscriptionId"] = { value: "00000000-0000-0000-0000-000000000000", secret: false };
        h.backend.calls.length = 0;
        h.deps.now = () => new Date("2026-03-11T08:00:00Z");
        // This run drops the database section (its defaults apply): the stack must not keep the old one.
        const report = await up(options({ ttl: "3d", sets: ["database=null"] }), h.deps);
        assert.equal(report.exitCode, 0);
        assert.deepEqual(h.backend.ops, ["createOrSelect", "getConfig", "removeConfig", "setConfig", "setTags", "up", "outputs"]);
        assert.equal(stack.config["temporal-azure:database"], undefined);
        assert.ok(stack.config["temporal-azure:temporal"], "the rest stays");
        assert.ok(stack.config["temporal-azure:kubeconfig"], "secrets set by hand stay");
        assert.ok(stack.config["azure-native:subscriptionId"], "other namespaces stay");
        assert.equal(stack.tags["temporal-azure:expires"], "2026-03-14T08:00:00Z");
    });

    it("reports a failed update: exit 1, the stack kept and expiring, how to remove it", async () => {
        const h = harness();
        h.backend.failures.set("up", commandError("error: update failed\n    azure-native:keyvault:Vault (pki-vault):\n      error: Code=\"Forbidden\""));
        const report = await up(options(), h.deps);
        assert.equal(report.exitCode, 1);
        assert.equal(report.error?.stage, "pulumi");
        assert.equal(
            report.error?.message,
            "✗ ephemeral-pr-42: error: update failed\nThe stack exists and expires 2026-03-11T12:00:00Z: fix and run up again, or remove it with npm run ephemeral -- down --name pr-42.",
        );
        assert.deepEqual(h.backend.stacks.get("ephemeral-pr-42")!.tags["temporal-azure:expires"], "2026-03-11T12:00:00Z", "tagged before the update, so reap finds it");
    });

    it("reports a missing Pulumi CLI or login as the environment's problem (exit 3)", async () => {
        const h = harness();
        h.backend.failures.set("createOrSelect", commandError("Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT"));
        const report = await up(options(), h.deps);
        assert.equal(report.exitCode, 3);
        assert.match(report.error!.message, /^✗ ephemeral-pr-42: the Pulumi CLI \(pulumi\) is not installed or not on PATH: install it \(curl -fsSL https:\/\/get\.pulumi\.com \| sh;/);
        assert.doesNotMatch(report.error!.message, /The stack exists/, "nothing was created");

        const login = harness();
        login.backend.failures.set("createOrSelect", commandError("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"));
        const r2 = await up(options(), login.deps);
        assert.equal(r2.exitCode, 3);
        assert.equal(r2.error?.message, "✗ ephemeral-pr-42: error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions");
    });

    describe("--verify", () => {
        const verdict = (exitCode: number, summary: string, problems: string[] = []) => () => ({
            exitCode,
            stdout: "",
            stderr: "",
            durationMs: 5,
            report: { verdict: { exitCode, summary, problems } },
        });

        it("runs verify-live against the new stack as the worker and reports its verdict", async () => {
            const h = harness({ verify: verdict(0, "all 5 probes match the validator's prediction") });
            const report = await up(options({ verify: "worker:ci-worker", verifyAddress: "localhost:7233" }), h.deps);
            assert.equal(report.exitCode, 0);
            assert.deepEqual(h.verifyCalls, [{ stack: "ephemeral-pr-42", as: "worker:ci-worker", address: "localhost:7233" }]);
            assert.deepEqual(report.verify, { as: "worker:ci-worker", exitCode: 0, summary: "all 5 probes match the validator's prediction", problems: [] });
            assert.equal(h.log.at(-1), "✓ verify-live --as worker:ci-worker: all 5 probes match the validator's prediction");
            assert.equal(h.backend.ops.at(-1), "outputs", "verification runs after the update");
        });

        it("fails the run on a mismatch (1) and passes on no verdict as the environment's problem (3)", async () => {
            const mismatch = harness({ verify: verdict(1, "1 of 5 probes disagree", ["SignalWorkflowExecution: predicted deny, server allowed"]) });
            const r1 = await up(options({ verify: "worker:ci-worker" }), mismatch.deps);
            assert.equal(r1.exitCode, 1);
            assert.deepEqual(r1.error, { stage: "verify", message: "1 of 5 probes disagree" });
            assert.deepEqual(mismatch.log.slice(-2), ["✗ verify-live --as worker:ci-worker: 1 of 5 probes disagree", "  - SignalWorkflowExecution: predicted deny, server allowed"]);

            const noVerdict = harness({ verify: () => ({ exitCode: 3, stdout: "", stderr: "", durationMs: 5, report: { error: { stage: "connection", message: "cannot reach temporal-frontend.temporal.svc:7233" } } }) });
            const r3 = await up(options({ verify: "worker:ci-worker" }), noVerdict.deps);
            assert.equal(r3.exitCode, 3);
            assert.equal(r3.verify?.summary, "cannot reach temporal-frontend.temporal.svc:7233");
        });
    });
});
