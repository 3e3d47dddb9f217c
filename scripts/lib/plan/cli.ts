import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkoutBase, existsAt, planInChild, UsageError, type BaseTree } from "./base";
import { diffPlans, type PlanDiff } from "./diff";
import { formatMarkdown, formatText, type Format } from "./format";
import { formatDiffMarkdown, formatDiffText } from "./format-diff";
import { emptyReport, REPO_ROOT, type PlanReport } from "./report";

/**
 * `npm start` / `npm run plan`: the offline plan of one or more stacks, or with `--base <ref>` the
 * difference between their plans at that ref and in the working tree. Exit 0 when every plan (of
 * the working tree) passes, 1 when one fails, 2 on a usage error.
 */

export const USAGE = `usage: npm start -- [--stack <name>]... [--all-stacks] [--base <git-ref>] [--format text|markdown|json] [--out <file>]
  --stack       stack whose Pulumi.<name>.yaml to plan (default: dev); repeat for several
  --all-stacks  every stack file in the stacks folder
  --stacks-dir  folder of the stack files (default: stacks/, the project's stackConfigDir)
  --base        compare with the plan of the same stack at this git ref (branch, tag, commit)
  --format      text (default), markdown (a pull-request comment) or json
  --json        the same as --format json
  --inputs      text format: also list every resource with its inputs
  --out         also write the JSON report (or diff) to this file, whatever happens
Through npm, JSON or Markdown on stdout needs npm's --silent (npm prints a banner first):
  npm start --silent -- --json > plan.json      or      npm start -- --out plan.json`;

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    /** Whether stdout is a terminal (npm's banner only matters when it is not). */
    stdoutIsTty: boolean;
    env: NodeJS.ProcessEnv;
}

interface Options {
    stacks: string[];
    stacksDir?: string;
    base?: string;
    format: Format;
    inputs: boolean;
    out?: string;
}

function parse(argv: string[], stacksDirDefault: string): Options {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", multiple: true },
                "all-stacks": { type: "boolean", default: false },
                "stacks-dir": { type: "string" },
                base: { type: "string" },
                format: { type: "string" },
                json: { type: "boolean", default: false },
                inputs: { type: "boolean", default: false },
                out: { type: "string" },
                help: { type: "boolean", short: "h", default: false },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    if (values.help) throw new HelpRequested();
    const format = values.json ? "json" : (values.format ?? "text");
    if (format !== "text" && format !== "markdown" && format !== "json") throw new UsageError(`--format ${format}: use text, markdown or json`);
    if (values.json && values.format !== undefined && values.format !== "json") throw new UsageError(`--json and --format ${values.format} contradict each other`);
    if (values.inputs && format !== "text") throw new UsageError("--inputs is for the text format (JSON and Markdown always carry the inputs)");
    const stacksDir = values["stacks-dir"];
    let stacks = values.stack ?? [];
    if (values["all-stacks"]) {
        if (stacks.length > 0) throw new UsageError("--all-stacks and --stack contradict each other");
        const dir = stacksDir ?? stacksDirDefault;
        stacks = existsSync(dir) ? readdirSync(dir).flatMap((f) => /^Pulumi\.([A-Za-z0-9._-]+)\.yaml$/.exec(f)?.[1] ?? []).sort() : [];
        if (stacks.length === 0) throw new UsageError(`--all-stacks: no Pulumi.<stack>.yaml in ${dir}`);
    }
    if (stacks.length === 0) stacks = ["dev"];
    for (const s of stacks) if (!/^[A-Za-z0-9._-]+$/.test(s)) throw new UsageError(`--stack must be a stack name (letters, digits, . _ -), got ${JSON.stringify(s)}`);
    if (new Set(stacks).size !== stacks.length) throw new UsageError(`--stack: ${stacks.join(", ")} names a stack twice`);
    return { stacks, format, inputs: values.inputs, ...(stacksDir ? { stacksDir } : {}), ...(values.base !== undefined ? { base: values.base } : {}), ...(values.out ? { out: values.out } : {}) };
}

class HelpRequested extends Error {}

/**
 * npm prints `> temporal-azure@0.1.0 start` on stdout before the program starts unless it runs with
 * --silent, so `npm start -- --json > plan.json` would not be JSON. Refuse instead of writing a
 * file that looks right and does not parse (a terminal is fine: nobody parses it).
 */
export function npmBannerProblem(format: Format, io: Pick<CliIo, "stdoutIsTty" | "env">): string | undefined {
    if (format === "text" || io.stdoutIsTty) return undefined;
    const event = io.env.npm_lifecycle_event;
    if (event !== "start" && event !== "plan") return undefined;
    if (io.env.npm_config_loglevel === "silent") return undefined;
    const flag = format === "json" ? "--json" : "--format markdown";
    return `npm printed its "> temporal-azure@… ${event}" banner on stdout before this ${format === "json" ? "JSON" : "Markdown"}, so the output would not be valid ${format === "json" ? "JSON" : "Markdown"}. Run npm with --silent: npm ${event === "start" ? "start" : "run plan"} --silent -- ${flag} > file, or let the plan write the file: npm ${event === "start" ? "start" : "run plan"} -- --out plan.json`;
}

/** Runs tasks with at most `limit` at a time, results in input order. */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length; i = next++) results[i] = await task(items[i]!);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

function stackFile(dir: string | undefined, stack: string): string {
    return join(dir ?? join(REPO_ROOT, "stacks"), `Pulumi.${stack}.yaml`);
}

