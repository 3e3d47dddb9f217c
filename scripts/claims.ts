import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { JSONWebKeySet } from "jose";
import {
    admit,
    authorizationFor,
    ClaimsError,
    createClaimMapper,
    explain,
    formatExplain,
    compilePermissionsPattern,
    GoRegexpError,
    isAccessMapError,
    parsePermissions,
    resolveApiName,
    roleNames,
    SYSTEM_SCOPE,
    type ClaimMapperOptions,
    type ExplainOptions,
} from "../policies/claims";
import { StackConfig } from "../infra/config/schema";
import type { AccessConfig } from "../infra/config/identity";
import { accessPermissionIssues, permissionValueProblems } from "../infra/identity/rules";

/**
 * `npm run claims -- <command>`: what Temporal's default claim mapper and authorizer will do.
 * Tokens come on standard input; output never contains the token.
 */

/** Exit codes, as `verify:live` has them: each outcome its own. */
export const EXIT = {
    /** Valid token / call allowed / every permission means what it says. */
    ok: 0,
    /** A real verdict against: token rejected, call denied, a permission that does not do what it seems. */
    denied: 1,
    /** The command line is wrong (unknown or ambiguous method, missing stack file, bad option). */
    usage: 2,
    /** No verdict possible: the keys could not be fetched (network, JWKS URL, size). */
    noVerdict: 3,
} as const;

/** The most this CLI reads from standard input: its own limit (a token is a few KiB; the server has no limit of its own). */
export const MAX_STDIN_BYTES = 1024 * 1024;

const USAGE = `usage:
  npm run claims -- explain [options] < token.txt                     what the server thinks of this token, and why
  npm run claims -- can <api> <namespace> [options] < token.txt       allow or deny one call, with the reason
  npm run claims -- check <permission...> [--stack S] [--regex RE]    how the server parses app-role values
  npm run claims -- check --stack S                                   every permission of a stack's access map, as the plan checks it

The token (a JWT, or a whole "Bearer <jwt>" header value) is read from standard input ("-" in its
place says so too). A token given as an argument still works but is visible in the process list and
echoed by npm: the CLI warns.
<api> is a gRPC method path or an unambiguous short name (StartWorkflowExecution, OperatorService/ListClusters).

options:
  --jwks-uri URL        JWKS URL the server uses (repeatable; jwtKeyProvider.keySourceURIs)
  --jwks FILE           a local JWK set (JSON) instead
  --tenant ID           Entra ID tenant id (implies --profile entra; default keys: the API's own, ?appid=<audience>)
  --audience AUD        the server's authorization.audience
  --claim NAME          the server's permissionsClaimName (default "permissions"; Entra app roles: "roles")
  --regex RE            the server's permissionsRegex (Go syntax)
  --profile P           "temporal" (exactly the server, default) or "entra" (plus Entra ID's rules)
  --accept-v1           profile entra: also accept v1 tokens
  --namespace A,B       explain: namespaces to report access on (default: those in the token)
  --stack S             check: the stack (stacks/Pulumi.<S>.yaml, or a path to a stack file) whose access map declares the namespaces
  --timeout MS          JWKS fetch timeout (default 5000)
  --json                machine-readable output

exit: 0 valid/allowed/ok, 1 invalid/denied/a permission with problems, 2 usage error, 3 no verdict (keys could not be fetched)`;

export interface Io {
    out(text: string): void;
    err(text: string): void;
    readStdin(): Promise<string>;
}

class UsageError extends Error {}

