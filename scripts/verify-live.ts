/**
 * `npm run verify:live`: checks a deployed stack's admission control against reality. It gets a
 * token the way a worker or user does, asks the bundled validator what Temporal will decide, then
 * calls the live frontend over mTLS with @temporalio/client and reports whether they agree.
 * The logic lives in scripts/lib/live/ (run.ts); this file only binds it to the process.
 */
import { runVerifyLive } from "./lib/live/run";

runVerifyLive(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
}).then(
    (code) => {
        process.exitCode = code;
    },
    (err: unknown) => {
        // Unexpected failures: the message only (a stack trace could quote request options).
        process.stderr.write(`verify-live: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 3;
    },
);
