import { AzureCliCredential, ClientCertificateCredential, DefaultAzureCredential, WorkloadIdentityCredential, type TokenCredential } from "@azure/identity";
import { SetupError, UsageError } from "./errors";
import type { StackOutputs, WorkerOutput } from "./stack-outputs";

/** Who the check runs as: a declared worker identity, or the signed-in user. */
export type Principal = { kind: "worker"; name: string } | { kind: "user" };

export function parsePrincipal(value: string): Principal {
    if (value === "user") return { kind: "user" };
    const m = /^worker:(.+)$/.exec(value);
    if (m?.[1]) return { kind: "worker", name: m[1] };
    throw new UsageError(`--as must be worker:<name> or user (got ${JSON.stringify(value)})`);
}

export function principalLabel(p: Principal): string {
    return p.kind === "user" ? "user" : `worker:${p.name}`;
}

export function workerOf(outputs: StackOutputs, name: string, flag: string): WorkerOutput {
    const worker = outputs.workers[name];
    if (worker === undefined) {
        const known = Object.keys(outputs.workers);
        throw new UsageError(`${flag}: the stack declares no worker "${name}" (workers: ${known.length ? known.join(", ") : "none"})`);
    }
    return worker;
}

/**
 * How a token is obtained, the way the principal itself would:
 * - `certificate`: client credentials with the worker's certificate (workers outside AKS);
 * - `workload-identity`: the federated service-account token on AKS (`AZURE_FEDERATED_TOKEN_FILE`);
 * - `cli`: the user signed in with `az login`;
 * - `default`: `DefaultAzureCredential`'s chain.
 */
export type CredentialKind = "certificate" | "workload-identity" | "cli" | "default";
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ["certificate", "workload-identity", "cli", "default"];

/** Builds `@azure/identity` credentials; injectable so tests need no Entra ID. */
export interface CredentialFactory {
    certificate(tenantId: string, clientId: string, pemCertificateAndKey: string): TokenCredential;
    workloadIdentity(tenantId: string, clientId: string): TokenCredential;
    cli(tenantId: string): TokenCredential;
    default(tenantId: string, clientId?: string): TokenCredential;
}

export const azureCredentials: CredentialFactory = {
    certificate: (tenantId, clientId, certificate) => new ClientCertificateCredential(tenantId, clientId, { certificate }),
    workloadIdentity: (tenantId, clientId) => new WorkloadIdentityCredential({ tenantId, clientId }),
    cli: (tenantId) => new AzureCliCredential({ tenantId }),
    default: (tenantId, clientId) =>
        new DefaultAzureCredential(clientId === undefined ? { tenantId } : { tenantId, managedIdentityClientId: clientId, workloadIdentityClientId: clientId }),
};

/** Scope of the Temporal API a principal requests: apps use `/.default` (app roles), users the delegated `default` scope. */
export function tokenScope(principal: Principal, outputs: StackOutputs): string {
    if (principal.kind === "user") return outputs.apiScope;
    return workerOf(outputs, principal.name, "--as").tokenScope;
}

export interface AcquireArgs {
    principal: Principal;
    outputs: StackOutputs;
    /** Forced credential; otherwise chosen from the environment. */
    credential?: CredentialKind;
    /** PEM with the worker's certificate and key, for `certificate` (the worker's mTLS client certificate by default). */
    certificatePem?: string;
    env?: NodeJS.ProcessEnv;
    factory?: CredentialFactory;
}

export interface AcquiredToken {
    token: string;
    scope: string;
    /** How it was obtained, for reports. */
    via: string;
}

export function chooseCredential(principal: Principal, env: NodeJS.ProcessEnv, hasCertificate: boolean): CredentialKind {
    if (principal.kind === "user") return "cli";
    if (env.AZURE_FEDERATED_TOKEN_FILE) return "workload-identity";
    return hasCertificate ? "certificate" : "default";
}

/** Gets an access token from Entra ID for the Temporal API, as the principal. */
export async function acquireToken(args: AcquireArgs): Promise<AcquiredToken> {
    const env = args.env ?? process.env;
    const factory = args.factory ?? azureCredentials;
    const { principal, outputs } = args;
    const scope = tokenScope(principal, outputs);
    const kind = args.credential ?? chooseCredential(principal, env, args.certificatePem !== undefined);
    const worker = principal.kind === "worker" ? workerOf(outputs, principal.name, "--as") : undefined;
    if (principal.kind === "user" && (kind === "certificate" || kind === "workload-identity")) {
        throw new UsageError(`--credential ${kind} is for workers; a user signs in with --credential cli (az login) or default`);
    }
    let credential: TokenCredential;
    switch (kind) {
        case "certificate":
            if (!worker) throw new UsageError("--credential certificate needs --as worker:<name>");
            if (args.certificatePem === undefined) throw new UsageError("--credential certificate needs the worker's certificate and key (its TLS files, --entra-cert or Key Vault)");
            credential = factory.certificate(outputs.tenantId, worker.clientId, args.certificatePem);
            break;
        case "workload-identity":
            if (!worker) throw new UsageError("--credential workload-identity needs --as worker:<name>");
            credential = factory.workloadIdentity(outputs.tenantId, worker.clientId);
            break;
        case "cli":
            credential = factory.cli(outputs.tenantId);
            break;
        case "default":
            credential = factory.default(outputs.tenantId, worker?.clientId);
            break;
    }
    const via = `${kind} credential${worker ? ` (client id ${worker.clientId})` : ""}, tenant ${outputs.tenantId}`;
    let token: string | undefined;
    try {
        token = (await credential.getToken(scope))?.token;
    } catch (err) {
        throw new SetupError(`no token for scope ${scope} via ${via}: ${tokenFailureHint(err, principal)}`, "token");
    }
    if (!token) throw new SetupError(`no token for scope ${scope} via ${via}: the credential returned nothing`, "token");
    return { token, scope, via };
}

/** The first line of an Entra error, with the fix for the failures users meet most. */
export function tokenFailureHint(err: unknown, principal: Principal): string {
    const message = err instanceof Error ? err.message : String(err);
    const first = message.split("\n").find((l) => l.trim() !== "")?.trim() ?? message;
    if (/AADSTS65001/.test(message)) {
        return `${first}. The Azure CLI is not consented for the API: pre-authorize the Azure CLI's client id 04b07795-8ddb-461a-bbee-02f9e1bf7b46 on the API's "default" scope, or pass --token -`;
    }
    if (/AADSTS501051|AADSTS50105/.test(message)) {
        return `${first}. The ${principal.kind === "user" ? "user" : "identity"} has no app role assignment on the Temporal API and assignment is required: grant it in the stack's access map`;
    }
    if (/AADSTS700027|AADSTS700024/.test(message)) {
        return `${first}. The certificate is not registered on the worker's app registration (or the federated credential does not match)`;
    }
    if (/Please run 'az login'|az login/i.test(message)) return `${first}. Sign in with \`az login --tenant <tenant-id>\` first`;
    return first;
}

/** Reads a token piped in with `--token -` (first non-empty line, surrounding whitespace removed). */
export async function readTokenFromStream(stream: NodeJS.ReadableStream): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    let token = Buffer.concat(chunks).toString("utf8").trim();
    if (/^bearer\s+/i.test(token)) token = token.replace(/^bearer\s+/i, "");
    if (token === "") throw new UsageError("--token -: nothing was read from standard input (pipe the access token in)");
    if (/\s/.test(token)) throw new UsageError("--token -: standard input holds more than one token or word; pipe exactly one access token");
    return token;
}
