import { join } from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../live/errors";
import { AutomationBackend } from "./automation";
import type { EphemeralBackend } from "./backend";
import { DEFAULT_TTL } from "./expiry";
import { down, EXIT, list, reap, up, type LifecycleDeps } from "./lifecycle";
import { MAX_ID_LENGTH } from "./names";
import { REPO_ROOT, runOfflinePlan, runVerifyLive, type PlanRunner, type VerifyRunner } from "./runners";

export const USAGE = `Usage: npm run ephemeral -- <command> [options]

Ephemeral test stacks (e.g. one per pull request) with the Pulumi Automation API: the Pulumi CLI,
a backend login (pulumi login) and Azure credentials are needed for everything but the checks
that run before the stack is touched.

Commands:
  up    --name <id>             create or update the stack ephemeral-<id>
        [--from <template>]     stacks/Pulumi.<template>.yaml to start from (default: ephemeral)
        [--set <path>=<value>]  override a config value, repeatable: identity.uiHost=pr-42.example.com,
                                temporal.replicas=2, access.grants[1].permissions='["default:read"]';
                                true/false, numbers and JSON are typed, '"2026"' is a string, null removes
        [--ttl <duration>]      when the stack expires for reap (default ${DEFAULT_TTL}; 1h to 30d, e.g. 3d, 1d12h)
        [--verify worker:<name>]  then run verify-live against the stack as this worker
        [--verify-address <host:port>]  where verify-live dials the frontend (e.g. localhost:7233)
        [--secrets-provider <url>]  secrets provider of a new stack (default: the backend's)
  down  --name <id>             destroy and remove the stack (a missing stack is success)
  list                          the ephemeral stacks and when they expire
  reap  [--dry-run]             destroy and remove every expired ephemeral stack (the scheduled clean-up)

  --json                        print the result as JSON (progress and Pulumi's output go to stderr)
  --stacks-dir <dir>            where the templates are (default: stacks/)

<id>: lower-case letters, digits and hyphens, at most ${MAX_ID_LENGTH} characters (ephemeral-<id> is accepted too).
up validates the config and runs the offline plan before it touches any stack: nothing is created
when either fails.
Exit: 0 done, 1 failed (config, plan, update, destroy, or a verification mismatch), 2 usage,
3 the environment (no Pulumi CLI or login; verification without a verdict).
`;

const OPTIONS = {
    name: { type: "string" },
    from: { type: "string" },
    set: { type: "string", multiple: true },
    ttl: { type: "string" },
    verify: { type: "string" },
    "verify-address": { type: "string" },
    "secrets-provider": { type: "string" },
    "dry-run": { type: "boolean" },
    "stacks-dir": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
} as const;

type OptionName = keyof typeof OPTIONS;

const COMMAND_OPTIONS: Record<string, OptionName[]> = {
    up: ["name", "from", "set", "ttl", "verify", "verify-address", "secrets-provider", "stacks-dir"],
    down: ["name"],
    list: [],
    reap: ["dry-run"],
};

export interface EphemeralIo {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    /** Injection points for tests; the defaults run Pulumi, the offline plan and verify-live for real. */
    backend?: EphemeralBackend;
    runPlan?: PlanRunner;
    runVerify?: VerifyRunner;
    now?: () => Date;
}

function parse(argv: string[]) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const [command, ...rest] = parsed.positionals;
    if (parsed.values.help || command === "help") return { command: "help", values: parsed.values };
    if (command === undefined) throw new UsageError("a command is required: up, down, list or reap");
    const allowed = COMMAND_OPTIONS[command];
    if (allowed === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}: use up, down, list or reap`);
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}: options are --name, --set, ...`);
    for (const key of Object.keys(parsed.values) as OptionName[]) {
        if (key !== "json" && !allowed.includes(key)) throw new UsageError(`--${key} is not an option of ${command}`);
    }
    return { command, values: parsed.values };
}

/** The whole CLI; returns the exit code. */
export async function runEphemeral(argv: string[], io: EphemeralIo): Promise<number> {
    const json = argv.includes("--json");
    try {
        const { command, values } = parse(argv);
        if (command === "help") {
            io.stdout(USAGE);
            return EXIT.ok;
        }
        // With --json, stdout carries only the result.
        const human = json ? io.stderr : io.stdout;
        const deps: LifecycleDeps = {
            backend: io.backend ?? new AutomationBackend({ workDir: REPO_ROOT, ...(values["secrets-provider"] !== undefined ? { secretsProvider: values["secrets-provider"] } : {}) }),
            runPlan: io.runPlan ?? runOfflinePlan,
            runVerify: io.runVerify ?? runVerifyLive,
            now: io.now ?? (() => new Date()),
            log: (line) => human(`${line}\n`),
            engine: (text) => human(text),
            stacksDir: values["stacks-dir"] ?? join(REPO_ROOT, "stacks"),
            policyPack: join(REPO_ROOT, "policies", "pack"),
        };
        let report: { exitCode: number };
        if (command === "up") {
            report = await up(
                {
                    name: values.name,
                    from: values.from ?? "ephemeral",
                    sets: values.set ?? [],
                    ttl: values.ttl ?? DEFAULT_TTL,
                    ...(values.verify !== undefined ? { verify: values.verify } : {}),
                    ...(values["verify-address"] !== undefined ? { verifyAddress: values["verify-address"] } : {}),
                },
                deps,
            );
        } else if (command === "down") {
            report = await down({ name: values.name }, deps);
        } else if (command === "list") {
            report = await list(deps);
        } else {
            report = await reap({ dryRun: values["dry-run"] === true }, deps);
        }
        if (json) {
            const { exitCode, ...rest } = report;
            io.stdout(`${JSON.stringify({ ...rest, exitCode }, null, 2)}\n`);
        }
        return report.exitCode;
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.stderr(`ephemeral: ${err.message}\nRun with --help for the commands and options.\n`);
        if (json) io.stdout(`${JSON.stringify({ error: { stage: "usage", message: err.message }, exitCode: EXIT.usage })}\n`);
        return EXIT.usage;
    }
}
