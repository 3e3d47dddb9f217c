import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { parse } from "yaml";
import { ConfigError, formatIssue, PROJECT, readProjectConfig, type StackConfigSource } from "../../../infra/config";
import { loadStackConfig } from "../../../infra/stack-config";
import { setupFullEngine } from "../offline/emulators";
import { settle, unwrap, type RecordedResource } from "../offline/engine";
import { resourcePolicies } from "../../../policies/pack/policies";
import { runTokenAdmission, type AdmissionReport } from "../../../policies/pack/admission";
import { runTlsChecks, type TlsCheck } from "./tls-checks";

/**
 * The offline plan: what `pulumi preview --policy-pack policies/pack` would show for a stack, run
 * here with no cloud. It validates the stack config, runs the real program on the offline engine
 * (emulated providers, real keys and certificates), applies every policy of the pack to every
 * resource, runs the token admission and real TLS handshakes, and reports.
 */

export const REPO_ROOT = join(__dirname, "..", "..", "..");
/** Placeholder for `secure:` stack values, which cannot be decrypted offline. */
export const SECRET_PLACEHOLDER = "offline-plan-secret-placeholder";

export interface PolicyViolation {
    policy: string;
    resource: string;
    message: string;
}

export interface PlanReport {
    stack: string;
    configErrors: string[];
    /** Config issues that let the stack go on (e.g. a Key Vault open to the network outside prod). */
    configWarnings?: string[];
    resources: Array<{ type: string; name: string }>;
    outputs: Record<string, unknown>;
    violations: PolicyViolation[];
    admission?: AdmissionReport;
    tls: TlsCheck[];
    tlsProblems: string[];
    ok: boolean;
}

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
    for (const [k, v] of Object.entries(mod)) {
        if (k === "__esModule" || typeof v === "function") continue;
        const o = pulumi.output(v as pulumi.Input<unknown>) as pulumi.Output<unknown>;
        out[k] = (await pulumi.isSecret(o)) ? "[secret]" : await unwrap(o);
    }
    return out;
}

async function settleResources(resources: RecordedResource[]): Promise<void> {
    let last = -1;
    for (let i = 0; i < 200 && resources.length !== last; i++) {
        last = resources.length;
        await new Promise((r) => setTimeout(r, 25));
        await settle();
    }
}

/** Runs the whole offline plan for one stack. Call once per process (the mock runtime is global). */
export async function runPlan(stack: string, stacksDir?: string): Promise<PlanReport> {
    const report: PlanReport = { stack, configErrors: [], configWarnings: [], resources: [], outputs: {}, violations: [], tls: [], tlsProblems: [], ok: false };
    const file = readStackFile(stack, stacksDir);
    try {
        report.configWarnings = loadStackConfig(stackConfigSource(file), stack).warnings.map(formatIssue);
    } catch (err) {
        if (err instanceof ConfigError) {
            report.configErrors = err.issues.map(formatIssue);
            return report;
        }
        throw err;
    }

    const engine = setupFullEngine({ stack, config: file.config, secretKeys: file.secretKeys });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the engine is set up
    const program = require("../../../infra") as Record<string, unknown>;
    report.outputs = await resolveOutputs(program);
    await settleResources(engine.resources);

    report.resources = engine.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name }));
    const stackTags = new Map([[`${PROJECT}:profile`, String(file.config[`${PROJECT}:profile`] ?? "")]]);
    for (const r of engine.resources.filter((x) => x.custom)) {
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
    report.admission = await runTokenAdmission(engine.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, props: r.state })));
    const tls = await runTlsChecks(engine.resources);
    report.tls = tls.checks;
    report.tlsProblems = tls.problems;
    report.ok = report.violations.length === 0 && report.admission.violations.length === 0 && !report.admission.skipped && tls.problems.length === 0;
    return report;
}
