/** Small readers over untyped resource inputs (Helm values, provider props). */

export function getPath(obj: unknown, path: string): unknown {
    let cur: unknown = obj;
    for (const part of path.split(".")) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
}

export interface EnvVar {
    name: string;
    value?: unknown;
    valueFrom?: unknown;
}

/** `additionalEnv` lists as the chart takes them: `[{ name, value }]`. */
export function envList(values: unknown, path: string): EnvVar[] {
    const list = getPath(values, path);
    return Array.isArray(list) ? list.filter((e): e is EnvVar => typeof e === "object" && e !== null && typeof (e as EnvVar).name === "string") : [];
}

export function envValue(values: unknown, path: string, name: string): string | undefined {
    const v = envList(values, path).find((e) => e.name === name)?.value;
    return v === undefined || v === null ? undefined : String(v);
}

/** Every leaf of an object as [dotted path, value], for scans. */
export function leaves(obj: unknown, prefix = ""): Array<[string, unknown]> {
    if (obj === null || typeof obj !== "object") return [[prefix, obj]];
    const out: Array<[string, unknown]> = [];
    const entries = Array.isArray(obj) ? obj.map((v, i) => [String(i), v] as const) : Object.entries(obj);
    for (const [k, v] of entries) out.push(...leaves(v, prefix ? `${prefix}.${k}` : k));
    return out;
}
