import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    AutomationBackend,
    cliLacksJsonConfig,
    describeAutomationFailure,
    isStackNotFound,
    type AutomationApi,
    type AutomationStack,
    type AutomationWorkspace,
} from "../../scripts/lib/ephemeral/automation";
import { commandError } from "./support/memory-backend";
import { ROOT } from "./support/harness";

/** Runs `fn` with a PATH on which no `pulumi` can be found (this machine has none anyway; a developer's might). */
async function withoutPulumiOnPath<T>(fn: () => Promise<T>): Promise<T> {
    const saved = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), "no-pulumi-"));
    try {
        return await fn();
    } finally {
        process.env.PATH = saved;
    }
}

describe("AutomationBackend over the real LocalWorkspace", () => {
    it("fails with a message naming the missing Pulumi CLI and how to install it", async () => {
        const backend = new AutomationBackend({ workDir: ROOT });
        const err = await withoutPulumiOnPath(() => backend.createOrSelect("ephemeral-pr-42").then(() => undefined, (e: unknown) => e));
        assert.ok(err, "LocalWorkspace needs the CLI");
        assert.deepEqual(describeAutomationFailure(err), {
            setup: true,
            message:
                "the Pulumi CLI (pulumi) is not installed or not on PATH: install it (curl -fsSL https://get.pulumi.com | sh; macOS: brew install pulumi/tap/pulumi; Windows: winget install pulumi; see https://www.pulumi.com/docs/install/), then log in to your backend (pulumi login)",
        });
        const listErr = await withoutPulumiOnPath(() => new AutomationBackend({ workDir: ROOT }).list().then(() => undefined, (e: unknown) => e));
        assert.equal(describeAutomationFailure(listErr).setup, true);
    });
});

interface Recorded {
    calls: Array<[string, unknown[]]>;
}

function fakeStack(rec: Recorded, overrides: Partial<AutomationStack> = {}): AutomationStack {
    const log = (name: string) => async (...args: unknown[]) => {
        rec.calls.push([name, args]);
        return undefined as never;
    };
    return {
        getAllConfig: async () => ({ "temporal-azure:profile": { value: "ephemeral", secret: false }, "temporal-azure:kubeconfig": { value: "[secret]", secret: true } }),
        setAllConfig: log("setAllConfig"),
        setAllConfigJson: log("setAllConfigJson"),
        removeAllConfig: log("removeAllConfig"),
        setTag: log("setTag"),
        listTags: async () => ({ "temporal-azure:expires": "2026-03-11T12:00:00Z", "pulumi:project": "temporal-azure" }),
        up: async (opts) => {
            rec.calls.push(["up", [opts]]);
            return { stdout: "", stderr: "", outputs: {}, summary: { kind: "update", startTime: new Date(), message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { create: 66 } } } as never;
        },
        outputs: async () => ({ keyVaultUri: { value: "https://kv-x.vault.azure.net/", secret: false } }),
        exportStack: async () => ({
            version: 3,
            deployment: { resources: [{ urn: "urn:a", type: "azure-native:keyvault:Vault", custom: true, outputs: { name: "kv-x", location: "westeurope" } }, { urn: "urn:b", type: "pulumi:pulumi:Stack" }] },
        }),
        destroy: async (opts) => {
            rec.calls.push(["destroy", [opts]]);
            return { stdout: "", stderr: "", summary: { result: "succeeded", resourceChanges: { delete: 66 } } } as never;
        },
        ...overrides,
    };
}

function fakeApi(rec: Recorded, stack: AutomationStack, select?: () => Promise<AutomationStack>): AutomationApi {
    const workspace: AutomationWorkspace = {
        listStacks: async () => [
            { name: "dev", current: false, resourceCount: 80 },
            { name: "ephemeral-pr-42", current: true, lastUpdate: "2026-03-10T12:00:00Z", updateInProgress: false, resourceCount: 66 },
        ],
        removeStack: async (name) => {
            rec.calls.push(["removeStack", [name]]);
        },
    };
    return {
        createOrSelectStack: async (args, opts) => {
            rec.calls.push(["createOrSelectStack", [args, opts]]);
            return stack;
        },
        selectStack: async (args) => {
            rec.calls.push(["selectStack", [args]]);
            return select ? select() : stack;
        },
        createWorkspace: async (opts) => {
            rec.calls.push(["createWorkspace", [opts]]);
            return workspace;
        },
    };
}

