import { admit, ClaimsError, createClaimMapper, type ClaimMapper, type KeySource } from "../../policies/claims";
import type { Oracle, OracleAnswer, OracleCall } from "../upstream/oracle";
import type { FidelityCase, MethodInfo } from "./generate";
import { NOW } from "./generate";
import { renderAuthorization, type FidelityKeys } from "./tokens";

/**
 * One case through both sides, and what they disagree on: whether the token is accepted, the
 * claims (subject, system role, every namespace key byte for byte and its role), the namespace the
 * authorizer is asked about, and the decision.
 */

export interface ValidatorVerdict {
    /** The frontend serves the method (false: Unimplemented, no authorization). */
    routed: boolean;
    mapper: "accepted" | "rejected" | "not-called";
    error?: string;
    subjectHex: string;
    system: number;
    namespaces: Array<{ hex: string; role: number }>;
    authorizedNamespace?: string;
    decision: "allow" | "deny";
    /** The validator refused the settings (a permissionsRegex it cannot reproduce): nothing to compare. */
    refused?: string;
    /** A string the validator produced that is not well-formed UTF-16 (a lone surrogate): never what Go produces. */
    malformed?: string;
}

const LONE_SURROGATE = /\p{Cs}/u;

export interface Sides {
    keys: FidelityKeys;
    foreign: FidelityKeys;
    keySource: KeySource;
    methods: ReadonlyMap<string, MethodInfo>;
}

export class Comparer {
    private readonly mappers = new Map<string, ClaimMapper | string>();

    constructor(private readonly sides: Sides) {}

    /** The oracle's input for a case (how the frontend would receive the call). */
    call(c: FidelityCase): OracleCall {
        const authorization = renderAuthorization(c.spec, this.sides.keys, this.sides.foreign);
        return {
            ...(authorization !== undefined ? { authorization } : {}),
            ...(c.settings.audience !== undefined ? { audience: c.settings.audience } : {}),
            ...(c.settings.permissionsClaimName !== undefined ? { permissionsClaimName: c.settings.permissionsClaimName } : {}),
            ...(c.settings.permissionsRegex !== undefined ? { permissionsRegex: c.settings.permissionsRegex } : {}),
            method: c.method,
            ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
            call: this.sides.methods.get(c.method)?.call ?? "unary",
            now: NOW,
        };
    }

    private mapper(c: FidelityCase): ClaimMapper | string {
        const key = JSON.stringify([c.settings.audience ?? null, c.settings.permissionsClaimName ?? null, c.settings.permissionsRegex ?? null]);
        let m = this.mappers.get(key);
        if (m === undefined) {
            try {
                m = createClaimMapper({
                    keySource: this.sides.keySource,
                    ...(c.settings.audience !== undefined ? { audience: c.settings.audience } : {}),
                    ...(c.settings.permissionsClaimName !== undefined ? { permissionsClaimName: c.settings.permissionsClaimName } : {}),
                    ...(c.settings.permissionsRegex !== undefined ? { permissionsRegex: c.settings.permissionsRegex } : {}),
                    now: () => NOW * 1000,
                });
            } catch (e) {
                if (!(e instanceof ClaimsError) || e.code !== "invalid-options") throw e;
                m = e.message;
            }
            this.mappers.set(key, m);
        }
        return m;
    }

    async validator(c: FidelityCase, call: OracleCall): Promise<ValidatorVerdict> {
        const m = this.mapper(c);
        const none = { subjectHex: "", system: 0, namespaces: [] };
        if (typeof m === "string") return { routed: true, mapper: "not-called", decision: "deny", refused: m, ...none };
        const a = await admit(m, call.authorization, { apiName: c.method, ...(c.namespace !== undefined ? { namespace: c.namespace } : {}) });
        if (a.call === undefined) return { routed: false, mapper: "not-called", decision: "deny", ...none };
        const verdict: ValidatorVerdict = { routed: true, mapper: "not-called", decision: a.decision, authorizedNamespace: a.namespace, ...none };
        if (a.error) return { ...verdict, mapper: "rejected", error: `${a.error.code}: ${a.error.message}` };
        if (!a.claims) return verdict;
        const strings = [a.claims.subject, ...Object.keys(a.claims.namespaces)];
        const malformed = strings.find((s) => LONE_SURROGATE.test(s));
        const hex = (s: string): string => Buffer.from(s, "utf8").toString("hex");
        return {
            ...verdict,
            mapper: "accepted",
            subjectHex: hex(a.claims.subject),
            system: a.claims.system,
            namespaces: Object.entries(a.claims.namespaces)
                .map(([ns, role]) => ({ hex: hex(ns), role }))
                .sort((x, y) => (x.hex < y.hex ? -1 : x.hex > y.hex ? 1 : 0)),
            ...(malformed !== undefined ? { malformed: JSON.stringify(malformed) } : {}),
        };
    }
}

