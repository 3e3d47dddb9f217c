// First: before @pulumi/pulumi loads (see the module).
import "../offline/defer-code-paths";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { generateKeyPair } from "jose";
import { parse } from "yaml";
import { ConfigError, formatIssue, PROJECT, readProjectConfig, type StackConfigSource } from "../../../infra/config";
import { loadStackConfig } from "../../../infra/stack-config";
import { setupFullEngine } from "../offline/emulators";
import { settleProgram, unwrap, type Emulator, type EmulatorError, type OfflineEngine, type RecordedResource } from "../offline/engine";
import { resourcePolicies } from "../../../policies/pack/policies";
import { runTokenAdmission } from "../../../policies/pack/admission";
import { runTlsChecks } from "./tls-checks";
import { MaterialIndex, SECRET, showInputs } from "./material";
import { certificates, wiring } from "./wiring";
import { emptyReport, REPO_ROOT, type PlanReport } from "./report";

export { emptyReport, REPO_ROOT, REPORT_SCHEMA_VERSION, type PlanError, type PlannedResource, type PlanReport, type PolicyViolation } from "./report";

/**
 * The offline plan: what `pulumi preview --policy-pack policies/pack` would show for a stack, run
 * here with no cloud. It validates the stack config, runs the real program on the offline engine
 * (emulated providers, real keys and certificates), applies every policy of the pack to every
 * resource, runs the token admission and real TLS handshakes, and reports.
 */

/** Placeholder for `secure:` stack values, which cannot be decrypted offline. */
export const SECRET_PLACEHOLDER = "offline-plan-secret-placeholder";

export interface StackFile {
    config: Record<string, unknown>;
    secretKeys: string[];
}

/** Reads `stacks/Pulumi.<stack>.yaml`; `secure:` values become a placeholder marked secret. */
export function readStackFile(stack: string, dir = join(REPO_ROOT, "stacks")): StackFile {
    const file = join(dir, `Pulumi.${stack}.yaml`);
    if (!existsSync(file)) throw new Error(`no stack file ${file}: create stacks/Pulumi.${stack}.yaml (see stacks/Pulumi.dev.yaml)`);
    const doc = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value && typeof value === "object" && "secure" in (value as object)) {
            config[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
        } else {
            config[key] = value;
        }
    }
    return { config, secretKeys };
}

/** The stack file as the program's config reader sees it (the same function the program calls). */
export function stackConfigSource(file: StackFile): StackConfigSource {
    return { keys: Object.keys(file.config), get: (key) => file.config[key], isSecret: (key) => file.secretKeys.includes(key) };
}

/** Raw project config: the sections the program reads (keys without the `temporal-azure:` prefix). */
export function projectConfig(file: StackFile): Record<string, unknown> {
    return readProjectConfig(stackConfigSource(file)).sections;
}

async function resolveOutputs(mod: Record<string, unknown>): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(mod).sort()) {
        const v = mod[k];
        if (k === "__esModule" || typeof v === "function") continue;
        const o = pulumi.output(v as pulumi.Input<unknown>) as pulumi.Output<unknown>;
        out[k] = (await pulumi.isSecret(o)) ? SECRET : ((await unwrap(o)) ?? null);
    }
    return out;
}

const byTypeAndName = (a: RecordedResource, b: RecordedResource) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export interface PlanOptions {
    /** Folder of the stack files (default: stacks/). */
    stacksDir?: string;
    /** When the emulated deployment happens (default: now); absolute times never reach the report. */
    now?: Date;
    /** Emulators that replace the engine's own for some types (tests: a provider that refuses). */
    emulators?: Record<string, Emulator>;
}

/**
 * Runs the whole offline plan for one stack. Call once per process (the mock runtime is global).
 * Throws only when there is nothing to plan (no stack file); every later failure is in the report.
 */
export async function runPlan(stack: string, options: PlanOptions = {}): Promise<PlanReport> {
    return (await planStack(stack, options)).report;
}

