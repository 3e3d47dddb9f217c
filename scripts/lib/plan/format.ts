import { stringify } from "yaml";
import type { PlanReport } from "./report";

/**
 * The plan's report as text (the terminal) and Markdown (a pull-request comment). Both are pure
 * functions of the report, so they are as deterministic as it is.
 */

export type Format = "text" | "markdown" | "json";

/** A value as one line: strings bare, `null` as "none", everything else as JSON. */
export function inline(value: unknown): string {
    if (value === null || value === undefined) return "none";
    if (typeof value === "string") return value;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.length === 0 ? "[]" : value.join(", ");
    return JSON.stringify(value);
}

/** Inputs as YAML (keys are already sorted), for the detailed listings. */
export function yamlOf(value: unknown): string {
    return stringify(value, { lineWidth: 0, sortMapEntries: true }).trimEnd();
}

/** Text for a Markdown table cell or list item: no raw HTML, pipes or line breaks. */
export function md(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** `code` that survives backticks inside. */
export function code(text: string): string {
    const fence = text.includes("`") ? "``" : "`";
    return `${fence}${text.includes("`") ? ` ${text} ` : text}${fence}`;
}

/** A collapsed block (GitHub renders `<details>`); `body` is Markdown. */
export function details(summary: string, body: string[]): string[] {
    return ["<details>", `<summary>${md(summary)}</summary>`, "", ...body, "", "</details>"];
}

export function problemCounts(r: PlanReport): { admission: number; total: number } {
    const admission = r.admission ? r.admission.violations.length + (r.admission.skipped ? 1 : 0) : r.error || r.configErrors.length > 0 ? 0 : 1;
    return { admission, total: r.violations.length + admission + r.tlsProblems.length + r.configErrors.length + (r.error ? 1 : 0) };
}

export function verdict(r: PlanReport): string {
    if (r.error) return `PLAN FAILED: the ${r.error.stage === "usage" ? "plan could not start" : "program failed"}`;
    if (r.configErrors.length > 0) return `PLAN FAILED: the stack config is invalid (${r.configErrors.length} problem${r.configErrors.length === 1 ? "" : "s"})`;
    const c = problemCounts(r);
    return `${r.ok ? "PLAN OK" : "PLAN FAILED"}: ${r.resources.length} resources, ${r.violations.length} policy violations, ${c.admission} admission problems, ${r.tlsProblems.length} TLS problems`;
}

/** Principal as people read it: type, display name, object id. */
export function principalLabel(p: { principalType: string; principalDisplayName: string; principalObjectId: string }): string {
    return `${p.principalType} ${p.principalDisplayName ? `"${p.principalDisplayName}" (${p.principalObjectId})` : p.principalObjectId}`;
}

function accessLine(p: NonNullable<PlanReport["admission"]>["principals"][number]): string {
    const access = [`cluster:${p.cluster}`, ...Object.entries(p.namespaces).map(([ns, acc]) => `${ns}:${acc}`)].join(" ");
    return `${principalLabel(p)} roles [${p.roles.join(", ")}] → ${p.verified ? access : `rejected (${p.error})`}`;
}

function byType(r: PlanReport): Array<[string, string[]]> {
    const groups = new Map<string, string[]>();
    for (const res of r.resources) groups.set(res.type, [...(groups.get(res.type) ?? []), res.name]);
    return [...groups.entries()];
}

export interface TextOptions {
    /** Also list every resource with its inputs. */
    inputs?: boolean;
}

export function formatText(r: PlanReport, options: TextOptions = {}): string[] {
    const out: string[] = [`Offline plan of stack "${r.stack}" (no cloud: emulated providers, real keys, certificates, tokens and TLS)`];
    if (r.error) {
        out.push("", `The ${r.error.stage === "usage" ? "plan could not start" : "program failed"}; nothing was checked:`, ...r.error.message.split("\n").map((l) => `  ✗ ${l}`), "", verdict(r));
        return out;
    }
    if (r.configErrors.length > 0) {
        out.push("", `Stack config is invalid (${r.configErrors.length}); nothing was planned:`, ...r.configErrors.map((e) => `  ✗ ${e}`), "", verdict(r));
        return out;
    }
    if (r.configWarnings.length > 0) out.push("", `Stack config warnings (${r.configWarnings.length}); the plan goes on:`, ...r.configWarnings.map((w) => `  ⚠ ${w}`));
    out.push("", `Resources (${r.resources.length}):`);
    for (const [type, names] of byType(r)) out.push(`  + ${type} ×${names.length}: ${names.join(", ")}`);

    out.push("", `Policies (${r.violations.length} violation${r.violations.length === 1 ? "" : "s"}):`);
    if (r.violations.length === 0) out.push("  ✓ every resource passes every policy of policies/pack");
    for (const v of r.violations) out.push(`  ✗ [${v.policy}] ${v.resource}: ${v.message}`);

    const a = r.admission;
    out.push("", "Token admission (Entra-shaped tokens through the bundled validator, with the release's auth settings):");
    if (!a || a.skipped) out.push(`  ✗ not run: ${a?.skipped ?? "no report"}`);
    else {
        out.push(`  audience ${a.audience}, tenant ${a.tenantId}, namespaces ${a.namespaces.join(", ")}`);
        for (const p of a.principals) out.push(`  ${p.problems.length === 0 ? "✓" : "✗"} ${accessLine(p)}`);
        for (const v of a.violations) out.push(`  ✗ ${v}`);
        for (const risk of a.residualRisks) out.push(`  ⚠ residual risk: ${risk}`);
    }

    out.push("", "TLS handshakes (the Secrets and server names the release mounts, on 127.0.0.1):");
    for (const c of r.tls) out.push(`  ${c.passed ? "✓" : "✗"} ${c.name} [server name ${c.serverName}] → ${c.result.ok ? "accepted" : `rejected (${c.result.error})`}`);
    for (const p of r.tlsProblems.filter((p) => !r.tls.some((c) => p.startsWith(c.name)))) out.push(`  ✗ ${p}`);

    if (r.wiring) {
        out.push("", "Auth and TLS wiring (from the release values and the Secrets they mount):");
        for (const [k, v] of Object.entries(r.wiring.settings)) out.push(`  ${k}: ${inline(v)}`);
        out.push("", "Trust bundles:");
        for (const b of r.wiring.trustBundles) out.push(`  ${b.where}: ${b.cas.join(", ") || "empty"}`);
    }
    out.push("", "Certificates:");
    for (const c of r.certificates) out.push(`  ${c.name}: ${certificateLine(c)}`);

    out.push("", "Stack outputs:");
    for (const [k, v] of Object.entries(r.outputs)) out.push(`  ${k}: ${inline(v)}`);
    if (options.inputs) {
        out.push("", "Resources and their inputs (secrets as [secret]; ${resource.attribute}: a value the provider makes, different every run):");
        for (const res of r.resources) {
            out.push(`  ${res.type}::${res.name}`);
            out.push(...yamlOf(res.inputs).split("\n").map((l) => `      ${l}`));
        }
    }
    out.push("", verdict(r));
    return out;
}

export function certificateLine(c: PlanReport["certificates"][number]): string {
    const lifetime = `${c.validityPeriodHours} h, renewed ${c.earlyRenewalHours} h before expiry`;
    return `${c.ca ? "CA" : "leaf"} CN=${c.commonName}, ${c.issuer === "self-signed" ? "self-signed" : `issued by ${c.issuer}`}${c.dnsNames.length > 0 ? `, DNS ${c.dnsNames.join(" ")}` : ""}, ${c.allowedUses.join(" ")}, ${lifetime}, ${c.keyAlgorithm}`;
}

const mark = (ok: boolean) => (ok ? "✅" : "❌");

export function formatMarkdown(r: PlanReport): string[] {
    const out: string[] = [`### Offline plan of \`${r.stack}\`: ${mark(r.ok)} ${md(verdict(r))}`, ""];
    if (r.error) return [...out, "```", r.error.message, "```"];
    if (r.configErrors.length > 0) return [...out, ...r.configErrors.map((e) => `- ❌ ${md(e)}`)];
    const problems = [
        ...r.violations.map((v) => `❌ policy \`${v.policy}\` on ${code(v.resource)}: ${md(v.message)}`),
        ...(r.admission?.skipped ? [`❌ token admission not run: ${md(r.admission.skipped)}`] : []),
        ...(r.admission?.violations ?? []).map((v) => `❌ token admission: ${md(v)}`),
        ...r.tlsProblems.map((p) => `❌ TLS: ${md(p)}`),
    ];
    if (problems.length > 0) out.push(...problems.map((p) => `- ${p}`), "");
    if (r.configWarnings.length > 0) out.push(...r.configWarnings.map((w) => `- ⚠️ ${md(w)}`), "");
    if (r.admission && !r.admission.skipped) {
        out.push("| principal | roles | cluster | " + r.admission.namespaces.map(md).join(" | ") + " |", "| --- | --- | --- | " + r.admission.namespaces.map(() => "---").join(" | ") + " |");
        for (const p of r.admission.principals) {
            out.push(`| ${md(principalLabel(p))} | ${md(p.roles.join(", "))} | ${p.verified ? p.cluster : `rejected: ${md(p.error ?? "")}`} | ${r.admission.namespaces.map((ns) => p.namespaces[ns] ?? "none").join(" | ")} |`);
        }
        out.push("");
        if (r.admission.residualRisks.length > 0) out.push(...details("Residual risks", r.admission.residualRisks.map((risk) => `- ⚠️ ${md(risk)}`)), "");
    }
    out.push(...details(`TLS handshakes (${r.tls.filter((c) => c.passed).length}/${r.tls.length} as expected)`, r.tls.map((c) => `- ${mark(c.passed)} ${md(c.name)} (server name ${code(c.serverName)}): ${c.result.ok ? "accepted" : `rejected (${md(c.result.error ?? "")})`}`)), "");
    if (r.wiring) {
        out.push(
            ...details("Auth and TLS wiring", [
                "| setting | value |",
                "| --- | --- |",
                ...Object.entries(r.wiring.settings).map(([k, v]) => `| ${md(k)} | ${md(inline(v))} |`),
                "",
                "| trust bundle | CAs |",
                "| --- | --- |",
                ...r.wiring.trustBundles.map((b) => `| ${md(b.where)} | ${md(b.cas.join(", "))} |`),
            ]),
            "",
        );
    }
    out.push(...details(`Certificates (${r.certificates.length})`, r.certificates.map((c) => `- ${code(c.name)}: ${md(certificateLine(c))}`)), "");
    out.push(...details(`Resources (${r.resources.length}) and their inputs`, r.resources.flatMap((res) => [`**${md(res.type)}** ${code(res.name)}`, "", "```yaml", yamlOf(res.inputs), "```", ""])), "");
    out.push(...details("Stack outputs", Object.entries(r.outputs).map(([k, v]) => `- ${code(k)}: ${md(inline(v))}`)));
    return out;
}
