import { z } from "zod";
import { PROJECT, StackConfig } from "./schema";
import { crossSectionIssues, type ConfigIssue } from "./validate";
import { applyProfileDefaults, type ResolvedConfig } from "./profiles";

export * from "./schema";
export type { ConfigIssue } from "./validate";
export { applyProfileDefaults, type ResolvedConfig } from "./profiles";

/** Thrown at preview, before any resource is registered, listing every problem at once. */
export class ConfigError extends Error {
    constructor(
        readonly stackName: string,
        readonly issues: ConfigIssue[],
    ) {
        super(
            `Invalid stack config for stack "${stackName}" (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${PROJECT}:${i.path}: ${i.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
    return error.issues.map((issue) => {
        const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
        let message = issue.message;
        if (issue.code === "unrecognized_keys") {
            message = `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}: remove or fix the spelling`;
        } else if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
            message = `is required`;
        }
        return { path: path || "(root)", message };
    });
}

/**
 * Validates raw stack config (the structured values under `temporal-azure:`) and applies the
 * profile's defaults. Pure: the Pulumi program, the offline plan and the tests all call this.
 */
export function parseStackConfig(raw: Record<string, unknown>, stack: string): ResolvedConfig {
    const parsed = StackConfig.safeParse(raw);
    if (!parsed.success) throw new ConfigError(stack, zodIssues(parsed.error));
    const issues = crossSectionIssues(parsed.data, stack);
    if (issues.length > 0) throw new ConfigError(stack, issues);
    return applyProfileDefaults(parsed.data, stack);
}

/** Reads every section from a Pulumi config object (`new pulumi.Config()`). */
export function readRawConfig(get: (key: string) => unknown): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const key of Object.keys(StackConfig.shape)) {
        const value = get(key);
        if (value !== undefined) raw[key] = value;
    }
    return raw;
}
