import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { CODE_PATHS_EXPORTS } from "../../scripts/lib/offline/defer-code-paths";

const exec = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const STAND_IN = join(ROOT, "scripts", "lib", "offline", "defer-code-paths.ts");

/** Runs `code` (CommonJS) in a fresh Node process under tsx: the module cache is per process. */
async function inChild(code: string): Promise<unknown> {
    const { stdout } = await exec(process.execPath, ["--import", "tsx", "-e", code], { cwd: ROOT, encoding: "utf8" });
    return JSON.parse(stdout) as unknown;
}

const ARBORIST_FILES = "Object.keys(require.cache).filter((f) => f.includes('/@npmcli/arborist/')).length";

describe("offline engine: Pulumi's code packaging is loaded only when used", () => {
    it("the stand-in exports exactly what @pulumi/pulumi's runtime/closure/codePaths does (a Pulumi upgrade that changes them fails here)", async () => {
        const names = await inChild(`process.stdout.write(JSON.stringify(Object.keys(require(require.resolve("@pulumi/pulumi/runtime/closure/codePaths"))).sort()))`);
        assert.deepEqual(names, [...CODE_PATHS_EXPORTS].sort());
    });

    it("with it, @pulumi/pulumi loads without @npmcli/arborist; without it, arborist comes with Pulumi", async () => {
        const deferred = (await inChild(`require(${JSON.stringify(STAND_IN)}); const pulumi = require("@pulumi/pulumi"); process.stdout.write(JSON.stringify({ arborist: ${ARBORIST_FILES}, computeCodePaths: typeof pulumi.runtime.computeCodePaths }))`)) as Record<string, unknown>;
        assert.deepEqual(deferred, { arborist: 0, computeCodePaths: "function" });
        const eager = (await inChild(`require("@pulumi/pulumi"); process.stdout.write(JSON.stringify({ arborist: ${ARBORIST_FILES} }))`)) as { arborist: number };
        assert.ok(eager.arborist > 0, "@pulumi/pulumi no longer loads @npmcli/arborist when it loads: the stand-in may be unnecessary");
    });

    it("the offline engine installs it before Pulumi loads, and its functions are the real ones once called", async () => {
        const r = (await inChild(
            `require(${JSON.stringify(join(ROOT, "scripts", "lib", "offline", "engine.ts"))});
            const codePaths = require(require.resolve("@pulumi/pulumi/runtime/closure/codePaths"));
            const before = ${ARBORIST_FILES};
            codePaths.findWorkspaceRoot(${JSON.stringify(ROOT)}).then((root) => {
                const real = require(require.resolve("@pulumi/pulumi/runtime/closure/codePaths"));
                process.stdout.write(JSON.stringify({ before, after: ${ARBORIST_FILES}, root, replaced: real !== codePaths && typeof real.findWorkspaceRoot === "function" }));
            });`,
        )) as Record<string, unknown>;
        assert.equal(r.before, 0);
        assert.ok((r.after as number) > 0, "calling a function of the stand-in loads the real module");
        assert.equal(r.root, null, "the repository is no npm workspace: the real findWorkspaceRoot answers null");
        assert.equal(r.replaced, true, "after the first call the module cache holds the real module");
    });
});
