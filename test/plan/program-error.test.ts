import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { PlanReport } from "../../scripts/lib/plan/run";

const run = promisify(execFile);

describe("a stack the program or a provider refuses after the config check", () => {
    it("exits 1 and still writes the report with the refusal to --out; the process survives the rejections it causes", async () => {
        const out = join(mkdtempSync(join(tmpdir(), "plan-")), "plan.json");
        let code = 0;
        let stdout = "";
        try {
            ({ stdout } = await run(process.execPath, ["--import", "tsx", join(__dirname, "support", "refusing-plan.ts"), "--stack", "dev", "--out", out], { cwd: join(__dirname, "..", ".."), maxBuffer: 32 * 1024 * 1024 }));
        } catch (err) {
            ({ code, stdout } = err as { code: number; stdout: string });
        }
        assert.equal(code, 1);
        assert.match(stdout, /The program failed; nothing was checked:\n {2}✗ kubernetes:helm\.sh\/v3:Release temporal: INSTALLATION FAILED: cannot re-use a name that is still in use\n\nPLAN FAILED: the program failed\n$/);
        const report = JSON.parse(readFileSync(out, "utf8")) as PlanReport;
        assert.equal(report.ok, false);
        assert.deepEqual(report.error, { stage: "program", message: "kubernetes:helm.sh/v3:Release temporal: INSTALLATION FAILED: cannot re-use a name that is still in use" });
        assert.deepEqual([report.resources, report.violations, report.tls], [[], [], []]);
    });
});
