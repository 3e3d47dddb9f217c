import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { down, list, purgeAdvice, reap, up, vaultFromOutputs, vaultsInState } from "../../scripts/lib/ephemeral/lifecycle";
import { commandError, type MemoryStack } from "./support/memory-backend";
import { DEPLOYED_OUTPUTS, deployedState, harness, VAULT } from "./support/harness";

const PURGE = `az keyvault purge --name ${VAULT} --location westeurope`;

function deployed(stack: string, tags: Record<string, string>, extra: Partial<MemoryStack> = {}): MemoryStack {
    return { config: {}, tags, outputs: structuredClone(DEPLOYED_OUTPUTS), state: deployedState(stack), ...extra };
}
const tagged = (expires: string) => ({ "temporal-azure:profile": "ephemeral", "temporal-azure:expires": expires });

describe("ephemeral down", () => {
    it("destroys, then removes the stack, and prints the purge command of its soft-deleted vault", async () => {
        const h = harness();
        h.backend.deployment = { outputs: DEPLOYED_OUTPUTS, state: deployedState("ephemeral-pr-42") };
        await up({ name: "pr-42", from: "ephemeral", sets: [], ttl: "24h" }, h.deps);
        h.backend.calls.length = 0;
        h.log.length = 0;

        const report = await down({ name: "pr-42" }, h.deps);
        assert.equal(report.exitCode, 0);
        assert.deepEqual(h.backend.calls, ["exists ephemeral-pr-42", "state ephemeral-pr-42", "destroy ephemeral-pr-42", "remove ephemeral-pr-42"]);
        assert.equal(h.backend.stacks.has("ephemeral-pr-42"), false);
        assert.deepEqual(report.purge, [PURGE]);
        assert.deepEqual(h.log, [
            "pulumi destroy ephemeral-pr-42:",
            "✓ ephemeral-pr-42 destroyed and removed (delete 3)",
            "The Key Vault is soft-deleted, not gone; to free it now (nothing waits for it: the next stack gets a new name):",
            `  ${PURGE}`,
        ]);
    });

    it("is idempotent: a missing stack is success, and says so", async () => {
        const h = harness();
        const first = await down({ name: "ephemeral-pr-7" }, h.deps);
        assert.deepEqual(first, { command: "down", stack: "ephemeral-pr-7", existed: false, purge: [], exitCode: 0 });
        assert.deepEqual(h.log, ["stack ephemeral-pr-7 does not exist: nothing to tear down"]);
        assert.deepEqual(h.backend.ops, ["exists"]);

        h.backend.stacks.set("ephemeral-pr-7", deployed("ephemeral-pr-7", tagged("2026-03-11T00:00:00Z")));
        assert.equal((await down({ name: "pr-7" }, h.deps)).exitCode, 0);
        const again = await down({ name: "pr-7" }, h.deps);
        assert.equal(again.exitCode, 0);
        assert.equal(again.existed, false);
    });

    it("keeps the stack when destroy fails, and exits 1", async () => {
        const h = harness();
        h.backend.stacks.set("ephemeral-pr-8", deployed("ephemeral-pr-8", tagged("2026-03-11T00:00:00Z")));
        h.backend.failures.set("destroy", commandError("error: deleting Entra application: Insufficient privileges to complete the operation."));
        const report = await down({ name: "pr-8" }, h.deps);
        assert.equal(report.exitCode, 1);
        assert.deepEqual(report.error, { stage: "pulumi", message: "✗ ephemeral-pr-8: error: deleting Entra application: Insufficient privileges to complete the operation." });
        assert.ok(h.backend.stacks.has("ephemeral-pr-8"));
        assert.ok(!h.backend.ops.includes("remove"));
    });

    it("finds the vault in the state, even of a stack whose update failed before writing outputs", () => {
        assert.deepEqual(vaultsInState(deployedState("ephemeral-x")), [{ name: VAULT, location: "westeurope", purgeProtection: false }]);
        assert.deepEqual(vaultsInState(deployedState("ephemeral-x", true)), [{ name: VAULT, location: "westeurope", purgeProtection: true }]);
        assert.deepEqual(vaultsInState([]), []);
    });

    it("falls back to the keyVaultUri output and the config's location when the state names no vault", async () => {
        const config = { "temporal-azure:azure": { value: '{"tenantId":"t","location":"northeurope"}' }, "azure-native:location": { value: "westeurope" } };
        assert.deepEqual(vaultFromOutputs(DEPLOYED_OUTPUTS, config), [{ name: VAULT, location: "northeurope", purgeProtection: false }]);
        assert.deepEqual(vaultFromOutputs(DEPLOYED_OUTPUTS, { "azure-native:location": { value: "westeurope" } }), [{ name: VAULT, location: "westeurope", purgeProtection: false }]);
        assert.deepEqual(vaultFromOutputs({}, config), []);
        assert.deepEqual(vaultFromOutputs({ keyVaultUri: { value: "https://x.vault.azure.net/", secret: true } }, config), [], "a secret output is not read");

        const h = harness();
        h.backend.stacks.set("ephemeral-pr-9", deployed("ephemeral-pr-9", {}, { state: deployedState("ephemeral-pr-9").slice(0, 2), config: { "azure-native:location": { value: "westeurope", secret: false } } }));
        const report = await down({ name: "pr-9" }, h.deps);
        assert.deepEqual(report.purge, [PURGE]);
        assert.deepEqual(h.backend.ops, ["exists", "state", "outputs", "getConfig", "destroy", "remove"]);
    });

    it("cannot purge a vault with purge protection, and says why that is harmless", () => {
        assert.equal(purgeAdvice({ name: VAULT, location: "westeurope", purgeProtection: false }), PURGE);
        assert.equal(purgeAdvice({ name: VAULT, purgeProtection: false }), `az keyvault purge --name ${VAULT}`);
        assert.equal(
            purgeAdvice({ name: VAULT, location: "westeurope", purgeProtection: true }),
            `Key Vault ${VAULT} has purge protection, so it cannot be purged: it stays soft-deleted until its retention ends (its name is not reused: ephemeral vault names are random-suffixed)`,
        );
    });
});

