import type { Access } from "../../../policies/pack/admission";
import { formatPath, resourceKey, type PathPart } from "./material";
import { forcesReplacement } from "./replacement";
import type { PlannedResource, PlanReport } from "./report";
import { certificateLine, inline } from "./format";

/**
 * The difference between the plan of a stack at a base ref and in the working tree, security
 * first: who gains or loses what (from the validator's admission of each principal's token on both
 * sides, not from config text), then the auth and TLS wiring, then certificates, then every
 * resource, then the checks. A pure function of two reports.
 */

export interface AccessChange {
    principal: string;
    principalObjectId: string;
    /** `cluster` or a Temporal namespace. */
    scope: string;
    before: Access;
    after: Access;
    change: "gained" | "lost";
}

export interface SettingChange {
    setting: string;
    before: string | null;
    after: string | null;
    /** For lists (CAs, URIs): what was added and removed. */
    added?: string[];
    removed?: string[];
}

export interface InputChange {
    path: string;
    /** The values as the reports show them (null: absent). */
    before: string | null;
    after: string | null;
    /** For an input whose text is the same on both sides: the replaced or new resources whose values it holds. */
    reads?: string[];
}

export interface ResourceChange {
    type: string;
    name: string;
    changes: InputChange[];
    /** Why the resource is replaced rather than updated (force-new inputs, or resources it reads from that are replaced). */
    replacedBecause?: string[];
}

export interface PlanDiff {
    schemaVersion: number;
    stack: string;
    /** The git ref the base was planned at, and whether each side passes. */
    base: { ref: string; commit?: string; ok: boolean; planned: boolean };
    head: { ok: boolean };
    /** Parts of the base report that could not be compared (an older report format), said once. */
    notes: string[];
    access: AccessChange[];
    wiring: SettingChange[];
    trustBundles: SettingChange[];
    certificates: { reissued: Array<{ name: string; because: string[] }>; added: string[]; removed: string[]; caAdded: string[]; caRemoved: string[] };
    resources: { created: Array<{ type: string; name: string }>; deleted: Array<{ type: string; name: string }>; replaced: ResourceChange[]; updated: ResourceChange[] };
    outputs: SettingChange[];
    policies: { newlyFailing: string[]; newlyPassing: string[] };
    changed: boolean;
}

const RANK: Record<Access, number> = { none: 0, read: 1, write: 2, admin: 3 };

function accessChanges(base: PlanReport, head: PlanReport): AccessChange[] {
    type Row = { label: string; cluster: Access; namespaces: Record<string, Access> };
    const table = (r: PlanReport): Map<string, Row> => {
        const m = new Map<string, Row>();
        for (const p of r.admission?.principals ?? []) {
            const label = `${p.principalType} ${p.principalDisplayName ? `"${p.principalDisplayName}"` : p.principalObjectId}`;
            // A token the server rejects opens nothing.
            m.set(p.principalObjectId, { label, cluster: p.verified ? p.cluster : "none", namespaces: p.verified ? p.namespaces : {} });
        }
        return m;
    };
    const before = table(base);
    const after = table(head);
    const namespaces = [...new Set([...(base.admission?.namespaces ?? []), ...(head.admission?.namespaces ?? [])])].sort();
    const out: AccessChange[] = [];
    for (const id of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const b = before.get(id);
        const a = after.get(id);
        const label = (a ?? b)!.label;
        const scopes: Array<[string, Access, Access]> = [["cluster", b?.cluster ?? "none", a?.cluster ?? "none"], ...namespaces.map((ns): [string, Access, Access] => [ns, b?.namespaces[ns] ?? "none", a?.namespaces[ns] ?? "none"])];
        for (const [scope, x, y] of scopes) {
            if (x !== y) out.push({ principal: label, principalObjectId: id, scope, before: x, after: y, change: RANK[y] > RANK[x] ? "gained" : "lost" });
        }
    }
    return out;
}

function settingChanges(before: Record<string, unknown>, after: Record<string, unknown>): SettingChange[] {
    const out: SettingChange[] = [];
    // The working tree's order, then what only the base had.
    for (const key of [...new Set([...Object.keys(after), ...Object.keys(before)])]) {
        const b = before[key];
        const a = after[key];
        if (JSON.stringify(b) === JSON.stringify(a)) continue;
        const change: SettingChange = { setting: key, before: b === undefined ? null : inline(b), after: a === undefined ? null : inline(a) };
        if (Array.isArray(b) || Array.isArray(a)) {
            const bs = (Array.isArray(b) ? b : []).map(String);
            const as = (Array.isArray(a) ? a : []).map(String);
            change.added = as.filter((x) => !bs.includes(x));
            change.removed = bs.filter((x) => !as.includes(x));
        }
        out.push(change);
    }
    return out;
}

