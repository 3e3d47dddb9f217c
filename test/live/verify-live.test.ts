import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadTlsFromFiles, type TlsMaterial } from "../../scripts/lib/live/certificates";
import { PROBES } from "../../scripts/lib/live/probe";
import { formatReport } from "../../scripts/lib/live/report";
import { verifyLive, type VerifyInput } from "../../scripts/lib/live/verify";
import { runVerifyLiveCli } from "./support/cli";
import { NAMESPACE, startLocalStack, WORKER, type LocalStack } from "./support/stack";

/**
 * End to end on 127.0.0.1: real certificates, real mTLS handshakes, real RS256 tokens checked
 * against a JWKS served over HTTP, the real @temporalio/client, and a stand-in frontend gated by the
 * bundled validator (see support/fake-frontend.ts for what it is and is not).
 */

const FILE_NAMES = { ca: "TEMPORAL_TLS_SERVER_CA_CERT_PATH", cert: "TEMPORAL_TLS_CLIENT_CERT_PATH", key: "TEMPORAL_TLS_CLIENT_KEY_PATH" };

let stack: LocalStack;
let workerTls: TlsMaterial;

before(async () => {
    stack = await startLocalStack();
    workerTls = loadTlsFromFiles(stack.files, FILE_NAMES);
});
after(async () => {
    await stack.close();
});

function input(token: string, overrides: Partial<VerifyInput> = {}): VerifyInput {
    const outputs = stack.outputs(stack.secured);
    return {
        outputs,
        source: "test",
        principal: `worker:${WORKER}`,
        address: stack.secured.address,
        serverName: stack.names.frontendServerName,
        serverNameSource: `TEMPORAL_TLS_SERVER_NAME of worker ${WORKER}`,
        namespace: NAMESPACE,
        tls: workerTls,
        token,
        tokenVia: "test token",
        probes: PROBES,
        expectAllowOnNamespace: true,
        timeoutMs: 5000,
        ...overrides,
    };
}

const byName = (report: Awaited<ReturnType<typeof verifyLive>>, name: string) => {
    const probe = report.probes.find((p) => p.name === name);
    assert.ok(probe, `probe ${name} ran`);
    return probe;
};

