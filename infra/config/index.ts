import { StackConfig } from "./schema";
import { ConfigError, isWarning, type ConfigIssue, type ConfigRule } from "./issues";
import { applyProfileDefaults, type ResolvedConfig } from "./profiles";
import { readProjectConfig, type StackConfigSource } from "./read";
import { configErrorMap, zodIssues } from "./messages";

/**
 * The ground floor: the stack config's schema, how it is read and parsed, and the issue type. The
 * rules that need a component's knowledge live in the components; `infra/stack-config.ts` (above
 * them) hands every rule to the functions here.
 */

export * from "./schema";
export * from "./issues";
export { structureRules } from "./structure";
export { readProjectConfig, SECRET_CONFIG_KEYS, type ProjectConfig, type StackConfigSource } from "./read";
export { applyProfileDefaults, PROFILE_DEFAULTS, type ResolvedConfig } from "./profiles";

export interface ConfigCheck {
    /** The schema-valid config, when the schema passed (the rules ran on it). */
    parsed?: StackConfig;
    /** Errors and warnings, in order: schema first, then each rule's. */
    issues: ConfigIssue[];
}

/** The schema, then (when it passes) every rule. Pure: no Pulumi, no I/O. */
export function checkConfig(raw: Record<string, unknown>, stack: string, rules: readonly ConfigRule[]): ConfigCheck {
    const parsed = StackConfig.safeParse(raw, { error: configErrorMap });
    if (!parsed.success) return { issues: zodIssues(parsed.error) };
    return { parsed: parsed.data, issues: rules.flatMap((rule) => rule(parsed.data, stack)) };
}

export interface LoadedConfig {
    config: ResolvedConfig;
    /** Issues that let the stack go on; shown by the plan and `pulumi preview`. */
    warnings: ConfigIssue[];
    /** Whether `temporal-azure:kubeconfig` is set. */
    kubeconfigSet: boolean;
}

/**
 * Reads exactly the keys the program reads, checks them with the schema and `rules`, and resolves
 * the profile's defaults. Throws `ConfigError` with every error at once; `keyRules` see whether the
 * secret kubeconfig is set, which the stack's other values cannot tell.
 */
export function loadConfig(
    source: StackConfigSource,
    stack: string,
    rules: readonly ConfigRule[],
    keyRules: (cfg: StackConfig, read: { kubeconfigSet: boolean }) => ConfigIssue[] = () => [],
): LoadedConfig {
    const read = readProjectConfig(source);
    const check = checkConfig(read.sections, stack, rules);
    const issues = [...read.issues, ...check.issues, ...(check.parsed !== undefined ? keyRules(check.parsed, read) : [])];
    return { ...resolve(check.parsed, issues, stack), kubeconfigSet: read.kubeconfigSet };
}

/** Sections (keys without the `temporal-azure:` prefix) → resolved config; throws `ConfigError` listing every error. */
export function parseConfig(raw: Record<string, unknown>, stack: string, rules: readonly ConfigRule[]): ResolvedConfig {
    const check = checkConfig(raw, stack, rules);
    return resolve(check.parsed, check.issues, stack).config;
}

function resolve(parsed: StackConfig | undefined, issues: ConfigIssue[], stack: string): { config: ResolvedConfig; warnings: ConfigIssue[] } {
    const errors = issues.filter((i) => !isWarning(i));
    if (errors.length > 0 || parsed === undefined) throw new ConfigError(stack, errors);
    return { config: applyProfileDefaults(parsed, stack), warnings: issues.filter(isWarning) };
}
