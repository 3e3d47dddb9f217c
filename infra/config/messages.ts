import type { z } from "zod";
import type { ConfigIssue } from "./issues";

/** zod's issues as config issues: the dotted path below `temporal-azure:` and a message that names the fix. */
export function zodIssues(error: z.ZodError, _raw: Record<string, unknown>): ConfigIssue[] {
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
