import { planStack } from "../../../scripts/lib/plan/run";

/**
 * The dev stack's plan with a provider that refuses the Helm release, as a process of its own: a
 * refused registration rejects everything that depends on it, which the plan collects and a test
 * runner in the same process would count against the test. Prints the report as JSON.
 */
planStack("dev", {
    emulators: {
        "kubernetes:helm.sh/v3:Release": () => {
            throw new Error("INSTALLATION FAILED: cannot re-use a name that is still in use");
        },
    },
}).then(({ report }) => process.stdout.write(`${JSON.stringify(report)}\n`));