/** Plans the working tree's stacks: one in this process, several in child processes (the mock runtime is global to a process). */
async function planHead(opts: Options, limit: number): Promise<PlanReport[]> {
    if (opts.stacks.length === 1) {
        const stack = opts.stacks[0]!;
        try {
            // Loaded here: the program's providers take seconds to load, which a usage error should not wait for.
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require works with and without tsx's ESM hooks
            const { runPlan } = require("./run") as typeof import("./run");
            return [await runPlan(stack, opts.stacksDir ? { stacksDir: opts.stacksDir } : {})];
        } catch (err) {
            // Whatever stopped it, the report says so (and --out still gets written).
            return [{ ...emptyReport(stack), error: { stage: "program", message: err instanceof Error ? err.message : String(err) } }];
        }
    }
    return pool(opts.stacks, limit, async (stack) => (await planInChild(REPO_ROOT, stack, opts.stacksDir && resolve(opts.stacksDir))).report);
}

async function startBasePlans(tree: BaseTree, opts: Options, limit: number): Promise<{ plans: Promise<Array<{ report: PlanReport; planned: boolean }>> }> {
    let rel = "stacks";
    if (opts.stacksDir) {
        rel = relative(REPO_ROOT, resolve(opts.stacksDir));
        if (rel.startsWith("..") || isAbsolute(rel)) throw new UsageError(`--base with --stacks-dir ${opts.stacksDir}: the stack files must be inside the repository to exist at another ref`);
    }
    const present = await Promise.all(opts.stacks.map((stack) => existsAt(REPO_ROOT, tree.commit, `${rel === "" ? "" : `${rel}/`}Pulumi.${stack}.yaml`)));
    // Returns once the first child plans are started: the working tree's plan, loaded next in this
    // process, blocks the event loop for seconds while its modules load, and a child spawned only
    // after that would run its plan after the head's instead of beside it.
    const plans = pool(opts.stacks.map((stack, i) => ({ stack, present: present[i]! })), limit, async ({ stack, present: exists }) => {
        if (!exists) return { report: emptyReport(stack), planned: false };
        return { report: (await planInChild(tree.dir, stack, rel === "stacks" ? undefined : join(tree.dir, rel))).report, planned: true };
    });
    return { plans };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
    let opts: Options;
    try {
        opts = parse(argv, join(REPO_ROOT, "stacks"));
    } catch (err) {
        if (err instanceof HelpRequested) {
            io.stdout(`${USAGE}\n`);
            return EXIT.ok;
        }
        io.stderr(`${(err as Error).message}\n${USAGE}\n`);
        return EXIT.usage;
    }
    const writeOut = (value: unknown) => {
        if (opts.out) writeFileSync(opts.out, `${JSON.stringify(value, null, 2)}\n`);
    };
    const usage = (message: string): number => {
        io.stderr(`${message}\n`);
        writeOut(opts.stacks.length === 1 ? { ...emptyReport(opts.stacks[0]!), error: { stage: "usage", message } } : opts.stacks.map((s) => ({ ...emptyReport(s), error: { stage: "usage", message } })));
        return EXIT.usage;
    };
    const banner = npmBannerProblem(opts.format, io);
    if (banner) return usage(banner);
    const missing = opts.stacks.filter((s) => !existsSync(stackFile(opts.stacksDir, s)));
    if (missing.length > 0) return usage(missing.map((s) => `no stack file ${stackFile(opts.stacksDir, s)}: create it (see stacks/Pulumi.dev.yaml) or name an existing stack`).join("\n"));

    const limit = Math.max(1, availableParallelism());
    let heads: PlanReport[];
    let diffs: PlanDiff[] | undefined;
    if (opts.base === undefined) {
        heads = await planHead(opts, limit);
    } else {
        let tree: BaseTree;
        try {
            tree = await checkoutBase(REPO_ROOT, opts.base, (l) => io.stderr(`${l}\n`));
        } catch (err) {
            if (err instanceof UsageError) return usage(err.message);
            throw err;
        }
        try {
            // The base's plans (child processes in the worktree) and the working tree's run side by side.
            const { plans } = await startBasePlans(tree, opts, opts.stacks.length === 1 ? 1 : Math.max(1, limit - 1));
            const [bases, h] = await Promise.all([plans, planHead(opts, Math.max(1, limit - 1))]);
            heads = h;
            diffs = heads.map((head, i) => diffPlans(bases[i]!.report, head, { ref: tree.ref, commit: tree.commit, planned: bases[i]!.planned }));
        } catch (err) {
            if (err instanceof UsageError) return usage(err.message);
            throw err;
        } finally {
            await tree.dispose();
        }
    }

    const items: unknown[] = diffs ?? heads;
    writeOut(items.length === 1 ? items[0] : items);
    if (opts.format === "json") io.stdout(`${JSON.stringify(items.length === 1 ? items[0] : items, null, 2)}\n`);
    else {
        const blocks = diffs
            ? diffs.map((d) => (opts.format === "markdown" ? formatDiffMarkdown(d) : formatDiffText(d)))
            : heads.map((r) => (opts.format === "markdown" ? formatMarkdown(r) : formatText(r, { inputs: opts.inputs })));
        const title = opts.format === "markdown" ? [`## Offline plan${diffs ? ` against ${"`"}${opts.base}${"`"}` : ""}`, ""] : [];
        io.stdout(`${[...title, ...blocks.flatMap((b, i) => (i === 0 ? b : ["", ...b]))].join("\n")}\n`);
    }
    return heads.every((h) => h.ok) ? EXIT.ok : EXIT.failed;
}
