import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { PlanDiff } from "../../scripts/lib/plan/diff";
import { runPlanScript } from "./support/run-plan";

const ROOT = join(__dirname, "..", "..");

/**
 * `--base` against a real earlier commit: a temporary git repository holding this project's files
 * (as they are in the working tree), with node_modules linked from this checkout, where the plan
 * script of the repository itself is run, as a user runs it.
 */
describe("plan --base <ref> in a temporary git repository", () => {
    let repo: string;
    // The plans' own temporary folder: what they leave behind there is theirs, whatever else runs on the machine.
    let tmp: string;
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
    const plan = (args: string[]) => runPlanScript(repo, args, { ...process.env, TMPDIR: tmp });
    const baseTrees = () => readdirSync(tmp).filter((d) => d.startsWith("temporal-azure-base-"));

    before(() => {
        repo = mkdtempSync(join(tmpdir(), "plan-repo-"));
        tmp = mkdtempSync(join(tmpdir(), "plan-tmp-"));
        const files = execFileSync("git", ["-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" }).split("\0").filter((f) => f !== "" && existsSync(join(ROOT, f)));
        for (const f of files) {
            mkdirSync(dirname(join(repo, f)), { recursive: true });
            copyFileSync(join(ROOT, f), join(repo, f));
        }
        symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
        git("init", "--quiet", "--initial-branch=main");
        // .gitignore's `node_modules/` matches the folder a real checkout has, not this link to one.
        writeFileSync(join(repo, ".git", "info", "exclude"), "/node_modules\n");
        git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "add", "--all");
        git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "--quiet", "-m", "base");
    });
    after(() => {
        rmSync(repo, { recursive: true, force: true });
        rmSync(tmp, { recursive: true, force: true });
    });

    it("says no changes against the commit the working tree is at, and leaves no worktree behind", async () => {
        const before = baseTrees();
        const r = await plan(["--stack", "dev", "--base", "HEAD"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Plan diff of stack "dev": HEAD \([0-9a-f]{12}\) → working tree; the plan passes \(base: passes\)\n\nNo changes\.\n$/);
        assert.deepEqual(git("worktree", "list", "--porcelain").match(/^worktree /gm)?.length, 1);
        assert.deepEqual(baseTrees(), before);
    });

    it("diffs a one-grant change and a new stack against the commit before, in Markdown and JSON at once", async () => {
        const file = join(repo, "stacks", "Pulumi.dev.yaml");
        const dev = readFileSync(file, "utf8");
        writeFileSync(file, dev.replace(/(user: alice@contoso\.example\n\s+permissions: )\["payments:write"\]/, '$1["payments:admin"]'));
        writeFileSync(join(repo, "stacks", "Pulumi.extra.yaml"), dev);
        git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "--quiet", "-am", "alice administers payments");
        git("add", "stacks/Pulumi.extra.yaml");
        const out = join(repo, "diff.json");
        const r = await plan(["--stack", "dev", "--stack", "extra", "--base", "HEAD~1", "--format", "markdown", "--out", out]);
        assert.equal(r.code, 0, r.stderr);
        const [dev2, extra] = JSON.parse(readFileSync(out, "utf8")) as PlanDiff[];
        assert.deepEqual(
            dev2!.access.map((a) => [a.principal, a.scope, a.before, a.after]),
            [['User "Alice"', "payments", "write", "admin"]],
        );
        assert.equal(extra!.base.planned, false);
        assert.ok(extra!.resources.created.length > 50, "every resource of a stack the base does not have is created");
        assert.ok(extra!.access.length >= 5 && extra!.access.every((a) => a.change === "gained"));
        // The comment: one section per stack, the five parts in order, long parts collapsed.
        const md = r.stdout;
        assert.match(md, /^## Offline plan against `HEAD~1`\n\n### `dev`: ✅ the plan passes \(base: passes\)\n/);
        const order = ["#### 1. Access", "#### 2. Auth and TLS wiring", "#### 3. Certificates", "#### 4. Resources", "#### 5. Policies and checks"].map((h) => md.indexOf(h));
        assert.deepEqual(order, [...order].sort((a, b) => a - b));
        assert.ok(order.every((i) => i > 0));
        assert.match(md, /\| User "Alice" \(`[0-9a-f-]{36}`\) \| payments \| write \| admin \| ⬆️ gains \|/);
        assert.match(md, /### `extra`: ✅ the plan passes \(base: no such stack\)/);
        // A whole new stack: its resources in a collapsed list.
        assert.match(md, /### `extra`[\s\S]*<details>\n<summary>\d+ resources to create<\/summary>\n\n- ➕ create /);
        assert.doesNotMatch(md, /PRIVATE KEY|8Q~/);
        assert.equal(git("worktree", "list", "--porcelain").match(/^worktree /gm)?.length, 1);
    });

    it("exits 2 on an unknown ref or stack, and still writes the error to --out", async () => {
        const out = join(repo, "usage.json");
        const ref = await plan(["--stack", "dev", "--base", "no-such-branch", "--out", out]);
        assert.equal(ref.code, 2);
        assert.match(ref.stderr, /--base no-such-branch: no such commit, branch or tag in /);
        assert.deepEqual((JSON.parse(readFileSync(out, "utf8")) as { error: unknown }).error, { stage: "usage", message: ref.stderr.trim() });
        const stack = await plan(["--stack", "nope", "--base", "HEAD"]);
        assert.equal(stack.code, 2);
        assert.match(stack.stderr, /no stack file .*Pulumi\.nope\.yaml/);
    });
});
