import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runEphemeral, USAGE, type EphemeralIo } from "../../scripts/lib/ephemeral/cli";
import { MemoryBackend } from "./support/memory-backend";
import { DEPLOYED_OUTPUTS, deployedState, NOW, passedPlan, ROOT } from "./support/harness";

function io(backend = new MemoryBackend()) {
    const out: string[] = [];
    const err: string[] = [];
    const value: EphemeralIo = {
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        backend,
        runPlan: async ({ stack }) => ({ exitCode: 0, stdout: "", stderr: "", durationMs: 1, report: passedPlan(stack) }),
        runVerify: async () => {
            throw new Error("not expected");
        },
        now: () => NOW,
    };
    return { io: value, backend, out: () => out.join(""), err: () => err.join("") };
}

describe("npm run ephemeral", () => {
    it("prints the usage on --help and help", async () => {
        for (const argv of [["--help"], ["help"], ["up", "-h"]]) {
            const t = io();
            assert.equal(await runEphemeral(argv, t.io), 0);
            assert.equal(t.out(), USAGE);
        }
        assert.match(USAGE, /at most 42 characters/);
    });

    it("exits 2 with the problem on a usage error, touching nothing", async () => {
        const cases: Array<[string[], string]> = [
            [[], "a command is required: up, down, list or reap"],
            [["destroy", "--name", "x"], 'unknown command "destroy": use up, down, list or reap'],
            [["down", "--name", "x", "--set", "a=b"], "--set is not an option of down"],
            [["list", "--dry-run"], "--dry-run is not an option of list"],
            [["up", "pr-42"], 'unexpected argument "pr-42": options are --name, --set, ...'],
            [["up"], "--name is required: the id of the ephemeral stack (e.g. pr-42 for pull request 42)"],
            [["up", "--name", "pr-42", "--ttl", "10m"], "--ttl 10m is shorter than 1h: the clean-up job could destroy the stack while it is still being deployed"],
            [["up", "--name", "pr-42", "--set", "nonsense"], '--set "nonsense" must be <path>=<value>, e.g. --set identity.uiHost=pr-42.temporal.example.com'],
        ];
        for (const [argv, message] of cases) {
            const t = io();
            assert.equal(await runEphemeral(argv, t.io), 2, argv.join(" "));
            assert.equal(t.err(), `ephemeral: ${message}\nRun with --help for the commands and options.\n`);
            assert.deepEqual(t.backend.calls, []);
        }
        const unknown = io();
        assert.equal(await runEphemeral(["up", "--nmae", "x"], unknown.io), 2);
        assert.match(unknown.err(), /^ephemeral: Unknown option '--nmae'/);
    });

    it("up --json: progress and Pulumi's output on stderr, only the result on stdout", async () => {
        const t = io();
        t.backend.deployment = { outputs: DEPLOYED_OUTPUTS, state: deployedState("ephemeral-pr-42") };
        const code = await runEphemeral(["up", "--name", "pr-42", "--set", "identity.uiHost=pr-42.temporal.example.com", "--json"], t.io);
        assert.equal(code, 0, t.err());
        const report = JSON.parse(t.out()) as Record<string, unknown>;
        assert.equal(report.command, "up");
        assert.equal(report.stack, "ephemeral-pr-42");
        assert.equal(report.expires, "2026-03-11T12:00:00Z");
        assert.equal(report.exitCode, 0);
        assert.deepEqual((report.outputs as Record<string, unknown>).clusterKubeconfig, "[secret]");
        assert.match(t.err(), /^✓ stack config is valid$/m);
        assert.match(t.err(), /Updating \(ephemeral-pr-42\)/);
        assert.doesNotMatch(t.out() + t.err(), /SECRET-TOKEN-VALUE/);
    });

    it("down, list and reap print what they did; --json a usage error too", async () => {
        const t = io();
        t.backend.stacks.set("ephemeral-pr-1", { config: {}, tags: { "temporal-azure:profile": "ephemeral", "temporal-azure:expires": "2026-03-10T00:00:00Z" }, outputs: {}, state: deployedState("ephemeral-pr-1") });
        assert.equal(await runEphemeral(["list"], t.io), 0);
        assert.equal(t.out(), "ephemeral-pr-1  expired 2026-03-10T00:00:00Z (12h ago), 3 resources\n");
        assert.equal(await runEphemeral(["reap", "--dry-run", "--json"], t.io), 0);
        assert.equal(await runEphemeral(["down", "--name", "ephemeral-pr-1"], t.io), 0);
        assert.match(t.out(), /✓ ephemeral-pr-1 destroyed and removed \(delete 3\)\n/);
        assert.match(t.out(), /"dryRun": true/);

        const u = io();
        assert.equal(await runEphemeral(["down", "--json"], u.io), 2);
        assert.deepEqual(JSON.parse(u.out()), { error: { stage: "usage", message: "--name is required: the id of the ephemeral stack (e.g. pr-42 for pull request 42)" }, exitCode: 2 });
    });

    it("as a process, without the Pulumi CLI: exit 3 and how to install it", async () => {
        // The real binding (scripts/ephemeral.ts) and the real AutomationBackend; PATH has no pulumi.
        const run = promisify(execFile);
        const env = { ...process.env, PATH: mkdtempSync(join(tmpdir(), "no-pulumi-")) };
        const result = await run(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "ephemeral.ts"), "list"], { cwd: ROOT, env }).then(
            () => ({ code: 0, stdout: "", stderr: "" }),
            (e: { code: number; stdout: string; stderr: string }) => e,
        );
        assert.equal(result.code, 3, result.stderr);
        assert.equal(
            result.stdout,
            "✗ the Pulumi CLI (pulumi) is not installed or not on PATH: install it (curl -fsSL https://get.pulumi.com | sh; macOS: brew install pulumi/tap/pulumi; Windows: winget install pulumi; see https://www.pulumi.com/docs/install/), then log in to your backend (pulumi login)\n",
        );
    });
});
