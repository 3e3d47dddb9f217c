import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection, isGrpcServiceError } from "@temporalio/client";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { UPSTREAM_BINARIES } from "./binaries";
import { configTemplateText, DYNAMIC_CONFIG_MOUNT, fullname, renderChart, serverContainerEnv, type ChartRendering, type NamespaceJob, type ServerService } from "./chart";
import { goBinary } from "./go";
import type { PlannedStack } from "./plan";
import { spawnOwned, stopOwned } from "./process";
import { writeSecretMounts, writeSecretVolume } from "./secret-volume";
import { PROCESS_DIFFERENCES, remapMountedPath, substitute, type Ports } from "./substitutions";
import { getPath as at } from "../../policies/pack/checks/values";

/**
 * The one place the test suite starts and stops a real Temporal server: go.temporal.io/server
 * v1.31.2's own `cmd/server` (the binary of the `temporalio/server:1.31.2` image), configured with
 * the file chart 1.6.0 renders from a planned release, changed only by the substitutions of
 * `substitutions.ts`. It mounts the planned Secrets as kubelet would, waits until both frontends
 * answer over mTLS, then creates the release's namespaces the way the chart's namespace job does.
 * The process runs under `spawnOwned` (it dies with the test process) and `stop()` removes every
 * file it used.
 */

type Values = Record<string, unknown>;

export interface TlsFiles {
    /** The trust bundle (`ca.crt`). */
    ca: string;
    /** Certificate chain (`tls.crt`). */
    cert: string;
    /** Private key (`tls.key`). */
    key: string;
}

export interface StartOptions {
    /** The JWKS the test serves (the `jwks` substitution). */
    jwksUrl: string;
    /** Test-only: `global.tls.refreshInterval` (the rotation test). */
    refreshInterval?: string;
    /** Replaces the release's values before rendering (the mistakes tests: values the plan must refuse). */
    values?: (values: Values) => Values;
    /** Create the release's namespaces as the namespace job does (default true). */
    createNamespaces?: boolean;
    /** How long to wait for the frontends (default 120 s). */
    readyTimeoutMs?: number;
    /** Which listeners must answer before the server counts as started (default both frontends). */
    waitFor?: ("frontend" | "internal-frontend")[];
}

export interface NamespaceJobResult {
    namespace: string;
    /** What the job's command did: found it (describe succeeded) or created it. */
    outcome: "existed" | "created";
    /** Runs until it succeeded (the Job's pod restarts on failure). */
    attempts: number;
    /** The errors of failed attempts, oldest first (gRPC status and message). */
    errors: string[];
}

