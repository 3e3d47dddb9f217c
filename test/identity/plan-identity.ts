/**
 * Runs TemporalIdentity for the sample stack on the offline engine in a fresh process and prints
 * the registered resources (ids and state) as one JSON line: the stability test compares two runs.
 * Usage: IDENTITY_CERT_PEM=<pem> node --import tsx test/identity/plan-identity.ts [stack]
 */
import { digest, runSampleIdentity } from "./run";

async function main(): Promise<void> {
    const certificatePem = process.env.IDENTITY_CERT_PEM;
    if (!certificatePem) throw new Error("set IDENTITY_CERT_PEM to the payments-worker client certificate");
    const { engine } = await runSampleIdentity({ stack: process.argv[2] ?? "dev", certificatePem });
    process.stdout.write(`IDENTITY-DIGEST ${JSON.stringify(digest(engine))}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
});