describe("ephemeral list and reap", () => {
    function fleet() {
        const h = harness();
        h.backend.stacks.set("ephemeral-old", deployed("ephemeral-old", tagged("2026-03-09T12:00:00Z"), { lastUpdate: "2026-03-08T12:00:00Z" }));
        h.backend.stacks.set("ephemeral-older", deployed("ephemeral-older", tagged("2026-03-01T12:00:00Z")));
        h.backend.stacks.set("ephemeral-fresh", deployed("ephemeral-fresh", tagged("2026-03-10T18:00:00Z")));
        h.backend.stacks.set("ephemeral-untagged", deployed("ephemeral-untagged", { "temporal-azure:profile": "ephemeral" }));
        h.backend.stacks.set("dev", deployed("dev", tagged("2026-03-01T00:00:00Z")));
        return h;
    }

    it("lists the ephemeral stacks with their expiry", async () => {
        const h = fleet();
        const report = await list(h.deps);
        assert.equal(report.exitCode, 0);
        assert.deepEqual(report.stacks.map((s) => [s.name, s.expiry]), [
            ["ephemeral-old", "expired 2026-03-09T12:00:00Z (1d ago)"],
            ["ephemeral-older", "expired 2026-03-01T12:00:00Z (9d ago)"],
            ["ephemeral-fresh", "expires 2026-03-10T18:00:00Z (in 6h)"],
            ["ephemeral-untagged", "no temporal-azure:expires tag"],
        ]);
        assert.equal(h.log[0], "ephemeral-old  expired 2026-03-09T12:00:00Z (1d ago), last update 2026-03-08T12:00:00Z, 3 resources");
        assert.ok(!h.backend.calls.includes("tags dev"), "other stacks are not read");
        assert.deepEqual((await list(harness().deps)).stacks, []);
    });

    it("reaps only the expired stacks, with a purge command per vault", async () => {
        const h = fleet();
        const report = await reap({ dryRun: false }, h.deps);
        assert.equal(report.exitCode, 0);
        assert.deepEqual(report.reaped.map((r) => [r.stack, r.result?.exitCode, r.result?.purge]), [
            ["ephemeral-old", 0, [PURGE]],
            ["ephemeral-older", 0, [PURGE]],
        ]);
        assert.deepEqual([...h.backend.stacks.keys()].sort(), ["dev", "ephemeral-fresh", "ephemeral-untagged"]);
        assert.deepEqual(report.kept.map((k) => k.stack), ["ephemeral-fresh", "ephemeral-untagged"]);
        assert.equal(h.log.at(-1), "reaped 2, kept 2");
        assert.equal(h.backend.calls.filter((c) => c.startsWith("destroy")).length, 2);
    });

    it("--dry-run destroys nothing", async () => {
        const h = fleet();
        const report = await reap({ dryRun: true }, h.deps);
        assert.deepEqual(report.reaped.map((r) => r.stack), ["ephemeral-old", "ephemeral-older"]);
        assert.equal(h.backend.stacks.size, 5);
        assert.ok(h.backend.ops.every((op) => op === "list" || op === "tags"), h.backend.ops.join());
        assert.equal(h.log.at(-1), "would reap 2, kept 2");
    });

    it("goes on after a stack that cannot be destroyed, and fails the job at the end", async () => {
        const h = fleet();
        const destroy = h.backend.destroy.bind(h.backend);
        h.backend.destroy = async (stack, options) => {
            if (stack === "ephemeral-old") throw commandError("error: the current deployment has 1 resource(s) with pending operations");
            return destroy(stack, options);
        };
        const report = await reap({ dryRun: false }, h.deps);
        assert.equal(report.exitCode, 1);
        assert.deepEqual(report.reaped.map((r) => [r.stack, r.result?.exitCode]), [
            ["ephemeral-old", 1],
            ["ephemeral-older", 0],
        ]);
        assert.ok(h.backend.stacks.has("ephemeral-old"));
        assert.ok(!h.backend.stacks.has("ephemeral-older"));
    });

    it("reports a backend it cannot list as the environment's problem", async () => {
        const h = harness();
        h.backend.failures.set("list", commandError("Command failed with ENOENT: pulumi stack ls --json\nspawn pulumi ENOENT"));
        const report = await reap({ dryRun: false }, h.deps);
        assert.equal(report.exitCode, 3);
        assert.match(report.error!.message, /^✗ the Pulumi CLI \(pulumi\) is not installed or not on PATH/);
    });
});
