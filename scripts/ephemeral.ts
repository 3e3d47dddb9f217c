/**
 * `npm run ephemeral -- up|down|list|reap`: ephemeral test stacks (one per pull request, say) with
 * the Pulumi Automation API. The logic lives in scripts/lib/ephemeral/ (cli.ts, lifecycle.ts);
 * this file only binds it to the process. See docs/ephemeral.md.
 */
import { runEphemeral } from "./lib/ephemeral/cli";

runEphemeral(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
}).then(
    (code) => {
        process.exitCode = code;
    },
    (err: unknown) => {
        process.stderr.write(`ephemeral: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
    },
);