describe("AutomationBackend over a stand-in Automation API", () => {
    it("creates or selects the stack in the repository, with the secrets provider given", async () => {
        const rec: Recorded = { calls: [] };
        const backend = new AutomationBackend({ workDir: ROOT, secretsProvider: "azurekeyvault://kv-ci.vault.azure.net/keys/pulumi", automation: fakeApi(rec, fakeStack(rec)) });
        await backend.createOrSelect("ephemeral-pr-42");
        await backend.setTags("ephemeral-pr-42", { "temporal-azure:profile": "ephemeral", "temporal-azure:expires": "2026-03-11T12:00:00Z" });
        assert.deepEqual(rec.calls, [
            ["createOrSelectStack", [{ stackName: "ephemeral-pr-42", workDir: ROOT }, { secretsProvider: "azurekeyvault://kv-ci.vault.azure.net/keys/pulumi" }]],
            ["setTag", ["temporal-azure:profile", "ephemeral"]],
            ["setTag", ["temporal-azure:expires", "2026-03-11T12:00:00Z"]],
        ]);
    });

    it("sets structured config with set-all --json, and as JSON text on a CLI without that flag", async () => {
        const config = { "temporal-azure:profile": "ephemeral", "temporal-azure:temporal": { replicas: 1 } };
        const rec: Recorded = { calls: [] };
        const backend = new AutomationBackend({ workDir: ROOT, automation: fakeApi(rec, fakeStack(rec)) });
        await backend.setConfig("ephemeral-pr-42", config);
        assert.equal(rec.calls.length, 2);
        assert.equal(rec.calls[1]![0], "setAllConfigJson");
        assert.deepEqual(JSON.parse(rec.calls[1]![1][0] as string), {
            "temporal-azure:profile": { value: "ephemeral", secret: false },
            "temporal-azure:temporal": { value: '{"replicas":1}', objectValue: { replicas: 1 }, secret: false },
        });

        const old: Recorded = { calls: [] };
        const oldStack = fakeStack(old, {
            setAllConfigJson: async () => {
                throw commandError("error: unknown flag: --json");
            },
        });
        await new AutomationBackend({ workDir: ROOT, automation: fakeApi(old, oldStack) }).setConfig("ephemeral-pr-42", config);
        assert.deepEqual(old.calls.at(-1), [
            "setAllConfig",
            [{ "temporal-azure:profile": { value: "ephemeral", secret: false }, "temporal-azure:temporal": { value: '{"replicas":1}', secret: false } }, false],
        ]);

        const other: Recorded = { calls: [] };
        const failing = fakeStack(other, {
            setAllConfigJson: async () => {
                throw commandError("error: could not set config: permission denied");
            },
        });
        await assert.rejects(new AutomationBackend({ workDir: ROOT, automation: fakeApi(other, failing) }).setConfig("ephemeral-pr-42", config), { message: /permission denied/ });
        assert.ok(!other.calls.some(([n]) => n === "setAllConfig"), "only the missing flag falls back");
    });

    it("tells a missing stack from other failures", async () => {
        const rec: Recorded = { calls: [] };
        const missing = new AutomationBackend({ workDir: ROOT, automation: fakeApi(rec, fakeStack(rec), async () => Promise.reject(commandError("error: no stack named 'ephemeral-pr-1' found", "StackNotFoundError"))) });
        assert.equal(await missing.exists("ephemeral-pr-1"), false);
        const broken = new AutomationBackend({ workDir: ROOT, automation: fakeApi(rec, fakeStack(rec), async () => Promise.reject(commandError("error: getting stack: 503 Service Unavailable"))) });
        await assert.rejects(broken.exists("ephemeral-pr-1"), { message: /503/ });
        assert.equal(await new AutomationBackend({ workDir: ROOT, automation: fakeApi(rec, fakeStack(rec)) }).exists("ephemeral-pr-1"), true);
    });

    it("runs up with the policy pack and destroy with the engine output, and reads config, tags, state and the stack list", async () => {
        const rec: Recorded = { calls: [] };
        const backend = new AutomationBackend({ workDir: ROOT, automation: fakeApi(rec, fakeStack(rec)) });
        const onOutput = () => undefined;
        assert.deepEqual(await backend.up("ephemeral-pr-42", { policyPacks: ["/repo/policies/pack"], onOutput }), { result: "succeeded", changes: { create: 66 } });
        assert.deepEqual(rec.calls.find(([n]) => n === "up")![1], [{ policyPacks: ["/repo/policies/pack"], onOutput, color: "never" }]);
        assert.deepEqual(await backend.destroy("ephemeral-pr-42", { onOutput }), { result: "succeeded", changes: { delete: 66 } });
        assert.deepEqual(await backend.getConfig("ephemeral-pr-42"), { "temporal-azure:profile": { value: "ephemeral", secret: false }, "temporal-azure:kubeconfig": { value: "[secret]", secret: true } });
        assert.deepEqual(await backend.tags("ephemeral-pr-42"), { "temporal-azure:expires": "2026-03-11T12:00:00Z", "pulumi:project": "temporal-azure" });
        assert.deepEqual(await backend.state("ephemeral-pr-42"), [
            { type: "azure-native:keyvault:Vault", urn: "urn:a", outputs: { name: "kv-x", location: "westeurope" } },
            { type: "pulumi:pulumi:Stack", urn: "urn:b", outputs: {} },
        ]);
        assert.deepEqual(await backend.list(), [
            { name: "dev", resourceCount: 80 },
            { name: "ephemeral-pr-42", lastUpdate: "2026-03-10T12:00:00Z", updateInProgress: false, resourceCount: 66 },
        ]);
        await backend.remove("ephemeral-pr-42");
        assert.deepEqual(rec.calls.filter(([n]) => n === "selectStack" || n === "createWorkspace" || n === "removeStack"), [
            ["selectStack", [{ stackName: "ephemeral-pr-42", workDir: ROOT }]],
            ["createWorkspace", [{ workDir: ROOT }]],
            ["removeStack", ["ephemeral-pr-42"]],
        ]);
    });
});

