import { stringify } from "yaml";
import { CONFIG_KEYS, ConfigError, PROJECT, SECRET_CONFIG_KEYS, type ConfigIssue } from "../../../infra/config";
import { loadStackConfig } from "../../../infra/stack-config";
import type { LoadedConfig } from "../../../infra/config";
import { projectConfig, stackConfigSource, type StackFile } from "../plan/run";
import { UsageError } from "../live/errors";

/**
 * The config of an ephemeral stack: a template (`stacks/Pulumi.<from>.yaml`) plus `--set`
 * overrides, with the profile forced to ephemeral. Pure: the CLI, the offline plan's stack file and
 * the stack's Pulumi config are all made from the one map this returns.
 */

/** `--set <path>=null` removes the value (e.g. a field the template sets that the stack should default). */
export const REMOVE = Symbol("remove");

export interface SetOverride {
    /** As given, for messages: `identity.uiHost`. */
    path: string;
    /** The full config key: `temporal-azure:identity`, or another namespace's key (`azure-native:location`). */
    key: string;
    /** Below the key: `["uiHost"]`, `["grants", 1, "permissions"]`. */
    segments: Array<string | number>;
    value: unknown;
}

/**
 * A `--set` value: `true`/`false` are booleans, numbers are numbers, `null` removes the value, and
 * text starting with `[`, `{` or `"` is JSON (so `'"2026"'` is the string 2026). Everything else
 * is a string.
 */
