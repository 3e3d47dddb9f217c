import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";

/**
 * `npm ci` prints no EBADENGINE warning on any Node the project supports: every package the
 * lockfile installs accepts the whole of the project's `engines.node` range (not only the Node that
 * runs this test), and the range itself names the Node lines the project is built for. And no
 * install script runs unreviewed: each package with one has a deliberate `allowScripts` entry.
 */

const ROOT = join(__dirname, "..", "..");
interface LockPackage {
    version?: string;
    engines?: { node?: string } | string[];
    hasInstallScript?: boolean;
}
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string }; allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> };
const installed = Object.entries(lock.packages).filter(([path]) => path.startsWith("node_modules/"));
const nameOf = (path: string) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);

describe("engines", () => {
    it("the project's range is the Node lines it is built for: 20 from 20.19, and 22", () => {
        const range = pkg.engines.node;
        for (const v of ["20.19.0", "20.20.2", "22.13.0", "22.20.0"]) assert.ok(semver.satisfies(v, range), `${range} excludes ${v}`);
        for (const v of ["20.18.3", "23.0.0", "24.1.0"]) assert.ok(!semver.satisfies(v, range), `${range} includes ${v}`);
    });

    it("every package in the lockfile accepts every Node the project's range allows", () => {
        assert.ok(installed.length > 300, `only ${installed.length} packages in the lockfile`);
        const narrower = installed.flatMap(([path, p]) => {
            const node = Array.isArray(p.engines) ? undefined : p.engines?.node;
            return node !== undefined && !semver.subset(pkg.engines.node, node) ? [`${nameOf(path)}@${p.version}: engines.node ${node}`] : [];
        });
        assert.deepEqual(narrower, [], `the project declares engines.node ${pkg.engines.node}`);
    });
});

describe("install scripts", () => {
    it("each package with an install script has a deliberate allowScripts entry, and every entry names an installed package with one", () => {
        const withScripts = [...new Set(installed.filter(([, p]) => p.hasInstallScript).map(([path]) => nameOf(path)))].sort();
        const entries = Object.keys(pkg.allowScripts ?? {}).map((k) => k.replace(/(?<=.)@.*$/, "")).sort();
        assert.deepEqual(entries, withScripts);
    });
});
