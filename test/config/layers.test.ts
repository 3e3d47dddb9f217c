import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";
import { REPO_ROOT } from "../support/config";

/**
 * The folder tree is the architecture: config at the ground floor (schema, parsing, the issue
 * type), the components above it, the program (and the module that assembles every component's
 * config rules) on top. Nothing low imports something high. Imports are read with the TypeScript
 * compiler's own resolver, so a re-export or a type-only import counts as much as a value import.
 */

const COMPILER_OPTIONS: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, allowJs: false };

function tsFiles(dir: string): string[] {
    return readdirSync(dir)
        .sort()
        .flatMap((entry) => {
            const p = join(dir, entry);
            if (statSync(p).isDirectory()) return tsFiles(p);
            return entry.endsWith(".ts") ? [p] : [];
        });
}

/** Project files (repo-relative, `/`-separated) that `file` imports; packages and builtins are left out. */
function projectImports(file: string): string[] {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    return info.importedFiles.flatMap(({ fileName }) => {
        const resolved = ts.resolveModuleName(fileName, file, COMPILER_OPTIONS, ts.sys).resolvedModule;
        if (!resolved || resolved.isExternalLibraryImport) return [];
        return [relative(REPO_ROOT, resolved.resolvedFileName).split(sep).join("/")];
    });
}

function importsOutside(folder: string, allowed: (target: string) => boolean): string[] {
    return tsFiles(join(REPO_ROOT, folder)).flatMap((file) =>
        projectImports(file)
            .filter((target) => !allowed(target))
            .map((target) => `${relative(REPO_ROOT, file)} imports ${target}`),
    );
}

/** The claim validator is a library of its own (usable without the rest): it may sit under config. */
const CLAIMS_LIBRARY = "policies/claims/";

describe("layers: nothing low imports something high", () => {
    it("finds the imports it checks (the resolver works)", () => {
        const imports = projectImports(join(REPO_ROOT, "infra", "config", "schema.ts"));
        assert.ok(imports.includes("infra/config/shared.ts"), imports.join(", "));
    });

    it("infra/config (schema, parsing, the issue type) imports only itself and the claim validator", () => {
        assert.deepEqual(
            importsOutside("infra/config", (t) => t.startsWith("infra/config/") || t.startsWith(CLAIMS_LIBRARY)),
            [],
        );
    });

    it("the claim validator imports nothing of the project outside itself", () => {
        assert.deepEqual(
            importsOutside("policies/claims", (t) => t.startsWith(CLAIMS_LIBRARY)),
            [],
        );
    });

    it("no component imports the program or the top floor's modules", () => {
        const topFloor = readdirSync(join(REPO_ROOT, "infra"))
            .filter((f) => f.endsWith(".ts"))
            .map((f) => `infra/${f}`);
        assert.ok(topFloor.includes("infra/index.ts"));
        for (const component of readdirSync(join(REPO_ROOT, "infra")).filter((d) => statSync(join(REPO_ROOT, "infra", d)).isDirectory())) {
            assert.deepEqual(
                importsOutside(`infra/${component}`, (t) => !topFloor.includes(t)),
                [],
                `infra/${component}`,
            );
        }
    });
});