const OPTIONS = {
    "jwks-uri": { type: "string", multiple: true },
    jwks: { type: "string" },
    tenant: { type: "string" },
    audience: { type: "string" },
    claim: { type: "string" },
    regex: { type: "string" },
    profile: { type: "string" },
    "accept-v1": { type: "boolean" },
    namespace: { type: "string", multiple: true },
    stack: { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** Three base64url segments starting like a JSON header: a token where something else was expected. */
const looksLikeJwt = (s: string): boolean => /^(bearer\s+)?eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/i.test(s.trim());

const NO_VERDICT_CODES: ReadonlySet<string> = new Set(["keys-unavailable", "jwks-too-large"]);

function mapperOptions(v: Values): ClaimMapperOptions {
    const profile = v.profile ?? (v.tenant ? "entra" : "temporal");
    if (profile !== "temporal" && profile !== "entra") throw new UsageError(`--profile must be "temporal" or "entra"`);
    let jwks: JSONWebKeySet | undefined;
    if (v.jwks !== undefined) {
        let doc: unknown;
        try {
            doc = JSON.parse(readFileSync(v.jwks, "utf8"));
        } catch (e) {
            throw new UsageError(`--jwks ${v.jwks}: cannot read a JSON file (${(e as Error).message.split("\n")[0]})`);
        }
        jwks = (doc && typeof doc === "object" && "kty" in doc ? { keys: [doc] } : doc) as JSONWebKeySet;
    }
    const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout);
    if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageError("--timeout must be a positive number of milliseconds");
    if (jwks === undefined && !v["jwks-uri"]?.length && profile === "temporal") {
        throw new UsageError("give the keys the server uses: --jwks-uri <url> (or --jwks <file>), or --tenant <id> for Entra ID");
    }
    return {
        profile,
        ...(jwks ? { jwks } : {}),
        ...(v["jwks-uri"]?.length ? { jwksUri: v["jwks-uri"] } : {}),
        ...(v.tenant !== undefined ? { tenantId: v.tenant } : {}),
        ...(v.audience !== undefined ? { audience: v.audience } : {}),
        ...(v.claim !== undefined ? { permissionsClaimName: v.claim } : {}),
        ...(v.regex !== undefined ? { permissionsRegex: v.regex } : {}),
        ...(v["accept-v1"] ? { acceptV1: true } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
    };
}

/** The token: from standard input (absent or "-"), or, with a warning, from the argument. */
async function readToken(arg: string | undefined, io: Io): Promise<string> {
    let token: string;
    if (arg === undefined || arg === "-") {
        const input = await io.readStdin();
        if (Buffer.byteLength(input) > MAX_STDIN_BYTES) {
            throw new UsageError(`standard input is over ${MAX_STDIN_BYTES} bytes, this CLI's own limit on what it reads (the server has none): pipe the token alone`);
        }
        token = input.trim();
        if (token === "") throw new UsageError("no token on standard input: pipe it in, e.g. npm run claims -- explain --jwks-uri <url> < token.txt");
    } else {
        io.err("warning: the token was given as an argument, so it is visible in the process list and npm printed it above; pipe it on standard input instead (< token.txt)");
        token = arg;
    }
    return token;
}

function mapperOrUsage(v: Values): ReturnType<typeof createClaimMapper> {
    try {
        return createClaimMapper(mapperOptions(v));
    } catch (e) {
        if (e instanceof ClaimsError) throw new UsageError(e.message);
        throw e;
    }
}

async function cmdExplain(positionals: string[], v: Values, io: Io): Promise<number> {
    if (positionals.length > 1) throw new UsageError("explain takes at most one token (better: none, and the token on standard input)");
    const namespaces = v.namespace?.flatMap((n) => n.split(",")).filter((n) => n !== "");
    const options: ExplainOptions = { ...mapperOptions(v), ...(namespaces?.length ? { namespaces } : {}) };
    const token = await readToken(positionals[0], io);
    const report = await explain(token, options);
    if (report.error?.code === "invalid-options") throw new UsageError(report.error.message);
    io.out(v.json ? JSON.stringify(report, null, 2) : formatExplain(report));
    if (report.verified) return EXIT.ok;
    return report.error && NO_VERDICT_CODES.has(report.error.code) ? EXIT.noVerdict : EXIT.denied;
}

async function cmdCan(positionals: string[], v: Values, io: Io): Promise<number> {
    // can <api> <namespace> (token on stdin), or can <token|-> <api> <namespace>.
    if (positionals.length !== 2 && positionals.length !== 3) throw new UsageError("can takes <api> <namespace> (the token on standard input)");
    const [tokenArg, api, namespace] = (positionals.length === 2 ? [undefined, ...positionals] : positionals) as [string | undefined, string, string];
    if (looksLikeJwt(api) || looksLikeJwt(namespace)) throw new UsageError("the token goes on standard input (or first): can <api> <namespace> < token.txt");
    const resolved = resolveApiName(api);
    if ("error" in resolved) throw new UsageError(resolved.error);
    const mapper = mapperOrUsage(v);
    const token = await readToken(tokenArg, io);
    const admission = await admit(mapper, authorizationFor(token), { apiName: resolved.api, namespace });
    const error = admission.error ? { code: admission.error.code, message: admission.error.message } : undefined;
    if (v.json) {
        const { authorization: result, rejectedOnUnaryCalls, ...rest } = admission;
        io.out(JSON.stringify({ ...rest, error, ...(result ? { required: result.required, has: result.has, scope: result.scope } : {}), ...(rejectedOnUnaryCalls ? { rejectedOnUnaryCalls: rejectedOnUnaryCalls.code } : {}) }, null, 2));
    } else {
        io.out(admission.reason);
    }
    if (admission.error && NO_VERDICT_CODES.has(admission.error.code)) return EXIT.noVerdict;
    return admission.decision === "allow" ? EXIT.ok : EXIT.denied;
}

/** The access map of a stack file, as the plan reads it. A missing file is a usage error. */
async function stackAccessMap(stack: string): Promise<{ name: string; access: AccessConfig }> {
    const { readStackFile, projectConfig } = await import("./lib/plan/run");
    const isPath = stack.endsWith(".yaml") || stack.includes("/");
    const name = isPath ? basename(stack).replace(/^Pulumi\./, "").replace(/\.yaml$/, "") : stack;
    let file;
    try {
        file = isPath ? readStackFile(name, dirname(resolve(stack))) : readStackFile(name);
    } catch (e) {
        throw new UsageError(`--stack ${stack}: ${(e as Error).message}`);
    }
    const access = StackConfig.shape.access.safeParse(projectConfig(file).access);
    if (!access.success) {
        const first = access.error.issues[0];
        throw new UsageError(`--stack ${stack}: temporal-azure:access is not a valid access map (${first ? `${first.path.join(".")}: ${first.message}` : "invalid"}): npm start -- --stack ${name} lists every problem`);
    }
    return { name, access: access.data };
}

async function cmdCheck(positionals: string[], v: Values, io: Io): Promise<number> {
    if (positionals.length === 0 && v.stack === undefined) throw new UsageError("check takes one or more permission values (e.g. check payments:write temporal-system:read), or --stack <stack>");
    if (positionals.some(looksLikeJwt)) throw new UsageError("that looks like a token, not a permission value: use explain, with the token on standard input");
    const opts = v.regex !== undefined ? { permissionsRegex: v.regex } : {};
    try {
        compilePermissionsPattern(v.regex);
    } catch (e) {
        if (e instanceof GoRegexpError) throw new UsageError(e.message);
        throw e;
    }
    const stack = v.stack !== undefined ? await stackAccessMap(v.stack) : undefined;
    const values = positionals.length > 0 ? positionals : (stack?.access.grants.flatMap((g) => g.permissions) ?? []);
    // The problems: of the stack's whole access map exactly as the plan reports them, or of the
    // given values by the same rules (against the stack's namespaces, when one is given).
    let problems: string[];
    if (stack && positionals.length === 0) {
        problems = accessPermissionIssues(stack.access).map((i) => `temporal-azure:${i.path}: ${i.message}`);
    } else {
        const declared = stack?.access.namespaces.map((n) => n.name);
        problems = values.flatMap((value) => permissionValueProblems(value, { ...(declared ? { declared } : {}), ...opts }));
        problems.push(...parsePermissions(values, opts).findings.filter((f) => f.index === undefined && isAccessMapError(f)).map((f) => f.message));
    }
    const parsed = parsePermissions(values, opts);
    const notes = parsed.findings.filter((f) => !isAccessMapError(f));
    if (v.json) {
        io.out(JSON.stringify({ system: parsed.system, namespaces: parsed.namespaces, findings: parsed.findings, problems, ok: problems.length === 0 }, null, 2));
        return problems.length === 0 ? EXIT.ok : EXIT.denied;
    }
    const lines: string[] = [];
    for (const value of values) {
        const one = parsePermissions([value], opts);
        const ns = Object.entries(one.namespaces);
        const filed = one.system ? `cluster (${SYSTEM_SCOPE}): ${roleNames(one.system)} (${one.system})` : ns.length ? ns.map(([n, b]) => `namespace ${JSON.stringify(n)}: ${roleNames(b)}${b ? ` (${b})` : ""}`).join(", ") : "skipped";
        lines.push(`${JSON.stringify(value)} -> ${filed}`);
    }
    lines.push("together:");
    lines.push(`  cluster (${SYSTEM_SCOPE}): ${roleNames(parsed.system)}${parsed.system ? ` (${parsed.system})` : ""}`);
    for (const [n, b] of Object.entries(parsed.namespaces)) lines.push(`  namespace ${JSON.stringify(n)}: ${roleNames(b)}${b ? ` (${b})` : ""}`);
    if (problems.length) {
        lines.push(stack ? `problems (the plan of stack ${stack.name} reports the same):` : "problems (the plan reports the same in an access map):");
        for (const p of problems) lines.push(`  - ${p}`);
    }
    if (notes.length) {
        lines.push("notes:");
        for (const f of notes) lines.push(`  - ${f.message}`);
    }
    lines.push(problems.length === 0 ? "OK: every value means what it says" : `${problems.length} problem(s): these values do not do what they seem to`);
    io.out(lines.join("\n"));
    return problems.length === 0 ? EXIT.ok : EXIT.denied;
}

/** Replaces the token (and any long piece of it) wherever it might appear. */
function redactor(secrets: string[]): (text: string) => string {
    const pieces = secrets.flatMap((s) => [s, ...s.split(/[.\s]/)]).filter((p) => p.length >= 16);
    pieces.sort((a, b) => b.length - a.length);
    return (text) => pieces.reduce((t, p) => t.split(p).join("<token>"), text);
}

export async function main(argv: string[], io: Io): Promise<number> {
    const [command, ...rest] = argv;
    let stdinToken = "";
    const tokenArgs: string[] = rest.filter(looksLikeJwt);
    const secrets = (): string[] => [stdinToken.trim(), ...tokenArgs].filter((s) => s !== "");
    const out = (text: string): void => io.out(redactor(secrets())(text));
    const err = (text: string): void => io.err(redactor(secrets())(text));
    const safeIo: Io = { out, err, readStdin: async () => (stdinToken = await io.readStdin()) };
    try {
        if (command === undefined || command === "help" || command === "--help" || command === "-h") {
            out(USAGE);
            return command === undefined ? EXIT.usage : EXIT.ok;
        }
        let parsed;
        try {
            parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
        } catch (e) {
            throw new UsageError((e as Error).message);
        }
        const { values, positionals } = parsed;
        // Whatever stands where a token goes is treated as secret, JWT-shaped or not.
        const tokenAt = command === "explain" && positionals.length === 1 ? 0 : command === "can" && positionals.length === 3 ? 0 : -1;
        if (tokenAt >= 0 && positionals[tokenAt] !== "-") tokenArgs.push(positionals[tokenAt] as string);
        if (values.help) {
            out(USAGE);
            return EXIT.ok;
        }
        switch (command) {
            case "explain":
                return await cmdExplain(positionals, values, safeIo);
            case "can":
                return await cmdCan(positionals, values, safeIo);
            case "check":
                return await cmdCheck(positionals, values, safeIo);
            default:
                throw new UsageError(`unknown command ${/^[a-z-]{1,20}$/.test(command) ? JSON.stringify(command) : "(not a command name)"}: use explain, can or check`);
        }
    } catch (e) {
        if (e instanceof UsageError) {
            err(`error: ${e.message}\n\n${USAGE}`);
            return EXIT.usage;
        }
        if (e instanceof ClaimsError) {
            err(`error (${e.code}): ${e.message}`);
            return e.code === "invalid-options" ? EXIT.usage : NO_VERDICT_CODES.has(e.code) ? EXIT.noVerdict : EXIT.denied;
        }
        err(`error: ${(e as Error).message}`);
        return EXIT.usage;
    }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        size += b.length;
        chunks.push(b);
        // Stop reading past the limit; readToken reports it.
        if (size > MAX_STDIN_BYTES) break;
    }
    return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) {
    main(process.argv.slice(2), {
        out: (t) => process.stdout.write(`${t}\n`),
        err: (t) => process.stderr.write(`${t}\n`),
        readStdin: () => readAll(process.stdin),
    }).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exitCode = EXIT.usage;
        },
    );
}
