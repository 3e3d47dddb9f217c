import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, formatIssue, type ResolvedConfig } from "../../../infra/config";
import { UsageError } from "../live/errors";
import { projectConfig, readStackFile, type StackFile } from "../plan/run";
import { describeAutomationFailure } from "./automation";
import type { EphemeralBackend, OutputEntry, StateResource, UpSummary } from "./backend";
import { buildEphemeralConfig, parseSetFlag, stackFileYaml, staleConfigKeys, validateEphemeralConfig } from "./config";
import { describeExpiry, expiryOf, EXPIRES_TAG, expiryTime, parseTtl, PROFILE_TAG, selectForReap, type EphemeralStackInfo } from "./expiry";
import { ephemeralName, isEphemeralStack, vaultNameFromUri } from "./names";
import { planProblems, type PlanRunner, type VerifyRunner } from "./runners";

/**
 * The lifecycle of ephemeral stacks: `up` (template + overrides → validated config → offline plan
 * → Pulumi stack, tags, update, outputs → optional live verification), `down` (destroy, remove,
 * say how to purge the soft-deleted vault), `list` and `reap` (the scheduled clean-up). Every step
 * that can refuse does so before the next one starts: nothing is created for a config or a plan
 * that fails.
 */

export const EXIT = { ok: 0, failed: 1, usage: 2, setup: 3 } as const;

export interface LifecycleDeps {
    backend: EphemeralBackend;
    runPlan: PlanRunner;
    runVerify: VerifyRunner;
    now: () => Date;
    /** Progress for people, one line at a time. */
    log: (line: string) => void;
    /** The Pulumi engine's own output (up, destroy). */
    engine: (text: string) => void;
    /** Where the templates are (stacks/). */
    stacksDir: string;
    /** The policy pack `up` runs (policies/pack). */
    policyPack: string;
}

export type Stage = "config" | "plan" | "pulumi" | "verify";

export interface StepError {
    stage: Stage;
    message: string;
}

// ----- up

export interface UpOptions {
    name: string | undefined;
    from: string;
    sets: string[];
    ttl: string;
    /** `worker:<name>`: run verify-live as this worker after the update. */
    verify?: string;
    /** Dial the frontend here for the verification (e.g. localhost:7233 through kubectl port-forward). */
    verifyAddress?: string;
}

export interface UpReport {
    command: "up";
    stack: string;
    template: string;
    notes: string[];
    /** Config warnings (e.g. a Key Vault open to the network): the stack goes on, and they are printed. */
    warnings: string[];
    plan?: { ok: boolean; exitCode: number; resources?: number; durationMs: number; problems: string[] };
    expires?: string;
    update?: UpSummary;
    /** Stack outputs; secret ones as "[secret]". */
    outputs?: Record<string, unknown>;
    verify?: { as: string; exitCode: number; summary: string; problems: string[] };
    error?: StepError;
    exitCode: number;
}

function parseVerify(verify: string): string {
    const m = /^worker:([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(verify);
    if (!m) throw new UsageError(`--verify ${JSON.stringify(verify)} must be worker:<name>, a worker the stack declares (e.g. worker:ci-worker)`);
    return m[1]!;
}

/** Outputs as they may be printed: a secret output's value never leaves the backend. */
export function visibleOutputs(outputs: Record<string, OutputEntry>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]));
}

/**
 * Two ephemeral stacks on one cluster collide on whatever Kubernetes names they share with the
 * template: the release namespace and the workers' namespaces (each stack creates them).
 */
export function sharedClusterNotes(cfg: ResolvedConfig, template: Record<string, unknown>, id: string): string[] {
    const t = template as { kubernetes?: { namespace?: string }; workers?: Array<{ kubernetesNamespace?: string }> };
    if (cfg.kubernetes.source === "aks") return [];
    const notes: string[] = [];
    if (cfg.kubernetes.namespace === (t.kubernetes?.namespace ?? "temporal")) {
        notes.push(
            `kubernetes.namespace is "${cfg.kubernetes.namespace}" as in the template: another ephemeral stack on the same cluster would collide with it; on a shared cluster add --set kubernetes.namespace=temporal-${id}`,
        );
    }
    cfg.workers.forEach((w, i) => {
        if (cfg.kubernetes.createWorkerNamespaces && w.kubernetesNamespace === t.workers?.[i]?.kubernetesNamespace) {
            notes.push(`workers[${i}].kubernetesNamespace is "${w.kubernetesNamespace}" as in the template: on a shared cluster add --set workers[${i}].kubernetesNamespace=${w.kubernetesNamespace}-${id}`);
        }
    });
    return notes;
}