/** The field that identifies the items of a list of objects (env vars by name, app roles by value), if one does. */
const IDENTITY_FIELDS = ["name", "value", "id", "key"];

function identityField(list: unknown[]): string | undefined {
    return IDENTITY_FIELDS.find((f) => {
        const ids = list.map((v) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[f] : undefined));
        return ids.length > 0 && ids.every((id) => typeof id === "string") && new Set(ids).size === ids.length;
    });
}

interface Flat {
    /** Leaf path → value as printed. */
    leaves: Map<string, string>;
    /** Path of each item of an identified list → the item as JSON (an item only one side has is one change). */
    items: Map<string, string>;
}

/** Leaves of an input tree by path; items of lists of objects keyed by their identity when they have one, lists of scalars as one value. */
function flatten(value: unknown, parts: PathPart[] = [], out: Flat = { leaves: new Map(), items: new Map() }): Flat {
    if (Array.isArray(value)) {
        if (value.every((v) => v === null || typeof v !== "object")) {
            out.leaves.set(formatPath(parts), inline(value));
            return out;
        }
        const field = identityField(value);
        value.forEach((v, i) => {
            const at: PathPart[] = [...parts, field ? { field, value: String((v as Record<string, unknown>)[field]) } : i];
            if (field) out.items.set(formatPath(at), JSON.stringify(v));
            flatten(v, at, out);
        });
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) flatten(v, [...parts, k], out);
    } else {
        out.leaves.set(formatPath(parts), value === null || value === undefined ? "none" : typeof value === "string" ? value : JSON.stringify(value));
    }
    return out;
}

function inputChanges(before: PlannedResource, after: PlannedResource): InputChange[] {
    const b = flatten(before.inputs);
    const a = flatten(after.inputs);
    const out: InputChange[] = [];
    // An item that only one side has: one change for the whole item, not one per field.
    const whole = [...new Set([...b.items.keys(), ...a.items.keys()])].filter((p) => !b.items.has(p) || !a.items.has(p));
    for (const path of whole) out.push({ path, before: b.items.get(path) ?? null, after: a.items.get(path) ?? null });
    const inWhole = (path: string) => whole.some((w) => path.startsWith(w) && (path.length === w.length || path[w.length] === "." || path[w.length] === "["));
    for (const path of [...new Set([...b.leaves.keys(), ...a.leaves.keys()])]) {
        if (!inWhole(path) && b.leaves.get(path) !== a.leaves.get(path)) out.push({ path, before: b.leaves.get(path) ?? null, after: a.leaves.get(path) ?? null });
    }
    return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function resourceChanges(base: PlanReport, head: PlanReport): PlanDiff["resources"] {
    const before = new Map(base.resources.map((r) => [resourceKey(r), r]));
    const after = new Map(head.resources.map((r) => [resourceKey(r), r]));
    const created = head.resources.filter((r) => !before.has(resourceKey(r))).map(({ type, name }) => ({ type, name }));
    const deleted = base.resources.filter((r) => !after.has(resourceKey(r))).map(({ type, name }) => ({ type, name }));
    const changes = new Map<string, ResourceChange>();
    for (const r of head.resources) {
        const old = before.get(resourceKey(r));
        if (!old) continue;
        const c = inputChanges(old, r);
        if (c.length > 0) changes.set(resourceKey(r), { type: r.type, name: r.name, changes: c });
    }
    // Replacements, then what they drag along: an input that holds a value of a replaced (or new)
    // resource changes too, and replaces its reader when it is force-new.
    const replaced = new Map<string, string[]>();
    for (const [key, c] of changes) {
        const reasons = c.changes.filter((x) => forcesReplacement(c.type, x.path)).map((x) => `${x.path} changes`);
        if (reasons.length > 0) replaced.set(key, reasons);
    }
    const renewed = () => new Set([...replaced.keys(), ...created.map(resourceKey)]);
    for (let grew = true; grew; ) {
        grew = false;
        const gone = renewed();
        for (const r of head.resources) {
            const key = resourceKey(r);
            if (!before.has(key) || replaced.has(key)) continue;
            for (const [path, sources] of Object.entries(r.dependencies)) {
                const from = sources.filter((s) => gone.has(s));
                if (from.length === 0) continue;
                const names = from.map((s) => `${s.split("::")[1]} (${replaced.has(s) ? "replaced" : "new"})`);
                const reason = `${path} reads ${names.join(", ")}`;
                const entry = changes.get(key) ?? { type: r.type, name: r.name, changes: [] };
                const existing = entry.changes.find((c) => c.path === path);
                if (existing) existing.reads = names;
                else entry.changes.push({ path, before: null, after: null, reads: names });
                changes.set(key, entry);
                if (forcesReplacement(r.type, path)) {
                    replaced.set(key, [...(replaced.get(key) ?? []), reason]);
                    grew = true;
                    break;
                }
            }
        }
    }
    const sorted = (list: ResourceChange[]) => list.sort((x, y) => (resourceKey(x) < resourceKey(y) ? -1 : 1)).map((c) => ({ ...c, changes: c.changes.sort((x, y) => (x.path < y.path ? -1 : 1)) }));
    return {
        created,
        deleted,
        replaced: sorted([...changes.values()].filter((c) => replaced.has(resourceKey(c))).map((c) => ({ ...c, replacedBecause: replaced.get(resourceKey(c))! }))),
        updated: sorted([...changes.values()].filter((c) => !replaced.has(resourceKey(c)))),
    };
}

/** Outputs without the ones the stack has no value for (an older report leaves them out, a newer one says null). */
function withoutNone(outputs: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== null && v !== undefined));
}

