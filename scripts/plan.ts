import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runPlan, type PlanReport } from "./lib/plan/run";

/**
 * The offline plan of a stack (the project's main job): `npm start` plans the dev example stack.
 * Exit 0 when the stack passes every check, 1 when anything fails, 2 on a usage error.
 */

const USAGE = `usage: npm start -- [--stack <name>] [--stacks-dir <dir>] [--json] [--out <file>]
  --stack       stack whose Pulumi.<name>.yaml to plan (default: dev)
  --stacks-dir  folder of the stack files (default: stacks/, the project's stackConfigDir)
  --json        print the report as JSON
  --out         also write the JSON report to a file`;

function line(s = ""): void {
    process.stdout.write(`${s}\n`);
}

export function formatPlan(r: PlanReport): string[] {
    const out: string[] = [];
    out.push(`Offline plan of stack "${r.stack}" (no cloud: emulated providers, real keys, certificates, tokens and TLS)`);
    if (r.configErrors.length > 0) {
        out.push("", `Stack config is invalid (${r.configErrors.length}); nothing was planned:`);
        for (const e of r.configErrors) out.push(`  ✗ ${e}`);
        return out;
    }
    const warnings = r.configWarnings ?? [];
    if (warnings.length > 0) {
        out.push("", `Stack config warnings (${warnings.length}); the plan goes on:`);
        for (const w of warnings) out.push(`  ⚠ ${w}`);
    }
    const byType = new Map<string, string[]>();
    for (const res of r.resources) byType.set(res.type, [...(byType.get(res.type) ?? []), res.name]);
    out.push("", `Resources (${r.resources.length}):`);
    for (const [type, names] of [...byType.entries()].sort()) out.push(`  + ${type} ×${names.length}: ${names.join(", ")}`);

    out.push("", `Policies (${r.violations.length} violation${r.violations.length === 1 ? "" : "s"}):`);
    if (r.violations.length === 0) out.push("  ✓ every resource passes every policy of policies/pack");
    for (const v of r.violations) out.push(`  ✗ [${v.policy}] ${v.resource}: ${v.message}`);

    const a = r.admission;
    out.push("", "Token admission (Entra-shaped tokens through the bundled validator, with the release's auth settings):");
    if (!a || a.skipped) out.push(`  ✗ not run: ${a?.skipped ?? "no report"}`);
    else {
        out.push(`  audience ${a.audience}, tenant ${a.tenantId}, namespaces ${a.namespaces.join(", ")}`);
        for (const p of a.principals) {
            const access = [`cluster:${p.cluster}`, ...Object.entries(p.namespaces).map(([ns, acc]) => `${ns}:${acc}`)].join(" ");
            out.push(`  ${p.problems.length === 0 ? "✓" : "✗"} ${p.principalType} ${p.principalDisplayName ? `"${p.principalDisplayName}" (${p.principalObjectId})` : p.principalObjectId} roles [${p.roles.join(", ")}] → ${p.verified ? access : `rejected (${p.error})`}`);
        }
        for (const v of a.violations) out.push(`  ✗ ${v}`);
    }

    out.push("", "TLS handshakes (the Secrets and server names the release mounts, on 127.0.0.1):");
    for (const c of r.tls) out.push(`  ${c.passed ? "✓" : "✗"} ${c.name} [server name ${c.serverName}] → ${c.result.ok ? "accepted" : `rejected (${c.result.error})`}`);
    for (const p of r.tlsProblems.filter((p) => !r.tls.some((c) => p.startsWith(c.name)))) out.push(`  ✗ ${p}`);

    out.push("", "Stack outputs:");
    for (const [k, v] of Object.entries(r.outputs)) out.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    const admissionProblems = a ? a.violations.length + (a.skipped ? 1 : 0) : 1;
    out.push("", `${r.ok ? "PLAN OK" : "PLAN FAILED"}: ${r.resources.length} resources, ${r.violations.length} policy violations, ${admissionProblems} admission problems, ${r.tlsProblems.length} TLS problems`);
    return out;
}

async function main(): Promise<number> {
    let args;
    try {
        args = parseArgs({ options: { stack: { type: "string", default: "dev" }, "stacks-dir": { type: "string" }, json: { type: "boolean", default: false }, out: { type: "string" }, help: { type: "boolean", short: "h" } } });
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (args.values.help) {
        line(USAGE);
        return 0;
    }
    const stack = args.values.stack ?? "dev";
    if (!/^[A-Za-z0-9._-]+$/.test(stack)) {
        process.stderr.write(`--stack must be a stack name (letters, digits, . _ -), got ${JSON.stringify(stack)}\n`);
        return 2;
    }
    let report: PlanReport;
    try {
        report = await runPlan(stack, args.values["stacks-dir"]);
    } catch (err) {
        process.stderr.write(`plan failed: ${(err as Error).message}\n`);
        return 1;
    }
    if (args.values.out) writeFileSync(args.values.out, `${JSON.stringify(report, null, 2)}\n`);
    if (args.values.json) line(JSON.stringify(report, null, 2));
    else for (const l of formatPlan(report)) line(l);
    return report.ok ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: unknown) => {
            process.stderr.write(`plan failed: ${(err as Error).message}\n`);
            process.exit(1);
        },
    );
}