describe("verify-live against a local frontend over mTLS", () => {
    it("(a) worker with payments:write: namespace probes allowed, cluster probes denied, as predicted", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const report = await verifyLive(input(token));
        assert.equal(report.tls.ok, true);
        assert.equal(report.keys.ok, true, report.keys.message);
        assert.equal(report.probes.length, PROBES.length);
        assert.deepEqual(
            report.probes.map((p) => [p.name, p.predicted.decision, p.observed.decision, p.observed.status, p.match]),
            [
                ["DescribeNamespace", "allow", "allow", "OK", true],
                ["DescribeWorkflowExecution", "allow", "allow", "NOT_FOUND", true],
                ["SignalWorkflowExecution", "allow", "allow", "NOT_FOUND", true],
                ["ListNamespaces", "deny", "deny", "PERMISSION_DENIED", true],
                ["ListClusters", "deny", "deny", "PERMISSION_DENIED", true],
            ],
        );
        assert.equal(report.verdict.exitCode, 0, report.verdict.problems.join("\n"));
        assert.equal(report.token.subject !== undefined && report.token.roles?.includes('"payments": writer'), true, report.token.roles);
        // The frontend really received the token and the namespace, and its gate decided.
        const seen = stack.secured.calls.filter((c) => c.method === "SignalWorkflowExecution" || c.method === "ListNamespaces");
        assert.deepEqual(
            seen.slice(-2).map((c) => [c.method, c.namespace, c.decision]),
            [
                ["SignalWorkflowExecution", NAMESPACE, "allow"],
                ["ListNamespaces", "", "deny"],
            ],
        );
    });

    it("(a) a cluster admin is allowed everywhere, ListClusters included", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["temporal-system:admin"]);
        const report = await verifyLive(input(token));
        assert.deepEqual(report.probes.map((p) => p.observed.decision), PROBES.map(() => "allow"));
        assert.equal(report.verdict.exitCode, 0);
    });

    it("(a) roles the server silently misfiles are reported with the verdict", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write", "system:admin"]);
        const report = await verifyLive(input(token));
        assert.equal(report.verdict.exitCode, 0);
        assert.equal(byName(report, "ListClusters").observed.decision, "deny", "system:admin is not the cluster scope");
        const advice = (report.token.advice ?? []).join("\n");
        assert.match(advice, /"system:admin" uses the legacy "system" scope/);
        assert.match(formatReport(report), /^ {2}note {9}"system:admin" uses the legacy "system" scope/m);
    });

    it("(b) a token without roles is denied everything, as predicted; a worker without write is told to get it", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, undefined);
        const asWorker = await verifyLive(input(token));
        assert.deepEqual(asWorker.probes.map((p) => `${p.observed.decision}/${p.match}`), PROBES.map(() => "deny/true"));
        assert.equal(asWorker.verdict.exitCode, 1);
        assert.match(asWorker.verdict.summary, /^worker:payments-worker is denied calls it needs: DescribeNamespace, DescribeWorkflowExecution, SignalWorkflowExecution$/);
        assert.equal(asWorker.verdict.problems.at(-1), 'A worker polls and completes tasks with Write (which includes read): grant "payments:write" to worker:payments-worker in the stack\'s access map (access.grants).');
        assert.ok(!asWorker.verdict.problems.some((p) => p.includes("MISMATCH")));

        const asUser = await verifyLive(input(token, { principal: "user", expectAllowOnNamespace: false }));
        assert.equal(asUser.verdict.exitCode, 0);
        assert.equal(asUser.verdict.summary, `all ${PROBES.length} probes match the validator's prediction`);
    });

    it("(b) a token for another audience: the mapper rejects it, the frontend agrees", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"], { aud: "11111111-2222-3333-4444-555555555555" });
        const report = await verifyLive(input(token, { principal: "user", expectAllowOnNamespace: false }));
        // Entra signs another application's token with its shared keys, which the API's own key set does not hold.
        assert.equal(report.token.rejected?.code, "unknown-kid");
        assert.deepEqual(report.probes.map((p) => `${p.observed.decision}/${p.match}`), PROBES.map(() => "deny/true"));
    });

    it("a frontend stricter than the prediction (roles read from the wrong claim): MISMATCH naming the probes and the config to compare", async () => {
        // The server's default permissionsClaimName is "permissions": forgetting TEMPORAL_JWT_PERMISSIONS_CLAIM=roles.
        const { startFakeFrontend } = await import("./support/fake-frontend");
        const strict = await startFakeFrontend({ pki: stack.pki, mode: "authorizer", jwksUrl: stack.entra.jwksUrl, audience: stack.entra.apiClientId, namespaces: [NAMESPACE], permissionsClaimName: "permissions" });
        try {
            const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
            const report = await verifyLive(input(token, { address: strict.address }));
            assert.deepEqual(report.probes.filter((p) => !p.match).map((p) => p.name), ["DescribeNamespace", "DescribeWorkflowExecution", "SignalWorkflowExecution"]);
            assert.equal(report.verdict.exitCode, 1);
            assert.equal(report.verdict.summary, "3 of 5 probes disagree with the validator: DescribeNamespace, DescribeWorkflowExecution, SignalWorkflowExecution");
            assert.match(report.verdict.problems[0] ?? "", /^MISMATCH DescribeNamespace on "payments": the frontend denied it \(PERMISSION_DENIED "Request unauthorized."\), but the validator predicts allow/);
            assert.match(report.verdict.problems.join("\n"), /Compare its global.authorization \(permissionsClaimName roles, audience/);
        } finally {
            await strict.close();
        }
    });

    it("(c) a client without a certificate: a TLS failure, reported as such and quickly, never as a mismatch", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const tls = loadTlsFromFiles({ ca: stack.files.ca }, FILE_NAMES);
        const started = Date.now();
        const report = await verifyLive(input(token, { tls, timeoutMs: 10_000 }));
        assert.ok(Date.now() - started < 5000, "does not wait out the 10 s connect timeout");
        assert.equal(report.tls.ok, false);
        assert.equal(!report.tls.ok && report.tls.kind, "client-certificate-required");
        assert.deepEqual(report.probes, []);
        assert.equal(report.verdict.exitCode, 3);
        assert.match(report.verdict.problems[0] ?? "", /requires a client certificate \(mTLS\) and none was presented/);
        assert.doesNotMatch(formatReport(report), /MISMATCH/);
    });

    it("(c) a client certificate from a CA the frontend does not trust is rejected, naming the certificate", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const { assembleTls } = await import("../../scripts/lib/live/certificates");
        const tls = assembleTls({ ca: stack.pki.ca.certPem, cert: stack.pki.strangerClient.certPem, key: stack.pki.strangerClient.keyPem }, FILE_NAMES, "stranger");
        const report = await verifyLive(input(token, { tls }));
        assert.equal(!report.tls.ok && report.tls.kind, "client-certificate-rejected");
        assert.match(report.verdict.problems[0] ?? "", /rejected the client certificate \(CN=payments-worker, issued by CN=some other CA/);
    });

    it("(d) a wrong server name: a TLS error naming the server name and the certificate's names", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const report = await verifyLive(input(token, { serverName: "temporal.example.com", serverNameSource: "--server-name" }));
        assert.equal(!report.tls.ok && report.tls.kind, "server-name");
        assert.equal(report.verdict.exitCode, 3);
        assert.equal(
            report.verdict.problems[0],
            'the frontend\'s certificate is not valid for the server name "temporal.example.com" (from --server-name): its names are ' +
                "DNS:temporal-frontend, DNS:temporal-frontend.temporal, DNS:temporal-frontend.temporal.svc, DNS:temporal-frontend.temporal.svc.cluster.local. " +
                "Set the server name to one of them (TEMPORAL_TLS_SERVER_NAME, --server-name)",
        );
    });

    it("(e) the CLI end to end: --outputs and --token -, exit 0, the token never printed", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const file = stack.writeOutputs(stack.secured);
        const { code, stdout, stderr } = await runVerifyLiveCli(["--outputs", file, "--as", `worker:${WORKER}`, "--token", "-"], `${token}\n`);
        assert.equal(code, 0, stdout + stderr);
        assert.match(stdout, /result: all 5 probes match the validator's prediction/);
        assert.match(stdout, /SignalWorkflowExecution\s+write\s+payments\s+allow\s+allow \(NOT_FOUND\)\s+match/);
        assert.match(stdout, /ListNamespaces\s+read\s+cluster\s+deny\s+deny \(PERMISSION_DENIED\)\s+match/);
        for (const secret of [token, token.split(".")[2] ?? "", stack.pki.client.keyPem.split("\n")[1] ?? ""]) {
            assert.ok(secret.length > 20);
            assert.equal(stdout.includes(secret) || stderr.includes(secret), false, "no token or key material in the output");
        }
    });

    it("(f) a frontend with no authorizer: exit 1 and the report names the mismatching probes", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const file = stack.writeOutputs(stack.open);
        const { code, stdout, stderr } = await runVerifyLiveCli(["--outputs", file, "--as", `worker:${WORKER}`, "--token", "-"], token);
        assert.equal(code, 1, stdout + stderr);
        assert.match(stdout, /result: 2 of 5 probes disagree with the validator: ListNamespaces, ListClusters/);
        assert.match(stdout, /MISMATCH ListNamespaces \(cluster\): the frontend allowed it \(OK\), but the validator predicts deny: ListNamespaces needs Reader \(2\) on the cluster/);
        assert.match(stdout, /Authorization looks OFF on this frontend: it allowed every call its authorizer would deny\./);
        assert.equal(stdout.includes(token), false);
    });
});
