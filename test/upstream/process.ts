import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";

/**
 * Child processes the tests own (the server, the UI server, the oracle, the browser). Each is started
 * under `setpriv --pdeathsig SIGKILL` (util-linux), so the kernel kills it the moment the test
 * process dies, even by SIGKILL or a crash, where no exit handler runs. On a normal exit, and on
 * SIGINT/SIGTERM, every child still running is killed here. Written by hand because no maintained
 * npm package sets the parent-death signal; `setpriv` does, and it ships with every Debian.
 */

const owned = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
    for (const child of owned) {
        try {
            child.kill("SIGKILL");
        } catch {
            // already gone
        }
    }
    owned.clear();
}

function hookExit(): void {
    if (hooked) return;
    hooked = true;
    process.on("exit", killAll);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(signal, () => {
            killAll();
            process.kill(process.pid, signal);
        });
    }
}

let setprivChecked: boolean | undefined;
function hasSetpriv(): boolean {
    if (setprivChecked === undefined) {
        const r = spawnSync("setpriv", ["--pdeathsig", "SIGKILL", "true"], { stdio: "ignore" });
        setprivChecked = !r.error && r.status === 0;
    }
    return setprivChecked;
}

/**
 * Starts `command` as a child that cannot outlive this process. Throws when `setpriv` is missing
 * (install util-linux): without it a killed test run would leave the process behind.
 */
export function spawnOwned(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (!hasSetpriv()) throw new Error("setpriv (util-linux) is not on PATH: it makes the kernel kill test servers when the test process dies; install util-linux");
    hookExit();
    const child = spawn("setpriv", ["--pdeathsig", "SIGKILL", "--", command, ...args], { stdio: ["pipe", "pipe", "pipe"], ...options });
    owned.add(child);
    child.once("exit", () => owned.delete(child));
    return child;
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`; resolves with its exit code or signal once it is gone. */
export async function stopOwned(child: ChildProcess, graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const result = await exited;
    clearTimeout(timer);
    owned.delete(child);
    return result;
}

/** Pids of the children this process still owns (tests assert it is empty at the end). */
export function ownedPids(): number[] {
    return [...owned].map((c) => c.pid).filter((p): p is number => p !== undefined);
}
