import { ALL_EMULATORS } from "../../../scripts/lib/offline/emulators";
import { runCli } from "../../../scripts/lib/plan/cli";

/**
 * `scripts/plan.ts` with Helm refusing the release (the stack passes every config check; the
 * provider says no), as a process of its own: a refused registration rejects everything that
 * depends on it, which the plan collects and a test runner in the same process would count against
 * the test. Takes the plan's own flags.
 */
ALL_EMULATORS["kubernetes:helm.sh/v3:Release"] = () => {
    throw new Error("INSTALLATION FAILED: cannot re-use a name that is still in use");
};
runCli(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), stdoutIsTty: false, env: {} }).then((code) => {
    process.exitCode = code;
});
