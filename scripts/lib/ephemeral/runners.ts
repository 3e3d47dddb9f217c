import { execFile } from "node:child_process";
import { join } from "node:path";
import type { PlanReport } from "../plan/run";

/**
 * The project's other CLIs, run as child processes exactly as users run them: the offline plan
 * (its mock runtime is global to a process, so it gets a process of its own) and the live
 * verification. Injectable, so the lifecycle's tests can replace them.
 */

export const REPO_ROOT = join(__dirname, "..", "..", "..");
export const PLAN_SCRIPT = join(REPO_ROOT, "scripts", "plan.ts");
export const VERIFY_SCRIPT = join(REPO_ROOT, "scripts", "verify-live.ts");

export interface ChildResult {
    exitCode: number;
    stdout: string;
    stderr: string;
    durationMs: number;
}

/** Runs a TypeScript CLI of this repository with the same Node and tsx as this process. */
export function runScript(script: string, args: string[], timeoutMs: number): Promise<ChildResult> {
    const started = Date.now();
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ["--import", "tsx", script, ...args],
            { cwd: REPO_ROOT, env: process.env, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
            (err, stdout, stderr) => {
                const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
                let exitCode = 0;
                if (e) exitCode = typeof e.code === "number" ? e.code : 1;
                const note = e?.killed ? `\n${script} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped` : "";
                resolve({ exitCode, stdout, stderr: `${stderr}${note}`, durationMs: Date.now() - started });
            },
        );
    });
}

export interface PlanOutcome extends ChildResult {
    /** The plan's JSON report; absent when the plan stopped before writing one (e.g. the program threw). */
    report?: PlanReport;
}

export type PlanRunner = (args: { stack: string; stacksDir: string }) => Promise<PlanOutcome>;

/** `scripts/plan.ts --stack <stack> --stacks-dir <dir> --json` */
export const runOfflinePlan: PlanRunner = async ({ stack, stacksDir }) => {
    const result = await runScript(PLAN_SCRIPT, ["--stack", stack, "--stacks-dir", stacksDir, "--json"], 10 * 60_000);
    try {
        return { ...result, report: JSON.parse(result.stdout) as PlanReport };
    } catch {
        return result;
    }
};

/** What a failed plan reports, one problem per line (the whole report stays in --json output). */
export function planProblems(outcome: PlanOutcome): string[] {
    const r = outcome.report;
    if (!r) {
        // The plan's own error (e.g. the program refusing the config), its bullets folded into ours.
        const lines = outcome.stderr
            .split("\n")
            .map((l) => l.trim().replace(/^- /, ""))
            .filter((l) => l !== "" && !/^npm (warn|notice)/.test(l));
        return lines.length > 0 ? lines : [`the offline plan exited with code ${outcome.exitCode} and no report`];
    }
    const a = r.admission;
    return [
        ...r.configErrors,
        ...r.violations.map((v) => `policy ${v.policy}: ${v.resource}: ${v.message}`),
        ...(a?.skipped ? [`token admission not run: ${a.skipped}`] : []),
        ...(a?.violations ?? []).map((v) => `token admission: ${v}`),
        ...r.tlsProblems.map((p) => `TLS: ${p}`),
    ];
}

export interface VerifyOutcome extends ChildResult {
    /** verify-live's JSON report (or its `{ error }` object). */
    report?: { verdict?: { exitCode: number; summary: string; problems: string[] }; error?: { stage: string; message: string } };
}

export type VerifyRunner = (args: { stack: string; as: string; address?: string }) => Promise<VerifyOutcome>;

/** `scripts/verify-live.ts --stack <stack> --as <principal> [--address <host:port>] --json` */
export const runVerifyLive: VerifyRunner = async ({ stack, as, address }) => {
    const args = ["--stack", stack, "--as", as, ...(address !== undefined ? ["--address", address] : []), "--json"];
    const result = await runScript(VERIFY_SCRIPT, args, 5 * 60_000);
    try {
        return { ...result, report: JSON.parse(result.stdout) as VerifyOutcome["report"] };
    } catch {
        return result;
    }
};
