import type { TlsMaterial } from "./certificates";
import { EXIT } from "./errors";
import { checkKeyIsolation, type JwksFetch, type KeyIsolation } from "./key-isolation";
import { describeClaims, predictForToken, type ClaimMapperFactory } from "./predict";
import { runProbes, type ProbeDefinition } from "./probe";
import { verdictOf, type LiveReport } from "./report";
import type { StackOutputs } from "./stack-outputs";
import { checkTls } from "./tls-check";

export interface VerifyInput {
    outputs: StackOutputs;
    /** Where the outputs came from, for the report. */
    source: string;
    /** "worker:<name>" or "user". */
    principal: string;
    address: string;
    serverName: string;
    serverNameSource: string;
    namespace: string;
    tls: TlsMaterial;
    token: string;
    tokenVia: string;
    tokenScope?: string;
    probes: readonly ProbeDefinition[];
    /** Namespace-scope probes the principal must be allowed (a worker on its own namespace). */
    expectAllowOnNamespace: boolean;
    timeoutMs?: number;
    claimMapperFactory?: ClaimMapperFactory;
    /** How the key sets are fetched for the key-isolation check (default: HTTP GET). */
    jwksFetch?: JwksFetch;
}

/** The key-isolation check, with a fetch failure reported as a finding of its own (never a pass). */
async function keysOf(jwksUrl: string, fetchDoc: JwksFetch | undefined): Promise<KeyIsolation & { error?: boolean }> {
    try {
        return await checkKeyIsolation(jwksUrl, fetchDoc);
    } catch (err) {
        return { ok: false, error: true, trusted: [], shared: [], message: `could not compare the server's key set with the tenant-wide one: ${(err as Error).message}` };
    }
}

/**
 * Asks the validator what the frontend will decide for the token, then asks the frontend: a TLS
 * handshake first (so a transport problem is reported as one, never as a mismatch), then each probe
 * through `@temporalio/client`.
 */
export async function verifyLive(input: VerifyInput): Promise<LiveReport> {
    const timeoutMs = input.timeoutMs ?? 10_000;
    const [prediction, keys] = await Promise.all([predictForToken(input.token, input.outputs, input.claimMapperFactory), keysOf(input.outputs.jwksUrl, input.jwksFetch)]);
    const report: LiveReport = {
        source: input.source,
        principal: input.principal,
        target: { address: input.address, serverName: input.serverName, namespace: input.namespace, tlsSource: input.tls.source },
        token: { via: input.tokenVia },
        tls: { ok: false, kind: "handshake", message: "not attempted" },
        keys: { ok: keys.ok, message: keys.message, trusted: keys.trusted, shared: keys.shared },
        probes: [],
        verdict: { exitCode: EXIT.setup, summary: "", problems: [] },
    };
    if (input.tls.clientCertificate) {
        const c = input.tls.clientCertificate;
        report.target.clientCertificate = `${c.subject}, issued by ${c.issuer}, valid until ${c.validTo}`;
    }
    if (input.tokenScope) report.token.scope = input.tokenScope;
    if (prediction.claims) {
        report.token.subject = prediction.claims.subject;
        report.token.roles = describeClaims(prediction.claims);
    }
    if (prediction.rejected) report.token.rejected = prediction.rejected;
    if (prediction.advice.length > 0) report.token.advice = prediction.advice;

    report.tls = await checkTls(
        { address: input.address, serverName: input.serverName, serverNameSource: input.serverNameSource, tls: input.tls },
        Math.min(timeoutMs, 5000),
    );
    if (report.tls.ok) {
        try {
            report.probes = await runProbes(
                { address: input.address, serverName: input.serverName, tls: input.tls, token: input.token, namespace: input.namespace },
                {
                    probes: input.probes,
                    predict: prediction.decide,
                    expect: (probe) => (input.expectAllowOnNamespace && probe.scope === "namespace" && probe.access !== "admin" ? "allow" : undefined),
                    timeoutMs,
                },
            );
        } catch (err) {
            // TLS worked a moment ago, so the gRPC layer (GetSystemInfo) failed: no verdict.
            report.verdict = {
                exitCode: EXIT.setup,
                summary: "no verdict: the Temporal client could not connect although TLS works",
                problems: [`Connection.connect to ${input.address} failed: ${(err as Error).message}`],
            };
            return report;
        }
    }
    report.verdict = verdictOf(report.tls, report.probes, input.principal);
    if (!keys.ok) {
        report.verdict.problems.push(`KEYS ${keys.message}`);
        if (report.verdict.exitCode === EXIT.ok) {
            report.verdict = {
                exitCode: keys.error ? EXIT.setup : EXIT.mismatch,
                summary: keys.error ? "no verdict on the server's keys: the key sets could not be fetched" : "the server trusts keys that also sign other applications' tokens",
                problems: report.verdict.problems,
            };
        }
    }
    return report;
}
