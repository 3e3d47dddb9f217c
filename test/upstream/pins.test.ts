import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { UPSTREAM_BINARIES } from "./binaries";
import { goBinary, goSkipReason, UPSTREAM_MODULE_DIR } from "./go";
import { downloadedModule, goModRequirements, linkedModules, pinDrift } from "./go-mod";
import { TEMPORAL_SERVER_IMAGE } from "../../infra/temporal/versions";

/**
 * The server the tests run is the one the release runs: go.temporal.io/server at the image's tag,
 * built with exactly the dependency versions of that tag's own go.mod (what the image's build
 * selects), so nothing another tool adds to this module can move them unseen.
 */

const skip = goSkipReason();

describe("upstream pins", { skip }, () => {
    let server = "";
    before(async () => {
        server = (await goBinary(UPSTREAM_BINARIES.temporalServer)).path;
    });

    it("requires go.temporal.io/server at the tag the release's image runs", () => {
        const mod = goModRequirements(readFileSync(`${UPSTREAM_MODULE_DIR}/go.mod`, "utf8"));
        assert.equal(mod.get("go.temporal.io/server"), `v${TEMPORAL_SERVER_IMAGE.tag}`);
    });

    it("builds a server that reports the image's version", () => {
        const out = execFileSync(server, ["--version"], { encoding: "utf8" });
        assert.match(out, new RegExp(`version ${TEMPORAL_SERVER_IMAGE.tag.replace(/\./g, "\\.")}\\b`));
    });

    it("links every dependency at the version the server's own go.mod requires", () => {
        const wanted = goModRequirements(downloadedModule(UPSTREAM_MODULE_DIR, `go.temporal.io/server@v${TEMPORAL_SERVER_IMAGE.tag}`).goMod);
        const linked = linkedModules(server);
        assert.ok(linked.size > 100, `go version -m listed ${linked.size} dependencies`);
        const { moved, extra } = pinDrift(linked, wanted);
        assert.deepEqual(moved, [], "dependencies moved away from the server's own go.mod");
        assert.deepEqual(extra, [], "dependencies the server's go.mod does not require");
    });
});
