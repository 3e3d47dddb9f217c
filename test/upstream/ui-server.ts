import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEMPORAL_UI_IMAGE } from "../../infra/temporal/versions";
import { UPSTREAM_BINARIES } from "./binaries";
import { goBinary } from "./go";
import { downloadedModule } from "./go-mod";
import type { PlannedStack } from "./plan";
import { spawnOwned, stopOwned } from "./process";
import { writeSecretMounts } from "./secret-volume";
import { freePort } from "./server";
import { substituteUiEnv } from "./ui-substitutions";
import { resolveContainerEnv, webContainer, type WebContainer } from "./web-deployment";

/**
 * The one place the test suite starts and stops the real Temporal UI server: the
 * github.com/temporalio/ui-server/v2 module at the `temporalio/ui` image's tag, its own cmd/server
 * with the UI's assets embedded, run the way the image runs it (`./ui-server --env docker start` in
 * a folder holding the module's `config/docker.yaml`), with the environment and mounted Secrets
 * chart 1.6.0's `web` Deployment gives it from a planned release, changed only by the
 * substitutions of `ui-substitutions.ts`. The process runs under `spawnOwned` and `stop()` removes
 * every file it used.
 */

export const UI_SERVER_MODULE = "github.com/temporalio/ui-server/v2";
const uiModuleDir = () => UPSTREAM_BINARIES.temporalUiServer.moduleDir;

/** The module at the image's tag as the module cache holds it: its folder and go.mod. */
export function uiServerModule(): { dir: string; goMod: string } {
    return downloadedModule(uiModuleDir(), `${UI_SERVER_MODULE}@v${TEMPORAL_UI_IMAGE.tag}`);
}

/** The config the image runs with: the module's `config/docker.yaml` (the Dockerfile copies it to ./config/docker.yaml). */
export function dockerConfigTemplate(moduleDir = uiServerModule().dir): string {
    return readFileSync(join(moduleDir, "config", "docker.yaml"), "utf8");
}

/** Environment variables the image's config template reads (`env "NAME"`), in order of first use. */
export function configTemplateEnvNames(template: string): string[] {
    return [...new Set([...template.matchAll(/\benv\s+"([A-Z0-9_]+)"/g)].map((m) => m[1]!))];
}

/**
 * The `ENV` of the image's final stage, with `ARG` defaults substituted (the Dockerfile sets
 * `TEMPORAL_CLOUD_UI` from a build argument that defaults to "false").
 */
export function imageEnv(dockerfile: string): Record<string, string> {
    const stages = dockerfile.split(/^FROM\s/m);
    const last = stages[stages.length - 1] ?? "";
    const args: Record<string, string> = {};
    const env: Record<string, string> = {};
    const unquote = (v: string) => v.trim().replace(/^"(.*)"$/, "$1");
    for (const line of last.split("\n")) {
        const arg = /^ARG\s+(\w+)(?:=(.*))?$/.exec(line.trim());
        if (arg) args[arg[1]!] = unquote(arg[2] ?? "");
        const e = /^ENV\s+(\w+)[=\s](.*)$/.exec(line.trim());
        if (e) env[e[1]!] = unquote(e[2]!).replace(/\$\{?(\w+)\}?/g, (_m, name: string) => args[name] ?? env[name] ?? "");
    }
    return env;
}

type Values = Record<string, unknown>;

export interface UiServerOptions {
    /** `127.0.0.1:<port>` the UI dials as the frontend (`frontend` substitution). */
    frontendAddress: string;
    /** The local OpenID provider's origin (`provider` substitution). */
    providerOrigin: string;
    /** PEM of the CA that signs the provider's certificate (`trust` substitution). */
    trustPem: string;
    /** How long to wait for /healthz (default 60 s). */
    readyTimeoutMs?: number;
    /** Replaces the release's values before rendering (the tests of mistakes and of what the UI ignores). */
    values?: (values: Values) => Values;
}

