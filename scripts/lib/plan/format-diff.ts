import type { InputChange, PlanDiff, ResourceChange, SettingChange } from "./diff";
import { code, details, md } from "./format";

/**
 * A plan diff as text and as a pull-request comment, in the order a security reviewer reads it:
 * access, auth and TLS wiring, certificates, resources, checks.
 */

const SECTIONS = ["Access", "Auth and TLS wiring", "Certificates", "Resources", "Policies and checks"] as const;

function baseLabel(d: PlanDiff): string {
    return `${d.base.ref}${d.base.commit ? ` (${d.base.commit.slice(0, 12)})` : ""}`;
}

function accessLine(c: PlanDiff["access"][number]): string {
    const what = c.change === "gained" ? `gains ${c.after}` : c.after === "none" ? `loses ${c.before}` : `drops from ${c.before} to ${c.after}`;
    return `${c.principal} (${c.principalObjectId}) on ${c.scope === "cluster" ? "the cluster" : `namespace ${c.scope}`}: ${what} (${c.before} → ${c.after})`;
}

function settingLine(c: SettingChange): string {
    if (c.added !== undefined || c.removed !== undefined) {
        const parts = [...(c.added ?? []).map((x) => `+ ${x}`), ...(c.removed ?? []).map((x) => `- ${x}`)];
        if (parts.length > 0) return `${c.setting}: ${parts.join("; ")}`;
    }
    return `${c.setting}: ${c.before ?? "(not set)"} → ${c.after ?? "(not set)"}`;
}

function inputLine(c: InputChange): string {
    if (c.before === null && c.after === null) return `${c.path}: changes (reads ${c.reads?.join(", ")})`;
    const reads = c.reads ? ` (also reads ${c.reads.join(", ")})` : "";
    return `${c.path}: ${c.before ?? "(not set)"} → ${c.after ?? "(not set)"}${reads}`;
}

function sectionEmpty(d: PlanDiff, i: number): boolean {
    switch (i) {
        case 0:
            return d.access.length === 0;
        case 1:
            return d.wiring.length + d.trustBundles.length === 0;
        case 2:
            return Object.values(d.certificates).every((l) => l.length === 0);
        case 3:
            return Object.values(d.resources).every((l) => l.length === 0) && d.outputs.length === 0;
        default:
            return d.policies.newlyFailing.length + d.policies.newlyPassing.length === 0;
    }
}

function summaryLine(d: PlanDiff): string {
    const r = d.resources;
    const parts = [
        `${d.access.length} access change${d.access.length === 1 ? "" : "s"}`,
        `${d.wiring.length + d.trustBundles.length} auth/TLS setting${d.wiring.length + d.trustBundles.length === 1 ? "" : "s"}`,
        `${d.certificates.reissued.length} certificate${d.certificates.reissued.length === 1 ? "" : "s"} reissued`,
        `${r.created.length} to create, ${r.replaced.length} to replace, ${r.updated.length} to update, ${r.deleted.length} to delete`,
        `${d.policies.newlyFailing.length} newly failing, ${d.policies.newlyPassing.length} newly passing`,
    ];
    return parts.join(" · ");
}

function headVerdict(d: PlanDiff): string {
    return `${d.head.ok ? "the plan passes" : "the plan FAILS"} (base: ${d.base.planned ? (d.base.ok ? "passes" : "fails") : "no such stack"})`;
}

function resourceLines(c: ResourceChange): string[] {
    return c.changes.map(inputLine);
}

export function formatDiffText(d: PlanDiff): string[] {
    const out = [`Plan diff of stack "${d.stack}": ${baseLabel(d)} → working tree; ${headVerdict(d)}`];
    for (const n of d.notes) out.push(`  note: ${n}`);
    if (!d.changed) {
        out.push("", "No changes.");
        return out;
    }
    out.push(`  ${summaryLine(d)}`);
    const section = (i: number, lines: string[]) => {
        out.push("", `${i + 1}. ${SECTIONS[i]}${sectionEmpty(d, i) ? ": no changes" : ""}`);
        if (!sectionEmpty(d, i)) out.push(...lines.map((l) => `  ${l}`));
    };
    section(0, d.access.map((c) => `${c.change === "gained" ? "+" : "-"} ${accessLine(c)}`));
    section(1, [...d.wiring.map(settingLine), ...d.trustBundles.map((c) => `trust bundle ${settingLine(c)}`)]);
    const c = d.certificates;
    section(2, [
        ...c.caAdded.map((x) => `+ CA ${x}`),
        ...c.caRemoved.map((x) => `- CA ${x}`),
        ...c.reissued.map((x) => `± reissued ${x.name}: ${x.because.join("; ")}`),
        ...c.added.map((x) => `+ ${x}`),
        ...c.removed.map((x) => `- ${x}`),
    ]);
    const r = d.resources;
    section(3, [
        ...r.created.map((x) => `+ create ${x.type}::${x.name}`),
        ...r.replaced.flatMap((x) => [`± replace ${x.type}::${x.name} (${x.replacedBecause?.join("; ")})`, ...resourceLines(x).map((l) => `    ${l}`)]),
        ...r.updated.flatMap((x) => [`~ update ${x.type}::${x.name}`, ...resourceLines(x).map((l) => `    ${l}`)]),
        ...r.deleted.map((x) => `- delete ${x.type}::${x.name}`),
        ...d.outputs.map((x) => `~ output ${settingLine(x)}`),
    ]);
    section(4, [...d.policies.newlyFailing.map((x) => `✗ newly failing: ${x}`), ...d.policies.newlyPassing.map((x) => `✓ newly passing: ${x}`)]);
    return out;
}

