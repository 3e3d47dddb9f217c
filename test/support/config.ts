import { join } from "node:path";
import { projectConfig, readStackFile } from "../../scripts/lib/plan/run";

export const REPO_ROOT = join(__dirname, "..", "..");

/** The structured `temporal-azure:` values of an example stack file, keyed without the prefix. */
export function exampleStackRaw(stack: string): Record<string, unknown> {
    return projectConfig(readStackFile(stack));
}