/** The plan, and the engine it ran on (absent when the config check stopped it): tests look at both. */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<{ report: PlanReport; engine?: OfflineEngine }> {
    const report = emptyReport(stack);
    const file = readStackFile(stack, options.stacksDir);
    try {
        report.configWarnings = loadStackConfig(stackConfigSource(file), stack).warnings.map(formatIssue);
    } catch (err) {
        if (err instanceof ConfigError) {
            report.configErrors = err.issues.map(formatIssue);
            return { report };
        }
        throw err;
    }

    // The admission's RS256 key takes from 50 ms to over half a second to generate, off the main
    // thread: started now, it is ready by the time the program has run.
    const admissionKey = generateKeyPair("RS256");
    admissionKey.catch(() => undefined); // awaited (and its failure reported) by the admission; unused when the program fails
    const engine = setupFullEngine({
        stack,
        config: file.config,
        secretKeys: file.secretKeys,
        ...(options.now ? { now: options.now } : {}),
        ...(options.emulators ? { emulators: options.emulators } : {}),
    });
    // A refused registration rejects every output that depends on it, with nobody awaiting them:
    // collected here (for the rest of the process, which is the plan's own) instead of crashing it.
    const stray: string[] = [];
    process.on("unhandledRejection", (reason) => stray.push(reason instanceof Error ? reason.message : String(reason)));
    let program: Record<string, unknown>;
    // Pulumi records a stack trace with every promise it makes (debuggablePromise), thousands per
    // plan; mapped through source maps that was a third of the plan's time. Nothing here reads those
    // stacks (the report carries messages), so the program runs without them.
    const sourceMaps = process.sourceMapsEnabled;
    const stackTraceLimit = Error.stackTraceLimit;
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = 0;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the engine is set up
        program = require("../../../infra") as Record<string, unknown>;
        await settleProgram();
    } catch (err) {
        if (err instanceof ConfigError) report.configErrors = err.issues.map(formatIssue);
        else report.error = { stage: "program", message: programError(err, engine.errors) };
        return { report, engine };
    } finally {
        process.setSourceMapsEnabled(sourceMaps);
        Error.stackTraceLimit = stackTraceLimit;
    }
    if (engine.errors.length > 0 || stray.length > 0) {
        // The providers' refusals say it best; the rejections they caused only repeat them.
        report.error = { stage: "program", message: engine.errors.length > 0 ? programError(undefined, engine.errors) : [...new Set(stray)].join("\n") };
        return { report, engine };
    }
    report.outputs = await resolveOutputs(program);

    const custom = engine.resources.filter((r) => r.custom).sort(byTypeAndName);
    const index = new MaterialIndex(custom);
    report.resources = custom.map((r) => ({ type: r.type, name: r.name, ...showInputs(r, index) }));
    const stackTags = new Map([[`${PROJECT}:profile`, String(file.config[`${PROJECT}:profile`] ?? "")]]);
    for (const r of custom) {
        const args = {
            type: r.type,
            props: r.state,
            urn: `urn:pulumi:${stack}::${PROJECT}::${r.type}::${r.name}`,
            name: r.name,
            opts: {},
            stackTags,
        } as unknown as ResourceValidationArgs;
        for (const policy of resourcePolicies) {
            const validations = [policy.validateResource ?? []].flat();
            for (const validate of validations) {
                await validate(args, (message) => report.violations.push({ policy: policy.name, resource: `${r.type}::${r.name}`, message }));
            }
        }
    }
    report.admission = await runTokenAdmission(
        custom.map((r) => ({ type: r.type, name: r.name, props: r.state })),
        { signingKey: admissionKey },
    );
    const tls = await runTlsChecks(custom);
    report.tls = tls.checks;
    report.tlsProblems = tls.problems;
    report.wiring = wiring(custom, index);
    report.certificates = certificates(custom, index);
    report.ok = report.violations.length === 0 && report.admission.violations.length === 0 && !report.admission.skipped && tls.problems.length === 0;
    return { report, engine };
}

/** The program's own error, or the providers' refusals that made it fail (the first line of each). */
function programError(err: unknown, refusals: EmulatorError[]): string {
    const lines = refusals.map((e) => `${e.type} ${e.name}: ${e.message}`);
    if (err !== undefined) lines.unshift(err instanceof Error ? err.message : String(err));
    return lines.join("\n") || "the program failed without a message";
}