/** Lists longer than this are collapsed in the comment. */
const COLLAPSE_AFTER = 12;

function collapsible(summary: string, lines: string[]): string[] {
    return lines.length > COLLAPSE_AFTER ? details(summary, lines) : lines;
}

export function formatDiffMarkdown(d: PlanDiff): string[] {
    const out = [`### \`${d.stack}\`: ${d.head.ok ? "✅" : "❌"} ${md(headVerdict(d))}`, "", `Compared with ${code(d.base.ref)}${d.base.commit ? ` (${d.base.commit.slice(0, 12)})` : ""}.`];
    for (const n of d.notes) out.push("", `> Note: ${md(n)}`);
    if (!d.changed) return [...out, "", "**No changes.**"];
    out.push("", md(summaryLine(d)));
    const section = (i: number, body: string[]) => {
        out.push("", `#### ${i + 1}. ${SECTIONS[i]}`, "");
        out.push(...(sectionEmpty(d, i) ? ["No changes."] : body));
    };
    section(0, [
        "| principal | scope | before | after | |",
        "| --- | --- | --- | --- | --- |",
        ...d.access.map((c) => `| ${md(c.principal)} (${code(c.principalObjectId)}) | ${c.scope === "cluster" ? "cluster" : md(c.scope)} | ${c.before} | ${c.after} | ${c.change === "gained" ? "⬆️ gains" : "⬇️ loses"} |`),
    ]);
    section(1, collapsible(`${d.wiring.length + d.trustBundles.length} settings`, [...d.wiring, ...d.trustBundles.map((c) => ({ ...c, setting: `trust bundle ${c.setting}` }))].map((c) => `- ${md(settingLine(c))}`)));
    const c = d.certificates;
    section(
        2,
        collapsible(`${c.reissued.length + c.added.length + c.removed.length + c.caAdded.length + c.caRemoved.length} certificate changes`, [
            ...c.caAdded.map((x) => `- ➕ CA ${md(x)}`),
            ...c.caRemoved.map((x) => `- ➖ CA ${md(x)}`),
            ...c.reissued.map((x) => `- 🔁 reissued ${code(x.name)}: ${md(x.because.join("; "))}`),
            ...c.added.map((x) => `- ➕ ${md(x)}`),
            ...c.removed.map((x) => `- ➖ ${md(x)}`),
        ]),
    );
    const r = d.resources;
    const changeList = (x: ResourceChange) => resourceLines(x).map((l) => `  - ${md(l)}`);
    section(3, [
        ...collapsible(`${r.created.length} resources to create`, r.created.map((x) => `- ➕ create ${md(x.type)} ${code(x.name)}`)),
        ...collapsible(`${r.deleted.length} resources to delete`, r.deleted.map((x) => `- ➖ delete ${md(x.type)} ${code(x.name)}`)),
        ...collapsible(`${r.replaced.length} resources to replace`, r.replaced.map((x) => `- 🔁 replace ${md(x.type)} ${code(x.name)}: ${md(x.replacedBecause?.join("; ") ?? "")}`)),
        ...collapsible(
            `input changes of ${r.replaced.length + r.updated.length} resources`,
            [...r.replaced, ...r.updated].flatMap((x) => [`- ${r.replaced.includes(x) ? "🔁" : "✏️"} ${md(x.type)} ${code(x.name)}`, ...changeList(x)]),
        ),
        ...d.outputs.map((x) => `- ✏️ output ${md(settingLine(x))}`),
    ]);
    section(4, [...d.policies.newlyFailing.map((x) => `- ❌ newly failing: ${md(x)}`), ...d.policies.newlyPassing.map((x) => `- ✅ newly passing: ${md(x)}`)]);
    return out;
}
