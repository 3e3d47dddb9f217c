import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { stackConfigIssues } from "../../infra/stack-config";
import { UPSTREAM_BINARIES } from "../upstream/binaries";
import { goBinary, goSkipReason } from "../upstream/go";
import { exampleStackRaw } from "../support/config";

/**
 * `temporal.numHistoryShards` is bounded by what server v1.31.2 loads (its config field is an
 * int32, validated nonzero), and the message says why the choice matters: the count is fixed once
 * the cluster exists. The bound is checked against the real server's own config loader.
 */

function shardIssues(value: unknown): string[] {
    const raw = exampleStackRaw("dev");
    return stackConfigIssues({ ...raw, temporal: { ...(raw.temporal as object), numHistoryShards: value } }, "dev")
        .filter((i) => i.path === "temporal.numHistoryShards")
        .map((i) => i.message);
}

const INT32_MAX = 2 ** 31 - 1;

describe("temporal.numHistoryShards", () => {
    it("refuses 1e12 with the server's bound and why the choice is final", () => {
        assert.deepEqual(shardIssues(1e12), [
            `temporal.numHistoryShards is 1000000000000, more than server 1.31.2 loads (its persistence.numHistoryShards is a 32-bit integer: at most ${INT32_MAX}); the count is fixed for the life of the cluster (the server records it in its database on first start and ignores any later value), so choose it for the largest the cluster will ever be, e.g. 512`,
        ]);
    });

    it("refuses 0 and negative counts, and accepts 1 to the server's maximum", () => {
        for (const bad of [0, -1]) {
            assert.deepEqual(shardIssues(bad), [`temporal.numHistoryShards must be at least 1 (history shards are numbered from 1), got ${bad}`]);
        }
        for (const good of [1, 4, 512, 16384, INT32_MAX]) assert.deepEqual(shardIssues(good), [], String(good));
    });
});

const skip = goSkipReason();

describe("temporal.numHistoryShards against server v1.31.2's config loader", { skip }, () => {
    let server = "";
    before(async () => {
        server = (await goBinary(UPSTREAM_BINARIES.temporalServer)).path;
    });

    /** Whether the server loads a config with this shard count (`temporal-server render-config` loads and validates, and starts nothing). */
    async function serverLoads(shards: number): Promise<boolean> {
        const dir = mkdtempSync(join(tmpdir(), "shards-"));
        const sql = (databaseName: string) => ({ sql: { pluginName: "postgres12", databaseName, connectAddr: "127.0.0.1:5432", connectProtocol: "tcp" } });
        const config = { persistence: { defaultStore: "default", visibilityStore: "visibility", numHistoryShards: shards, datastores: { default: sql("temporal"), visibility: sql("temporal_visibility") } } };
        writeFileSync(join(dir, "development.yaml"), stringify(config));
        try {
            const { stdout } = await promisify(execFile)(server, ["--config", dir, "--env", "development", "render-config"], { timeout: 60_000 });
            assert.match(stdout, new RegExp(`numHistoryShards: ${shards}\\b`), "the server rendered the count it was given");
            return true;
        } catch (err) {
            const e = err as { code?: number; stderr?: string; stdout?: string };
            assert.equal(e.code, 1, `render-config failed otherwise: ${String(err)}`);
            assert.match(`${e.stdout ?? ""}${e.stderr ?? ""}`, /Unable to load configuration/);
            return false;
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }

    it("the schema accepts exactly the positive counts the server loads", async () => {
        const rows: string[] = [];
        for (const n of [0, 1, 4, 512, INT32_MAX, INT32_MAX + 1, 1e12]) {
            const server = await serverLoads(n);
            const schema = shardIssues(n).length === 0;
            rows.push(`${n}: server ${server ? "loads" : "refuses"}, schema ${schema ? "accepts" : "refuses"}`);
            assert.equal(schema, server, rows.at(-1));
        }
        // A negative count: the server loads it (nonzero is its only check), but shards are numbered from 1 to the count, so none exists: refused here.
        assert.equal(await serverLoads(-1), true);
        assert.notDeepEqual(shardIssues(-1), []);
    });
});
