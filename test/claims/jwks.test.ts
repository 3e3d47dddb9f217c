import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClaimsError, createClaimMapper, explain, type ClaimMapperOptions } from "../../policies/claims";
import { bearer, makeKey, signed, startJwksServer, type JwksServer, type TestKey } from "./support";

/** A clock the test moves by hand (epoch ms). */
function manualClock(start = 1_900_000_000_000): { now: () => number; advance(ms: number): void } {
    let t = start;
    return { now: () => t, advance: (ms) => void (t += ms) };
}

const code = (e: unknown): string => (e instanceof ClaimsError ? e.code : `not a ClaimsError: ${String(e)}`);

describe("JWKS over HTTP on 127.0.0.1", () => {
    let a: TestKey;
    let b: TestKey;
    let rolled: TestKey;
    let server: JwksServer;

    before(async () => {
        [a, b, rolled] = await Promise.all([makeKey("RS256", "a"), makeKey("ES256", "b"), makeKey("RS256", "rolled")]);
        server = await startJwksServer([a.publicJwk, b.publicJwk]);
    });
    after(() => server.close());

    const fresh = (extra: Partial<ClaimMapperOptions> = {}): ReturnType<typeof createClaimMapper> => createClaimMapper({ jwksUri: server.url, ...extra });

    it("fetches once for a cold start with many concurrent calls", async () => {
        const before = server.requests;
        const m = fresh();
        const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => signed(i % 2 ? a : b, { sub: `u${i}` })));
        const claims = await Promise.all(tokens.map((t) => m.getClaims(bearer(t))));
        // Each call gets its own claims although they all wait for the same fetch (scratch buffers are not shared across an await).
        assert.deepEqual(
            claims.map((c) => c.subject),
            tokens.map((_, i) => `u${i}`),
        );
        assert.equal(server.requests - before, 1);
    });

    it("an unknown-kid flood costs at most one refetch per cooldown", async () => {
        const clock = manualClock();
        const m = fresh({ now: clock.now, cooldownMs: 60_000 });
        await m.getClaims(bearer(await signed(a, { sub: "warm" })));
        const start = server.requests;
        const unknown = await Promise.all(Array.from({ length: 500 }, (_, i) => signed(a, { sub: `x${i}` }, { kid: `unknown-${i % 7}` })));
        const flood = async (): Promise<void> => {
            const results = await Promise.allSettled(unknown.map((t) => m.getClaims(bearer(t))));
            assert.ok(results.every((r) => r.status === "rejected" && code(r.reason) === "unknown-kid"));
        };
        await flood();
        assert.ok(server.requests - start <= 1, `fetched ${server.requests - start} times within the cooldown`);
        clock.advance(61_000);
        await flood();
        assert.equal(server.requests - start, 1, "past the cooldown: exactly one refetch for 500 unknown kids");
        await flood();
        assert.equal(server.requests - start, 1, "and none more within the next cooldown");
    });

    it("finds a newly rolled key by refetching, and explain says the server would not have", async () => {
        const clock = manualClock();
        const opts = { jwksUri: server.url, now: clock.now, cooldownMs: 1_000 };
        const m = createClaimMapper(opts);
        await m.getClaims(bearer(await signed(a, { sub: "warm" })));
        server.setKeys([a.publicJwk, b.publicJwk, rolled.publicJwk]);
        clock.advance(2_000);
        const token = await signed(rolled, { sub: "new" });
        const report = await explain(token, { ...opts, mapper: m });
        assert.equal(report.verified, true, report.error?.message);
        assert.ok(report.notes.some((n) => /found only after refetching.*only on its timer/.test(n)), report.notes.join("\n"));
        server.setKeys([a.publicJwk, b.publicJwk]);
    });

    it("refreshes in the background and swaps the whole set, as the server does", async () => {
        const clock = manualClock();
        const m = fresh({ now: clock.now, refreshIntervalMs: 10_000, cooldownMs: 100_000 });
        const tokenB = await signed(b, { sub: "b" });
        await m.getClaims(bearer(tokenB));
        server.setKeys([a.publicJwk]);
        clock.advance(10_001);
        const before = server.requests;
        assert.equal((await m.getClaims(bearer(tokenB))).subject, "b", "answered from the current set while refreshing");
        await m.keySource.refresh();
        assert.equal(server.requests - before, 1);
        await assert.rejects(m.getClaims(bearer(tokenB)), (e: unknown) => code(e) === "unknown-kid");
        server.setKeys([a.publicJwk, b.publicJwk]);
    });

    it("survives an endpoint that goes down until maxStaleMs, then fails closed", async () => {
        const down = await startJwksServer([a.publicJwk]);
        const clock = manualClock();
        const m = createClaimMapper({ jwksUri: down.url, now: clock.now, refreshIntervalMs: 1_000, cooldownMs: 500, maxStaleMs: 10_000, timeoutMs: 2_000 });
        const token = await signed(a, { sub: "a" });
        await m.getClaims(bearer(token));
        await down.close();
        for (let t = 0; t < 9; t++) {
            clock.advance(1_000);
            assert.equal((await m.getClaims(bearer(token))).subject, "a");
            await m.keySource.refresh().catch(() => undefined);
        }
        assert.match(m.keySource.status().lastError ?? "", /could not fetch/);
        clock.advance(1_001);
        await assert.rejects(m.getClaims(bearer(token)), (e: unknown) => {
            assert.equal(code(e), "keys-unavailable");
            assert.match((e as Error).message, /older than maxStaleMs.*fails closed/);
            return true;
        });
    });

    it("times out a slow endpoint", async () => {
        const slow = await startJwksServer([a.publicJwk]);
        const timers: NodeJS.Timeout[] = [];
        slow.respond = (_req, res) => {
            timers.push(setTimeout(() => res.end("{}"), 3_000));
        };
        const m = createClaimMapper({ jwksUri: slow.url, timeoutMs: 150 });
        const started = Date.now();
        await assert.rejects(m.getClaims(bearer(await signed(a, { sub: "a" }))), (e: unknown) => {
            assert.equal(code(e), "keys-unavailable");
            assert.match((e as Error).message, /timed out after 150 ms/);
            return true;
        });
        assert.ok(Date.now() - started < 2_000);
        for (const t of timers) clearTimeout(t);
        await slow.close();
    });

    it("refuses an oversize key set, declared or streamed", async () => {
        const big = await startJwksServer([a.publicJwk]);
        const padding = JSON.stringify({ keys: [a.publicJwk], padding: "x".repeat(5_000) });
        for (const chunked of [false, true]) {
            big.respond = (_req, res) => {
                if (chunked) {
                    res.writeHead(200, { "content-type": "application/json" });
                    res.write(padding.slice(0, 2_500));
                    res.end(padding.slice(2_500));
                } else {
                    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(padding) });
                    res.end(padding);
                }
            };
            const m = createClaimMapper({ jwksUri: big.url, maxJwksBytes: 4_096 });
            await assert.rejects(m.getClaims(bearer(await signed(a, { sub: "a" }))), (e: unknown) => {
                assert.equal(code(e), "jwks-too-large");
                assert.match((e as Error).message, /over maxJwksBytes \(4096\)/);
                return true;
            });
        }
        await big.close();
    });

    it("reports an endpoint that answers an error or something that is not a JWK set", async () => {
        const bad = await startJwksServer([]);
        const cases: Array<[number, string, RegExp]> = [
            [404, "not found", /answered HTTP 404/],
            [200, "<html>login</html>", /did not answer JSON/],
            [200, '{"keys": {"kty": "RSA"}}', /"keys" is object, not an array/],
        ];
        for (const [status, body, message] of cases) {
            bad.respond = (_req, res) => {
                res.writeHead(status);
                res.end(body);
            };
            const m = createClaimMapper({ jwksUri: bad.url });
            await assert.rejects(m.getClaims(bearer(await signed(a, { sub: "a" }))), (e: unknown) => {
                assert.equal(code(e), "keys-unavailable");
                assert.match((e as Error).message, message);
                return true;
            });
        }
        await bad.close();
    });

    it("merges several URLs by kid, later URLs winning; one failing URL fails the refresh", async () => {
        const first = await startJwksServer([a.publicJwk]);
        const second = await startJwksServer([b.publicJwk]);
        const m = createClaimMapper({ jwksUri: [first.url, "   ", second.url] });
        assert.equal((await m.getClaims(bearer(await signed(a, { sub: "a" })))).subject, "a");
        assert.equal((await m.getClaims(bearer(await signed(b, { sub: "b" })))).subject, "b");
        assert.deepEqual(m.keySource.status().uris, [first.url, second.url]);
        const other = await makeKey("RS256", "a");
        second.setKeys([b.publicJwk, other.publicJwk]);
        await m.keySource.refresh();
        assert.equal((await m.getClaims(bearer(await signed(other, { sub: "second wins" })))).subject, "second wins");
        await second.close();
        await assert.rejects(m.keySource.refresh(), (e: unknown) => code(e) === "keys-unavailable");
        assert.equal((await m.getClaims(bearer(await signed(other, { sub: "kept" })))).subject, "kept", "the last good set is kept");
        await first.close();
    });

    it("fails cleanly when nothing listens (cold start)", async () => {
        const gone = await startJwksServer([]);
        const url = gone.url;
        await gone.close();
        const m = createClaimMapper({ jwksUri: url });
        await assert.rejects(m.getClaims(bearer(await signed(a, { sub: "a" }))), (e: unknown) => {
            assert.equal(code(e), "keys-unavailable");
            assert.match((e as Error).message, /ECONNREFUSED/);
            return true;
        });
    });
});