export function parseSetValue(path: string, text: string): unknown {
    if (text === "true") return true;
    if (text === "false") return false;
    if (text === "null") return REMOVE;
    if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(text)) return Number(text);
    if (/^[[{"]/.test(text)) {
        try {
            return JSON.parse(text) as unknown;
        } catch (err) {
            throw new UsageError(
                `--set ${path}: the value starts like JSON but is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. --set 'access.namespaces=[{"name":"default"}]'`,
            );
        }
    }
    return text;
}

/** Splits `access.grants[1].permissions` into `access` and `["grants", 1, "permissions"]`. */
function parsePath(path: string): { head: string; segments: Array<string | number> } {
    const m = /^([A-Za-z][\w-]*)((?:\.[A-Za-z_][\w-]*|\[\d+\])*)$/.exec(path);
    if (!m) {
        throw new UsageError(`--set ${path}: the path must be dotted field names with [index] for list items, as config errors name them (e.g. identity.uiHost, access.grants[1].permissions)`);
    }
    const segments: Array<string | number> = [];
    for (const part of m[2]!.matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)) segments.push(part[1] !== undefined ? part[1] : Number(part[2]));
    return { head: m[1]!, segments };
}

/**
 * Keys of other namespaces `--set` may write: the providers' settings that are not secrets. A
 * `--set` value is written to the stack's config as plain text (and is on the command line, in the
 * shell history and the process list), so anything else is refused (fail closed): a credential
 * belongs in the job's environment, where the providers read it.
 */
export const PLAIN_PROVIDER_SETTINGS: Readonly<Record<string, readonly string[]>> = {
    "azure-native": [
        "location", "subscriptionId", "tenantId", "clientId", "environment", "auxiliaryTenantIds", "metadataHost", "useOidc", "useMsi",
        "useDefaultAzureCredential", "msiEndpoint", "oidcRequestUrl", "oidcTokenFilePath", "clientCertificatePath", "disableInstanceDiscovery",
        "disablePulumiPartnerId", "partnerId",
    ],
    azuread: [
        "tenantId", "clientId", "environment", "metadataHost", "useOidc", "useMsi", "useCli", "useAksWorkloadIdentity", "msiEndpoint", "oidcRequestUrl",
        "oidcTokenFilePath", "clientCertificatePath", "clientIdFilePath", "clientSecretFilePath", "adoPipelineServiceConnectionId",
        "disableTerraformPartnerId", "partnerId",
    ],
};

/** The environment variable the Azure providers read a credential from (the same for azure-native and azuread). */
const CREDENTIAL_ENV: Readonly<Record<string, string>> = {
    clientSecret: "ARM_CLIENT_SECRET",
    clientCertificatePassword: "ARM_CLIENT_CERTIFICATE_PASSWORD",
    clientCertificate: "ARM_CLIENT_CERTIFICATE",
    oidcToken: "ARM_OIDC_TOKEN",
    oidcRequestToken: "ARM_OIDC_REQUEST_TOKEN",
};

function plainProviderSetting(path: string, namespace: string, name: string): void {
    if (PLAIN_PROVIDER_SETTINGS[namespace]?.includes(name)) return;
    const env = CREDENTIAL_ENV[name];
    if ((namespace === "azure-native" || namespace === "azuread") && env !== undefined) {
        throw new UsageError(
            `--set ${path}: this would store the provider's credential as plain text in the stack's config (and it is already in this command line, the shell history and the process list): give the job the environment variable ${env} instead, or better ARM_USE_OIDC=true with a federated credential, which needs no secret (docs/ephemeral.md)`,
        );
    }
    const known = Object.entries(PLAIN_PROVIDER_SETTINGS)
        .map(([ns, keys]) => `${ns}:${keys.slice(0, 5).join(", ")}, ...`)
        .join(" ; ");
    throw new UsageError(
        `--set ${path}: only plain provider settings can be set here (${known}; docs/ephemeral.md lists them), because --set writes plain text to the stack's config: put secrets in the job's environment, or set them on the stack with \`pulumi config set --secret ${path}\` reading the value from standard input`,
    );
}

/** One `--set <path>=<value>`. */
export function parseSetFlag(flag: string): SetOverride {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${JSON.stringify(flag)} must be <path>=<value>, e.g. --set identity.uiHost=pr-42.temporal.example.com`);
    const path = flag.slice(0, eq);
    const text = flag.slice(eq + 1);
    const ns = /^([a-z][\w-]*):(.*)$/.exec(path);
    if (ns && ns[1] !== PROJECT) {
        // Another namespace's key (a provider's): set as a whole, no path below it.
        if (!/^[A-Za-z][\w-]*$/.test(ns[2]!)) throw new UsageError(`--set ${path}: a key of another namespace than ${PROJECT} is set as a whole (e.g. azure-native:location=westeurope), without a path below it`);
        plainProviderSetting(path, ns[1]!, ns[2]!);
        return { path, key: path, segments: [], value: parseSetValue(path, text) };
    }
    const { head, segments } = parsePath(ns ? ns[2]! : path);
    if (head === "profile") throw new UsageError(`--set ${path}: an ephemeral stack's profile is always ephemeral: remove this --set`);
    if ((SECRET_CONFIG_KEYS as readonly string[]).includes(head)) {
        throw new UsageError(`--set ${path}: the ${head} is a secret, and --set writes plain text: an ephemeral stack reaches its cluster through the job's kube context (kubernetes.source ambient, the template's default)`);
    }
    if (!(CONFIG_KEYS as string[]).includes(head)) {
        throw new UsageError(`--set ${path}: ${JSON.stringify(head)} is not a section of the stack config (${CONFIG_KEYS.join(", ")})`);
    }
    return { path, key: `${PROJECT}:${head}`, segments, value: parseSetValue(path, text) };
}

function describe(value: unknown): string {
    return Array.isArray(value) ? "a list" : value === null ? "null" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Sets (or removes) `value` at `segments` below `root`, creating objects and lists on the way. Returns the new root. */
export function setAtPath(root: unknown, segments: Array<string | number>, value: unknown, path: string): unknown {
    if (segments.length === 0) return value;
    const [first, ...rest] = segments as [string | number, ...Array<string | number>];
    const where = path.slice(0, path.length - segments.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("").length);
    if (typeof first === "number") {
        const list = root === undefined ? [] : root;
        if (!Array.isArray(list)) throw new UsageError(`--set ${path}: ${where} is ${describe(root)}, not a list: it has no item [${first}]`);
        if (first > list.length) throw new UsageError(`--set ${path}: ${where} has ${list.length} item${list.length === 1 ? "" : "s"}, so [${first}] is past its end: use [${list.length}] to append`);
        const copy = [...(list as unknown[])];
        const next = setAtPath(copy[first], rest, value, path);
        if (next === REMOVE) copy.splice(first, 1);
        else copy[first] = next;
        return copy;
    }
    const obj = root === undefined ? {} : root;
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new UsageError(`--set ${path}: ${where} is ${describe(root)}, not an object: it has no field ${first}`);
    const copy: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
    const next = setAtPath(copy[first], rest, value, path);
    if (next === REMOVE) delete copy[first];
    else copy[first] = next;
    return copy;
}

export interface EphemeralConfig {
    /** Full config keys (`temporal-azure:pki`, `azure-native:location`) to plain values. */
    config: Record<string, unknown>;
    /** What was changed from the template besides the overrides (printed, so nothing is silent). */
    notes: string[];
}

/**
 * The template's config with the overrides applied in order and the profile forced to ephemeral.
 * A template with `secure:` values is refused: they are encrypted for the stack that wrote them and
 * cannot be carried to another stack.
 */
export function buildEphemeralConfig(template: StackFile, templateName: string, overrides: SetOverride[]): EphemeralConfig {
    if (template.secretKeys.length > 0) {
        throw new UsageError(
            `stacks/Pulumi.${templateName}.yaml has secure values (${template.secretKeys.join(", ")}), which are encrypted for the stack that wrote them and cannot be copied to an ephemeral stack: use a template without them (an ephemeral stack reaches its cluster through the job's kube context: kubernetes.source ambient)`,
        );
    }
    const config: Record<string, unknown> = structuredClone(template.config);
    const notes: string[] = [];
    const profileKey = `${PROJECT}:profile`;
    if (config[profileKey] !== undefined && config[profileKey] !== "ephemeral") notes.push(`profile is ephemeral (the template says ${String(config[profileKey])})`);
    config[profileKey] = "ephemeral";
    for (const o of overrides) {
        const next = setAtPath(config[o.key], o.segments, o.value, o.path);
        if (next === REMOVE) delete config[o.key];
        else config[o.key] = next;
    }
    return { config, notes };
}

/** Rules of the ephemeral lifecycle on top of the stack config's own. */
export function ephemeralIssues(raw: Record<string, unknown>): ConfigIssue[] {
    const azure = raw.azure as { resourceGroupName?: unknown } | undefined;
    if (azure?.resourceGroupName === undefined) return [];
    return [
        {
            path: "azure.resourceGroupName",
            message: "every ephemeral stack creates and deletes its own resource group (rg-temporal-<stack>), so a fixed name would be shared by all of them: remove it (--set azure.resourceGroupName=null)",
        },
    ];
}

/** The stack config check (exactly the program's keys) plus the ephemeral rules; throws `ConfigError` listing every problem. */
export function validateEphemeralConfig(config: Record<string, unknown>, stack: string): LoadedConfig {
    const file = { config, secretKeys: [] };
    const own = ephemeralIssues(projectConfig(file));
    let resolved: LoadedConfig;
    try {
        resolved = loadStackConfig(stackConfigSource(file), stack);
    } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError(stack, [...err.issues, ...own]);
        throw err;
    }
    if (own.length > 0) throw new ConfigError(stack, own);
    return resolved;
}

/** `Pulumi.<stack>.yaml` for the offline plan. */
export function stackFileYaml(config: Record<string, unknown>): string {
    return stringify({ config });
}

/**
 * Keys an existing stack has that the new config no longer sets: only the project's own plain
 * keys (the template owns them). Other namespaces' keys and secrets were set by someone on purpose
 * (`pulumi config set azure-native:subscriptionId ...`) and stay.
 */
export function staleConfigKeys(current: Record<string, { secret: boolean }>, next: Record<string, unknown>): string[] {
    return Object.entries(current)
        .filter(([key, v]) => key.startsWith(`${PROJECT}:`) && !v.secret && !(key in next))
        .map(([key]) => key)
        .sort();
}
