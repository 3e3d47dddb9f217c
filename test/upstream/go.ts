import { createHash } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";

/**
 * The Go side of the test suite: upstream Temporal code (the server, its authorization package, the
 * UI server) comes in as Go modules pinned by this folder's go.mod and go.sum, and is built here into
 * binaries cached OUTSIDE git, keyed by what decides their bytes (go.mod, go.sum, the Go version and
 * any local source of the package). Only a change of pins, of local source or of Go rebuilds one.
 */

/** This folder: the Go module `temporal-azure/test/upstream`. */
export const UPSTREAM_MODULE_DIR = __dirname;

/** The Go version the module needs at least (its go.mod's `go` line, which the server module sets). */
export const MIN_GO = "1.26";

/** Where binaries are cached: `$TEMPORAL_AZURE_CACHE` or `$XDG_CACHE_HOME/temporal-azure` or `~/.cache/temporal-azure`. */
export function cacheDir(): string {
    const base = process.env.TEMPORAL_AZURE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "temporal-azure");
    return join(base, "go-bin");
}

export interface GoToolchain {
    /** `go version` output, e.g. "go version go1.26.8 linux/amd64". */
    version: string;
}

/** The Go toolchain on PATH, or a sentence saying what is missing. */
export function findGo(): GoToolchain | { missing: string } {
    const r = spawnSync("go", ["version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
        return { missing: `Go ${MIN_GO}+ is not installed (\`go version\` failed: ${r.error?.message ?? r.stderr.trim()}); install it from https://go.dev/dl/ and make sure \`go\` is on PATH` };
    }
    const version = r.stdout.trim();
    const m = /go(\d+)\.(\d+)/.exec(version);
    const [wantMajor, wantMinor] = MIN_GO.split(".").map(Number) as [number, number];
    if (!m || Number(m[1]) < wantMajor || (Number(m[1]) === wantMajor && Number(m[2]) < wantMinor)) {
        return { missing: `${version} is older than Go ${MIN_GO}, which go.temporal.io/server v1.31.2 needs: install Go ${MIN_GO}+ from https://go.dev/dl/` };
    }
    return { version };
}

/**
 * What a test that needs Go does without it: under `CI=true` it fails (CI installs Go, so a missing
 * toolchain is a broken machine, never a reason to skip); elsewhere it is skipped with a message
 * that says what to install. Returns the skip message, or undefined when Go is there.
 */
export function goSkipReason(): string | undefined {
    const go = findGo();
    if (!("missing" in go)) return undefined;
    if (process.env.CI === "true") throw new Error(`CI=true and ${go.missing}`);
    return go.missing;
}

export interface GoBinarySpec {
    /** File name of the binary in the cache, e.g. "temporal-server". */
    name: string;
    /** What `go build` builds: a package path of a required module ("go.temporal.io/server/cmd/server") or a local one ("./oracle"). */
    pkg: string;
    /** Extra `go build` flags (e.g. `-tags`); part of the cache key. */
    flags?: string[];
    /** The Go module to build in (default: this folder). A tool whose dependencies would move the server's versions gets a module of its own. */
    moduleDir?: string;
}

function localSources(moduleDir: string, pkg: string): string[] {
    if (!pkg.startsWith("./")) return [];
    const dir = join(moduleDir, pkg);
    const files: string[] = [];
    const walk = (d: string): void => {
        for (const entry of readdirSync(d).sort()) {
            const p = join(d, entry);
            if (statSync(p).isDirectory()) walk(p);
            else if (entry.endsWith(".go")) files.push(p);
        }
    };
    walk(dir);
    return files;
}

/** The cache key of a binary: the pins, the Go version, the flags and any local source. */
export function binaryKey(spec: GoBinarySpec, goVersion: string): string {
    const h = createHash("sha256");
    const moduleDir = spec.moduleDir ?? UPSTREAM_MODULE_DIR;
    h.update(`${goVersion}\n${spec.pkg}\n${(spec.flags ?? []).join(" ")}\n`);
    for (const f of ["go.mod", "go.sum"]) h.update(readFileSync(join(moduleDir, f)));
    for (const f of localSources(moduleDir, spec.pkg)) h.update(`${relative(moduleDir, f)}\n`).update(readFileSync(f));
    return h.digest("hex").slice(0, 16);
}

export interface BuiltBinary {
    path: string;
    /** True when this call compiled it (false: taken from the cache). */
    built: boolean;
    /** Wall time of the build in milliseconds (0 when cached). */
    ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes an exclusive lock file (several test processes may want the same binary at once); stale locks of dead processes are broken. */
async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
        try {
            const fd = openSync(lockPath, "wx");
            writeSync(fd, String(process.pid));
            closeSync(fd);
            break;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            const holder = Number(readFileSync(lockPath, "utf8") || "0");
            let alive = holder > 0;
            try {
                if (alive) process.kill(holder, 0);
            } catch {
                alive = false;
            }
            if (!alive && Date.now() - statSync(lockPath).mtimeMs > 2000) rmSync(lockPath, { force: true });
            else await sleep(500);
        }
    }
    try {
        return await fn();
    } finally {
        rmSync(lockPath, { force: true });
    }
}

/**
 * The cached binary for `spec`, built first when the cache has none for the current key. A long
 * build prints a progress line every 30 s on stderr (`log`), so a cold CI run is never silent.
 */
export async function goBinary(spec: GoBinarySpec, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<BuiltBinary> {
    const go = findGo();
    if ("missing" in go) throw new Error(go.missing);
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${spec.name}-${binaryKey(spec, go.version)}`);
    if (existsSync(path)) return { path, built: false, ms: 0 };
    return withLock(`${path}.lock`, async () => {
        if (existsSync(path)) return { path, built: false, ms: 0 };
        const tmp = `${path}.tmp-${process.pid}`;
        const started = Date.now();
        log(`go: building ${spec.name} (${spec.pkg}) into ${dir}; a cold build of the Temporal server takes minutes on 2 cores`);
        const child = spawn("go", ["build", "-trimpath", "-mod=readonly", "-buildvcs=false", ...(spec.flags ?? []), "-o", tmp, spec.pkg], {
            cwd: spec.moduleDir ?? UPSTREAM_MODULE_DIR,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        const timer = setInterval(() => log(`go: still building ${spec.name} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
        const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
        clearInterval(timer);
        if (code !== 0) {
            if (existsSync(tmp)) unlinkSync(tmp);
            throw new Error(`go build ${spec.pkg} failed (exit ${code}):\n${output.trim()}`);
        }
        renameSync(tmp, path);
        const ms = Date.now() - started;
        log(`go: built ${spec.name} in ${(ms / 1000).toFixed(1)} s`);
        return { path, built: true, ms };
    });
}
