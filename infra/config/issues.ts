import { PROJECT } from "./shared";
import type { StackConfig } from "./schema";

/** How much a config issue weighs: an error stops the stack at preview, a warning is shown and lets it go on. */
export type Severity = "error" | "warning";

export interface ConfigIssue {
    /** Dotted path below `temporal-azure:`, e.g. `pki.leafValidityDays` or `access.grants[2].permissions[0]`. */
    path: string;
    /** What is wrong and how to fix it. */
    message: string;
    /** Absent means error. Warnings are printed by the offline plan and by `pulumi preview` (as Pulumi warnings). */
    severity?: Severity;
}

/** A rule over the whole (schema-valid) stack config. The components define theirs; `infra/stack-config.ts` runs them all. */
export type ConfigRule = (cfg: StackConfig, stack: string) => ConfigIssue[];

export const isWarning = (issue: ConfigIssue): boolean => issue.severity === "warning";

/** One line per issue, as every tool prints it: `temporal-azure:<path>: <message>`. */
export function formatIssue(issue: ConfigIssue): string {
    return `${PROJECT}:${issue.path}: ${issue.message}`;
}

/** Thrown at preview, before any resource is registered, listing every error at once. */
export class ConfigError extends Error {
    constructor(
        readonly stackName: string,
        readonly issues: ConfigIssue[],
    ) {
        super(
            `Invalid stack config for stack "${stackName}" (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${formatIssue(i)}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}
