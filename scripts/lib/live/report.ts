import { EXIT } from "./errors";
import type { ProbeResult } from "./probe";
import type { KeyIsolation } from "./key-isolation";
import type { TlsCheck } from "./tls-check";

/** Everything `verify-live` found, as printed with `--json`. Holds no token and no key. */
export interface LiveReport {
    /** Where the stack outputs came from (stack name or file). */
    source: string;
    principal: string;
    target: { address: string; serverName: string; namespace: string; tlsSource: string; clientCertificate?: string };
    token: {
        via: string;
        scope?: string;
        subject?: string;
        /** Roles as the server's mapper files them. */
        roles?: string;
        rejected?: { code: string; message: string };
        /** The validator's findings about the token's roles and its other notes. */
        advice?: string[];
    };
    tls: TlsCheck;
    /** Whether the JWKS the server trusts holds only the API's own keys (none of Entra's shared ones). */
    keys: KeyIsolation;
    probes: ProbeResult[];
    verdict: Verdict;
}

export interface Verdict {
    exitCode: (typeof EXIT)[keyof typeof EXIT];
    summary: string;
    /** One line per thing to fix, naming the probe. */
    problems: string[];
}

/** "deny: <the validator's sentence>" — its reason already starts with the decision. */
const because = (p: ProbeResult) => (p.predicted.reason.startsWith(`${p.predicted.decision}: `) ? p.predicted.reason : `${p.predicted.decision}: ${p.predicted.reason}`);

const where = (p: ProbeResult) => (p.scope === "cluster" ? "(cluster)" : `on "${p.namespace}"`);

export function verdictOf(tls: TlsCheck, probes: ProbeResult[], principal: string): Verdict {
    if (!tls.ok) return { exitCode: EXIT.setup, summary: `no verdict: TLS with the frontend failed (${tls.kind})`, problems: [tls.message] };
    const problems: string[] = [];
    const allowedDenials = probes.filter((p) => !p.match && p.predicted.decision === "deny" && p.observed.decision === "allow");
    const deniedAllowances = probes.filter((p) => !p.match && p.predicted.decision === "allow" && p.observed.decision === "deny");
    const unanswered = probes.filter((p) => p.observed.decision === "error");
    const starved = probes.filter((p) => p.expected === "allow" && p.observed.decision === "deny");

    for (const p of allowedDenials) {
        problems.push(`MISMATCH ${p.name} ${where(p)}: the frontend allowed it (${p.observed.status}), but the validator predicts ${because(p)}`);
    }
    if (allowedDenials.length > 0) {
        const predictedDenials = probes.filter((p) => p.predicted.decision === "deny").length;
        problems.push(
            (allowedDenials.length === predictedDenials ? "Authorization looks OFF on this frontend: it allowed every call its authorizer would deny. " : "The frontend allows more than its authorizer would. ") +
                'Set global.authorization.authorizer and claimMapper to "default" (env TEMPORAL_AUTH_AUTHORIZER, TEMPORAL_AUTH_CLAIM_MAPPER): empty means allow everything, or everyone is system admin.',
        );
    }
    for (const p of deniedAllowances) {
        problems.push(`MISMATCH ${p.name} ${where(p)}: the frontend denied it (${p.observed.status} "${p.observed.message}"), but the validator predicts ${because(p)}`);
    }
    if (deniedAllowances.length > 0) {
        problems.push(
            "The frontend is stricter than the validator: its reason is only in its log. Compare its global.authorization (permissionsClaimName roles, audience, " +
                "jwtKeyProvider.keySourceURIs) with the stack's outputs; a JWKS refreshed only on a timer also denies a newly rolled key until the next refresh.",
        );
    }
    const starvedMatches = starved.filter((p) => p.match);
    for (const p of starvedMatches) {
        problems.push(`DENIED ${p.name} ${where(p)}: ${principal} needs ${p.access} there; the frontend refuses it and the validator agrees: ${p.predicted.reason.replace(/^deny: /, "")}`);
    }
    const writeNamespace = starvedMatches[0]?.namespace;
    if (writeNamespace !== undefined) {
        problems.push(`A worker polls and completes tasks with Write (which includes read): grant "${writeNamespace}:write" to ${principal} in the stack's access map (access.grants).`);
    }
    for (const p of unanswered) problems.push(`NO ANSWER ${p.name} ${where(p)}: ${p.observed.status} ${p.observed.message}`);

    const n = probes.length;
    if (allowedDenials.length + deniedAllowances.length > 0) {
        const names = [...allowedDenials, ...deniedAllowances].map((p) => p.name).join(", ");
        return { exitCode: EXIT.mismatch, summary: `${allowedDenials.length + deniedAllowances.length} of ${n} probes disagree with the validator: ${names}`, problems };
    }
    if (starved.length > 0) return { exitCode: EXIT.mismatch, summary: `${principal} is denied calls it needs: ${starved.map((p) => p.name).join(", ")}`, problems };
    if (unanswered.length > 0) return { exitCode: EXIT.setup, summary: `no verdict for ${unanswered.map((p) => p.name).join(", ")}`, problems };
    return { exitCode: EXIT.ok, summary: `all ${n} probes match the validator's prediction`, problems };
}

function table(rows: string[][]): string[] {
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
    return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}

export function formatReport(report: LiveReport): string {
    const { target, token, tls } = report;
    const lines = [
        `verify-live ${report.principal} -> ${target.address} (server name ${target.serverName}), outputs from ${report.source}`,
        `  namespace    ${target.namespace}`,
        `  token        ${token.via}${token.scope ? `, scope ${token.scope}` : ""}`,
        token.rejected
            ? `  claims       REJECTED by the claim mapper (${token.rejected.code}): ${token.rejected.message}`
            : `  claims       subject ${token.subject ?? "?"}; ${token.roles ?? ""}`,
        ...(token.advice ?? []).map((a) => `  note         ${a}`),
        `  client cert  ${target.clientCertificate ?? "none"} (${target.tlsSource})`,
        tls.ok
            ? `  tls          ok, ${tls.protocol}; frontend certificate ${tls.serverCertificate.subject}, issued by ${tls.serverCertificate.issuer}, valid until ${tls.serverCertificate.validTo}`
            : `  tls          FAILED (${tls.kind}): ${tls.message}`,
        `  keys         ${report.keys.ok ? "ok" : "PROBLEM"}: ${report.keys.message}`,
    ];
    if (report.probes.length > 0) {
        const rows = [["probe", "needs", "where", "predicted", "observed", ""]];
        for (const p of report.probes) {
            const flag = !p.match ? "MISMATCH" : p.expected === "allow" && p.observed.decision !== "allow" ? "DENIED (needed)" : "match";
            rows.push([p.name, p.access, p.scope === "cluster" ? "cluster" : p.namespace, p.predicted.decision, `${p.observed.decision} (${p.observed.status})`, flag]);
        }
        lines.push("", ...table(rows).map((l) => `  ${l}`));
        const notes = report.probes.filter((p) => p.note).map((p) => `  note: ${p.name}: ${p.note}`);
        lines.push(...notes);
    }
    lines.push("", `result: ${report.verdict.summary}`);
    lines.push(...report.verdict.problems.map((p) => `  - ${p}`));
    return `${lines.join("\n")}\n`;
}
