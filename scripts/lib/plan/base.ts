import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { emptyReport, type PlanReport } from "./report";

/**
 * The other side of a diff: the repository at a git ref, checked out in a temporary worktree, with
 * its packages (the installed ones when its package-lock.json is the same, `npm ci` otherwise), and
 * the plan of a stack run there, by that ref's own plan script, in a child process.
 */

const exec = promisify(execFile);

export class UsageError extends Error {}

export interface BaseTree {
    ref: string;
    commit: string;
    /** The worktree's folder. */
    dir: string;
    /** How its node_modules came to be. */
    packages: "linked" | "installed";
    dispose(): Promise<void>;
}

async function git(root: string, args: string[]): Promise<string> {
    const { stdout } = await exec("git", ["-C", root, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" });
    return stdout;
}

/** The commit a ref names, or a usage error that says so. */
export async function resolveRef(root: string, ref: string): Promise<string> {
    if (ref.startsWith("-")) throw new UsageError(`--base ${ref}: not a git ref`);
    try {
        return (await git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`])).trim();
    } catch {
        throw new UsageError(`--base ${ref}: no such commit, branch or tag in ${root} (in CI, fetch it first: git fetch origin ${ref.replace(/^origin\//, "")})`);
    }
}

/** True when `path` exists at `commit`. */
export async function existsAt(root: string, commit: string, path: string): Promise<boolean> {
    try {
        await git(root, ["cat-file", "-e", `${commit}:${path}`]);
        return true;
    } catch {
        return false;
    }
}

function run(cmd: string, args: string[], cwd: string, log: (line: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed (exit ${code}) in ${cwd}:\n${output.trim().split("\n").slice(-20).join("\n")}`))));
        log(`${cmd} ${args.join(" ")} (in ${cwd})`);
    });
}

/**
 * The folder of the base's worktree: the same one for every diff of a repository, because tsx caches
 * its TypeScript transforms by file path (a fresh path costs about a second of the base's plan); a
 * fresh one when that is taken (another diff running, or one that was killed).
 */
function baseFolder(root: string): string {
    const stable = join(tmpdir(), `temporal-azure-base-${createHash("sha256").update(root).digest("hex").slice(0, 12)}`);
    try {
        mkdirSync(stable);
        return stable;
    } catch {
        return mkdtempSync(join(tmpdir(), "temporal-azure-base-"));
    }
}

/**
 * Checks `ref` out into a temporary worktree of the repository at `root`. Its node_modules is a link
 * to `root`'s when both package-lock.json files are identical (same packages, no install), and a
 * fresh `npm ci` otherwise.
 */
export async function checkoutBase(root: string, ref: string, log: (line: string) => void): Promise<BaseTree> {
    const commit = await resolveRef(root, ref);
    const tmp = baseFolder(root);
    const dir = join(tmp, "tree");
    const dispose = async () => {
        try {
            await git(root, ["worktree", "remove", "--force", dir]);
        } catch {
            // removed below; prune forgets the worktree's metadata
        }
        rmSync(tmp, { recursive: true, force: true });
        await git(root, ["worktree", "prune"]).catch(() => undefined);
    };
    try {
        await git(root, ["worktree", "add", "--detach", "--quiet", dir, commit]);
        const lock = (await existsAt(root, commit, "package-lock.json")) ? await git(root, ["show", `${commit}:package-lock.json`]) : undefined;
        const ownLock = existsSync(join(root, "package-lock.json")) ? readFileSync(join(root, "package-lock.json"), "utf8") : undefined;
        let packages: BaseTree["packages"];
        if (lock !== undefined && lock === ownLock && existsSync(join(root, "node_modules"))) {
            symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
            packages = "linked";
        } else {
            log(`--base ${ref}: package-lock.json differs from the working tree's; installing the base's packages`);
            await run("npm", ["ci", "--no-audit", "--no-fund"], dir, log);
            packages = "installed";
        }
        return { ref, commit, dir, packages, dispose };
    } catch (err) {
        await dispose();
        throw err;
    }
}

/**
 * Preloaded into each child plan: the plan script of a ref from before it existed would load
 * Pulumi's code packaging (and npm's arborist) for nothing, half a second of every base plan. It
 * only defers loading, so what the base's plan computes is its own (see the module).
 */
const DEFER_CODE_PATHS = pathToFileURL(join(__dirname, "..", "offline", "defer-code-paths.ts")).href;

export interface ChildPlan {
    report: PlanReport;
    exitCode: number;
    stderr: string;
    ms: number;
}

/**
 * Runs `scripts/plan.ts` of the tree at `dir` for one stack in a child process and reads its JSON
 * report from a file (`--out`), so nothing else the child prints can corrupt it. A child that
 * leaves no report (a crash, or a plan script from before reports were written on failure) yields
 * a report whose error is the child's own output.
 */
export function planInChild(dir: string, stack: string, stacksDir: string | undefined, timeoutMs = 10 * 60_000): Promise<ChildPlan> {
    const started = Date.now();
    const tmp = mkdtempSync(join(tmpdir(), "temporal-azure-plan-"));
    const out = join(tmp, "plan.json");
    const args = ["--import", "tsx", "--import", DEFER_CODE_PATHS, join(dir, "scripts", "plan.ts"), "--stack", stack, ...(stacksDir ? ["--stacks-dir", stacksDir] : []), "--out", out];
    return new Promise((resolve) => {
        execFile(process.execPath, args, { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, env: { ...process.env, FORCE_COLOR: "0" } }, (err, _stdout, stderr) => {
            const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
            const exitCode = e ? (typeof e.code === "number" ? e.code : 1) : 0;
            let report: PlanReport;
            try {
                report = JSON.parse(readFileSync(out, "utf8")) as PlanReport;
            } catch {
                report = { ...emptyReport(stack), error: { stage: "program", message: (e?.killed ? `the plan did not finish within ${timeoutMs / 1000} s` : stderr.trim()) || `the plan exited with code ${exitCode} and wrote no report` } };
            }
            rmSync(tmp, { recursive: true, force: true });
            resolve({ report, exitCode, stderr, ms: Date.now() - started });
        });
    });
}
