import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const REPO_ROOT = join(__dirname, "..", "..");

/** The structured `temporal-azure:` values of an example stack file, keyed without the prefix. */
export function exampleStackRaw(stack: string): Record<string, unknown> {
    const doc = parse(readFileSync(join(REPO_ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config)) {
        if (key.startsWith("temporal-azure:")) raw[key.slice("temporal-azure:".length)] = value;
    }
    return raw;
}
