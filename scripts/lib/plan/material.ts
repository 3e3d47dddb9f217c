import { createHash } from "node:crypto";
import { isSecretEnvelope, revealSecrets } from "../offline/secrets";
import type { RecordedResource } from "../offline/engine";

/**
 * How the plan's report shows the resources' inputs so that two runs of the same input give the
 * same bytes, and no secret is ever printed:
 *
 * - Values an emulator computes that differ between runs (keys, certificates, generated passwords,
 *   validity windows: `RecordedResource.volatilePaths`) are shown as the attribute they come from,
 *   `${pki-ca-2026.certPem}`, wherever they appear, whole or inside a longer string (a trust
 *   bundle reads `${pki-ca-2026.certPem}\n${pki-ca-2027.certPem}\n`), and so are their SHA-256 and
 *   base64 forms (`sha256(${pki-client-temporal-ui.certPem})`). This is also what `pulumi preview`
 *   shows for a new stack: the value is not known before the provider makes it.
 * - Inputs that were Pulumi secrets are `[secret]`, followed by the attributes they were made of
 *   when there are any (`[secret] ← ${pki-frontend-key.privateKeyPemPkcs8}`): names, never values.
 * - Each input records which resources' computed values it holds (ids, URIs, keys), so that the diff
 *   can tell which inputs change when a resource they read from is replaced.
 */

/** `type::name`: how the report names a resource. */
export const resourceKey = (r: { type: string; name: string }): string => `${r.type}::${r.name}`;

export const SECRET = "[secret]";

/** A path into an input tree as the report prints it: `spec.template.metadata.annotations["a.b/c"]`, `env[3]`. */
/** A key, a list index, or a list item named by an identifying field (`env[name=TEMPORAL_TLS]`). */
export type PathPart = string | number | { field: string; value: string };

export function formatPath(parts: readonly PathPart[]): string {
    let out = "";
    for (const p of parts) {
        if (typeof p === "number") out += `[${p}]`;
        else if (typeof p === "object") out += `[${p.field}=${p.value}]`;
        else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out === "" ? p : `.${p}`;
        else out += `[${JSON.stringify(p)}]`;
    }
    return out;
}

function valueAt(root: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), root);
}

interface Material {
    value: string;
    /** `${name.attribute}`, or a transform of it. */
    label: string;
    resource: string;
}

const MIN_MATERIAL_LENGTH = 8;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** Computed values worth tracing as a dependency: Azure resource ids, GUIDs, URLs. */
const IDENTIFIER = /^\/subscriptions\/|^https?:\/\/|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Calls `fn` with every string leaf of a tree; `at` (the path parts) is built only when `fn` wants it. */
function eachString(value: unknown, fn: (text: string, at: () => (string | number)[]) => void, parts: (string | number)[] = []): void {
    if (typeof value === "string") fn(value, () => [...parts]);
    else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) eachString(value[i], fn, [...parts, i]);
    else if (value !== null && typeof value === "object") for (const k of Object.keys(value)) eachString((value as Record<string, unknown>)[k], fn, [...parts, k]);
}

/**
 * The values that must not be printed as they are (volatile material), and the computed values
 * whose presence in another resource's inputs is a dependency on that resource.
 */
export class MaterialIndex {
    private readonly volatile: Material[] = [];
    /** Volatile values that are times: a time the program derives from one is shown relative to it. */
    private readonly times: Array<{ ms: number; label: string; resource: string }> = [];
    private readonly computed: Material[] = [];

