import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { JSONWebKeySet } from "jose";
import {
    authorize,
    authorizationFor,
    ClaimsError,
    createClaimMapper,
    explain,
    formatExplain,
    GoRegexpError,
    parsePermissions,
    roleNames,
    SYSTEM_SCOPE,
    type ClaimMapperOptions,
    type ExplainOptions,
} from "../policies/claims";

/**
 * `npm run claims -- <command>`: what Temporal's default claim mapper and authorizer will do.
 * Exit codes: 0 valid / allowed, 1 invalid / denied, 2 usage error. Output never contains the token.
 */

const USAGE = `usage:
  npm run claims -- explain <token|-> [options]          what the server thinks of this token, and why
  npm run claims -- can <token|-> <api> <namespace> [options]   allow or deny one call, with the reason
  npm run claims -- check <permission...> [--regex RE]   how the server parses app-role values

<token> is a JWT or a whole "Bearer <jwt>" header value; "-" reads it from stdin.
<api> is a gRPC method path or an unambiguous short name (StartWorkflowExecution).

options:
  --jwks-uri URL        JWKS URL the server uses (repeatable; jwtKeyProvider.keySourceURIs)
  --jwks FILE           a local JWK set (JSON) instead
  --tenant ID           Entra ID tenant id (implies --profile entra; default keys: the tenant's JWKS)
  --audience AUD        the server's authorization.audience
  --claim NAME          the server's permissionsClaimName (default "permissions"; Entra app roles: "roles")
  --regex RE            the server's permissionsRegex (Go syntax)
  --profile P           "temporal" (exactly the server, default) or "entra" (plus Entra ID's rules)
  --accept-v1           profile entra: also accept v1 tokens
  --namespace A,B       explain: namespaces to report access on (default: those in the token)
  --timeout MS          JWKS fetch timeout (default 5000)
  --json                machine-readable output

exit: 0 valid/allowed, 1 invalid/denied, 2 usage error`;

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
    timeout: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** Three base64url segments starting like a JSON header: a token where something else was expected. */
const looksLikeJwt = (s: string): boolean => /^(bearer\s+)?eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/i.test(s.trim());

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

async function readToken(arg: string | undefined, io: Io): Promise<string> {
    if (arg === undefined) throw new UsageError("missing <token> (a JWT, or - to read it from stdin)");
    const token = arg === "-" ? (await io.readStdin()).trim() : arg;
    if (token === "") throw new UsageError("the token is empty");
    return token;
}

async function cmdExplain(positionals: string[], v: Values, io: Io): Promise<number> {
    if (positionals.length > 1) throw new UsageError("explain takes one token");
    const token = await readToken(positionals[0], io);
    const namespaces = v.namespace?.flatMap((n) => n.split(",")).filter((n) => n !== "");
    const options: ExplainOptions = { ...mapperOptions(v), ...(namespaces?.length ? { namespaces } : {}) };
    const report = await explain(token, options);
    if (report.error?.code === "invalid-options") throw new UsageError(report.error.message);
    io.out(v.json ? JSON.stringify(report, null, 2) : formatExplain(report));
    return report.verified ? 0 : 1;
}

async function cmdCan(positionals: string[], v: Values, io: Io): Promise<number> {
    if (positionals.length !== 3) throw new UsageError("can takes <token|-> <api> <namespace>");
    const [tokenArg, api, namespace] = positionals as [string, string, string];
    if (looksLikeJwt(api) || looksLikeJwt(namespace)) throw new UsageError("the token goes first: can <token|-> <api> <namespace>");
    const token = await readToken(tokenArg, io);
    let mapper;
    try {
        mapper = createClaimMapper(mapperOptions(v));
    } catch (e) {
        if (e instanceof ClaimsError) throw new UsageError(e.message);
        throw e;
    }
    const inspection = await mapper.inspect({ authorization: authorizationFor(token) });
    const rejected = inspection.errors[0];
    if (rejected || !inspection.claims) {
        const reason = `deny: the claim mapper rejects the token (${rejected?.code ?? "no-claims"}): ${rejected?.message ?? "no claims"}; the server answers "PermissionDenied: Request unauthorized" to every call`;
        io.out(v.json ? JSON.stringify({ decision: "deny", reason, error: rejected ? { code: rejected.code, message: rejected.message } : undefined }, null, 2) : reason);
        return 1;
    }
    const result = authorize(inspection.claims, { apiName: api, namespace });
    io.out(v.json ? JSON.stringify({ ...result, claims: inspection.claims }, null, 2) : result.reason);
    return result.decision === "allow" ? 0 : 1;
}

