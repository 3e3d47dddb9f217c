import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { browserSkipReason, CHROMIUM_FLAGS } from "./support/browser";

/**
 * The browser dies with the test process, whatever kills it: a test process that started
 * Chromium is SIGKILLed (no exit handler runs), and within seconds no process of that browser is
 * left (its main process under setpriv's parent-death signal; its zygotes, renderers and utility
 * processes end with it).
 */

const skip = browserSkipReason();

/** Pids whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
    return readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .filter((pid) => {
            try {
                return readFileSync(join("/proc", pid, "cmdline"), "utf8").includes(needle);
            } catch {
                return false;
            }
        })
        .map(Number);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the test browser", { skip }, () => {
    it("runs Debian's Chromium with the machine's flags, and leaves no process behind when the test process is killed", async () => {
        const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "support", "browser.ts")], { stdio: ["ignore", "pipe", "pipe"] });
        const ready = await new Promise<string>((resolve, reject) => {
            let out = "";
            let err = "";
            child.stdout.on("data", (d: Buffer) => {
                out += d.toString();
                const line = /READY \d+ \S+/.exec(out)?.[0];
                if (line) resolve(line);
            });
            child.stderr.on("data", (d: Buffer) => (err += d.toString()));
            child.once("exit", (code) => reject(new Error(`the browser process exited (${String(code)}): ${err}`)));
        });
        const [, pid, userDataDir] = ready.split(" ") as [string, string, string];
        try {
            const running = processesWith(userDataDir);
            assert.ok(running.includes(Number(pid)), "Chromium runs with its own user data dir");
            const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
            for (const flag of CHROMIUM_FLAGS) assert.ok(cmdline.includes(flag), `${flag} is on Chromium's command line`);
            child.kill("SIGKILL");
            let left = running;
            for (let i = 0; i < 50 && left.length > 0; i++) {
                await sleep(100);
                left = processesWith(userDataDir);
            }
            assert.deepEqual(left, [], `processes of the killed test's browser: ${left.join(", ")}`);
        } finally {
            child.kill("SIGKILL");
            rmSync(userDataDir, { recursive: true, force: true });
        }
    });
});