/** Every problem of a report as one line, so two reports' problems can be compared as sets. */
export function findings(r: PlanReport): string[] {
    return [
        ...(r.error ? [`the ${r.error.stage === "usage" ? "plan could not start" : "program failed"}: ${r.error.message.split("\n")[0]}`] : []),
        ...r.configErrors.map((e) => `config: ${e}`),
        ...r.violations.map((v) => `policy ${v.policy} on ${v.resource}: ${v.message}`),
        ...(r.admission?.skipped && !r.error && r.configErrors.length === 0 ? [`token admission not run: ${r.admission.skipped}`] : []),
        ...(r.admission?.violations ?? []).map((v) => `token admission: ${v}`),
        ...r.tlsProblems.map((p) => `TLS: ${p}`),
    ];
}

export function diffPlans(base: PlanReport, head: PlanReport, ref: { ref: string; commit?: string; planned?: boolean }): PlanDiff {
    const notes: string[] = [];
    if (base.schemaVersion !== head.schemaVersion) {
        notes.push(`the base's plan has report format ${base.schemaVersion ?? "0 (before full reports)"}, this one ${head.schemaVersion}: the base's inputs, wiring and certificates are not compared`);
    }
    const comparable = base.schemaVersion === head.schemaVersion;
    const resources = comparable ? resourceChanges(base, head) : { created: [], deleted: [], replaced: [], updated: [] };
    const isCert = (t: string) => t === "tls:index/selfSignedCert:SelfSignedCert" || t === "tls:index/locallySignedCert:LocallySignedCert";
    const headCerts = new Map(head.certificates.map((c) => [c.name, c]));
    const baseCerts = new Map((base.certificates ?? []).map((c) => [c.name, c]));
    const certificates: PlanDiff["certificates"] = {
        reissued: resources.replaced.filter((r) => isCert(r.type)).map((r) => ({ name: r.name, because: r.replacedBecause ?? [] })),
        added: resources.created.filter((r) => isCert(r.type) && !headCerts.get(r.name)?.ca).map((r) => `${r.name}: ${headCerts.get(r.name) ? certificateLine(headCerts.get(r.name)!) : ""}`),
        removed: resources.deleted.filter((r) => isCert(r.type) && !baseCerts.get(r.name)?.ca).map((r) => r.name),
        caAdded: resources.created.filter((r) => headCerts.get(r.name)?.ca).map((r) => `${r.name} (CN=${headCerts.get(r.name)!.commonName})`),
        caRemoved: resources.deleted.filter((r) => baseCerts.get(r.name)?.ca).map((r) => `${r.name} (CN=${baseCerts.get(r.name)!.commonName})`),
    };
    const bundle = (r: PlanReport) => Object.fromEntries((r.wiring?.trustBundles ?? []).map((b) => [b.where, b.cas]));
    const baseFindings = new Set(findings(base));
    const headFindings = new Set(findings(head));
    const diff: PlanDiff = {
        schemaVersion: head.schemaVersion,
        stack: head.stack,
        base: { ref: ref.ref, ...(ref.commit ? { commit: ref.commit } : {}), ok: base.ok, planned: ref.planned ?? true },
        head: { ok: head.ok },
        notes,
        access: accessChanges(base, head),
        wiring: comparable ? settingChanges(base.wiring?.settings ?? {}, head.wiring?.settings ?? {}) : [],
        trustBundles: comparable ? settingChanges(bundle(base), bundle(head)) : [],
        certificates,
        resources,
        outputs: settingChanges(withoutNone(base.outputs ?? {}), withoutNone(head.outputs)),
        policies: { newlyFailing: [...headFindings].filter((f) => !baseFindings.has(f)), newlyPassing: [...baseFindings].filter((f) => !headFindings.has(f)) },
        changed: false,
    };
    diff.changed =
        diff.access.length + diff.wiring.length + diff.trustBundles.length + diff.outputs.length + diff.policies.newlyFailing.length + diff.policies.newlyPassing.length > 0 ||
        Object.values(diff.resources).some((l) => l.length > 0) ||
        diff.base.ok !== diff.head.ok;
    return diff;
}
