import { runCli } from "./lib/plan/cli";

/**
 * The offline plan (the project's main job): `npm start` plans the dev example stack, `--base <ref>`
 * shows what a change does to a stack's plan. Flags, output formats and exit codes: docs/plan.md.
 */

if (require.main === module) {
    runCli(process.argv.slice(2), {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        stdoutIsTty: process.stdout.isTTY === true,
        env: process.env,
    }).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(`plan failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
            process.exitCode = 1;
        },
    );
}