function cmdCheck(positionals: string[], v: Values, io: Io): number {
    if (positionals.length === 0) throw new UsageError("check takes one or more permission values, e.g. check payments:write temporal-system:read");
    if (positionals.some(looksLikeJwt)) throw new UsageError("that looks like a token, not a permission value: use explain <token>");
    const opts = v.regex !== undefined ? { permissionsRegex: v.regex } : {};
    let parsed;
    try {
        parsed = parsePermissions(positionals, opts);
    } catch (e) {
        if (e instanceof GoRegexpError) throw new UsageError(e.message);
        throw e;
    }
    const problems = parsed.findings.filter((f) => f.effect !== "note");
    if (v.json) {
        io.out(JSON.stringify({ system: parsed.system, namespaces: parsed.namespaces, findings: parsed.findings, ok: problems.length === 0 }, null, 2));
        return problems.length === 0 ? 0 : 1;
    }
    const lines: string[] = [];
    for (const value of positionals) {
        const one = parsePermissions([value], opts);
        const ns = Object.entries(one.namespaces);
        const filed = one.system ? `cluster (${SYSTEM_SCOPE}): ${roleNames(one.system)} (${one.system})` : ns.length ? ns.map(([n, b]) => `namespace ${JSON.stringify(n)}: ${roleNames(b)}${b ? ` (${b})` : ""}`).join(", ") : "skipped";
        lines.push(`${JSON.stringify(value)} -> ${filed}`);
    }
    lines.push("together:");
    lines.push(`  cluster (${SYSTEM_SCOPE}): ${roleNames(parsed.system)}${parsed.system ? ` (${parsed.system})` : ""}`);
    for (const [n, b] of Object.entries(parsed.namespaces)) lines.push(`  namespace ${JSON.stringify(n)}: ${roleNames(b)}${b ? ` (${b})` : ""}`);
    if (parsed.findings.length) {
        lines.push("findings:");
        for (const f of parsed.findings) lines.push(`  - [${f.effect}] ${f.message}`);
    }
    lines.push(problems.length === 0 ? "OK: every value means what it says" : `${problems.length} value(s) do not do what they seem to`);
    io.out(lines.join("\n"));
    return problems.length === 0 ? 0 : 1;
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
    const ioWithCapture: Io = {
        ...io,
        readStdin: async () => (stdinToken = await io.readStdin()),
    };
    const tokenArgs: string[] = rest.filter(looksLikeJwt);
    const secrets = (): string[] => [stdinToken.trim(), ...tokenArgs].filter((s) => s !== "");
    const out = (text: string): void => io.out(redactor(secrets())(text));
    const err = (text: string): void => io.err(redactor(secrets())(text));
    const safeIo: Io = { out, err, readStdin: ioWithCapture.readStdin };
    try {
        if (command === undefined || command === "help" || command === "--help" || command === "-h") {
            out(USAGE);
            return command === undefined ? 2 : 0;
        }
        let parsed;
        try {
            parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
        } catch (e) {
            throw new UsageError((e as Error).message);
        }
        const { values, positionals } = parsed;
        // Whatever stands where the token goes is treated as secret, JWT-shaped or not.
        if ((command === "explain" || command === "can") && positionals[0] !== undefined && positionals[0] !== "-") tokenArgs.push(positionals[0]);
        if (values.help) {
            out(USAGE);
            return 0;
        }
        switch (command) {
            case "explain":
                return await cmdExplain(positionals, values, safeIo);
            case "can":
                return await cmdCan(positionals, values, safeIo);
            case "check":
                return cmdCheck(positionals, values, safeIo);
            default:
                throw new UsageError(`unknown command ${/^[a-z-]{1,20}$/.test(command) ? JSON.stringify(command) : "(not a command name)"}: use explain, can or check`);
        }
    } catch (e) {
        if (e instanceof UsageError) {
            err(`error: ${e.message}\n\n${USAGE}`);
            return 2;
        }
        if (e instanceof ClaimsError) {
            err(`error (${e.code}): ${e.message}`);
            return e.code === "invalid-options" ? 2 : 1;
        }
        err(`error: ${(e as Error).message}`);
        return 2;
    }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
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
            process.exitCode = 2;
        },
    );
}
