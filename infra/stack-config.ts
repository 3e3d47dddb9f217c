import { checkConfig, loadConfig, parseConfig, structureRules, type ConfigIssue, type ConfigRule, type LoadedConfig, type ResolvedConfig, type StackConfigSource } from "./config";
import { pkiRules } from "./pki/rules";
import { identityRules } from "./identity/rules";
import { temporalRules } from "./temporal/rules";
import { databaseRules } from "./database/rules";
import { clusterRules, kubeconfigIssues } from "./cluster/rules";

/**
 * The stack's config as the program uses it: the ground floor's schema and reading (infra/config)
 * with every component's rules, assembled here, above the components, where they are all known.
 * The program, the offline plan and the ephemeral CLI all validate through this module.
 */

/** Every cross-section rule, in order: the config's own structure first, then each component's. */
export const STACK_RULES: readonly ConfigRule[] = [structureRules, ...pkiRules, ...identityRules, ...databaseRules, ...temporalRules, ...clusterRules];

/**
 * Validates a stack's whole config as the program reads it (exactly its keys), and applies the
 * profile's defaults. Throws `ConfigError` with every error at once; warnings are returned.
 */
export function loadStackConfig(source: StackConfigSource, stack: string): LoadedConfig {
    return loadConfig(source, stack, STACK_RULES, (cfg, read) => kubeconfigIssues(cfg.kubernetes.source, read.kubeconfigSet));
}

/** The sections (keys without the `temporal-azure:` prefix) → resolved config; throws `ConfigError` listing every error. */
export function parseStackConfig(raw: Record<string, unknown>, stack: string): ResolvedConfig {
    return parseConfig(raw, stack, STACK_RULES);
}

/** Every issue of the sections, errors and warnings (what the tests of single rules read). */
export function stackConfigIssues(raw: Record<string, unknown>, stack: string): ConfigIssue[] {
    return checkConfig(raw, stack, STACK_RULES).issues;
}