async function planInTempDir(deps: LifecycleDeps, stack: string, config: Record<string, unknown>) {
    const dir = mkdtempSync(join(tmpdir(), "temporal-azure-ephemeral-"));
    try {
        writeFileSync(join(dir, `Pulumi.${stack}.yaml`), stackFileYaml(config));
        return await deps.runPlan({ stack, stacksDir: dir });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export async function up(options: UpOptions, deps: LifecycleDeps): Promise<UpReport> {
    // Usage first: every flag is checked before anything is read or run.
    const { id, stack } = ephemeralName(options.name);
    const ttlMs = parseTtl(options.ttl);
    const worker = options.verify !== undefined ? parseVerify(options.verify) : undefined;
    if (options.verifyAddress !== undefined && worker === undefined) throw new UsageError("--verify-address needs --verify worker:<name>");
    const overrides = options.sets.map(parseSetFlag);
    let template: StackFile;
    try {
        template = readStackFile(options.from, deps.stacksDir);
    } catch (err) {
        throw new UsageError(`--from ${options.from}: ${(err as Error).message}`);
    }
    const templateFile = `Pulumi.${options.from}.yaml`;
    const report: UpReport = { command: "up", stack, template: templateFile, notes: [], warnings: [], exitCode: EXIT.ok };
    const fail = (stage: Stage, message: string, exitCode: number = EXIT.failed): UpReport => {
        deps.log(message);
        return { ...report, error: { stage, message }, exitCode };
    };

    const built = buildEphemeralConfig(template, options.from, overrides);
    deps.log(`ephemeral up: stack ${stack} from ${templateFile}${overrides.length > 0 ? ` with ${overrides.map((o) => o.path).join(", ")} set` : ""}`);
    let cfg: ResolvedConfig;
    try {
        const loaded = validateEphemeralConfig(built.config, stack);
        cfg = loaded.config;
        report.warnings = loaded.warnings.map(formatIssue);
    } catch (err) {
        if (err instanceof ConfigError) return fail("config", `${err.message}\nNothing was created.`);
        throw err;
    }
    if (worker !== undefined && !cfg.workers.some((w) => w.name === worker)) {
        throw new UsageError(`--verify worker:${worker}: the stack declares no such worker (workers: ${cfg.workers.map((w) => w.name).join(", ") || "none"})`);
    }
    report.notes = [...built.notes, ...sharedClusterNotes(cfg, projectConfig(template), id)];
    for (const n of report.notes) deps.log(`note: ${n}`);
    for (const w of report.warnings) deps.log(`warning: ${w}`);
    deps.log("✓ stack config is valid");

    const plan = await planInTempDir(deps, stack, built.config);
    const planOk = plan.exitCode === 0 && plan.report?.ok === true;
    report.plan = {
        ok: planOk,
        exitCode: plan.exitCode,
        ...(plan.report ? { resources: plan.report.resources.length } : {}),
        durationMs: plan.durationMs,
        problems: planOk ? [] : planProblems(plan),
    };
    if (!planOk) {
        return fail("plan", `✗ the offline plan failed (exit ${plan.exitCode}):\n${report.plan.problems.map((p) => `  - ${p}`).join("\n")}\nNothing was created.`);
    }
    deps.log(`✓ offline plan passed: ${report.plan.resources ?? 0} resources, every policy, token admission and TLS check (${(plan.durationMs / 1000).toFixed(1)} s)`);

    const expires = expiryTime(deps.now(), ttlMs);
    let created = false;
    try {
        await deps.backend.createOrSelect(stack);
        created = true;
        await deps.backend.removeConfig(stack, staleConfigKeys(await deps.backend.getConfig(stack), built.config));
        await deps.backend.setConfig(stack, built.config);
        // Tagged before the update: a stack whose update fails still expires and is reaped.
        await deps.backend.setTags(stack, { [PROFILE_TAG]: "ephemeral", [EXPIRES_TAG]: expires });
        report.expires = expires;
        deps.log(`stack ${stack} expires ${expires}; pulumi up with policies/pack:`);
        report.update = await deps.backend.up(stack, { policyPacks: [deps.policyPack], onOutput: deps.engine });
        report.outputs = visibleOutputs(await deps.backend.outputs(stack));
    } catch (err) {
        const f = describeAutomationFailure(err);
        const after = created ? `\nThe stack exists${report.expires ? ` and expires ${report.expires}` : ""}: fix and run up again, or remove it with npm run ephemeral -- down --name ${id}.` : "";
        return fail("pulumi", `✗ ${stack}: ${f.message}${after}`, f.setup ? EXIT.setup : EXIT.failed);
    }
    deps.log(`✓ ${stack} is up (${Object.entries(report.update.changes).map(([op, n]) => `${op} ${n}`).join(", ") || "no changes"})`);
    deps.log("Outputs:");
    for (const [k, v] of Object.entries(report.outputs)) deps.log(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);

    if (worker === undefined) return report;
    const as = `worker:${worker}`;
    const v = await deps.runVerify({ stack, as, ...(options.verifyAddress !== undefined ? { address: options.verifyAddress } : {}) });
    const verdict = v.report?.verdict;
    const summary = verdict?.summary ?? v.report?.error?.message ?? (v.stderr.trim().split("\n").pop() || `verify-live exited with code ${v.exitCode}`);
    const exitCode = v.exitCode === 0 ? EXIT.ok : v.exitCode === EXIT.setup ? EXIT.setup : EXIT.failed;
    report.verify = { as, exitCode: v.exitCode, summary, problems: verdict?.problems ?? [] };
    deps.log(`${exitCode === EXIT.ok ? "✓" : "✗"} verify-live --as ${as}: ${summary}`);
    for (const p of report.verify.problems) deps.log(`  - ${p}`);
    if (exitCode !== EXIT.ok) return { ...report, error: { stage: "verify", message: summary }, exitCode };
    return report;
}

// ----- down

export interface VaultToPurge {
    name: string;
    location?: string;
    purgeProtection: boolean;
}

/** The Key Vaults a stack holds, from its state (so a stack whose update failed half-way is covered too). */
export function vaultsInState(state: StateResource[]): VaultToPurge[] {
    return state
        .filter((r) => r.type === "azure-native:keyvault:Vault" && typeof r.outputs.name === "string")
        .map((r) => {
            const props = (r.outputs.properties ?? {}) as { enablePurgeProtection?: unknown };
            return {
                name: r.outputs.name as string,
                ...(typeof r.outputs.location === "string" ? { location: r.outputs.location } : {}),
                purgeProtection: props.enablePurgeProtection === true,
            };
        });
}

/** Without state (an export that lists no vault), the outputs' keyVaultUri and the config's azure.location. */
export function vaultFromOutputs(outputs: Record<string, OutputEntry>, config: Record<string, { value: string }>): VaultToPurge[] {
    const uri = outputs.keyVaultUri;
    const name = uri && !uri.secret && typeof uri.value === "string" ? vaultNameFromUri(uri.value) : undefined;
    if (name === undefined) return [];
    let location: string | undefined;
    try {
        const azure = JSON.parse(config["temporal-azure:azure"]?.value ?? "{}") as { location?: unknown };
        if (typeof azure.location === "string") location = azure.location;
    } catch {
        location = undefined;
    }
    location ??= config["azure-native:location"]?.value;
    return [{ name, ...(location !== undefined ? { location } : {}), purgeProtection: false }];
}

/** What to run after destroy: the vault is soft-deleted, not gone. */
export function purgeAdvice(vault: VaultToPurge): string {
    if (vault.purgeProtection) {
        return `Key Vault ${vault.name} has purge protection, so it cannot be purged: it stays soft-deleted until its retention ends (its name is not reused: ephemeral vault names are random-suffixed)`;
    }
    return `az keyvault purge --name ${vault.name}${vault.location !== undefined ? ` --location ${vault.location}` : ""}`;
}

export interface TeardownResult {
    stack: string;
    existed: boolean;
    destroyed?: UpSummary;
    purge: string[];
    error?: StepError;
    exitCode: number;
}

async function teardown(stack: string, deps: LifecycleDeps): Promise<TeardownResult> {
    try {
        if (!(await deps.backend.exists(stack))) {
            deps.log(`stack ${stack} does not exist: nothing to tear down`);
            return { stack, existed: false, purge: [], exitCode: EXIT.ok };
        }
        // Read before destroy: afterwards the state no longer names the vault.
        let vaults = vaultsInState(await deps.backend.state(stack));
        if (vaults.length === 0) vaults = vaultFromOutputs(await deps.backend.outputs(stack), await deps.backend.getConfig(stack));
        deps.log(`pulumi destroy ${stack}:`);
        const destroyed = await deps.backend.destroy(stack, { onOutput: deps.engine });
        await deps.backend.remove(stack);
        const purge = vaults.map(purgeAdvice);
        deps.log(`✓ ${stack} destroyed and removed (${Object.entries(destroyed.changes).map(([op, n]) => `${op} ${n}`).join(", ") || "no resources"})`);
        if (purge.length > 0) {
            deps.log("The Key Vault is soft-deleted, not gone; to free it now (nothing waits for it: the next stack gets a new name):");
            for (const p of purge) deps.log(`  ${p}`);
        }
        return { stack, existed: true, destroyed, purge, exitCode: EXIT.ok };
    } catch (err) {
        const f = describeAutomationFailure(err);
        const message = `✗ ${stack}: ${f.message}`;
        deps.log(message);
        return { stack, existed: true, purge: [], error: { stage: "pulumi", message }, exitCode: f.setup ? EXIT.setup : EXIT.failed };
    }
}

export async function down(options: { name: string | undefined }, deps: LifecycleDeps): Promise<TeardownResult & { command: "down" }> {
    const { stack } = ephemeralName(options.name);
    return { command: "down", ...(await teardown(stack, deps)) };
}

// ----- list, reap

export interface ListReport {
    command: "list";
    stacks: Array<EphemeralStackInfo & { expiry: string }>;
    error?: StepError;
    exitCode: number;
}

async function ephemeralStacks(deps: LifecycleDeps): Promise<EphemeralStackInfo[]> {
    const listed = (await deps.backend.list()).filter((s) => isEphemeralStack(s.name));
    const out: EphemeralStackInfo[] = [];
    for (const s of listed) out.push({ ...s, tags: await deps.backend.tags(s.name) });
    return out;
}

function pulumiFailure(deps: LifecycleDeps, err: unknown): { error: StepError; exitCode: number } {
    const f = describeAutomationFailure(err);
    const message = `✗ ${f.message}`;
    deps.log(message);
    return { error: { stage: "pulumi", message }, exitCode: f.setup ? EXIT.setup : EXIT.failed };
}

export async function list(deps: LifecycleDeps): Promise<ListReport> {
    let stacks: EphemeralStackInfo[];
    try {
        stacks = await ephemeralStacks(deps);
    } catch (err) {
        return { command: "list", stacks: [], ...pulumiFailure(deps, err) };
    }
    const now = deps.now();
    const rows = stacks.map((s) => ({ ...s, expiry: describeExpiry(expiryOf(s.tags, now)) }));
    if (rows.length === 0) deps.log("no ephemeral stacks");
    for (const r of rows) {
        const extra = [r.updateInProgress ? "update in progress" : undefined, r.lastUpdate ? `last update ${r.lastUpdate}` : undefined, r.resourceCount !== undefined ? `${r.resourceCount} resources` : undefined];
        deps.log(`${r.name}  ${r.expiry}${extra.filter(Boolean).map((e) => `, ${e}`).join("")}`);
    }
    return { command: "list", stacks: rows, exitCode: EXIT.ok };
}

export interface ReapReport {
    command: "reap";
    dryRun: boolean;
    reaped: Array<{ stack: string; reason: string; result?: TeardownResult }>;
    kept: Array<{ stack: string; reason: string }>;
    error?: StepError;
    exitCode: number;
}

export async function reap(options: { dryRun: boolean }, deps: LifecycleDeps): Promise<ReapReport> {
    let stacks: EphemeralStackInfo[];
    try {
        stacks = await ephemeralStacks(deps);
    } catch (err) {
        return { command: "reap", dryRun: options.dryRun, reaped: [], kept: [], ...pulumiFailure(deps, err) };
    }
    const selection = selectForReap(stacks, deps.now());
    const report: ReapReport = { command: "reap", dryRun: options.dryRun, reaped: [], kept: selection.keep.map((k) => ({ stack: k.stack.name, reason: k.reason })), exitCode: EXIT.ok };
    for (const k of report.kept) deps.log(`keep ${k.stack}: ${k.reason}`);
    for (const r of selection.reap) {
        deps.log(`${options.dryRun ? "would reap" : "reap"} ${r.stack.name}: ${r.reason}`);
        if (options.dryRun) {
            report.reaped.push({ stack: r.stack.name, reason: r.reason });
            continue;
        }
        // One failure does not stop the others; the job fails at the end so someone looks.
        const result = await teardown(r.stack.name, deps);
        report.reaped.push({ stack: r.stack.name, reason: r.reason, result });
        if (result.exitCode !== EXIT.ok) report.exitCode = EXIT.failed;
    }
    deps.log(`${options.dryRun ? "would reap" : "reaped"} ${report.reaped.length}, kept ${report.kept.length}`);
    return report;
}
