import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { UPSTREAM_BINARIES } from "./binaries";
import { goBinary, goSkipReason, UPSTREAM_MODULE_DIR } from "./go";
import { TEMPORAL_SERVER_IMAGE } from "../../infra/temporal/versions";

/**
 * The server the tests run is the one the release runs: go.temporal.io/server at the image's tag,
 * built with exactly the dependency versions of that tag's own go.mod (what the image's build
 * selects), so nothing another tool adds to this module can move them unseen.
 */

const skip = goSkipReason();

/** `require` lines of a go.mod, as module → version. */
function requirements(goMod: string): Map<string, string> {
    const out = new Map<string, string>();
    const line = /^\s*(?:require\s+)?([\w.\-/~]+)\s+(v[\w.\-+]+)(?:\s*\/\/.*)?$/;
    let inBlock = false;
    for (const raw of goMod.split("\n")) {
        const text = raw.trim();
        if (/^require\s*\($/.test(text)) inBlock = true;
        else if (inBlock && text === ")") inBlock = false;
        else if (inBlock || text.startsWith("require ")) {
            const m = line.exec(text);
            if (m?.[1] && m[2]) out.set(m[1], m[2]);
        }
    }
    return out;
}

describe("upstream pins", { skip }, () => {
    let server = "";
    before(async () => {
        server = (await goBinary(UPSTREAM_BINARIES.temporalServer)).path;
    });

    it("requires go.temporal.io/server at the tag the release's image runs", () => {
        const mod = requirements(readFileSync(`${UPSTREAM_MODULE_DIR}/go.mod`, "utf8"));
        assert.equal(mod.get("go.temporal.io/server"), `v${TEMPORAL_SERVER_IMAGE.tag}`);
    });

    it("builds a server that reports the image's version", () => {
        const out = execFileSync(server, ["--version"], { encoding: "utf8" });
        assert.match(out, new RegExp(`version ${TEMPORAL_SERVER_IMAGE.tag.replace(/\./g, "\\.")}\\b`));
    });

    it("links every dependency at the version the server's own go.mod requires", () => {
        const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", `go.temporal.io/server@v${TEMPORAL_SERVER_IMAGE.tag}`], { cwd: UPSTREAM_MODULE_DIR, encoding: "utf8" })) as { GoMod: string };
        const wanted = requirements(readFileSync(info.GoMod, "utf8"));
        const linked = new Map<string, string>();
        for (const l of execFileSync("go", ["version", "-m", server], { encoding: "utf8" }).split("\n")) {
            const m = /^\s*dep\s+(\S+)\s+(\S+)/.exec(l);
            if (m?.[1] && m[2]) linked.set(m[1], m[2]);
        }
        assert.ok(linked.size > 100, `go version -m listed ${linked.size} dependencies`);
        const moved = [...linked].filter(([mod, v]) => wanted.has(mod) && wanted.get(mod) !== v).map(([mod, v]) => `${mod} ${v} (server wants ${wanted.get(mod)})`);
        assert.deepEqual(moved, [], "dependencies moved away from the server's own go.mod");
        const extra = [...linked.keys()].filter((mod) => !wanted.has(mod));
        assert.deepEqual(extra, [], "dependencies the server's go.mod does not require");
    });
});
