import Module from "node:module";

/**
 * Loading `@pulumi/pulumi` loads `runtime/closure/codePaths`, and with it `@npmcli/arborist`: 495 of
 * the 771 files `@pulumi/pulumi` loads, about half a second of every offline plan (more under tsx,
 * whose hooks see every file), and every loaded script also slows the inspector session the
 * dynamic provider's closure serialization opens. Its two functions (`computeCodePaths`,
 * `findWorkspaceRoot`) package a program's node_modules for serialized callbacks (e.g. AWS Lambda
 * functions); nothing the offline engine runs calls them: a dynamic provider's closure is
 * serialized by `serializeClosure`, which does not use them.
 *
 * Imported before `@pulumi/pulumi` (by the offline engine and the plan), this puts a stand-in for
 * that module in the module cache, whose functions load the real module on their first call: the
 * same functions, loaded when used. Only processes that run the offline engine import it; `pulumi
 * up` and the policy pack load Pulumi as it is. When `@pulumi/pulumi` was loaded already, it does
 * nothing. test/plan/defer-code-paths.test.ts checks that the stand-in exports what the real module
 * does (a Pulumi upgrade that adds an export fails there, not here).
 */

/** What `@pulumi/pulumi/runtime/closure/codePaths` exports (3.248). */
export const CODE_PATHS_EXPORTS = ["computeCodePaths", "findWorkspaceRoot"] as const;

type CodePaths = Record<(typeof CODE_PATHS_EXPORTS)[number], (...args: unknown[]) => unknown>;

/** The module's file, or undefined when this `@pulumi/pulumi` has no such file. */
export function codePathsFile(): string | undefined {
    try {
        return require.resolve("@pulumi/pulumi/runtime/closure/codePaths");
    } catch {
        return undefined;
    }
}

function pulumiLoaded(): boolean {
    try {
        return require.resolve("@pulumi/pulumi") in require.cache;
    } catch {
        return false;
    }
}

/** Installs the stand-in; true when it did (false: Pulumi already loaded, or a layout it does not know). */
export function deferCodePaths(): boolean {
    const file = codePathsFile();
    if (file === undefined || file in require.cache || pulumiLoaded()) return false;
    let real: CodePaths | undefined;
    const load = (): CodePaths => {
        if (real === undefined) {
            if (require.cache[file] === standIn) delete require.cache[file];
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, which is the point
            real = require(file) as CodePaths;
        }
        return real;
    };
    const exports: Partial<CodePaths> = {};
    for (const name of CODE_PATHS_EXPORTS) exports[name] = (...args: unknown[]) => load()[name](...args);
    const standIn = new Module(file, module);
    standIn.filename = file;
    standIn.exports = exports;
    standIn.loaded = true;
    require.cache[file] = standIn;
    return true;
}

deferCodePaths();
