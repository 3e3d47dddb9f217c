import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { Connection } from "@temporalio/client";
import type { TlsMaterial } from "../../scripts/lib/live/certificates";
import { classifyOutcome, type Observation } from "../../scripts/lib/live/probe";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { TEMPORAL_CHART } from "../../infra/temporal/versions";
import { resourcePolicies, TYPES } from "../../policies/pack/policies";
import { goSkipReason } from "../upstream/go";
import { planStack, type PlannedStack, type Principal } from "../upstream/plan";
import { connect, startTemporalServer, type StartOptions, type TemporalServer, type TlsFiles } from "../upstream/server";
import { startFakeEntra, type FakeEntra } from "../live/support/entra";
import { getPath as at } from "../../policies/pack/checks/values";

/**
 * What the tests against the real server share: a planned stack running on the real server with a
 * token issuer whose JWKS the server fetches, the TLS material of the planned Secrets, tokens as
 * Entra would issue them to the access map's principals, and calls the client library does not
 * offer (AdminService, streams) made with grpc-js.
 */

/** Skip message outside CI when Go is missing; under CI=true a missing Go fails the run. */
export const skip = goSkipReason();

type Values = Record<string, unknown>;

export interface StackServer {
    plan: PlannedStack;
    entra: FakeEntra;
    server: TemporalServer;
    /** The TLS files of a planned Secret, `<namespace>/<name>`. */
    files(secret: string): TlsFiles;
    stop(): Promise<void>;
}

/** The planned Secret's `ca.crt`, `tls.crt`, `tls.key`. */
export function secretFiles(plan: PlannedStack, secret: string): TlsFiles {
    const data = plan.secrets[secret];
    if (!data) throw new Error(`the plan has no Secret ${secret} (it has ${Object.keys(plan.secrets).join(", ")})`);
    return { ca: data["ca.crt"] ?? "", cert: data["tls.crt"] ?? "", key: data["tls.key"] ?? "" };
}

/** TLS files as verify-live's material (what `checkTls` takes); `withClient: false` presents no certificate. */
export function material(files: TlsFiles, source: string, withClient = true): TlsMaterial {
    return { serverRootCa: Buffer.from(files.ca), ...(withClient ? { clientCertPair: { crt: Buffer.from(files.cert), key: Buffer.from(files.key) } } : {}), source };
}

/**
 * A token issuer for the plan's tenant and API: its audience is the release's, verbatim.
 * `appSigningKey: false` is a tenant whose API has no signing key of its own (what the release
 * configured before it gave the API one): its tokens are signed with the keys shared by everyone.
 */
export async function entraFor(plan: PlannedStack, options: { appSigningKey?: boolean } = {}): Promise<FakeEntra> {
    const audience = at(plan.values, "server.config.authorization.audience");
    const tenantId = at(plan.raw, "azure.tenantId");
    if (typeof audience !== "string" || typeof tenantId !== "string") throw new Error("the plan has no authorization audience or tenant id");
    return startFakeEntra({ tenantId, apiClientId: audience, ...options });
}

/**
 * Plans `stack` (or takes a plan), starts a token issuer and the server. `tenantWideKeys`: the
 * server trusts the tenant-wide key set, and the API has no key of its own (the exposure the API's
 * signing key closes; only the tests that measure it use this).
 */
export async function startStackServer(stackOrPlan: string | PlannedStack, options: Partial<StartOptions> & { tenantWideKeys?: boolean } = {}): Promise<StackServer> {
    const { tenantWideKeys = false, ...start } = options;
    const plan = typeof stackOrPlan === "string" ? await planStack({ stack: stackOrPlan }) : stackOrPlan;
    const entra = await entraFor(plan, { appSigningKey: !tenantWideKeys });
    let server: TemporalServer;
    try {
        server = await startTemporalServer(plan, { jwksUrl: tenantWideKeys ? entra.tenantJwksUrl : entra.jwksUrl, ...start });
    } catch (err) {
        await entra.close();
        throw err;
    }
    return {
        plan,
        entra,
        server,
        files: (secret) => secretFiles(plan, secret),
        stop: async () => {
            await server.stop();
            await entra.close();
        },
    };
}

/**
 * What the offline plan (and `pulumi preview --policy-pack`) says about a Helm release with these
 * values: every resource policy run on it, as the plan runs them, as `<policy>: <message>`.
 */
export function planViolations(values: Values): string[] {
    const props = { name: "temporal", chart: TEMPORAL_CHART.name, version: TEMPORAL_CHART.version, repositoryOpts: { repo: TEMPORAL_CHART.repository }, values };
    const out: string[] = [];
    const args = { type: TYPES.release, props, urn: "urn:pulumi:test::temporal-azure::kubernetes:helm.sh/v3:Release::temporal", name: "temporal", opts: {}, stackTags: new Map() } as unknown as ResourceValidationArgs;
    for (const policy of resourcePolicies) {
        for (const validate of [policy.validateResource ?? []].flat()) void validate(args, (message) => out.push(`${policy.name}: ${message}`));
    }
    return out;
}

