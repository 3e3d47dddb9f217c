import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/**
 * Checks Helm values against the chart's own values file. Helm ignores keys a chart does not read,
 * so a misspelt or invented key (or one from a newer chart than the one installed) is silently
 * dropped: TLS that is never configured, a budget never created. This check makes that loud.
 */

/** The chart's default values as the project's reference holds them (see the file's header). */
export const CHART_VALUES_FILE = join(__dirname, "chart", "values-reference.yaml");

export function readChartDefaults(file: string = CHART_VALUES_FILE): Record<string, unknown> {
    return parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/**
 * Subtrees the chart passes on verbatim, so their keys are someone else's: the server config's TLS,
 * authorization and datastore settings (the server's keys), and Kubernetes objects (the API's keys).
 */
export const PASSTHROUGH = [
    "server.config.tls",
    "server.config.authorization",
    "server.config.persistence.datastores",
    // Kubernetes objects the templates render verbatim (toYaml) whose defaults are not empty maps.
    "server.securityContext",
    "web.readinessProbe",
];

/**
 * Keys the chart's templates read that its values file documents only in a comment
 * (`# className:` under each ingress).
 */
export const DOCUMENTED_IN_COMMENTS = ["web.ingress.className", "server.frontend.ingress.className"];

/**
 * Keys of the reference values file that the RELEASED chart 1.6.0 does not read: they were added on
 * the chart's main branch after the release (TLS wiring helpers, scheduler fields, the namespace
 * job's frontend switch). Setting them on 1.6.0 does nothing; `server.tls` in particular would leave
 * the cluster without TLS. This program wires TLS through `server.config.tls` and extra volumes,
 * which both 1.6.0 and main read.
 */
export const UNRELEASED_IN_CHART = [
    "server.tls",
    "web.tls",
    "admintools.useExternalFrontend",
    "server.config.namespaces.useExternalFrontend",
    "server.config.namespaces.useHelmHooks",
    ...["server", "server.frontend", "server.internal-frontend", "server.history", "server.matching", "server.worker", "admintools", "web"].flatMap((p) =>
        ["schedulerName", "runtimeClassName", "priorityClassName"].map((k) => `${p}.${k}`),
    ),
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const under = (path: string, prefixes: string[]) => prefixes.some((p) => path === p || path.startsWith(`${p}.`));

/**
 * Every problem with `values` against the chart defaults, as `<path>: <what is wrong>`. A key is
 * known when the defaults have it, or when its parent's default is an empty map (free-form:
 * annotations, resources, budgets). Lists are compared as a whole: items are not checked.
 */
export function chartKeyIssues(values: Record<string, unknown>, defaults: Record<string, unknown> = readChartDefaults()): string[] {
    const issues: string[] = [];
    const walk = (value: Record<string, unknown>, def: Record<string, unknown>, prefix: string) => {
        for (const [key, child] of Object.entries(value)) {
            const path = prefix ? `${prefix}.${key}` : key;
            if (under(path, UNRELEASED_IN_CHART)) {
                issues.push(`${path}: not read by the released chart 1.6.0 (added on the chart's main branch later): use a key 1.6.0 reads`);
                continue;
            }
            if (under(path, PASSTHROUGH)) continue;
            if (!(key in def)) {
                if (!DOCUMENTED_IN_COMMENTS.includes(path)) issues.push(`${path}: the chart has no such value: fix the spelling or remove it`);
                continue;
            }
            const d = def[key];
            if (isObject(d)) {
                if (!isObject(child)) issues.push(`${path}: the chart expects a map here`);
                else if (Object.keys(d).length > 0) walk(child, d, path);
            } else if (Array.isArray(d) && !Array.isArray(child)) {
                issues.push(`${path}: the chart expects a list here`);
            }
        }
    };
    walk(values, defaults, "");
    return issues;
}

/** Every leaf key path of a values object (lists are leaves), e.g. for reports. */
export function valueKeyPaths(values: Record<string, unknown>, prefix = ""): string[] {
    return Object.entries(values).flatMap(([k, v]) => {
        const path = prefix ? `${prefix}.${k}` : k;
        return isObject(v) && Object.keys(v).length > 0 ? valueKeyPaths(v, path) : [path];
    });
}
