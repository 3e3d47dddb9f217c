import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");

/** Runs the main job exactly as the README's quick start does, in a child process. */
async function plan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "plan.ts"), ...args], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

describe("offline plan (npm start)", () => {
    for (const stack of ["dev", "prod", "ephemeral"]) {
        it(`plans the ${stack} example stack and passes every check`, async () => {
            const r = await plan(["--stack", stack]);
            assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^PLAN OK: \d+ resources, 0 policy violations, 0 admission problems, 0 TLS problems$/m);
            assert.match(r.stdout, /✓ frontend: Web UI client/);
            assert.match(r.stdout, /✓ internode: service to service/);
            assert.match(r.stdout, /✓ frontend: client without a certificate is refused/);
            assert.match(r.stdout, /✓ internode: the Web UI's client certificate is refused .*→ rejected/);
            assert.match(r.stdout, /✓ internode: a worker's client certificate is refused .*→ rejected/);
            assert.match(r.stdout, /Token admission .*\n(  .*\n)*  ✓ /);
            assert.doesNotMatch(r.stdout + r.stderr, PRIVATE_KEY);
        });
    }

    it("refuses invalid stack config before planning anything, naming the field and the fix", async () => {
        const dir = mkdtempSync(join(tmpdir(), "plan-"));
        const dev = readFileSync(join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
        writeFileSync(join(dir, "Pulumi.broken.yaml"), dev.replace('permissions: ["temporal-system:admin"]', 'permissions: ["system:admin"]').replace("leafValidityDays: 90", "leafValidityDays: 20"));
        const r = await plan(["--stack", "broken", "--stacks-dir", dir]);
        assert.equal(r.code, 1);
        assert.match(r.stdout, /Stack config is invalid \(\d+\); nothing was planned:/);
        assert.match(r.stdout, /temporal-azure:access\.grants\[0\]\.permissions\[0\]: .*"system:admin"/);
        assert.match(r.stdout, /temporal-azure:pki\.leafValidityDays: /);
        assert.doesNotMatch(r.stdout, /Resources \(/);
    });

    it("writes a JSON report with --out and exits 2 on a usage error", async () => {
        const dir = mkdtempSync(join(tmpdir(), "plan-"));
        const out = join(dir, "plan.json");
        const r = await plan(["--stack", "dev", "--out", out]);
        assert.equal(r.code, 0, r.stdout);
        const text = readFileSync(out, "utf8");
        // No key material and no client secret (Entra client secrets, and the emulator's, carry "8Q~").
        assert.doesNotMatch(text, PRIVATE_KEY);
        assert.doesNotMatch(text, /8Q~/);
        const json = JSON.parse(text) as { ok: boolean; resources: unknown[] };
        assert.equal(json.ok, true);
        assert.ok(json.resources.length > 20);
        const bad = await plan(["--bogus"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /usage: npm start/);
    });
});