/** What differs between the server and the validator; empty when they agree. */
export function differences(server: OracleAnswer, mine: ValidatorVerdict): string[] {
    const out: string[] = [];
    if (mine.refused) return out;
    if (server.routed !== mine.routed) out.push(`routed: server ${server.routed}, validator ${mine.routed}`);
    if (server.mapper !== mine.mapper) out.push(`claim mapper: server ${server.mapper}${server.error ? ` (${server.error})` : ""}, validator ${mine.mapper}${mine.error ? ` (${mine.error})` : ""}`);
    if (server.mapper === "accepted" && mine.mapper === "accepted") {
        if (mine.malformed) out.push(`validator string with a lone surrogate: ${mine.malformed}`);
        if (server.subjectHex !== mine.subjectHex) out.push(`subject: server ${server.subjectHex}, validator ${mine.subjectHex}`);
        if (server.system !== mine.system) out.push(`system role: server ${server.system}, validator ${mine.system}`);
        const s = JSON.stringify(server.namespaces);
        const v = JSON.stringify(mine.namespaces);
        if (s !== v) out.push(`namespaces: server ${s.slice(0, 600)}, validator ${v.slice(0, 600)}`);
    }
    if (server.authorized && mine.authorizedNamespace !== undefined && server.authorizedNamespace !== mine.authorizedNamespace) {
        out.push(`namespace authorized: server ${JSON.stringify(server.authorizedNamespace)}, validator ${JSON.stringify(mine.authorizedNamespace)}`);
    }
    if (server.decision !== mine.decision) out.push(`decision: server ${server.decision}, validator ${mine.decision}`);
    return out;
}

export interface Disagreement {
    case: FidelityCase;
    differences: string[];
    server: OracleAnswer;
}

/** Runs cases through both sides (oracle in one batch) and returns the disagreements and the refusals. */
export async function compareAll(
    comparer: Comparer,
    oracle: Oracle,
    cases: readonly FidelityCase[],
): Promise<{ disagreements: Disagreement[]; refused: number; answers: OracleAnswer[]; verdicts: ValidatorVerdict[] }> {
    const calls = cases.map((c) => comparer.call(c));
    // The oracle (another process, the other core) works while the validator does.
    const asked = oracle.ask(calls);
    const verdicts: ValidatorVerdict[] = [];
    for (let i = 0; i < cases.length; i++) {
        verdicts.push(await comparer.validator(cases[i] as FidelityCase, calls[i] as OracleCall));
        // Let the event loop feed the oracle's stdin now and then.
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    const answers = await asked;
    const disagreements: Disagreement[] = [];
    let refused = 0;
    for (let i = 0; i < cases.length; i++) {
        const c = cases[i] as FidelityCase;
        const server = answers[i] as OracleAnswer;
        const mine = verdicts[i] as ValidatorVerdict;
        if (mine.refused) refused++;
        const diff = differences(server, mine);
        if (diff.length) disagreements.push({ case: c, differences: diff, server });
    }
    return { disagreements, refused, answers, verdicts };
}

/** Smaller variants of a case, for minimizing a disagreement. */
function* shrink(c: FidelityCase): Generator<FidelityCase> {
    const clone = (): FidelityCase => JSON.parse(JSON.stringify(c)) as FidelityCase;
    for (const k of ["audience", "permissionsClaimName", "permissionsRegex"] as const) {
        if (c.settings[k] !== undefined) {
            const x = clone();
            delete x.settings[k];
            yield x;
        }
    }
    for (const k of ["headerOps", "payloadOps", "signatureOps"] as const) {
        const ops = c.spec[k];
        if (ops?.length) {
            for (let i = 0; i < ops.length; i++) {
                const x = clone();
                (x.spec[k] as unknown[]).splice(i, 1);
                if ((x.spec[k] as unknown[]).length === 0) delete x.spec[k];
                yield x;
            }
        }
    }
    if (c.spec.template !== undefined && c.spec.template !== null) {
        const x = clone();
        delete x.spec.template;
        yield x;
    }
    if (c.method !== "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace") yield { ...clone(), method: "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace" };
    for (const seg of ["payload", "header"] as const) {
        const bytes = c.spec[seg];
        if ("json" in bytes && bytes.json && typeof bytes.json === "object") {
            const obj = bytes.json as Record<string, unknown>;
            if (Array.isArray(obj)) continue;
            for (const key of Object.keys(obj)) {
                const x = clone();
                delete (x.spec[seg] as { json: Record<string, unknown> }).json[key];
                yield x;
                const v = obj[key];
                if (Array.isArray(v) && v.length > 1) {
                    for (const half of [v.slice(0, Math.ceil(v.length / 2)), v.slice(Math.ceil(v.length / 2))]) {
                        const y = clone();
                        (y.spec[seg] as { json: Record<string, unknown> }).json[key] = half;
                        yield y;
                    }
                    for (let i = 0; i < v.length && i < 40; i++) {
                        const y = clone();
                        ((y.spec[seg] as { json: Record<string, unknown> }).json[key] as unknown[]).splice(i, 1);
                        yield y;
                    }
                }
                if (typeof v === "string" && v.length > 8) {
                    const y = clone();
                    (y.spec[seg] as { json: Record<string, unknown> }).json[key] = v.slice(0, Math.ceil(v.length / 2));
                    yield y;
                }
            }
        }
    }
}

/** Greedy minimization: keeps any smaller variant that still disagrees (bounded number of oracle calls). */
export async function minimize(comparer: Comparer, oracle: Oracle, d: Disagreement, budget = 400): Promise<Disagreement> {
    let best = d;
    let spent = 0;
    for (let improved = true; improved && spent < budget; ) {
        improved = false;
        for (const candidate of shrink(best.case)) {
            if (++spent > budget) break;
            let result;
            try {
                result = await compareAll(comparer, oracle, [candidate]);
            } catch {
                continue;
            }
            const found = result.disagreements[0];
            if (found) {
                best = found;
                improved = true;
                break;
            }
        }
    }
    return best;
}