/** The UI registration's client id (the `azp` of tokens users get through the UI). */
export function uiClientId(plan: PlannedStack): string {
    const env = (at(plan.values, "web.additionalEnv") ?? []) as { name: string; value: string }[];
    const id = env.find((e) => e.name === "TEMPORAL_AUTH_CLIENT_ID")?.value;
    if (!id) throw new Error("the release's UI has no TEMPORAL_AUTH_CLIENT_ID");
    return id;
}

/**
 * The access token Entra issues the principal for the API: a worker's app-only token (client
 * credentials), a user's token through the UI, and for a group, a token of one of its members
 * (roles assigned to a group reach its members' tokens).
 */
export function tokenFor(entra: FakeEntra, plan: PlannedStack, principal: Principal): Promise<string> {
    if (principal.kind === "worker") return entra.appToken(principal.clientId ?? "", principal.roles, { oid: principal.objectId, sub: principal.objectId });
    return entra.userToken(principal.kind === "user" ? principal.objectId : randomUUID(), uiClientId(plan), principal.roles);
}

/** Where the client dials and what it presents. */
export interface Target {
    address: string;
    serverName: string;
    files: TlsFiles;
    token?: string;
}

export function openConnection(target: Omit<Target, "token"> & { token?: string | undefined }): Promise<Connection> {
    return connect(target.address, target.files, target.serverName, target.token);
}

function rawClient(target: Target): grpc.Client {
    const credentials = grpc.credentials.createSsl(Buffer.from(target.files.ca), Buffer.from(target.files.key), Buffer.from(target.files.cert));
    return new grpc.Client(target.address, credentials, { "grpc.ssl_target_name_override": target.serverName, "grpc.default_authority": target.serverName });
}

function metadataOf(target: Target): grpc.Metadata {
    const md = new grpc.Metadata();
    if (target.token !== undefined) md.set("authorization", `Bearer ${target.token}`);
    return md;
}

const identity = (b: Buffer) => b;

/** A unary call with an empty request message: for methods the client library does not expose (AdminService). */
export function rawUnary(target: Target, path: string, timeoutMs = 5000): Promise<Observation> {
    const client = rawClient(target);
    return new Promise<Observation>((resolve) => {
        client.makeUnaryRequest(path, identity, identity, Buffer.alloc(0), metadataOf(target), { deadline: Date.now() + timeoutMs }, (err) => {
            client.close();
            resolve(classifyOutcome(err ? { ok: false, error: err } : { ok: true }));
        });
    });
}

/**
 * Opens a bidirectional stream and sends nothing: the server authorizes a stream when it starts,
 * before any message, so the status it ends with says what the authorizer decided. Both answers
 * arrive as UNKNOWN on server 1.31.2 (its stream interceptors have no error interceptor to map them):
 * "Request unauthorized." when the authorizer refused, the handler's own complaint (e.g. "missing
 * cluster & shard ID metadata") when the call got past it.
 */
export function rawStream(target: Target, path: string, timeoutMs = 5000): Promise<Observation> {
    const client = rawClient(target);
    return new Promise<Observation>((resolve) => {
        const call = client.makeBidiStreamRequest(path, identity, identity, metadataOf(target), { deadline: Date.now() + timeoutMs });
        call.on("data", () => undefined);
        call.on("error", () => undefined);
        call.on("status", (status: grpc.StatusObject) => {
            client.close();
            const observed = classifyOutcome(status.code === grpc.status.OK ? { ok: true } : { ok: false, error: Object.assign(new Error(status.details), { code: status.code, details: status.details, metadata: status.metadata }) });
            resolve(observed.decision === "error" && status.code === grpc.status.UNKNOWN ? { ...observed, decision: "allow" } : observed);
        });
        call.end();
    });
}

/**
 * What the server said about failures: the message and error of every zap line at level error or
 * fatal, and grpc-go's own report of a refused TLS handshake (`ServerHandshake(...) failed: ...`).
 */
export function errorLines(lines: string[]): string[] {
    return lines.flatMap((line) => {
        const handshake = /ServerHandshake\(.*?\) failed: (.*?)\\?"?$/.exec(line);
        if (handshake) return [`handshake failed: ${(handshake[1] ?? "").replace(/\\"/g, '"')}`];
        if (!line.startsWith("{")) return [];
        try {
            const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
            return entry.level === "error" || entry.level === "fatal" ? [`${entry.msg ?? ""}${entry.error ? `: ${entry.error}` : ""}`] : [];
        } catch {
            return [];
        }
    });
}
