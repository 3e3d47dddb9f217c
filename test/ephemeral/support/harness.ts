import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import type { LifecycleDeps } from "../../../scripts/lib/ephemeral/lifecycle";
import type { PlanOutcome, PlanRunner, VerifyOutcome, VerifyRunner } from "../../../scripts/lib/ephemeral/runners";
import type { StateResource } from "../../../scripts/lib/ephemeral/backend";
import { emptyReport, type PlanReport } from "../../../scripts/lib/plan/run";
import { MemoryBackend } from "./memory-backend";

export const ROOT = join(__dirname, "..", "..", "..");
export const NOW = new Date("2026-03-10T12:00:00.000Z");
export const VAULT = "kv-tmprl-ephemera-93913b";

/** The vault and resource group a deployment of the ephemeral template holds, as `pulumi stack export` shows them. */
export function deployedState(stack: string, purgeProtection?: boolean): StateResource[] {
    return [
        { type: "pulumi:pulumi:Stack", urn: `urn:pulumi:${stack}::temporal-azure::pulumi:pulumi:Stack::temporal-azure-${stack}`, outputs: {} },
        { type: "azure-native:resources:ResourceGroup", urn: `urn:pulumi:${stack}::temporal-azure::azure-native:resources:ResourceGroup::resource-group`, outputs: { name: `rg-temporal-${stack}`, location: "westeurope" } },
        {
            type: "azure-native:keyvault:Vault",
            urn: `urn:pulumi:${stack}::temporal-azure::temporal-azure:pki:TemporalPki$azure-native:keyvault:Vault::pki-vault`,
            outputs: { name: VAULT, location: "westeurope", properties: { vaultUri: `https://${VAULT}.vault.azure.net/`, ...(purgeProtection !== undefined ? { enablePurgeProtection: purgeProtection } : {}) } },
        },
    ];
}

export const DEPLOYED_OUTPUTS = {
    frontendAddress: { value: "temporal-frontend.temporal.svc:7233", secret: false },
    keyVaultUri: { value: `https://${VAULT}.vault.azure.net/`, secret: false },
    workers: { value: { "ci-worker": { clientId: "55973b99-2f46-4dcc-a7c6-0b25dba48826" } }, secret: false },
    clusterKubeconfig: { value: "apiVersion: v1\nusers: [{ name: admin, user: { token: SECRET-TOKEN-VALUE } }]", secret: true },
};

/** A plan report that passed, as scripts/plan.ts --json prints it (only the fields the lifecycle reads). */
export function passedPlan(stack: string, resources = 66): PlanReport {
    return { ...emptyReport(stack), resources: Array.from({ length: resources }, (_, i) => ({ type: "t", name: `r${i}`, inputs: {}, dependencies: {} })), ok: true };
}

export interface PlanCall {
    stack: string;
    stacksDir: string;
    /** The stack file the plan was given, read while the plan ran. */
    config: Record<string, unknown>;
}

export interface Harness {
    backend: MemoryBackend;
    deps: LifecycleDeps;
    log: string[];
    engine: string[];
    planCalls: PlanCall[];
    verifyCalls: Array<Parameters<VerifyRunner>[0]>;
}

/**
 * Lifecycle dependencies over the in-memory backend. The plan runner given (default: a plan that
 * passes) is wrapped to record the stack file it was handed; pass `runOfflinePlan` to run the real one.
 */
export function harness(options: { plan?: PlanRunner; verify?: (args: Parameters<VerifyRunner>[0]) => VerifyOutcome; now?: Date } = {}): Harness {
    const backend = new MemoryBackend();
    const log: string[] = [];
    const engine: string[] = [];
    const planCalls: PlanCall[] = [];
    const verifyCalls: Array<Parameters<VerifyRunner>[0]> = [];
    const plan: PlanRunner = options.plan ?? (async ({ stack }) => ({ exitCode: 0, stdout: "", stderr: "", durationMs: 1234, report: passedPlan(stack) }));
    const deps: LifecycleDeps = {
        backend,
        runPlan: async (args): Promise<PlanOutcome> => {
            const file = join(args.stacksDir, `Pulumi.${args.stack}.yaml`);
            const config = existsSync(file) ? ((parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config ?? {}) : {};
            planCalls.push({ ...args, config });
            return plan(args);
        },
        runVerify: async (args) => {
            verifyCalls.push(args);
            if (!options.verify) throw new Error("no verify-live expected in this test");
            return options.verify(args);
        },
        now: () => options.now ?? NOW,
        log: (line) => log.push(line),
        engine: (text) => engine.push(text),
        stacksDir: join(ROOT, "stacks"),
        policyPack: join(ROOT, "policies", "pack"),
    };
    return { backend, deps, log, engine, planCalls, verifyCalls };
}

/** Whether the plan's temporary stacks folder is gone. */
export function tempDirRemoved(call: PlanCall): boolean {
    return !existsSync(call.stacksDir) && dirname(call.stacksDir) !== ROOT;
}
