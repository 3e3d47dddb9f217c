import { createInterface } from "node:readline";
import type { ChildProcess } from "node:child_process";
import { UPSTREAM_BINARIES } from "./binaries";
import { goBinary } from "./go";
import { spawnOwned, stopOwned } from "./process";

/**
 * The one place that starts the authorization oracle (./oracle/main.go): Temporal server v1.31.2's
 * own claim mapper, token key provider, default authorizer and authorization interceptor, answering
 * one call per JSON line. Tests ask it what the server decides and compare with the validator.
 */

/** One call, as the frontend receives it. */
export interface OracleCall {
    /** The `authorization` header value; absent: no header at all. */
    authorization?: string;
    /** The server's `authorization.audience` (what its audience mapper returns for unary calls). */
    audience?: string;
    permissionsClaimName?: string;
    permissionsRegex?: string;
    /** Full gRPC method path. */
    method: string;
    /** Unary: the request message's namespace field; nexus: the namespace in the URL; ignored for streams. */
    namespace?: string;
    /** Which server path handles the call: the unary interceptor, the stream interceptor, or the Nexus HTTP handlers. */
    call: "unary" | "stream" | "nexus";
    /** Unix seconds for golang-jwt's clock (time claims are judged at this instant). */
    now?: number;
}

export interface OracleAnswer {
    id: number;
    /** "not-called": no header, so the interceptor built no AuthInfo (claims nil). */
    mapper: "accepted" | "rejected" | "not-called";
    /** The server's error text when the mapper rejected the token (what it logs). */
    error?: string;
    /** The audience the interceptor handed the mapper. */
    audienceSeen: string;
    /** The claims' subject, UTF-8 bytes as hex. */
    subjectHex: string;
    system: number;
    /** Namespace keys (UTF-8 bytes as hex, sorted) and their role bits. */
    namespaces: Array<{ hex: string; role: number }>;
    /** Whether the authorizer ran, and the namespace of the call target it was given. */
    authorized: boolean;
    authorizedNamespace: string;
    decision: "allow" | "deny";
    /** False for a gRPC path the frontend does not serve (grpc-go answers Unimplemented before any interceptor). */
    routed: boolean;
}

/** The server's method table and the frontend's gRPC methods, from the server's own code. */
export interface OracleListing {
    table: Array<{ api: string; scope: "Namespace" | "Cluster"; access: "ReadOnly" | "Write" | "Admin" }>;
    grpc: Array<{ api: string; stream: boolean; hasNamespace: boolean }>;
}

export interface Oracle {
    /** Answers in the order of `calls` (written in chunks, so any number of calls is fine). */
    ask(calls: readonly OracleCall[]): Promise<OracleAnswer[]>;
    stop(): Promise<void>;
}

async function oraclePath(): Promise<string> {
    return (await goBinary(UPSTREAM_BINARIES.authorizationOracle)).path;
}

function collectStderr(child: ChildProcess): () => string {
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    return () => stderr.trim();
}

/** Starts the oracle; its key provider fetches `jwksUri` once, at start. */
export async function startOracle(options: { jwksUri: string }): Promise<Oracle> {
    const child = spawnOwned(await oraclePath(), ["-jwks-uri", options.jwksUri]);
    const stderr = collectStderr(child);
    let nextId = 1;
    const pending = new Map<number, (a: OracleAnswer) => void>();
    let failure: Error | undefined;
    const fail = (why: string): void => {
        failure = new Error(`oracle ${why}${stderr() ? `: ${stderr()}` : ""}`);
        for (const resolve of pending.values()) resolve(undefined as unknown as OracleAnswer);
        pending.clear();
    };
    child.once("exit", (code, signal) => fail(`exited (${code ?? signal})`));
    child.stdin?.on("error", () => undefined); // reported through "exit"
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
    lines.on("line", (line) => {
        const answer = JSON.parse(line) as OracleAnswer;
        const resolve = pending.get(answer.id);
        pending.delete(answer.id);
        resolve?.(answer);
    });

    const write = (text: string): Promise<void> =>
        new Promise((resolve) => {
            if (child.stdin?.write(text)) resolve();
            else child.stdin?.once("drain", resolve);
        });

    return {
        async ask(calls) {
            if (failure) throw failure;
            const firstId = nextId;
            nextId += calls.length;
            const answers = calls.map(
                (_, i) =>
                    new Promise<OracleAnswer>((resolve) => {
                        pending.set(firstId + i, resolve);
                    }),
            );
            const chunk: string[] = [];
            let size = 0;
            for (let i = 0; i < calls.length; i++) {
                const line = `${JSON.stringify({ id: firstId + i, ...calls[i] })}\n`;
                chunk.push(line);
                size += line.length;
                if (size > 256 * 1024) {
                    await write(chunk.join(""));
                    chunk.length = 0;
                    size = 0;
                }
            }
            if (chunk.length) await write(chunk.join(""));
            const result = await Promise.all(answers);
            if (failure) throw failure;
            return result;
        },
        async stop() {
            // End of input ends the oracle; it is killed only if it does not exit by itself.
            const exited = new Promise<number | null>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
                else child.once("exit", (code) => resolve(code));
            });
            child.stdin?.end();
            const timer = setTimeout(() => void stopOwned(child, 1_000), 5_000);
            const code = await exited;
            clearTimeout(timer);
            if (code !== 0) throw new Error(`oracle exited with ${code ?? "a signal"}: ${stderr()}`);
        },
    };
}

/** `oracle -list`: the server's method table (through its GetMethodMetadata) and the frontend's gRPC methods. */
export async function oracleListing(): Promise<OracleListing> {
    const child = spawnOwned(await oraclePath(), ["-list"]);
    child.stdin?.end();
    const stderr = collectStderr(child);
    let stdout = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    if (code !== 0) throw new Error(`oracle -list exited with ${code}: ${stderr()}`);
    return JSON.parse(stdout) as OracleListing;
}