export interface TemporalUiServer {
    plan: PlannedStack;
    container: WebContainer;
    /** The container's environment as the release gives it (image ENV, envFrom Secret, env), Secret values included. */
    releasedEnv: Record<string, string>;
    /** What the process runs with. */
    env: Record<string, string>;
    /** `http://127.0.0.1:<port>`: what the Service (and the Ingress behind it) reaches. */
    url: string;
    port: number;
    pid: number;
    dir: string;
    /** Milliseconds from spawn until /healthz answered. */
    startMs: number;
    /** Output so far (the UI server logs requests and auth events as text lines). */
    log(): string;
    logMark(): number;
    logSince(mark: number): string[];
    stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class UiServerExitedError extends Error {
    constructor(
        readonly code: number | null,
        readonly logTail: string,
    ) {
        super(`the Temporal UI server exited with code ${String(code)} before it answered:\n${logTail}`);
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startUiServer(plan: PlannedStack, options: UiServerOptions): Promise<TemporalUiServer> {
    const binary = (await goBinary(UPSTREAM_BINARIES.temporalUiServer)).path;
    const module = uiServerModule();
    const container = webContainer(options.values ? options.values(structuredClone(plan.values)) : plan.values, plan.release);
    const secret = (name: string) => {
        const data = plan.secrets[`${plan.release.namespace}/${name}`];
        if (!data) throw new Error(`the web Deployment uses Secret ${plan.release.namespace}/${name}, which the plan does not create`);
        return data;
    };
    const releasedEnv = { ...imageEnv(readFileSync(join(module.dir, "Dockerfile"), "utf8")), ...resolveContainerEnv(container, secret) };

    const dir = mkdtempSync(join(tmpdir(), "temporal-ui-"));
    let child: ChildProcess | undefined;
    try {
        const mountRoots = writeSecretMounts(join(dir, "volumes"), container.mounts, secret).roots;
        mkdirSync(join(dir, "config"));
        writeFileSync(join(dir, "config", "docker.yaml"), dockerConfigTemplate(module.dir));
        // Loaded before docker.yaml, which never sets `host`: the only key it adds (the `port` substitution).
        writeFileSync(join(dir, "config", "base.yaml"), "host: 127.0.0.1\n");
        const trustFile = join(dir, "provider-ca.pem");
        writeFileSync(trustFile, options.trustPem);

        const port = await freePort();
        const env = {
            ...substituteUiEnv(releasedEnv, { frontendAddress: options.frontendAddress, providerOrigin: options.providerOrigin, mountRoots, port, trustFile }),
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: dir,
        };

        const lines: string[] = [];
        let partial = "";
        const onData = (d: Buffer) => {
            const parts = (partial + d.toString()).split("\n");
            partial = parts.pop() ?? "";
            lines.push(...parts);
        };
        const tail = () => [...lines, partial].slice(-30).join("\n");

        const started = Date.now();
        const current = spawnOwned(binary, ["--env", "docker", "start"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
        child = current;
        let exited: number | null | undefined;
        current.once("exit", (code) => (exited = code));
        current.stdout?.on("data", onData);
        current.stderr?.on("data", onData);

        const url = `http://127.0.0.1:${port}`;
        const deadline = started + (options.readyTimeoutMs ?? 60_000);
        for (;;) {
            if (exited !== undefined) throw new UiServerExitedError(exited, tail());
            if (Date.now() > deadline) throw new Error(`the Temporal UI server did not answer ${url}${container.readinessPath ?? "/healthz"} within ${options.readyTimeoutMs ?? 60_000} ms:\n${tail()}`);
            const ok = await fetch(`${url}${container.readinessPath ?? "/healthz"}`).then(
                (r) => r.ok,
                () => false,
            );
            if (ok) break;
            await sleep(200);
        }
        const startMs = Date.now() - started;
        return {
            plan,
            container,
            releasedEnv,
            env,
            url,
            port,
            pid: current.pid ?? 0,
            dir,
            startMs,
            log: () => [...lines, partial].join("\n"),
            logMark: () => lines.length,
            logSince: (mark) => lines.slice(mark),
            stop: async () => {
                const result = await stopOwned(current, 10_000);
                rmSync(dir, { recursive: true, force: true });
                return result;
            },
        };
    } catch (err) {
        if (child) await stopOwned(child, 5_000);
        rmSync(dir, { recursive: true, force: true });
        throw err;
    }
}
