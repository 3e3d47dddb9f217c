import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanReport } from "../../scripts/lib/plan/run";
import { runPlanScript } from "./support/run-plan";

const ROOT = join(__dirname, "..", "..");

/** Runs the main job exactly as the README's quick start does, in a child process. */
const plan = (args: string[]) => runPlanScript(ROOT, args);

/** The real npm, its stdout redirected to a file as a shell's `> file` does, in an environment without this test run's npm variables. */
function npmToFile(args: string[], file: string): Promise<{ code: number; stderr: string }> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
    const fd = openSync(file, "w");
    return new Promise((resolve) => {
        const child = spawn("npm", args, { cwd: ROOT, env, stdio: ["ignore", fd, "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (code) => {
            closeSync(fd);
            resolve({ code: code ?? 1, stderr });
        });
    });
}

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const tmp = () => mkdtempSync(join(tmpdir(), "plan-"));

describe("offline plan (npm start)", () => {
    it("gives the same bytes for the same input, in every format, and passes every check of the dev example", async () => {
        const dir = tmp();
        // Sequential runs: each is made at another second, so the certificates, keys and clock all differ.
        const markdown: string[] = [];
        const json: string[] = [];
        const text: string[] = [];
        for (const i of [0, 1]) {
            const md = await plan(["--stack", "dev", "--format", "markdown", "--out", join(dir, `${i}.json`)]);
            assert.equal(md.code, 0, md.stderr);
            markdown.push(md.stdout);
            json.push(readFileSync(join(dir, `${i}.json`), "utf8"));
            const t = await plan(["--stack", "dev", "--inputs"]);
            assert.equal(t.code, 0, t.stderr);
            text.push(t.stdout);
        }
        assert.equal(markdown[0], markdown[1], "Markdown differs between runs");
        assert.equal(json[0], json[1], "JSON differs between runs");
        assert.equal(text[0], text[1], "text differs between runs");

        const r = text[0]!;
        assert.match(r, /^PLAN OK: \d+ resources, 0 policy violations, 0 admission problems, 0 TLS problems$/m);
        assert.match(r, /✓ frontend: Web UI client/);
        assert.match(r, /✓ internode: service to service/);
        assert.match(r, /✓ frontend: client without a certificate is refused/);
        assert.match(r, /✓ internode: the Web UI's client certificate is refused .*→ rejected/);
        assert.match(r, /Token admission .*\n(  .*\n)*  ✓ /);
        assert.match(r, /^ {2}clusterOidcIssuerUrl: none$/m, "an output without a value says none");
        assert.match(r, /^Resources and their inputs/m);
        const report = JSON.parse(json[0]!) as PlanReport;
        assert.equal(report.ok, true);
        assert.ok(report.resources.length > 20 && report.resources.every((x) => typeof x.inputs === "object"));
        for (const out of [...markdown, ...json, ...text]) {
            assert.doesNotMatch(out, PRIVATE_KEY);
            // Entra client secrets, and the emulator's, carry "8Q~".
            assert.doesNotMatch(out, /8Q~/);
        }
        assert.match(markdown[0]!, /^## Offline plan\n\n### Offline plan of `dev`: ✅ PLAN OK/);
    });

    for (const stack of ["prod", "ephemeral"]) {
        it(`plans the ${stack} example stack and passes every check`, async () => {
            const r = await plan(["--stack", stack]);
            assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^PLAN OK: \d+ resources, 0 policy violations, 0 admission problems, 0 TLS problems$/m);
            assert.match(r.stdout, /✓ internode: a worker's client certificate is refused .*→ rejected/);
            assert.doesNotMatch(r.stdout, /undefined/);
            assert.doesNotMatch(r.stdout + r.stderr, PRIVATE_KEY);
        });
    }

    it("refuses invalid stack config before planning anything, naming the field and the fix", async () => {
        const dir = tmp();
        const dev = readFileSync(join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
        writeFileSync(join(dir, "Pulumi.broken.yaml"), dev.replace('permissions: ["temporal-system:admin"]', 'permissions: ["system:admin"]').replace("leafValidityDays: 90", "leafValidityDays: 20"));
        const r = await plan(["--stack", "broken", "--stacks-dir", dir, "--out", join(dir, "plan.json")]);
        assert.equal(r.code, 1);
        assert.match(r.stdout, /Stack config is invalid \(\d+\); nothing was planned:/);
        assert.match(r.stdout, /temporal-azure:access\.grants\[0\]\.permissions\[0\]: .*"system:admin"/);
        assert.match(r.stdout, /temporal-azure:pki\.leafValidityDays: /);
        assert.doesNotMatch(r.stdout, /Resources \(/);
        assert.ok((JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as PlanReport).configErrors.length >= 2);
    });

    it("writes a report with the error to --out when a stack the schema accepts is refused (a kubeconfig source without its secret)", async () => {
        const dir = tmp();
        const dev = readFileSync(join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
        // The schema accepts kubernetes.source kubeconfig; the program refuses it without the secret (program-error.test.ts: a provider refusing).
        writeFileSync(join(dir, "Pulumi.kc.yaml"), dev.replace("source: ambient", "source: kubeconfig"));
        const out = join(dir, "plan.json");
        const r = await plan(["--stack", "kc", "--stacks-dir", dir, "--out", out]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        const report = JSON.parse(readFileSync(out, "utf8")) as PlanReport;
        assert.equal(report.ok, false);
        assert.match([...report.configErrors, report.error?.message ?? ""].join("\n"), /temporal-azure:kubeconfig/);
    });

    it("exits 2 on a usage error, with the usage", async () => {
        const bad = await plan(["--bogus"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /usage: npm start/);
        const format = await plan(["--format", "yaml"]);
        assert.equal(format.code, 2);
        assert.match(format.stderr, /--format yaml: use text, markdown or json/);
        const stack = await plan(["--stack", "nope"]);
        assert.equal(stack.code, 2);
        assert.match(stack.stderr, /no stack file .*Pulumi\.nope\.yaml/);
    });

    it("through the real npm: --json into a file is refused with the fix unless npm is silent, and npm start --silent -- --json > plan.json is valid JSON", async () => {
        const dir = tmp();
        const loud = join(dir, "loud.json");
        const refused = await npmToFile(["start", "--", "--json"], loud);
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /npm printed its "> temporal-azure@… start" banner on stdout .* npm start --silent -- --json > file/);
        // What npm wrote is its banner, and nothing of the plan: no half-valid file.
        const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.start!;
        assert.equal(readFileSync(loud, "utf8").replace(/@[\d.]+ start/, "@<version> start"), `\n> temporal-azure@<version> start\n> ${start} --json\n\n`);

        const quiet = join(dir, "plan.json");
        const ok = await npmToFile(["start", "--silent", "--", "--json"], quiet);
        assert.equal(ok.code, 0, ok.stderr);
        const report = JSON.parse(readFileSync(quiet, "utf8")) as PlanReport;
        assert.deepEqual([report.stack, report.ok, report.schemaVersion], ["dev", true, 1]);
    });
});