    constructor(resources: readonly RecordedResource[]) {
        const seen = new Set<string>();
        const addVolatile = (value: string, label: string, resource: string) => {
            // Equal values of two resources are both kept: the dependencies decide which one an input holds.
            if (value.length < MIN_MATERIAL_LENGTH || seen.has(`${resource}\n${value}`)) return;
            seen.add(`${resource}\n${value}`);
            this.volatile.push({ value, label, resource });
        };
        // A resource is named by its logical name, or by type and name where another resource with material has the same name.
        const withMaterial = resources.filter((r) => r.volatilePaths.length > 0);
        const shared = new Set(withMaterial.filter((r) => withMaterial.some((o) => o !== r && o.name === r.name)).map((r) => r.name));
        for (const r of resources) {
            const key = resourceKey(r);
            for (const path of r.volatilePaths) {
                const v = valueAt(r.state, path);
                if (typeof v !== "string") continue;
                const label = `\${${shared.has(r.name) ? key : r.name}.${path}}`;
                // As given, and trimmed: a PEM bundle holds its certificates without their last newline.
                addVolatile(v, label, key);
                addVolatile(v.trim(), label, key);
                if (RFC3339.test(v)) this.times.push({ ms: Date.parse(v), label, resource: key });
                addVolatile(createHash("sha256").update(v).digest("hex"), `sha256(${label})`, key);
                addVolatile(createHash("sha256").update(v.trim()).digest("hex"), `sha256(${label})`, key);
                addVolatile(Buffer.from(v).toString("base64"), `base64(${label})`, key);
            }
            const inputValues = new Set<string>();
            eachString(r.inputs, (v) => inputValues.add(v));
            eachString(r.state, (v) => {
                if (v.length >= MIN_MATERIAL_LENGTH && !inputValues.has(v) && IDENTIFIER.test(v)) this.computed.push({ value: v, label: v, resource: key });
            });
            if (r.custom && r.id !== "" && !inputValues.has(r.id)) this.computed.push({ value: r.id, label: r.id, resource: key });
        }
        // Longest first, so a certificate is named before a shorter value it happens to contain.
        this.volatile.sort((a, b) => b.value.length - a.value.length || (a.label < b.label ? -1 : 1));
    }

    /**
     * The text with every volatile value replaced by its label, and the labels used (in order of
     * appearance). `from` limits the sources to the resources the value depends on (two sources can
     * hold equal values: a 90-day certificate and a 90-day rotation made at the same second).
     */
    name(text: string, from?: ReadonlySet<string>): { text: string; labels: string[] } {
        const found: Array<{ at: number; label: string }> = [];
        let out = text;
        for (const m of this.volatile) {
            if ((from && !from.has(m.resource)) || !out.includes(m.value)) continue;
            for (let at = text.indexOf(m.value); at !== -1; at = text.indexOf(m.value, at + 1)) found.push({ at, label: m.label });
            out = out.split(m.value).join(m.label);
        }
        return { text: out, labels: [...new Set(found.sort((a, b) => a.at - b.at).map((f) => f.label))] };
    }

    /**
     * A time the program computed from a time of a resource it depends on (a secret's end date from
     * its rotation's start), as that time plus the difference: `${identity-ui-secret-rotation.rfc3339} + 120d`.
     */
    relativeTime(text: string, from: ReadonlySet<string> | undefined): string | undefined {
        if (!from || !RFC3339.test(text)) return undefined;
        const ms = Date.parse(text);
        const candidates = this.times.filter((t) => from.has(t.resource)).sort((a, b) => Math.abs(ms - a.ms) - Math.abs(ms - b.ms) || (a.label < b.label ? -1 : 1));
        const base = candidates[0];
        if (!base) return undefined;
        const delta = ms - base.ms;
        const abs = Math.abs(delta);
        const amount = abs % 86_400_000 === 0 ? `${abs / 86_400_000}d` : abs % 3_600_000 === 0 ? `${abs / 3_600_000}h` : `${abs / 1000}s`;
        return delta === 0 ? base.label : `${base.label} ${delta > 0 ? "+" : "-"} ${amount}`;
    }

    /** The resources (other than `self`, and among `from` when given) whose computed values or material `text` holds. */
    sources(text: string, self: string, from?: ReadonlySet<string>): string[] {
        if (from?.size === 0) return [];
        const out = new Set<string>();
        for (const list of [this.volatile, this.computed]) {
            for (const m of list) if (m.resource !== self && (!from || from.has(m.resource)) && !out.has(m.resource) && text.includes(m.value)) out.add(m.resource);
        }
        return [...out].sort();
    }
}

