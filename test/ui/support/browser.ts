import type { ChildProcess } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { spawnOwned, stopOwned } from "../../upstream/process";

/**
 * The one place the tests start and stop a browser: Debian's Chromium (`apt-get install chromium`,
 * never a browser a test tool downloads), headless, started under `spawnOwned` so the kernel kills
 * it when the test process dies, whatever kills that, and driven by playwright-core over the
 * DevTools protocol. Playwright's own `launch()` starts the browser detached in its own process
 * group and kills it only from an exit handler, which a SIGKILLed test run never runs.
 */

export const CHROMIUM = "/usr/bin/chromium";

/** The flags Chromium needs on these machines (no sandbox as root, no GPU, and no background traffic to Google on a closed network). */
export const CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
] as const;

/** Skip message outside CI when Chromium is missing; under CI=true a missing Chromium fails the run. */
export function browserSkipReason(): string | undefined {
    if (existsSync(CHROMIUM)) return undefined;
    const missing = `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (Debian's package; .ci/run installs it)`;
    if (process.env.CI === "true") throw new Error(`CI=true and ${missing}`);
    return missing;
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of a certificate: what `--ignore-certificate-errors-spki-list` takes. */
export function spkiHash(certPem: string): string {
    const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
    return createHash("sha256").update(spki).digest("base64");
}

export interface BrowserOptions {
    /** Host names the browser resolves to a loopback port (`host` → `127.0.0.1:<port>`), as DNS would resolve them to the cluster. */
    hosts: Record<string, number>;
    /** Certificates (PEM) the browser accepts beyond its own trust store, matched by public key. */
    trust: string[];
}

export interface TestBrowser {
    browser: Browser;
    /** Of the Chromium process. */
    pid: number;
    userDataDir: string;
    close(): Promise<void>;
}

export async function startBrowser(options: BrowserOptions): Promise<TestBrowser> {
    const userDataDir = mkdtempSync(join(tmpdir(), "temporal-ui-chromium-"));
    const rules = Object.entries(options.hosts).map(([host, port]) => `MAP ${host} 127.0.0.1:${port}`);
    const args = [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${userDataDir}`,
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        ...(rules.length ? [`--host-resolver-rules=${rules.join(", ")}`] : []),
        ...(options.trust.length ? [`--ignore-certificate-errors-spki-list=${options.trust.map(spkiHash).join(",")}`] : []),
        "about:blank",
    ];
    let child: ChildProcess | undefined;
    try {
        child = spawnOwned(CHROMIUM, args, { stdio: ["ignore", "ignore", "pipe"] });
        const current = child;
        const endpoint = await new Promise<string>((resolve, reject) => {
            let err = "";
            const timer = setTimeout(() => reject(new Error(`Chromium did not open its DevTools endpoint within 30 s:\n${err.slice(-2000)}`)), 30_000);
            current.stderr?.on("data", (d: Buffer) => {
                err += d.toString();
                const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
                if (m?.[1]) {
                    clearTimeout(timer);
                    resolve(m[1]);
                }
            });
            current.once("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`Chromium exited with code ${String(code)} before it opened its DevTools endpoint:\n${err.slice(-2000)}`));
            });
        });
        const browser = await chromium.connectOverCDP(endpoint);
        return {
            browser,
            pid: current.pid ?? 0,
            userDataDir,
            close: async () => {
                await browser.close().catch(() => undefined);
                await stopOwned(current, 5_000);
                rmSync(userDataDir, { recursive: true, force: true });
            },
        };
    } catch (err) {
        if (child) await stopOwned(child, 2_000);
        rmSync(userDataDir, { recursive: true, force: true });
        throw err;
    }
}

// `node --import tsx browser.ts`: starts a browser, prints `READY <pid> <user data dir>`, and waits
// to be killed (the test that nothing outlives a killed test process).
if (require.main === module) {
    startBrowser({ hosts: {}, trust: [] }).then(
        (b) => process.stdout.write(`READY ${b.pid} ${b.userDataDir}\n`),
        (err: unknown) => {
            process.stderr.write(`${String(err)}\n`);
            process.exit(1);
        },
    );
}
