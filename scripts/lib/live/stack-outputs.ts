import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { SetupError } from "./errors";

/**
 * The outputs a deployed stack exports for clients (the names are fixed by the program in
 * `infra/index.ts`). `verify-live` reads them through the Automation API, as users run it, or from
 * a file written by `pulumi stack output --json`.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A required string whose absence reads as "is missing" rather than zod's type jargon. */
const text = () =>
    z.string({ error: (issue) => (issue.input === undefined ? "is missing" : `must be a string (got ${typeof issue.input})`) }).min(1, "is empty");
const guid = () => text().regex(GUID, "must be a GUID like 00000000-0000-0000-0000-000000000000");
const url = () => text().regex(/^https?:\/\/[^\s/]+/, "must be an http(s) URL");

/** The connection profile a worker is given (the env its Deployment gets). */
export const WorkerEnv = z.object({
    TEMPORAL_ADDRESS: text(),
    TEMPORAL_NAMESPACE: text(),
    TEMPORAL_TLS_CLIENT_CERT_PATH: text(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: text(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: text(),
    TEMPORAL_TLS_SERVER_NAME: text(),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

export const WorkerOutput = z.object({
    env: z.object(WorkerEnv.shape, { error: (issue) => (issue.input === undefined ? "is missing" : "must be an object") }),
    /** Scope the worker asks Entra ID for: `api://<api-client-id>/.default`. */
    tokenScope: text(),
    /** Client id of the worker's identity (app registration or user-assigned managed identity). */
    clientId: guid(),
});
export type WorkerOutput = z.infer<typeof WorkerOutput>;

const Workers = z.union(
    [
        z.record(z.string(), WorkerOutput),
        // Tolerated: a list of workers each carrying its name.
        z.array(WorkerOutput.extend({ name: text() })).transform((list) => Object.fromEntries(list.map(({ name, ...w }) => [name, w]))),
    ],
    { error: (issue) => (issue.input === undefined ? "is missing" : undefined) },
);

export const StackOutputs = z.object({
    /** In-cluster gRPC address of the frontend (`host:port`). */
    frontendAddress: text(),
    /** Name clients verify the frontend certificate against. */
    frontendServerName: text(),
    /** The frontend for clients outside the cluster (TLS passthrough), when the stack exposes one. */
    externalFrontendAddress: text().optional(),
    tenantId: guid(),
    /** Client id of the Temporal API app registration: the audience of its tokens. */
    apiClientId: guid(),
    /** Delegated scope users request: `api://<api-client-id>/default`. */
    apiScope: text(),
    /** The tenant's signing keys (the server's JWT key source). */
    jwksUrl: url(),
    keyVaultUri: url(),
    workers: Workers,
});
export type StackOutputs = z.infer<typeof StackOutputs>;

function issuePath(issuePathParts: PropertyKey[]): string {
    return issuePathParts.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(root)";
}

/**
 * Validates outputs (plain values, as `pulumi stack output --json` prints them). `source` says where
 * they came from in the message: every problem is listed with the output's path.
 */
export function parseStackOutputs(raw: unknown, source: string): StackOutputs {
    const parsed = StackOutputs.safeParse(raw);
    if (parsed.success) return parsed.data;
    const lines = parsed.error.issues.map((issue) => {
        // A union failure reports per branch; the record branch speaks for a worker map.
        const message = issue.code === "invalid_union" && issue.errors[0]?.[0] ? `${issuePath([...issue.path, ...issue.errors[0][0].path])} ${issue.errors[0][0].message}` : `${issuePath(issue.path)} ${issue.message}`;
        return `  - ${message}`;
    });
    throw new SetupError(
        `The stack outputs from ${source} are not what verify-live needs (${lines.length} problem${lines.length === 1 ? "" : "s"}):\n${lines.join("\n")}\n` +
            "They are exported by the program in infra/index.ts: run `pulumi up` with the current program, or fix the file.",
        "outputs",
    );
}

/** Reads `--outputs <file>`: the JSON `pulumi stack output --json` prints. */
export function readOutputsFile(file: string): StackOutputs {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new SetupError(`--outputs ${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, "outputs");
    }
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (err) {
        throw new SetupError(`--outputs ${file}: not JSON (${(err as Error).message}); write it with \`pulumi stack output --json > ${path.basename(file)}\``, "outputs");
    }
    return parseStackOutputs(raw, file);
}

/** The slice of an Automation API stack this module uses (injectable for tests). */
export interface OutputsStack {
    outputs(): Promise<Record<string, { value: unknown; secret: boolean }>>;
}
export type SelectStack = (args: { stackName: string; workDir: string }) => Promise<OutputsStack>;

/** Selects a stack of the program in `workDir` through a `LocalWorkspace`: needs the Pulumi CLI and a backend login. */
export const selectLocalStack: SelectStack = async (args) => {
    // Loaded on demand: `--outputs` runs must not pay for (or depend on) the Automation API.
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    return LocalWorkspace.selectStack(args);
};

/**
 * The useful line of an Automation API failure. Its CommandError's message starts with "code: -2";
 * the CLI's own words are in `commandResult.stderr` (e.g. "error: no stack named 'dev' found").
 */
export function automationFailure(err: unknown): string {
    const stderr = (err as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "";
    if (/ENOENT/.test(stderr) && /pulumi/.test(stderr)) return "the Pulumi CLI is not installed or not on PATH";
    const lines = (stderr || (err instanceof Error ? err.message : String(err))).split("\n").map((l) => l.trim()).filter((l) => l !== "");
    return lines.find((l) => /^error:/i.test(l)) ?? lines[0] ?? String(err);
}

/** Project root: the directory holding Pulumi.yaml, three levels above this file. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..");

export async function readStackOutputs(stackName: string, workDir: string = PROJECT_DIR, select: SelectStack = selectLocalStack): Promise<StackOutputs> {
    let stack: OutputsStack;
    let map: Record<string, { value: unknown; secret: boolean }>;
    try {
        stack = await select({ stackName, workDir });
        map = await stack.outputs();
    } catch (err) {
        const reason = automationFailure(err);
        throw new SetupError(
            `--stack ${stackName}: cannot read the stack's outputs through the Pulumi Automation API (${reason}). ` +
                "It needs the Pulumi CLI on PATH, a login to the stack's backend and the program in " +
                `${workDir}; or pass --outputs <file> written by \`pulumi stack output --stack ${stackName} --json\`.`,
            "outputs",
        );
    }
    const plain: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(map)) plain[key] = output.value;
    return parseStackOutputs(plain, `stack "${stackName}"`);
}
