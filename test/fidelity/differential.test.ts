import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JWK } from "jose";
import { API_ACCESS, callKind, createKeySource, FRONTEND_METHODS } from "../../policies/claims";
import { startJwksServer, type JwksServer } from "../claims/support";
import { goSkipReason } from "../upstream/go";
import { oracleListing, startOracle, type Oracle, type OracleListing } from "../upstream/oracle";
import { Comparer, compareAll, minimize, type Disagreement } from "./compare";
import { generateCases, type FidelityCase, type MethodInfo } from "./generate";
import { foreignKeys, jwksOf, makeKeys } from "./tokens";

/**
 * The validator (profile "temporal") against Temporal server v1.31.2's own authorization code (the
 * oracle: its claim mapper, key provider, authorizer and interceptor): a committed corpus of every
 * disagreement ever fixed, then ≥ 20,000 generated tokens from a seed. Zero disagreements in
 * acceptance, claims (subject, system role, each namespace key byte for byte and its role), the
 * namespace authorized, and the decision.
 *
 * FIDELITY_SEED=<n> replays a run (a failure prints its seed); FIDELITY_COUNT=<n> changes its size.
 */

const skip = goSkipReason();
const COUNT = Number(process.env.FIDELITY_COUNT ?? 21_000);
const SEED = process.env.FIDELITY_SEED !== undefined ? Number(process.env.FIDELITY_SEED) : randomInt(2 ** 31);
const BATCH = 3_000;

interface CorpusEntry {
    name: string;
    /** The disagreement this case was minimized from, and the fix. */
    why: string;
    /** "refuses": the fix is that the validator refuses these settings (invalid-options) rather than guess. */
    validator?: "refuses";
    case: FidelityCase;
    /** What server v1.31.2 did, as recorded when the case was added (checked on every run). */
    server: { mapper: "accepted" | "rejected" | "not-called"; decision: "allow" | "deny" };
}

const CORPUS: CorpusEntry[] = (JSON.parse(readFileSync(join(__dirname, "corpus.json"), "utf8")) as { cases: CorpusEntry[] }).cases;

function report(ds: Disagreement[], seed?: number): string {
    const lines = ds.slice(0, 5).map((d) => `- [${d.case.kind}] ${d.differences.join("; ")}\n  case: ${JSON.stringify(d.case).slice(0, 3000)}`);
    const replay = seed === undefined ? "" : `\nreplay: FIDELITY_SEED=${seed} FIDELITY_COUNT=${COUNT} node --import tsx --test test/fidelity/differential.test.ts`;
    return `${ds.length} disagreement(s)${seed === undefined ? "" : ` (seed ${seed})`}:\n${lines.join("\n")}${replay}`;
}

describe("differential: the validator against Temporal v1.31.2's own authorization code", { skip }, () => {
    let jwks: JwksServer | undefined;
    let oracle: Oracle | undefined;
    let comparer: Comparer;
    let listing: OracleListing;
    let methods: Map<string, MethodInfo>;

    before(async () => {
        const [keys, foreign] = await Promise.all([makeKeys(), foreignKeys()]);
        jwks = await startJwksServer(jwksOf(keys).keys as JWK[]);
        [oracle, listing] = await Promise.all([startOracle({ jwksUri: jwks.url }), oracleListing()]);
        methods = new Map<string, MethodInfo>();
        for (const m of listing.grpc) methods.set(m.api, { api: m.api, call: m.stream ? "stream" : "unary" });
        for (const m of listing.table) if (!methods.has(m.api)) methods.set(m.api, { api: m.api, call: "nexus" });
        // The validator fetches the same JWKS the server's key provider fetched.
        comparer = new Comparer({ keys, foreign, keySource: createKeySource({ jwksUri: jwks.url }), methods });
    });
    after(async () => {
        await oracle?.stop();
        await jwks?.close();
    });

    it("the validator's method table, served methods and streams are the server's own", () => {
        const server = listing.table.map((m) => `${m.api} ${m.scope} ${m.access}`).sort();
        const mine = API_ACCESS.map((m) => `${m.api} ${m.scope} ${m.access}`).sort();
        assert.equal(server.length, 126);
        assert.deepEqual(mine, server);
        assert.deepEqual([...FRONTEND_METHODS.grpc].sort(), listing.grpc.map((m) => m.api).sort());
        assert.deepEqual([...FRONTEND_METHODS.streams].sort(), listing.grpc.filter((m) => m.stream).map((m) => m.api).sort());
        for (const [api, m] of methods) assert.equal(callKind(api), m.call, api);
        // Every namespace-scope method's request carries the namespace the authorizer is asked about.
        const grpc = new Map(listing.grpc.map((m) => [m.api, m]));
        for (const m of listing.table) if (m.scope === "Namespace" && grpc.has(m.api)) assert.ok(grpc.get(m.api)?.hasNamespace, m.api);
    });

    it(`the corpus: ${CORPUS.length} minimized cases of fixed disagreements, each as the server decided when it was added`, async () => {
        const { disagreements, answers, verdicts } = await compareAll(
            comparer,
            oracle as Oracle,
            CORPUS.map((e) => e.case),
        );
        CORPUS.forEach((e, i) => {
            const a = answers[i];
            assert.deepEqual({ mapper: a?.mapper, decision: a?.decision }, e.server, `${e.name}: the server's answer changed (${a?.error ?? ""})`);
            assert.equal(verdicts[i]?.refused !== undefined, e.validator === "refuses", `${e.name}: ${verdicts[i]?.refused ?? "the validator answered"}`);
        });
        assert.equal(disagreements.length, 0, report(disagreements));
    });

    it(`${COUNT} generated tokens (seed ${SEED}): 0 disagreements`, { timeout: 600_000 }, async (t) => {
        const started = Date.now();
        const cases = generateCases({ seed: SEED, count: COUNT, methods: [...methods.values()] });
        const found: Disagreement[] = [];
        let refused = 0;
        let tokens = 0;
        let accepted = 0;
        let allowed = 0;
        const byKind = new Map<string, number>();
        for (let i = 0; i < cases.length; i += BATCH) {
            const batch = cases.slice(i, i + BATCH);
            const r = await compareAll(comparer, oracle as Oracle, batch);
            found.push(...r.disagreements);
            refused += r.refused;
            r.answers.forEach((a, k) => {
                const c = batch[k] as FidelityCase;
                if (c.spec.template !== null) tokens++;
                if (a.mapper === "accepted") accepted++;
                if (a.decision === "allow") allowed++;
                byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
            });
        }
        const minimized = [];
        for (const d of found.slice(0, 3)) minimized.push(await minimize(comparer, oracle as Oracle, d));
        const composition = [...byKind].map(([k, n]) => `${k} ${n}`).join(", ");
        t.diagnostic(`${tokens} tokens, ${found.length} disagreements (seed ${SEED}; ${cases.length} calls: ${accepted} accepted by the server's mapper, ${allowed} allowed; ${refused} with a permissionsRegex the validator refuses; ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        t.diagnostic(`composition: ${composition}`);
        assert.ok(tokens >= 20_000 || COUNT < 21_000, `only ${tokens} tokens`);
        assert.equal(found.length, 0, `${report(found, SEED)}\nminimized:\n${minimized.map((d) => JSON.stringify({ differences: d.differences, case: d.case })).join("\n")}`);
    });
});
