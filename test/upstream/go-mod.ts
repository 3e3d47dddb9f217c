import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * What the pin checks read: a go.mod's `require` lines, the dependency versions a built binary
 * links (`go version -m`), and where a module version sits in the module cache.
 */

/** `require` lines of a go.mod, as module → version. */
export function goModRequirements(goMod: string): Map<string, string> {
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

/** The modules a Go binary was built with (`dep` lines of `go version -m`), module → version. */
export function linkedModules(binary: string): Map<string, string> {
    const linked = new Map<string, string>();
    for (const l of execFileSync("go", ["version", "-m", binary], { encoding: "utf8" }).split("\n")) {
        const m = /^\s*dep\s+(\S+)\s+(\S+)/.exec(l);
        if (m?.[1] && m[2]) linked.set(m[1], m[2]);
    }
    return linked;
}

/** A module version as the module cache holds it (downloaded if needed, checked against go.sum of `moduleDir`). */
export function downloadedModule(moduleDir: string, module: string): { dir: string; goMod: string } {
    const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { cwd: moduleDir, encoding: "utf8" })) as { Dir: string; GoMod: string };
    return { dir: info.Dir, goMod: readFileSync(info.GoMod, "utf8") };
}

/** Linked dependencies whose version differs from what `wanted` (a go.mod's requirements) says, and those it does not require at all. */
export function pinDrift(linked: Map<string, string>, wanted: Map<string, string>): { moved: string[]; extra: string[] } {
    return {
        moved: [...linked].filter(([mod, v]) => wanted.has(mod) && wanted.get(mod) !== v).map(([mod, v]) => `${mod} ${v} (its go.mod wants ${wanted.get(mod)})`),
        extra: [...linked.keys()].filter((mod) => !wanted.has(mod)),
    };
}
