import { UPSTREAM_BINARIES } from "./binaries";
import { findGo, goBinary } from "./go";

/**
 * `npm run build:upstream`: builds (or finds in the cache) every upstream binary the tests run.
 * Without Go it fails under CI=true and otherwise says what to install and exits 0, so the tests
 * that need Go report themselves as skipped.
 */
async function main(): Promise<number> {
    const go = findGo();
    if ("missing" in go) {
        if (process.env.CI === "true") {
            process.stderr.write(`build:upstream: CI=true and ${go.missing}\n`);
            return 1;
        }
        process.stderr.write(`build:upstream: ${go.missing}; the tests that run Temporal's own code will be skipped\n`);
        return 0;
    }
    for (const spec of Object.values(UPSTREAM_BINARIES)) {
        const b = await goBinary(spec);
        process.stderr.write(`build:upstream: ${spec.name} ${b.built ? `built in ${(b.ms / 1000).toFixed(1)} s` : "cached"}: ${b.path}\n`);
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`build:upstream: ${(err as Error).message}\n`);
        process.exit(1);
    },
);
