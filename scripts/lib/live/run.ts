import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { DefaultAzureCredential } from "@azure/identity";
import { keyVaultSecretReader, loadTlsFromFiles, loadTlsFromKeyVault, readPem, type SecretReader, type TlsMaterial } from "./certificates";
import { clientCertificateObjectName, TRUST_BUNDLE_SECRET_NAME } from "../../../infra/pki/names";
import { EXIT, SetupError, UsageError } from "./errors";
import type { ClaimMapperFactory } from "./predict";
import { PROBES, selectProbes } from "./probe";
import { formatReport } from "./report";
import { readOutputsFile, readStackOutputs, type SelectStack, type StackOutputs, type WorkerOutput } from "./stack-outputs";
import { acquireToken, CREDENTIAL_KINDS, parsePrincipal, principalLabel, readTokenFromStream, tokenScope, workerOf, type CredentialFactory, type CredentialKind, type Principal } from "./token";
import { parseAddress } from "./tls-check";
import { verifyLive } from "./verify";

export const USAGE = `Usage: npm run verify:live -- (--stack <name> | --outputs <file>) --as (worker:<name> | user) [options]

Gets a token the way the principal does, asks the bundled validator what Temporal will decide,
then calls the live frontend over mTLS with @temporalio/client and reports whether they agree.

Stack:
  --stack <name>              read the stack's outputs with the Pulumi Automation API (needs the Pulumi CLI)
  --work-dir <dir>            the Pulumi program for --stack (default: this project)
  --outputs <file>            outputs from \`pulumi stack output --json\` instead of --stack
Who:
  --as <worker:<name>|user>   whose connection profile, token and needs to check
  --token <token|->           use this access token; "-" reads it from standard input (preferred)
  --credential <kind>         ${CREDENTIAL_KINDS.join(" | ")} (default: workload-identity on AKS,
                              else certificate for workers, cli for users)
  --entra-cert <file>         PEM with the certificate and key registered on the worker's app
                              (default: the worker's TLS client certificate)
Where:
  --namespace <ns>            namespace to probe (default: the worker's TEMPORAL_NAMESPACE)
  --address <host:port>       dial this instead (e.g. localhost:7233 with kubectl port-forward;
                              default: the worker's TEMPORAL_ADDRESS, for users externalFrontendAddress)
  --server-name <name>        TLS server name (default: the profile's TEMPORAL_TLS_SERVER_NAME)
  --tls-source <files|keyvault>  client certificate from the profile's files (default when they
                              exist, i.e. inside the worker's pod) or from the stack's Key Vault
  --tls-ca <file> --tls-cert <file> --tls-key <file>   override the profile's files
  --key-vault-secret <name>   Key Vault certificate (its backing secret's PEM) to connect with
                              (default: <worker>-client)
  --key-vault-ca-secret <name>  Key Vault secret with the CA trust bundle (default: ${TRUST_BUNDLE_SECRET_NAME})
Output:
  --probe <name>              run only this probe (repeatable): ${PROBES.map((p) => p.name).join(", ")}
  --timeout <seconds>         per call and for connecting (default 10)
  --json                      print the report as JSON
Exit: 0 all probes match, 1 a mismatch or a needed call denied, 2 usage, 3 no verdict (outputs, token, TLS, network).
`;

const OPTIONS = {
    stack: { type: "string" },
    "work-dir": { type: "string" },
    outputs: { type: "string" },
    as: { type: "string" },
    token: { type: "string" },
    credential: { type: "string" },
    "entra-cert": { type: "string" },
    namespace: { type: "string" },
    address: { type: "string" },
    "server-name": { type: "string" },
    "tls-source": { type: "string" },
    "tls-ca": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "key-vault-secret": { type: "string" },
    "key-vault-ca-secret": { type: "string" },
    probe: { type: "string", multiple: true },
    timeout: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
} as const;

export interface RunIo {
    stdin: NodeJS.ReadableStream;
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    env: NodeJS.ProcessEnv;
    /** Injection points for tests; the defaults talk to Pulumi, Entra ID and Key Vault. */
    selectStack?: SelectStack;
    credentials?: CredentialFactory;
    secretReader?: (vaultUri: string) => Promise<SecretReader>;
    claimMapperFactory?: ClaimMapperFactory;
}

type Flags = ReturnType<typeof parseFlags>;

