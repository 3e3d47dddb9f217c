import type { z } from "zod";
import type { ConfigIssue } from "./issues";

/**
 * What a user reads when the schema refuses a value. Fields with a message of their own (given in
 * the schema) keep it; every other refusal goes through `configErrorMap`, which says what was given
 * and what is wanted in words a stack file's author uses (text, a list, a section), never zod's
 * defaults ("Too small", "Invalid input: expected object, received string").
 */

/** A value as the author wrote it: `the text "yes"`, `the number 5`, `a list`. */
export function describeValue(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    switch (typeof value) {
        case "string":
            return `the text ${JSON.stringify(value)}`;
        case "number":
            return `the number ${value}`;
        case "boolean":
            return `the value ${value}`;
        case "object":
            return "a section (key: value pairs)";
        default:
            return typeof value;
    }
}

const WANTED: Record<string, string> = {
    string: "text",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list (YAML items starting with -)",
    object: "a section (key: value pairs)",
};

/** A number or text YAML would read otherwise: `"yes"` for a boolean, `"12"` for a number. */
function quotingHint(expected: string, input: unknown): string {
    if (typeof input !== "string") return "";
    if (expected === "boolean" && /^(true|false)$/i.test(input)) return `: write ${input.toLowerCase()} without quotes`;
    if ((expected === "number" || expected === "int") && input.trim() !== "" && Number.isFinite(Number(input))) return `: write ${input} without quotes`;
    return "";
}

function bound(iss: { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }, which: "min" | "max"): number {
    const n = Number(which === "min" ? iss.minimum : iss.maximum);
    // Every number of this config is whole: an exclusive bound is the next whole number.
    if (iss.inclusive === false) return which === "min" ? n + 1 : n - 1;
    return n;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The per-parse error map of the stack config (fields with their own message keep it). */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
    switch (iss.code) {
        case "invalid_type": {
            if (iss.input === undefined) return "is required";
            const wanted = WANTED[iss.expected] ?? iss.expected;
            if (iss.expected === "int" && typeof iss.input === "number") return `must be a whole number, got ${iss.input}`;
            return `must be ${wanted}, got ${describeValue(iss.input)}${quotingHint(iss.expected, iss.input)}`;
        }
        case "too_small": {
            const min = bound(iss, "min");
            if (iss.origin === "string") return min <= 1 ? "must not be empty" : `must be at least ${plural(min, "character")}`;
            if (iss.origin === "array") return `must list at least ${plural(min, "item")}`;
            return `must be at least ${min}, got ${String(iss.input)}`;
        }
        case "too_big": {
            const max = bound(iss, "max");
            if (iss.origin === "string") return `is ${plural(String(iss.input).length, "character")}; at most ${max}`;
            if (iss.origin === "array") return `lists ${plural((iss.input as unknown[]).length, "item")}; at most ${max}`;
            return `must be at most ${max}, got ${String(iss.input)}`;
        }
        case "invalid_value": {
            const choices = iss.values.map(String);
            const given = iss.input;
            const sameButCase = typeof given === "string" ? choices.find((c) => c.toLowerCase() === given.toLowerCase()) : undefined;
            const base = `must be one of ${choices.join(", ")}, got ${JSON.stringify(given)}`;
            return sameButCase !== undefined ? `${base}: write ${sameButCase} (the case matters)` : base;
        }
        case "invalid_format":
            return `${describeValue(iss.input)} is not ${iss.format === "regex" ? "in the expected form" : `a valid ${iss.format}`}`;
        default:
            return undefined;
    }
};

/** zod's issues as config issues: the dotted path below `temporal-azure:` and the message. */
export function zodIssues(error: z.ZodError): ConfigIssue[] {
    return error.issues.map((issue) => {
        const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
        const message = issue.code === "unrecognized_keys" ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}: remove or fix the spelling` : issue.message;
        return { path: path || "(root)", message };
    });
}