/** A secret as the report shows it: `[secret]`, and what it was made of when known. */
function secretLeaf(value: unknown, index: MaterialIndex, from: ReadonlySet<string> | undefined): string {
    if (value === undefined || value === null) return SECRET;
    const { labels } = index.name(typeof value === "string" ? value : JSON.stringify(value), from);
    return labels.length > 0 ? `${SECRET} ← ${labels.join(" + ")}` : SECRET;
}

/** A secret subtree: the same keys, every leaf `[secret]`. */
function redactSecret(value: unknown, index: MaterialIndex, from: ReadonlySet<string> | undefined): unknown {
    if (Array.isArray(value)) return value.map((v) => redactSecret(v, index, from));
    if (value !== null && typeof value === "object") return sortedObject(Object.entries(value).map(([k, v]) => [k, redactSecret(v, index, from)]));
    return secretLeaf(value, index, from);
}

function sortedObject(entries: Array<[string, unknown]>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries.filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = v;
    return out;
}

/** Any private key the naming did not catch (it would be a bug in a volatile table): never printed. */
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export interface ShownInputs {
    inputs: Record<string, unknown>;
    /** Per input path (`formatPath`), the resources whose computed values it holds. */
    dependencies: Record<string, string[]>;
}

/**
 * A resource's inputs as the report shows them: keys sorted, secrets redacted, volatile values
 * named. Reads the mock runtime's raw inputs, where secrets are still in their envelope, so a
 * secret is recognised wherever it sits.
 */
export function showInputs(resource: RecordedResource, index: MaterialIndex): ShownInputs {
    const self = resourceKey(resource);
    const dependencies: Record<string, string[]> = {};
    // What the SDK says each top-level input depends on; absent (a hand-made engine record): anything may be a source.
    const allowed = (parts: (string | number)[]) => {
        const deps = resource.propertyDependencies[String(parts[0])];
        return deps === undefined ? undefined : new Set(deps);
    };
    const note = (parts: (string | number)[], text: string) => {
        const from = index.sources(text, self, allowed(parts));
        if (from.length > 0) dependencies[formatPath(parts)] = from;
    };
    const walk = (value: unknown, parts: (string | number)[]): unknown => {
        if (isSecretEnvelope(value)) {
            eachString(value.value, (leaf, at) => note(at(), leaf), parts);
            return redactSecret(revealSecrets(value.value), index, allowed(parts));
        }
        if (Array.isArray(value)) return value.map((v, i) => walk(v, [...parts, i]));
        if (value !== null && typeof value === "object") return sortedObject(Object.entries(value).map(([k, v]) => [k, walk(v, [...parts, k])]));
        if (typeof value !== "string") return value;
        note(parts, value);
        if (parts.length === 1 && parts[0] === "__provider") return `[dynamic provider code, sha256 ${createHash("sha256").update(value).digest("hex").slice(0, 12)}]`;
        const shown = index.name(value, allowed(parts)).text;
        if (PRIVATE_KEY.test(shown)) return SECRET;
        return shown === value ? (index.relativeTime(value, allowed(parts)) ?? shown) : shown;
    };
    const inputs = walk(resource.rawInputs, []) as Record<string, unknown>;
    // A dependency the SDK knows of that no single value shows (a value transformed by the program) stays on its top-level input.
    for (const [property, deps] of Object.entries(resource.propertyDependencies)) {
        const shown = new Set(Object.entries(dependencies).filter(([path]) => path === property || path.startsWith(`${property}.`) || path.startsWith(`${property}[`)).flatMap(([, d]) => d));
        const rest = deps.filter((d) => d !== self && !shown.has(d));
        if (rest.length > 0) dependencies[formatPath([property])] = [...new Set([...(dependencies[formatPath([property])] ?? []), ...rest])].sort();
    }
    return { inputs, dependencies: sortedObject(Object.entries(dependencies)) as Record<string, string[]> };
}
