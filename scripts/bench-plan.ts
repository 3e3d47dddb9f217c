import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

/**
 * `npm run bench:plan`: how long the offline plan takes (one stack; a `--base` diff, which plans
 * twice) and whether its output is the same bytes every run, per format. Runs the plan as users do,
 * one process per run, and prints figures; it asserts nothing.
 */

const ROOT = join(__dirname, "..");

function plan(args: string[]): Promise<{ ms: number; stdout: string; code: number }> {
    const started = process.hrtime.bigint();
    return new Promise((resolve) => {
        execFile(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "plan.ts"), ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
            resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, stdout, code });
        });
    });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, stack: { type: "string", multiple: true }, base: { type: "string", default: "HEAD" } } });
    const runs = Number(values.runs);
    const stacks = values.stack ?? ["dev", "prod"];
    const line = (s: string) => process.stdout.write(`${s}\n`);
    line(`offline plan benchmark: ${runs} runs each, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    for (const stack of stacks) {
        for (const format of ["text", "markdown", "json"]) {
            const times: number[] = [];
            const hashes: string[] = [];
            for (let i = 0; i < runs; i++) {
                const r = await plan(["--stack", stack, "--format", format, ...(format === "text" ? ["--inputs"] : [])]);
                if (r.code !== 0) throw new Error(`plan --stack ${stack} --format ${format} exited ${r.code}`);
                times.push(r.ms);
                hashes.push(sha(r.stdout));
            }
            const same = new Set(hashes).size === 1;
            line(`plan ${stack} ${format.padEnd(8)} median ${(median(times) / 1000).toFixed(2)} s (${times.map((t) => (t / 1000).toFixed(2)).join(", ")}); sha256 ${hashes.join(" ")} ${same ? "identical" : "DIFFERENT"}`);
        }
        const diffs: number[] = [];
        for (let i = 0; i < runs; i++) {
            const r = await plan(["--stack", stack, "--base", values.base, "--format", "markdown"]);
            if (r.code !== 0) throw new Error(`plan --stack ${stack} --base ${values.base} exited ${r.code}`);
            diffs.push(r.ms);
        }
        line(`diff ${stack} --base ${values.base} (two plans) median ${(median(diffs) / 1000).toFixed(2)} s (${diffs.map((t) => (t / 1000).toFixed(2)).join(", ")})`);
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`bench:plan: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
});