function parseFlags(argv: string[]) {
    try {
        return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(", ")} (got ${JSON.stringify(value)})`);
    return value as T;
}

async function loadOutputs(flags: Flags, io: RunIo): Promise<{ outputs: StackOutputs; source: string }> {
    if (flags.stack !== undefined && flags.outputs !== undefined) throw new UsageError("give either --stack or --outputs, not both");
    if (flags.outputs !== undefined) return { outputs: readOutputsFile(flags.outputs), source: flags.outputs };
    if (flags.stack !== undefined) return { outputs: await readStackOutputs(flags.stack, flags["work-dir"], io.selectStack), source: `stack ${flags.stack}` };
    throw new UsageError("--stack <name> or --outputs <file> is required: which deployed stack to check");
}

async function loadTls(flags: Flags, principal: Principal, worker: WorkerOutput | undefined, outputs: StackOutputs, io: RunIo): Promise<TlsMaterial> {
    const fileFlags = flags["tls-ca"] !== undefined || flags["tls-cert"] !== undefined || flags["tls-key"] !== undefined;
    const env = worker?.env;
    const profileFiles = env ? [env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, env.TEMPORAL_TLS_CLIENT_CERT_PATH, env.TEMPORAL_TLS_CLIENT_KEY_PATH] : [];
    // The profile's paths exist inside the worker's pod; elsewhere the certificate comes from Key Vault.
    const source =
        oneOf("tls-source", flags["tls-source"], ["files", "keyvault"] as const) ??
        (fileFlags || (profileFiles.length > 0 && profileFiles.every((f) => fs.existsSync(f))) ? "files" : "keyvault");
    if (source === "files") {
        const ca = flags["tls-ca"] ?? env?.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
        const cert = flags["tls-cert"] ?? env?.TEMPORAL_TLS_CLIENT_CERT_PATH;
        const key = flags["tls-key"] ?? env?.TEMPORAL_TLS_CLIENT_KEY_PATH;
        if (ca === undefined || cert === undefined || key === undefined) {
            throw new UsageError(`--as ${principalLabel(principal)} has no connection profile: give --tls-ca, --tls-cert and --tls-key, or --tls-source keyvault with --key-vault-secret`);
        }
        return loadTlsFromFiles(
            { ca, cert, key },
            {
                ca: flags["tls-ca"] !== undefined ? "--tls-ca" : "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                cert: flags["tls-cert"] !== undefined ? "--tls-cert" : "TEMPORAL_TLS_CLIENT_CERT_PATH",
                key: flags["tls-key"] !== undefined ? "--tls-key" : "TEMPORAL_TLS_CLIENT_KEY_PATH",
            },
        );
    }
    const secretName = flags["key-vault-secret"] ?? (principal.kind === "worker" ? clientCertificateObjectName(principal.name) : undefined);
    if (secretName === undefined) throw new UsageError("--key-vault-secret <name> is required with --as user: the Key Vault certificate to connect with (or give --tls-ca, --tls-cert, --tls-key)");
    const reader = io.secretReader
        ? await io.secretReader(outputs.keyVaultUri)
        : await keyVaultSecretReader(outputs.keyVaultUri, new DefaultAzureCredential({ tenantId: outputs.tenantId }));
    const tlsCa = flags["tls-ca"];
    return loadTlsFromKeyVault(
        tlsCa !== undefined
            ? { vaultUri: outputs.keyVaultUri, secretName, ca: { pem: readPem(tlsCa, "--tls-ca"), what: `--tls-ca ${tlsCa}` } }
            : { vaultUri: outputs.keyVaultUri, secretName, caSecretName: flags["key-vault-ca-secret"] ?? TRUST_BUNDLE_SECRET_NAME },
        reader,
    );
}

function readFlagFile(flag: string, file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new SetupError(`--${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, "token");
    }
}

/** Where to dial and which name to verify: flags, then the worker's profile, then the stack's outputs. */
function resolveEndpoint(flags: Flags, principal: Principal, worker: WorkerOutput | undefined, outputs: StackOutputs) {
    // A worker dials what its profile says; a user is outside the cluster, so the external address when there is one.
    const external = worker === undefined && flags.address === undefined ? outputs.externalFrontendAddress : undefined;
    const address = flags.address ?? worker?.env.TEMPORAL_ADDRESS ?? external ?? outputs.frontendAddress;
    try {
        parseAddress(address);
    } catch (err) {
        throw new UsageError(`${flags.address !== undefined ? "--address" : "the stack's frontend address"}: ${(err as Error).message}`);
    }
    // Behind the TLS-passthrough ingress the SNI routes the connection, so it must be the external host.
    const externalHost = external !== undefined ? parseAddress(external).host : undefined;
    const serverName = flags["server-name"] ?? worker?.env.TEMPORAL_TLS_SERVER_NAME ?? externalHost ?? outputs.frontendServerName;
    const serverNameSource =
        flags["server-name"] !== undefined
            ? "--server-name"
            : principal.kind === "worker"
              ? `TEMPORAL_TLS_SERVER_NAME of worker ${principal.name}`
              : externalHost !== undefined
                ? "the host of the stack's externalFrontendAddress"
                : "the stack's frontendServerName";
    return { address, serverName, serverNameSource };
}

