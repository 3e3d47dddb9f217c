import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { PlanReport } from "../../scripts/lib/plan/run";
import { formatText } from "../../scripts/lib/plan/format";

const run = promisify(execFile);

describe("a program that fails after the config check", () => {
    it("still gives a report, with the provider's refusal in it and nothing checked, and the process survives the rejections it causes", async () => {
        const { stdout } = await run(process.execPath, ["--import", "tsx", join(__dirname, "support", "refusing-plan.ts")], { cwd: join(__dirname, "..", ".."), maxBuffer: 32 * 1024 * 1024 });
        const report = JSON.parse(stdout) as PlanReport;
        assert.equal(report.ok, false);
        assert.equal(report.error?.stage, "program");
        assert.equal(report.error!.message, "kubernetes:helm.sh/v3:Release temporal: INSTALLATION FAILED: cannot re-use a name that is still in use");
        assert.deepEqual([report.resources, report.violations, report.tls], [[], [], []]);
        const text = formatText(report).join("\n");
        assert.match(text, /The program failed; nothing was checked:\n {2}✗ kubernetes:helm\.sh\/v3:Release temporal: INSTALLATION FAILED/);
        assert.match(text, /PLAN FAILED: the program failed$/);
    });
});
