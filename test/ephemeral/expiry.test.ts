import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { describeExpiry, expiryOf, expiryTime, formatDuration, parseTtl, selectForReap, type EphemeralStackInfo } from "../../scripts/lib/ephemeral/expiry";

const NOW = new Date("2026-03-10T12:00:00.000Z");
const HOUR = 3_600_000;

describe("--ttl and the expires tag", () => {
    it("reads days, hours and minutes", () => {
        assert.equal(parseTtl("24h"), 24 * HOUR);
        assert.equal(parseTtl("90m"), 1.5 * HOUR);
        assert.equal(parseTtl("3d"), 72 * HOUR);
        assert.equal(parseTtl("1d12h"), 36 * HOUR);
        assert.equal(parseTtl("1h30m"), 1.5 * HOUR);
        assert.equal(parseTtl("30d"), 720 * HOUR);
    });

    it("refuses other text, and lifetimes shorter than a deployment or longer than a test stack", () => {
        for (const bad of ["", "24", "1w", "h", "12h1d", "-1h", "1.5h"]) {
            assert.throws(() => parseTtl(bad), { name: "UsageError", message: `--ttl ${JSON.stringify(bad)} must be a duration like 24h, 90m, 3d or 1d12h` }, bad);
        }
        assert.throws(() => parseTtl("59m"), { message: "--ttl 59m is shorter than 1h: the clean-up job could destroy the stack while it is still being deployed" });
        assert.throws(() => parseTtl("0h"), { message: /^--ttl 0h is shorter than 1h/ });
        assert.throws(() => parseTtl("30d1m"), { message: "--ttl 30d1m is longer than 30d: a stack that lives that long should be a dev stack, not an ephemeral one" });
    });

    it("writes the expiry as a UTC ISO time in whole seconds", () => {
        assert.equal(expiryTime(NOW, 24 * HOUR), "2026-03-11T12:00:00Z");
        assert.equal(expiryTime(new Date("2026-03-10T12:00:00.999Z"), HOUR), "2026-03-10T13:00:00Z");
    });

    it("formats durations by their two largest units", () => {
        assert.equal(formatDuration(0), "0m");
        assert.equal(formatDuration(45 * 60_000), "45m");
        assert.equal(formatDuration(3 * HOUR + 12 * 60_000), "3h 12m");
        assert.equal(formatDuration(52 * HOUR + 5 * 60_000), "2d 4h");
        assert.equal(formatDuration(48 * HOUR + 5 * 60_000), "2d");
    });

    it("reads the tag: expired, live, missing or not a time", () => {
        assert.deepEqual(expiryOf({ "temporal-azure:expires": "2026-03-10T09:00:00Z" }, NOW), { state: "expired", expires: "2026-03-10T09:00:00Z", overdueMs: 3 * HOUR });
        assert.deepEqual(expiryOf({ "temporal-azure:expires": "2026-03-10T12:00:00Z" }, NOW), { state: "expired", expires: "2026-03-10T12:00:00Z", overdueMs: 0 });
        assert.deepEqual(expiryOf({ "temporal-azure:expires": "2026-03-10T14:00:00+01:00" }, NOW), { state: "live", expires: "2026-03-10T14:00:00+01:00", remainingMs: HOUR });
        assert.deepEqual(expiryOf({}, NOW), { state: "missing" });
        for (const value of ["tomorrow", "2026-03-10", "1741600000", "2026-03-10T09:00:00"]) assert.deepEqual(expiryOf({ "temporal-azure:expires": value }, NOW), { state: "invalid", value }, value);
        assert.equal(describeExpiry(expiryOf({ "temporal-azure:expires": "2026-03-10T09:00:00Z" }, NOW)), "expired 2026-03-10T09:00:00Z (3h ago)");
        assert.equal(describeExpiry(expiryOf({ "temporal-azure:expires": "2026-03-11T12:30:00Z" }, NOW)), "expires 2026-03-11T12:30:00Z (in 1d)");
    });
});

describe("reap selection", () => {
    const stack = (name: string, tags: Record<string, string>, extra: Partial<EphemeralStackInfo> = {}): EphemeralStackInfo => ({ name, tags, ...extra });
    const tagged = (expires: string) => ({ "temporal-azure:profile": "ephemeral", "temporal-azure:expires": expires });

    it("picks only expired ephemeral stacks this tool tagged, and says why each other one stays", () => {
        const selection = selectForReap(
            [
                stack("ephemeral-old", tagged("2026-03-09T12:00:00Z")),
                stack("contoso/temporal-azure/ephemeral-qualified", tagged("2026-03-10T11:59:00Z")),
                stack("ephemeral-fresh", tagged("2026-03-10T18:00:00Z")),
                stack("ephemeral-untagged", { "temporal-azure:profile": "ephemeral" }),
                stack("ephemeral-garbled", tagged("next week")),
                stack("ephemeral-handmade", { "temporal-azure:expires": "2026-03-01T00:00:00Z" }),
                stack("ephemeral-busy", tagged("2026-03-09T12:00:00Z"), { updateInProgress: true }),
                stack("dev", tagged("2026-03-01T00:00:00Z")),
            ],
            NOW,
        );
        assert.deepEqual(
            selection.reap.map((r) => [r.stack.name, r.reason]),
            [
                ["ephemeral-old", "expired 2026-03-09T12:00:00Z (1d ago)"],
                ["contoso/temporal-azure/ephemeral-qualified", "expired 2026-03-10T11:59:00Z (1m ago)"],
            ],
        );
        assert.deepEqual(
            selection.keep.map((k) => [k.stack.name, k.reason]),
            [
                ["ephemeral-fresh", "expires 2026-03-10T18:00:00Z (in 6h)"],
                ["ephemeral-untagged", "no temporal-azure:expires tag: kept (tag it with pulumi stack tag set temporal-azure:expires <ISO time> --stack ephemeral-untagged, or run down)"],
                ["ephemeral-garbled", 'temporal-azure:expires "next week" is not an ISO time: kept (fix the tag or run down)'],
                ["ephemeral-handmade", "not tagged temporal-azure:profile=ephemeral: kept (only stacks this tool created are reaped; run down to remove it)"],
                ["ephemeral-busy", "expired 2026-03-09T12:00:00Z (1d ago), but an update is in progress: kept until the next run"],
                ["dev", "not an ephemeral stack (its name does not start with ephemeral-)"],
            ],
        );
    });

    it("reaps nothing when nothing has expired", () => {
        assert.deepEqual(selectForReap([], NOW), { reap: [], keep: [] });
        assert.equal(selectForReap([stack("ephemeral-a", tagged("2026-03-10T12:00:01Z"))], NOW).reap.length, 0);
    });
});