describe("Automation API failures", () => {
    it("are read from the CLI's own words", () => {
        assert.equal(cliLacksJsonConfig(commandError("error: unknown flag: --json")), true);
        assert.equal(cliLacksJsonConfig(commandError("error: unknown flag: --path")), false);
        assert.equal(isStackNotFound(commandError("error: no stack named 'ephemeral-x' found")), true);
        assert.equal(isStackNotFound(commandError("error: [403] Forbidden")), false);
        assert.deepEqual(describeAutomationFailure(commandError("error: [409] Conflict: Another update is currently in progress.", "ConcurrentUpdateError")), {
            setup: false,
            message: "another update of the stack is running (error: [409] Conflict: Another update is currently in progress.): wait for it, or cancel it with pulumi cancel",
        });
        assert.deepEqual(describeAutomationFailure(commandError("warning: x\nerror: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables")), {
            setup: true,
            message: "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
        });
        assert.deepEqual(describeAutomationFailure(new Error("boom")), { setup: false, message: "boom" });
        const silent = new Error("code: 255\n stdout: \n stderr: \n");
        Object.assign(silent, { commandResult: { stdout: "Updating (ephemeral-x)\n", stderr: "", code: 255 } });
        assert.deepEqual(describeAutomationFailure(silent), { setup: false, message: "the Pulumi CLI failed (exit 255); its output is above" });
    });
});
