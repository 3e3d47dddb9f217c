import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { UPSTREAM_BINARIES } from "../upstream/binaries";
import { goBinary, goSkipReason } from "../upstream/go";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const DIR = join(ROOT, ".github", "workflows");
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}
interface Job {
    permissions?: Record<string, string> | string;
    concurrency?: { group: string };
    steps: Step[];
    if?: string;
}
interface Workflow {
    on: Record<string, unknown>;
    permissions?: unknown;
    jobs: Record<string, Job>;
}

const workflows = Object.fromEntries(FILES.map((f) => [f, parse(readFileSync(join(DIR, f), "utf8")) as Workflow]));
const steps = () => Object.entries(workflows).flatMap(([file, w]) => Object.entries(w.jobs).flatMap(([job, j]) => j.steps.map((s) => ({ file, job, step: s }))));

/**
 * actionlint, shellcheck (on every `run:` script, through actionlint, when it is on PATH; CI installs
 * it) and what the project promises about its workflows: pinned actions, least privilege, npm
 * scripts that exist, credentials never where a fork's code runs.
 */
describe("GitHub workflows", () => {
    it("are the five the project runs", () => {
        assert.deepEqual(FILES, ["deploy-preview.yml", "pr-comment.yml", "preview.yml", "pull-request.yml", "scheduled.yml"]);
    });

    describe("actionlint (github.com/rhysd/actionlint, built from its Go module)", { skip: goSkipReason() }, () => {
        let actionlint = "";
        let shellcheck: string | undefined;
        before(async () => {
            actionlint = (await goBinary(UPSTREAM_BINARIES.actionlint)).path;
            const which = spawnSync("sh", ["-c", "command -v shellcheck"], { encoding: "utf8" });
            shellcheck = which.status === 0 ? which.stdout.trim() : undefined;
            if (shellcheck === undefined && process.env.CI === "true") throw new Error("CI=true and shellcheck is not on PATH: .ci/run installs it (apt-get install shellcheck)");
        });
        const lint = async (files: string[]) => {
            try {
                await run(actionlint, ["-no-color", "-shellcheck", shellcheck ?? "", ...files], { cwd: ROOT });
                return { code: 0, out: "" };
            } catch (err) {
                const e = err as { code: number; stdout: string; stderr: string };
                return { code: e.code, out: `${e.stdout}${e.stderr}` };
            }
        };

        it("passes every workflow, shellcheck included", async (t) => {
            if (shellcheck === undefined) t.diagnostic("shellcheck is not on PATH: run: scripts were not checked by it");
            const r = await lint(FILES.map((f) => join(".github", "workflows", f)));
            assert.equal(r.code, 0, r.out);
        });

        it("is really checking: a broken workflow fails it", async () => {
            const dir = mkdtempSync(join(tmpdir(), "actionlint-"));
            try {
                mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
                const file = join(dir, ".github", "workflows", "broken.yml");
                writeFileSync(file, ["on: push", "jobs:", "  x:", "    runs-on: ubuntu-24.04", "    steps:", "      - run: echo ${{ github.no_such_thing }}", "      - run: cat $UNQUOTED_FILE"].join("\n"));
                const r = await lint([file]);
                assert.equal(r.code, 1);
                assert.match(r.out, /no_such_thing/);
                if (shellcheck !== undefined) assert.match(r.out, /SC2086/);
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    it("pin every action to a full commit SHA, named by its tag, one SHA per action", () => {
        const pins = new Map<string, string>();
        for (const { file, step } of steps().filter((s) => s.step.uses !== undefined)) {
            const m = /^([\w.-]+\/[\w.-]+)(?:\/[\w./-]+)?@([0-9a-f]{40})$/.exec(step.uses!);
            assert.ok(m, `${file}: ${step.uses} is not pinned to a commit SHA`);
            const text = readFileSync(join(DIR, file), "utf8");
            const line = text.split("\n").find((l) => l.includes(step.uses!))!;
            const tag = /# (v\d+\.\d+\.\d+)\s*$/.exec(line)?.[1];
            assert.ok(tag, `${file}: ${step.uses} has no "# vX.Y.Z" comment naming its tag`);
            const key = m[1]!.toLowerCase();
            assert.equal(pins.get(key) ?? `${m[2]} ${tag}`, `${m[2]} ${tag}`, `${file}: ${key} is pinned to two versions`);
            pins.set(key, `${m[2]} ${tag}`);
        }
        assert.deepEqual([...pins.keys()].sort(), ["actions/checkout", "actions/download-artifact", "actions/github-script", "actions/setup-go", "actions/setup-node", "actions/upload-artifact", "azure/login", "pulumi/actions"]);
    });

    it("call only npm scripts that exist", () => {
        const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        let calls = 0;
        for (const { file, step } of steps().filter((s) => s.step.run !== undefined)) {
            for (const m of step.run!.matchAll(/\bnpm\s+(?:run(?:-script)?|start|test)\b(?:\s+--?[\w-]+)*(?:\s+([\w:.-]+))?/g)) {
                const [whole, name] = m;
                const script = /\bnpm\s+(start|test)\b/.exec(whole)?.[1] ?? name;
                assert.ok(script && scripts[script], `${file}: "${whole}" calls no script of package.json`);
                calls++;
            }
        }
        // And what .ci/run (the test job's one step) calls.
        for (const m of readFileSync(join(ROOT, ".ci", "run"), "utf8").matchAll(/^npm (test|start|run [\w:-]+)/gm)) assert.ok(scripts[m[1]!.replace(/^run /, "")], `.ci/run: npm ${m[1]}`);
        assert.ok(calls >= 6, `found ${calls} npm script calls`);
    });

    it("grant each job only what it needs, never at the workflow level", () => {
        for (const [file, w] of Object.entries(workflows)) {
            assert.deepEqual(w.permissions, {}, `${file}: the workflow's default permissions must be none`);
            for (const [name, job] of Object.entries(w.jobs)) {
                assert.ok(job.permissions && typeof job.permissions === "object", `${file} ${name}: no permissions block`);
                const writes = Object.entries(job.permissions).filter(([, v]) => v === "write").map(([k]) => k);
                const signsIn = job.steps.some((s) => /^azure\/login@/i.test(s.uses ?? ""));
                assert.deepEqual(writes.filter((k) => k !== "id-token" && k !== "pull-requests"), [], `${file} ${name}`);
                assert.equal(writes.includes("id-token"), signsIn, `${file} ${name}: id-token: write exactly when it signs in to Azure`);
                assert.equal(writes.includes("pull-requests"), file === "pr-comment.yml", `${file} ${name}: only the comment job writes pull requests`);
            }
        }
    });

    it("never run a pull request's code with secrets or write access", () => {
        for (const [file, w] of Object.entries(workflows)) assert.equal("pull_request_target" in w.on, false, `${file}: pull_request_target`);
        const comment = workflows["pr-comment.yml"]!;
        assert.deepEqual(Object.keys(comment.on), ["workflow_run"]);
        for (const job of Object.values(comment.jobs)) {
            assert.equal(job.steps.some((s) => /checkout|setup-node/.test(s.uses ?? "") || s.run !== undefined), false, "the comment job checks out or runs nothing");
            assert.deepEqual(job.permissions, { actions: "read", "pull-requests": "write" });
        }
        // The plan of a pull request runs without credentials; the jobs with credentials skip forks.
        const pr = workflows["pull-request.yml"]!;
        for (const job of Object.values(pr.jobs)) assert.deepEqual(job.permissions, { contents: "read" });
        assert.doesNotMatch(readFileSync(join(DIR, "pull-request.yml"), "utf8"), /secrets\./);
        for (const file of ["preview.yml", "deploy-preview.yml"]) {
            for (const [name, job] of Object.entries(workflows[file]!.jobs)) assert.match(job.if ?? "", /head\.repo\.full_name == github\.repository/, `${file} ${name}`);
        }
    });

    it("serialize every job that touches a stack in a concurrency group of that stack", () => {
        for (const [file, w] of Object.entries(workflows)) {
            for (const [name, job] of Object.entries(w.jobs)) {
                const pulumiCommand = job.steps.some((s) => /pulumi\/actions@/.test(s.uses ?? "") && s.with?.command !== undefined);
                const ephemeral = job.steps.some((s) => /ephemeral -- (up|down|reap)/.test(s.run ?? ""));
                const touches = pulumiCommand || ephemeral;
                if (!touches) continue;
                assert.match(job.concurrency?.group ?? "", /stack-\$\{\{ matrix\.stack \}\}|stack-ephemeral-pr-|ephemeral-reap/, `${file} ${name}`);
            }
        }
    });

    it("upload the plan's Markdown from the pull request run, and comment it from workflow_run under one marker", () => {
        const plan = workflows["pull-request.yml"]!.jobs.plan!;
        const planStep = plan.steps.find((s) => /npm run --silent plan/.test(s.run ?? ""))!;
        assert.match(planStep.run!, /--all-stacks --base "origin\/\$BASE_REF" --format markdown --out plan\.json > plan\.md$/);
        const upload = plan.steps.find((s) => /upload-artifact/.test(s.uses ?? ""))!;
        assert.equal(upload.with?.name, "plan-comment");
        const comment = workflows["pr-comment.yml"]!;
        assert.deepEqual((comment.on.workflow_run as { workflows: string[] }).workflows, [parse(readFileSync(join(DIR, "pull-request.yml"), "utf8")).name]);
        const script = String(comment.jobs.comment!.steps.find((s) => /github-script/.test(s.uses ?? ""))!.with!.script);
        assert.match(script, /const marker = "<!-- temporal-azure:offline-plan -->"/);
        assert.match(script, /updateComment/);
        assert.match(script, /p\.head\.sha === run\.head_sha/);
    });
});