/** The token given (`--token`), or one from Entra ID obtained as the principal would. */
async function obtainToken(
    flags: Flags,
    given: string | undefined,
    principal: Principal,
    outputs: StackOutputs,
    tls: TlsMaterial,
    credential: CredentialKind | undefined,
    io: RunIo,
): Promise<{ value: string; via: string; scope: string }> {
    if (given !== undefined) {
        return { value: given, via: flags.token === "-" ? "token from standard input" : "token from --token", scope: tokenScope(principal, outputs) };
    }
    // A worker outside AKS authenticates to Entra ID with the certificate the PKI issued it (registered on its app).
    let certificatePem: string | undefined;
    if (flags["entra-cert"] !== undefined) certificatePem = readFlagFile("entra-cert", flags["entra-cert"]);
    else if (tls.clientCertPair) certificatePem = `${tls.clientCertPair.crt.toString()}${tls.clientCertPair.key.toString()}`;
    const acquired = await acquireToken({
        principal,
        outputs,
        env: io.env,
        ...(credential ? { credential } : {}),
        ...(certificatePem !== undefined ? { certificatePem } : {}),
        ...(io.credentials ? { factory: io.credentials } : {}),
    });
    return { value: acquired.token, via: `token from Entra ID via ${acquired.via}`, scope: acquired.scope };
}

async function run(argv: string[], io: RunIo, json: boolean): Promise<number> {
    const flags = parseFlags(argv);
    if (flags.help) {
        io.stdout(USAGE);
        return EXIT.ok;
    }
    if (flags.as === undefined) throw new UsageError("--as is required: worker:<name> (a worker declared in the stack) or user");
    const principal = parsePrincipal(flags.as);
    const credential = oneOf<CredentialKind>("credential", flags.credential, CREDENTIAL_KINDS);
    let timeoutMs = 10_000;
    if (flags.timeout !== undefined) {
        const seconds = Number(flags.timeout);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds (got ${JSON.stringify(flags.timeout)})`);
        timeoutMs = Math.round(seconds * 1000);
    }
    let probes;
    try {
        probes = selectProbes(flags.probe);
    } catch (err) {
        throw new UsageError(`--probe: ${(err as Error).message}`);
    }
    const token = flags.token === "-" ? await readTokenFromStream(io.stdin) : flags.token;
    if (token !== undefined && flags.token !== "-") io.stderr("verify-live: note: a token on the command line is visible to other processes and kept in shell history; prefer --token -\n");

    const { outputs, source } = await loadOutputs(flags, io);
    const worker = principal.kind === "worker" ? workerOf(outputs, principal.name, "--as") : undefined;
    const namespace = flags.namespace ?? worker?.env.TEMPORAL_NAMESPACE;
    if (namespace === undefined) throw new UsageError("--namespace is required with --as user: which Temporal namespace to probe");
    const { address, serverName, serverNameSource } = resolveEndpoint(flags, principal, worker, outputs);
    const tls = await loadTls(flags, principal, worker, outputs, io);

    const { value: tokenValue, via: tokenVia, scope } = await obtainToken(flags, token, principal, outputs, tls, credential, io);

    const report = await verifyLive({
        outputs,
        source,
        principal: principalLabel(principal),
        address,
        serverName,
        serverNameSource,
        namespace,
        tls,
        token: tokenValue,
        tokenVia,
        tokenScope: scope,
        probes,
        expectAllowOnNamespace: worker !== undefined && namespace === worker.env.TEMPORAL_NAMESPACE,
        timeoutMs,
        ...(io.claimMapperFactory ? { claimMapperFactory: io.claimMapperFactory } : {}),
    });
    const text = json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report);
    io.stdout(redact(text, [tokenValue]));
    return report.verdict.exitCode;
}

/** Belt and braces: nothing this command prints may contain the token. */
export function redact(text: string, secrets: string[]): string {
    let out = text;
    for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join("[redacted token]");
    return out;
}

/** The whole CLI; returns the exit code. */
export async function runVerifyLive(argv: string[], io: RunIo): Promise<number> {
    const json = argv.includes("--json");
    try {
        return await run(argv, io, json);
    } catch (err) {
        if (err instanceof UsageError) {
            io.stderr(`verify-live: ${err.message}\nRun with --help for the options.\n`);
            if (json) io.stdout(`${JSON.stringify({ error: { stage: "usage", message: err.message }, exitCode: EXIT.usage })}\n`);
            return EXIT.usage;
        }
        if (err instanceof SetupError) {
            io.stderr(`verify-live: ${err.message}\n`);
            if (json) io.stdout(`${JSON.stringify({ error: { stage: err.stage, message: err.message }, exitCode: EXIT.setup })}\n`);
            return EXIT.setup;
        }
        throw err;
    }
}