export interface TemporalServer {
    plan: PlannedStack;
    rendering: ChartRendering;
    /** The config the server runs with (the rendering after the substitutions). */
    config: Values;
    dir: string;
    /** Of the current process (changes on `restart`). */
    pid: number;
    /** `127.0.0.1:<port>` of each gRPC listener. */
    addresses: { frontend: string; internalFrontend?: string; history: string; matching: string };
    /** TLS server names the release's clients verify. */
    serverNames: { frontend: string; internode: string };
    /** Server version from GetSystemInfo. */
    version: string;
    /** Milliseconds from spawn until both frontends answered GetSystemInfo over mTLS. */
    startMs: number;
    namespaceJob?: NamespaceJobResult[];
    /** Runs the namespace job again (every `helm upgrade` does). */
    runNamespaceJob(): Promise<NamespaceJobResult[]>;
    /** The folder standing in for a server volume mount (`server.additionalVolumeMounts`), by volume name. */
    volumeDir(volume: string): string;
    /** Rewrites a mounted Secret's files in place, as kubelet does when the Secret changes. */
    updateSecret(volume: string, data: Record<string, string>): void;
    /** The server's log so far (zap JSON lines). */
    log(): string;
    /** Log lines written after `mark` (a value of `logMark()`). */
    logSince(mark: number): string[];
    logMark(): number;
    /** Settles when the current process exits on its own (a fatal error) or is stopped. */
    exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    /**
     * Stops the process and starts it again on the same files and database (a pod restart);
     * resolves with the milliseconds until both frontends answered again.
     */
    restart(): Promise<number>;
    stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The server exited before it answered: what the tests of mistakes the server refuses look for. */
export class ServerExitedError extends Error {
    constructor(
        readonly code: number | null,
        readonly logTail: string,
    ) {
        super(`the Temporal server exited with code ${String(code)} before it answered:\n${logTail}`);
    }
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allocatePorts(services: ServerService[], config: Values): Promise<Ports> {
    const ports: Ports = { services: {}, pprof: await freePort(), metrics: await freePort() };
    for (const s of services) {
        const rpc = ((config.services as Values)[s] as Values).rpc as Values;
        ports.services[s] = {
            membershipPort: await freePort(),
            ...("grpcPort" in rpc ? { grpcPort: await freePort() } : {}),
            ...("httpPort" in rpc ? { httpPort: await freePort() } : {}),
        };
    }
    return ports;
}

function secretData(plan: PlannedStack, secretName: string): Record<string, string> {
    const data = plan.secrets[`${plan.release.namespace}/${secretName}`];
    if (!data) throw new Error(`the plan has no Secret ${plan.release.namespace}/${secretName}`);
    return data;
}

/** The TLS files a Secret volume holds, read back from where the harness wrote them. */
export function tlsFilesOf(dir: string): TlsFiles {
    return { ca: readFileSync(join(dir, "ca.crt"), "utf8"), cert: readFileSync(join(dir, "tls.crt"), "utf8"), key: readFileSync(join(dir, "tls.key"), "utf8") };
}

export function connectionTls(files: TlsFiles, serverName: string) {
    return { serverNameOverride: serverName, serverRootCACertificate: Buffer.from(files.ca), clientCertPair: { crt: Buffer.from(files.cert), key: Buffer.from(files.key) } };
}

/** A connection with this material (and token), failing fast: no retries, a short connect timeout. */
export async function connect(address: string, files: TlsFiles, serverName: string, token?: string, timeoutMs = 5000): Promise<Connection> {
    return Connection.connect({
        address,
        tls: connectionTls(files, serverName),
        ...(token !== undefined ? { metadata: { authorization: `Bearer ${token}` } } : {}),
        connectTimeout: timeoutMs,
        interceptors: [],
    });
}

function describeError(err: unknown): string {
    if (isGrpcServiceError(err)) return `${(GrpcStatus as unknown as Record<number, string>)[err.code] ?? err.code}: ${err.details || err.message}`;
    return err instanceof Error ? err.message : String(err);
}

type ProtoDuration = NonNullable<Parameters<Connection["workflowService"]["registerNamespace"]>[0]["workflowExecutionRetentionPeriod"]>;
/** A google.protobuf.Duration; protobufjs encodes a number where its typings say Long. */
const protoDuration = (seconds: number) => ({ seconds }) as unknown as ProtoDuration;

/** `--retention` of the Temporal CLI: a Go duration, or a whole number of days with `d`. */
export function retentionSeconds(retention: string): number {
    const units: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
    let total = 0;
    const re = /(\d+)([dhms])/g;
    let consumed = 0;
    for (let m = re.exec(retention); m; m = re.exec(retention)) {
        total += Number(m[1]) * (units[m[2]!] ?? 0);
        consumed += m[0].length;
    }
    if (consumed !== retention.length || total === 0) throw new Error(`--retention ${retention}: not a duration the CLI reads (e.g. 3d, 72h)`);
    return total;
}

/**
 * `server-namespace-job.yaml`: per namespace, `temporal operator namespace describe -n <ns> ||
 * temporal operator namespace create -n <ns> --retention <r>`, run with the job's environment
 * (`TEMPORAL_ADDRESS` and `admintools.additionalEnv`, read as the CLI reads Temporal's client
 * environment configuration) and its mounts (`admintools.additionalVolumeMounts`). The calls are the
 * ones the CLI makes (DescribeNamespace, then RegisterNamespace); a failed container restarts, as
 * the Job's pod does (restartPolicy OnFailure), until the deadline.
 */
export async function runNamespaceJob(job: NamespaceJob, resolve: { address(address: string): string; file(path: string): string }, deadlineMs = 60_000): Promise<NamespaceJobResult[]> {
    const env = job.env;
    const required = (name: string) => {
        const v = env[name];
        if (v === undefined || v === "") throw new Error(`the namespace job has no ${name} (admintools.additionalEnv)`);
        return v;
    };
    if (env.TEMPORAL_TLS !== "true") throw new Error(`the namespace job dials ${env.TEMPORAL_ADDRESS} without TLS (TEMPORAL_TLS=${String(env.TEMPORAL_TLS)})`);
    const read = (name: string) => readFileSync(resolve.file(required(name)), "utf8");
    const files: TlsFiles = { ca: read("TEMPORAL_TLS_SERVER_CA_CERT_PATH"), cert: read("TEMPORAL_TLS_CLIENT_CERT_PATH"), key: read("TEMPORAL_TLS_CLIENT_KEY_PATH") };
    const address = resolve.address(required("TEMPORAL_ADDRESS"));
    const serverName = required("TEMPORAL_TLS_SERVER_NAME");
    const results: NamespaceJobResult[] = [];
    const until = Date.now() + deadlineMs;
    for (const ns of job.namespaces) {
        const result: NamespaceJobResult = { namespace: ns.name, outcome: "existed", attempts: 0, errors: [] };
        for (;;) {
            result.attempts++;
            let connection: Connection | undefined;
            try {
                connection = await connect(address, files, serverName);
                try {
                    await connection.workflowService.describeNamespace({ namespace: ns.name });
                    result.outcome = "existed";
                } catch (describeErr) {
                    result.errors.push(`describe: ${describeError(describeErr)}`);
                    await connection.workflowService.registerNamespace({
                        namespace: ns.name,
                        ...(ns.retention !== undefined ? { workflowExecutionRetentionPeriod: protoDuration(retentionSeconds(ns.retention)) } : {}),
                    });
                    result.outcome = "created";
                }
                break;
            } catch (err) {
                result.errors.push(`create: ${describeError(err)}`);
                if (Date.now() > until) throw new Error(`the namespace job could not create "${ns.name}" within ${deadlineMs} ms: ${result.errors.slice(-3).join(" | ")}`);
                await sleep(1000);
            } finally {
                await connection?.close();
            }
        }
        results.push(result);
    }
    return results;
}

/** Starts the server for a planned release. Rejects with `ServerExitedError` when the server exits before it answers. */
export async function startTemporalServer(plan: PlannedStack, options: StartOptions): Promise<TemporalServer> {
    const binary = (await goBinary(UPSTREAM_BINARIES.temporalServer)).path;
    const values = options.values ? options.values(structuredClone(plan.values)) : plan.values;
    const rendering = renderChart(values, plan.release);
    const dir = mkdtempSync(join(tmpdir(), "temporal-server-"));
    let child: ChildProcess | undefined;
    try {
        // Volumes: the server's Secret mounts, the dynamic config, and the admin tools' (for the namespace job).
        const server = writeSecretMounts(join(dir, "volumes"), rendering.serverMounts, (name) => secretData(plan, name));
        const mountRoots = server.roots;
        const volumeDirs = server.dirs;
        const dynamicDir = join(dir, "volumes", "dynamic-config");
        mkdirSync(dynamicDir, { recursive: true });
        writeFileSync(join(dynamicDir, "dynamic_config.yaml"), rendering.dynamicConfig);
        mountRoots[DYNAMIC_CONFIG_MOUNT] = dynamicDir;
        const adminRoots = writeSecretMounts(join(dir, "volumes"), rendering.namespaceJob?.mounts ?? [], (name) => secretData(plan, name), "admintools-").roots;

        const persistence = rendering.config.persistence as { datastores?: Record<string, { sql?: { databaseName?: string } }> };
        const databaseFiles: Record<string, string> = {};
        mkdirSync(join(dir, "db"));
        for (const [name, store] of Object.entries(persistence.datastores ?? {})) databaseFiles[name] = join(dir, "db", `${store.sql?.databaseName ?? name}.db`);
        const configFile = join(dir, "config", "config_template.yaml");
        mkdirSync(join(dir, "config"));
        let ports: Ports = { services: {}, pprof: 0, metrics: 0 };
        let config: Values = {};
        const addr = (s: ServerService) => `127.0.0.1:${ports.services[s]?.grpcPort ?? 0}`;
        const addresses = {} as TemporalServer["addresses"];
        /** Free loopback ports (the `ports` substitution) and the config file with them; `addresses` follows. */
        const configure = async () => {
            ports = await allocatePorts(rendering.services, rendering.config);
            config = substitute(rendering.config, {
                mountRoots,
                jwksUrl: options.jwksUrl,
                databaseFiles,
                ports,
                ...(options.refreshInterval !== undefined ? { refreshInterval: options.refreshInterval } : {}),
            });
            writeFileSync(configFile, configTemplateText(config));
            Object.assign(addresses, { frontend: addr("frontend"), history: addr("history"), matching: addr("matching") });
            if (ports.services["internal-frontend"]) addresses.internalFrontend = addr("internal-frontend");
        };
        await configure();

        // The container's env (every service's is the same but for SERVICES), secrets resolved as kubelet does.
        const containerEnv = serverContainerEnv(rendering.merged, "frontend");
        const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, POD_IP: PROCESS_DIFFERENCES.POD_IP, ...PROCESS_DIFFERENCES.logEnv };
        for (const [name, value] of Object.entries(containerEnv)) env[name] = typeof value === "string" ? value : (secretData(plan, value.secretName)[value.key] ?? "");
        env.SERVICES = rendering.services.join(",");
        env.TEMPORAL_SERVICES = rendering.services.join(",");
        env.TEMPORAL_SERVER_CONFIG_FILE_PATH = configFile;

        const logStream = createWriteStream(join(dir, "server.log"));
        const lines: string[] = [];
        let partial = "";
        const onData = (d: Buffer) => {
            logStream.write(d);
            const text = partial + d.toString();
            const parts = text.split("\n");
            partial = parts.pop() ?? "";
            lines.push(...parts);
        };
        const tail = () => [...lines, partial].slice(-100).join("\n");

        const serverName = (section: string) => {
            const v = at(config, `global.tls.${section}.client.serverName`);
            return typeof v === "string" ? v : "";
        };
        const names = { frontend: serverName("frontend"), internode: serverName("internode") };

        let exitedPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
        /** Spawns the binary and waits until both frontends answer GetSystemInfo over mTLS; returns the version and the time it took. */
        const launch = async (): Promise<{ version: string; ms: number }> => {
            const started = Date.now();
            const current = spawnOwned(binary, ["start"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
            child = current;
            let exited: { code: number | null } | undefined;
            exitedPromise = new Promise((resolve) =>
                current.once("exit", (code, signal) => {
                    exited = { code };
                    resolve({ code, signal });
                }),
            );
            current.stdout?.on("data", onData);
            current.stderr?.on("data", onData);
            const deadline = started + (options.readyTimeoutMs ?? 120_000);
            const answer = async (address: string, files: () => TlsFiles, serverName: string) => {
                for (;;) {
                    if (exited) throw new ServerExitedError(exited.code, tail());
                    if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address} within ${options.readyTimeoutMs ?? 120_000} ms:\n${tail()}`);
                    let connection: Connection | undefined;
                    try {
                        connection = await connect(address, files(), serverName, undefined, 2000);
                        const info = await connection.workflowService.getSystemInfo({});
                        return info.serverVersion ?? "";
                    } catch {
                        await sleep(250);
                    } finally {
                        await connection?.close().catch(() => undefined);
                    }
                }
            };
            // With the server's own certificate (the internode one, which both frontends accept) and the bundles it mounts now.
            const ownFiles = (trustVolumeOf: "frontend" | "internode") => () => ({ ...internodeClientFiles(rendering, volumeDirs), ca: tlsFilesOf(volumeOf(rendering, volumeDirs, trustVolumeOf)).ca });
            const waitFor = options.waitFor ?? ["frontend", "internal-frontend"];
            let version = "";
            if (waitFor.includes("frontend")) version = await answer(addresses.frontend, ownFiles("frontend"), names.frontend);
            if (addresses.internalFrontend && waitFor.includes("internal-frontend")) version = await answer(addresses.internalFrontend, ownFiles("internode"), names.internode);
            return { version, ms: Date.now() - started };
        };
        /**
         * Another process may take a port between its allocation and the server's bind (other test
         * files start servers at the same time): then the server exits with "address already in use"
         * and is started again on fresh ports.
         */
        const launchOnFreePorts = async (reusePorts: boolean) => {
            for (let attempt = 1; ; attempt++) {
                if (attempt > 1 || !reusePorts) await configure();
                try {
                    return await launch();
                } catch (err) {
                    if (attempt < 4 && err instanceof ServerExitedError && /address already in use/.test(err.logTail)) continue;
                    throw err;
                }
            }
        };
        const { version, ms: startMs } = await launchOnFreePorts(true);

        const job = rendering.namespaceJob;
        const namespaceJobRun = async () => {
            if (!job) throw new Error("the release does not create namespaces (server.config.namespaces.create)");
            return runNamespaceJob(job, {
                // The job dials a Service name; the `ports` substitution puts every listener on loopback.
                address: (a) => {
                    const host = a.split(":")[0] ?? "";
                    const service = rendering.services.find((s) => host === `${fullname(rendering.merged, rendering.release)}-${s}.${rendering.release.namespace}.svc`);
                    if (!service) throw new Error(`the namespace job dials ${a}, which is no service of the release`);
                    return addr(service);
                },
                file: (p) => remapMountedPath(p, adminRoots),
            });
        };
        const namespaceJob = options.createNamespaces !== false && job ? await namespaceJobRun() : undefined;

        const handle: TemporalServer = {
            plan,
            rendering,
            get config() {
                return config;
            },
            dir,
            pid: child?.pid ?? 0,
            addresses,
            serverNames: names,
            version,
            startMs,
            ...(namespaceJob ? { namespaceJob } : {}),
            runNamespaceJob: namespaceJobRun,
            volumeDir: (volume) => {
                const d = volumeDirs[volume];
                if (!d) throw new Error(`no server volume ${volume} (volumes: ${Object.keys(volumeDirs).join(", ")})`);
                return d;
            },
            updateSecret: (volume, data) => {
                const d = volumeDirs[volume];
                if (!d) throw new Error(`no server volume ${volume}`);
                writeSecretVolume(d, data);
            },
            exited: () => exitedPromise,
            restart: async () => {
                if (child) await stopOwned(child, 15_000);
                const again = await launchOnFreePorts(true);
                handle.pid = child?.pid ?? 0;
                return again.ms;
            },
            log: () => [...lines, partial].join("\n"),
            logMark: () => lines.length,
            logSince: (mark) => lines.slice(mark),
            stop: async () => {
                const result = child ? await stopOwned(child, 15_000) : { code: null, signal: null };
                logStream.end();
                rmSync(dir, { recursive: true, force: true });
                return result;
            },
        };
        return handle;
    } catch (err) {
        if (child) await stopOwned(child, 5_000);
        rmSync(dir, { recursive: true, force: true });
        throw err;
    }
}

/** The folder of the server volume that `global.tls.<section>.server.certFile` lies in. */
function volumeOf(rendering: ChartRendering, volumeDirs: Record<string, string>, section: "frontend" | "internode"): string {
    const certFile = at(rendering.config, `global.tls.${section}.server.certFile`);
    const mount = typeof certFile === "string" ? rendering.serverMounts.find((m) => certFile.startsWith(`${m.mountPath}/`)) : undefined;
    const d = mount ? volumeDirs[mount.volume] : undefined;
    if (!d) throw new Error(`global.tls.${section}.server.certFile (${String(certFile)}) is under no Secret volume of the server`);
    return d;
}

/** The internode certificate and key as the server mounts them (what every service presents to the others). */
function internodeClientFiles(rendering: ChartRendering, volumeDirs: Record<string, string>): TlsFiles {
    return tlsFilesOf(volumeOf(rendering, volumeDirs, "internode"));
}
