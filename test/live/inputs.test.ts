import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { methodAccess } from "../../policies/claims";
import { loadTlsFromKeyVault, splitPemBundle, type SecretReader } from "../../scripts/lib/live/certificates";
import { SetupError } from "../../scripts/lib/live/errors";
import { classifyOutcome, PROBES } from "../../scripts/lib/live/probe";
import { runVerifyLive, type RunIo } from "../../scripts/lib/live/run";
import { parseStackOutputs, PROJECT_DIR, readStackOutputs, type StackOutputs } from "../../scripts/lib/live/stack-outputs";
import { acquireToken, parsePrincipal, readTokenFromStream, type CredentialFactory } from "../../scripts/lib/live/token";
import { startLocalStack, WORKER, type LocalStack } from "./support/stack";

let stack: LocalStack;
let outputs: StackOutputs;
before(async () => {
    stack = await startLocalStack();
    outputs = stack.outputs(stack.secured);
});
after(async () => {
    await stack.close();
});

function rejects<E extends Error>(fn: () => unknown, type: new (...a: never[]) => E): E {
    try {
        fn();
    } catch (err) {
        assert.ok(err instanceof type, `threw ${String(err)}`);
        return err;
    }
    assert.fail("did not throw");
}

describe("stack outputs", () => {
    it("accepts what the program exports and lists every missing field by path", () => {
        assert.deepEqual(parseStackOutputs(JSON.parse(JSON.stringify(outputs)), "f.json"), outputs);
        const broken = JSON.parse(JSON.stringify(outputs)) as Record<string, unknown> & { workers: Record<string, { env: Record<string, unknown> }> };
        delete broken.jwksUrl;
        delete broken.workers[WORKER]?.env.TEMPORAL_TLS_SERVER_NAME;
        broken.tenantId = "contoso";
        const err = rejects(() => parseStackOutputs(broken, "outputs.json"), SetupError);
        assert.equal(
            err.message,
            "The stack outputs from outputs.json are not what verify-live needs (3 problems):\n" +
                "  - tenantId must be a GUID like 00000000-0000-0000-0000-000000000000\n" +
                "  - jwksUrl is missing\n" +
                `  - workers.${WORKER}.env.TEMPORAL_TLS_SERVER_NAME is missing\n` +
                "They are exported by the program in infra/index.ts: run `pulumi up` with the current program, or fix the file.",
        );
    });

    it("reads a stack's outputs through the Automation API's OutputMap", async () => {
        const seen: unknown[] = [];
        const map = Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value, secret: false }]));
        const read = await readStackOutputs("dev", "/srv/program", async (args) => {
            seen.push(args);
            return { outputs: async () => map };
        });
        assert.deepEqual(seen, [{ stackName: "dev", workDir: "/srv/program" }]);
        assert.deepEqual(read, outputs);
    });

    it("says what the Automation API needs when it cannot run: the real LocalWorkspace, with no Pulumi CLI on this machine", async () => {
        await assert.rejects(readStackOutputs("dev"), (err: Error) => {
            assert.ok(err instanceof SetupError);
            assert.equal(
                err.message,
                "--stack dev: cannot read the stack's outputs through the Pulumi Automation API (the Pulumi CLI is not installed or not on PATH). " +
                    `It needs the Pulumi CLI on PATH, a login to the stack's backend and the program in ${PROJECT_DIR}; or pass --outputs <file> written by \`pulumi stack output --stack dev --json\`.`,
            );
            return true;
        });
    });

    it("quotes the CLI's own error line when it runs but fails", async () => {
        const cliError = Object.assign(new Error("code: 255\n stdout: \n stderr: error: no stack named 'qa' found\n"), {
            commandResult: { stderr: "warning: A new version of Pulumi is available.\nerror: no stack named 'qa' found\n" },
        });
        await assert.rejects(readStackOutputs("qa", "/srv/program", () => Promise.reject(cliError)), (err: Error) =>
            err.message.startsWith("--stack qa: cannot read the stack's outputs through the Pulumi Automation API (error: no stack named 'qa' found)."),
        );
    });
});

describe("certificates from Key Vault", () => {
    const vaultUri = "https://kv-temporal-test.vault.azure.net/";
    const reader = (secrets: Record<string, { value?: string; contentType?: string } | number>): SecretReader & { asked: string[] } => {
        const asked: string[] = [];
        return {
            asked,
            getSecret: async (name: string) => {
                asked.push(name);
                const s = secrets[name];
                if (s === undefined || typeof s === "number") throw Object.assign(new Error("boom"), { statusCode: s ?? 404 });
                return { ...(s.value !== undefined ? { value: s.value } : {}), properties: { contentType: s.contentType ?? "application/x-pem-file" } };
            },
        };
    };

    it("splits the PEM bundle of an imported certificate into key, client certificate and CA chain", async () => {
        const bundle = `${stack.pki.client.keyPem}${stack.pki.client.certPem}${stack.pki.ca.certPem}`;
        assert.deepEqual(
            splitPemBundle(bundle),
            { key: stack.pki.client.keyPem.trimEnd() + "\n", certificates: [stack.pki.client.certPem.trimEnd() + "\n", stack.pki.ca.certPem.trimEnd() + "\n"] },
        );
        const r = reader({ [WORKER]: { value: bundle } });
        const tls = await loadTlsFromKeyVault({ vaultUri, secretName: WORKER }, r);
        assert.deepEqual(r.asked, [WORKER]);
        assert.equal(tls.serverRootCa.toString(), stack.pki.ca.certPem.trimEnd() + "\n");
        assert.equal(tls.clientCertificate?.subject, `CN=${WORKER}`);
        assert.equal(tls.source, `${vaultUri} secret ${WORKER}`);
    });

    it("names the vault, the secret and the fix when it cannot be used", async () => {
        const cases: Array<[Record<string, { value?: string; contentType?: string } | number>, RegExp]> = [
            [{ [WORKER]: 403 }, /secret "payments-worker": access denied: reading it needs the Key Vault Secrets User role/],
            [{}, /secret "payments-worker": no such secret/],
            [{ [WORKER]: { value: "MIIK", contentType: "application/x-pkcs12" } }, /is a PKCS#12 bundle \(application\/x-pkcs12\)/],
            [{ [WORKER]: { value: `${stack.pki.client.keyPem}${stack.pki.client.certPem}` } }, /carries no CA chain: name the secret holding the CA with --key-vault-ca-secret, or give --tls-ca/],
            [{ [WORKER]: { value: `${stack.pki.strangerClient.keyPem}${stack.pki.client.certPem}${stack.pki.ca.certPem}` } }, /the private key in .* does not belong to the certificate/],
        ];
        for (const [secrets, message] of cases) {
            await assert.rejects(loadTlsFromKeyVault({ vaultUri, secretName: WORKER }, reader(secrets)), (err: Error) => err instanceof SetupError && message.test(err.message));
        }
    });
});

describe("tokens", () => {
    function recordingFactory(): CredentialFactory & { made: string[]; scopes: string[] } {
        const made: string[] = [];
        const scopes: string[] = [];
        const credential = (label: string) => {
            made.push(label);
            return { getToken: async (scope: string | string[]) => (scopes.push(String(scope)), { token: `token-for-${label}`, expiresOnTimestamp: Date.now() + 3600_000 }) };
        };
        return {
            made,
            scopes,
            certificate: (tenant, client, pem) => credential(`certificate ${tenant} ${client} ${pem.includes("PRIVATE KEY") && pem.includes("CERTIFICATE") ? "pem" : "?"}`),
            workloadIdentity: (tenant, client) => credential(`workload ${tenant} ${client}`),
            cli: (tenant) => credential(`cli ${tenant}`),
            default: (tenant, client) => credential(`default ${tenant} ${client ?? ""}`.trim()),
        };
    }
    const pem = () => `${stack.pki.client.certPem}${stack.pki.client.keyPem}`;

    it("a worker outside AKS uses client credentials with its certificate, scope /.default", async () => {
        const f = recordingFactory();
        const got = await acquireToken({ principal: parsePrincipal(`worker:${WORKER}`), outputs, env: {}, certificatePem: pem(), factory: f });
        assert.deepEqual(f.made, [`certificate ${outputs.tenantId} ${stack.workerClientId} pem`]);
        assert.deepEqual(f.scopes, [`api://${outputs.apiClientId}/.default`]);
        assert.equal(got.token, f.made[0] && `token-for-${f.made[0]}`);
    });

    it("on AKS (a federated token file) a worker uses workload identity", async () => {
        const f = recordingFactory();
        await acquireToken({ principal: parsePrincipal(`worker:${WORKER}`), outputs, env: { AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" }, certificatePem: pem(), factory: f });
        assert.deepEqual(f.made, [`workload ${outputs.tenantId} ${stack.workerClientId}`]);
    });

    it("a user signs in with the Azure CLI and asks for the delegated scope", async () => {
        const f = recordingFactory();
        await acquireToken({ principal: parsePrincipal("user"), outputs, env: {}, factory: f });
        assert.deepEqual(f.made, [`cli ${outputs.tenantId}`]);
        assert.deepEqual(f.scopes, [`api://${outputs.apiClientId}/default`]);
    });

    it("explains an Entra refusal without echoing secrets", async () => {
        const f: CredentialFactory = {
            ...recordingFactory(),
            cli: () => ({ getToken: () => Promise.reject(new Error("AADSTS65001: The user or administrator has not consented to use the application.\nTrace ID: x")) }),
        };
        await assert.rejects(acquireToken({ principal: { kind: "user" }, outputs, env: {}, factory: f }), (err: Error) =>
            err instanceof SetupError && /AADSTS65001.*pre-authorize the Azure CLI's client id 04b07795-8ddb-461a-bbee-02f9e1bf7b46/.test(err.message),
        );
    });

    it("reads one token from standard input and refuses anything else", async () => {
        assert.equal(await readTokenFromStream(Readable.from(["  aaa.bbb.ccc\n"])), "aaa.bbb.ccc");
        assert.equal(await readTokenFromStream(Readable.from(["Bearer aaa.bbb.ccc"])), "aaa.bbb.ccc");
        await assert.rejects(readTokenFromStream(Readable.from(["\n"])), /nothing was read from standard input/);
        await assert.rejects(readTokenFromStream(Readable.from(["a.b.c d.e.f"])), /more than one token/);
        assert.throws(() => parsePrincipal("worker:"), /--as must be worker:<name> or user \(got "worker:"\)/);
    });
});

describe("probes", () => {
    it("are classified as the server 1.31 authorizer table says", () => {
        const words = { ReadOnly: "read", Write: "write", Admin: "admin" } as const;
        for (const probe of PROBES) {
            const row = methodAccess(probe.api);
            assert.ok(row, `${probe.api} is in the validator's table`);
            assert.equal(probe.scope, row.scope.toLowerCase());
            assert.equal(probe.access, words[row.access]);
        }
    });

    it("PERMISSION_DENIED is the authorizer's no; NOT_FOUND and the like got past it; transport errors give no verdict", () => {
        const grpcError = (code: number, details: string) => Object.assign(new Error(details), { code, details, metadata: {} });
        const decide = (code: number) => classifyOutcome({ ok: false, error: grpcError(code, "x") }).decision;
        assert.equal(decide(status.PERMISSION_DENIED), "deny");
        assert.equal(decide(status.NOT_FOUND), "allow");
        assert.equal(decide(status.INVALID_ARGUMENT), "allow");
        assert.equal(decide(status.UNAVAILABLE), "error");
        assert.equal(decide(status.DEADLINE_EXCEEDED), "error");
        assert.equal(decide(status.UNIMPLEMENTED), "error");
        assert.deepEqual(classifyOutcome({ ok: true }), { decision: "allow", status: "OK", message: "" });
    });
});

describe("the CLI's usage errors", () => {
    async function cli(argv: string[], extra: Partial<RunIo> = {}) {
        let stdout = "";
        let stderr = "";
        const code = await runVerifyLive(argv, {
            stdin: Readable.from([]),
            stdout: (t) => (stdout += t),
            stderr: (t) => (stderr += t),
            env: {},
            ...extra,
        });
        return { code, stdout, stderr };
    }

    it("names the flag and exits 2", async () => {
        const file = stack.writeOutputs(stack.secured);
        const cases: Array<[string[], string]> = [
            [["--outputs", file], "--as is required: worker:<name> (a worker declared in the stack) or user"],
            [["--outputs", file, "--as", "admin"], '--as must be worker:<name> or user (got "admin")'],
            [["--outputs", file, "--as", "worker:billing"], `--as: the stack declares no worker "billing" (workers: ${WORKER})`],
            [["--outputs", file, "--as", "user"], "--namespace is required with --as user: which Temporal namespace to probe"],
            [["--as", "user"], "--stack <name> or --outputs <file> is required: which deployed stack to check"],
            [["--stack", "dev", "--outputs", file, "--as", "user"], "give either --stack or --outputs, not both"],
            [["--outputs", file, "--as", "user", "--credential", "password"], '--credential must be one of certificate, workload-identity, cli, default (got "password")'],
            [["--outputs", file, "--as", "user", "--probe", "StartWorkflowExecution"], '--probe: unknown probe "StartWorkflowExecution" (probes: DescribeNamespace, DescribeWorkflowExecution, SignalWorkflowExecution, ListNamespaces, ListClusters)'],
        ];
        for (const [argv, message] of cases) {
            const r = await cli(argv);
            assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
            assert.equal(r.stderr, `verify-live: ${message}\nRun with --help for the options.\n`);
        }
        const onCommandLine = await cli(["--outputs", file, "--as", "user", "--token", "a.b.c"]);
        assert.equal(onCommandLine.code, 2);
        assert.match(onCommandLine.stderr, /^verify-live: note: a token on the command line is visible to other processes and kept in shell history; prefer --token -\n/);
        assert.equal(onCommandLine.stderr.includes("a.b.c"), false);
        const unknown = await cli(["--outputs", file, "--as", "user", "--frontend", "x"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /Unknown option '--frontend'/);
    });

    it("runs from --stack through the (injected) Automation API and reports JSON", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:read"]);
        const map = Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value, secret: false }]));
        const r = await cli(["--stack", "dev", "--as", `worker:${WORKER}`, "--token", "-", "--json", "--probe", "DescribeNamespace", "--probe", "SignalWorkflowExecution"], {
            stdin: Readable.from([token]),
            selectStack: async () => ({ outputs: async () => map }),
        });
        const report = JSON.parse(r.stdout) as { source: string; probes: { name: string; observed: { decision: string }; match: boolean }[]; verdict: { exitCode: number; summary: string } };
        assert.equal(report.source, "stack dev");
        assert.deepEqual(report.probes.map((p) => [p.name, p.observed.decision, p.match]), [
            ["DescribeNamespace", "allow", true],
            ["SignalWorkflowExecution", "deny", true],
        ]);
        // Reading is not enough for a worker: it is told, and the exit code says so.
        assert.equal(r.code, 1);
        assert.equal(report.verdict.summary, "worker:payments-worker is denied calls it needs: SignalWorkflowExecution");
        assert.equal(r.stdout.includes(token), false);
    });

    it("outside the worker's pod the client certificate comes from Key Vault: <worker>-client and the trust bundle", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const elsewhere = JSON.parse(JSON.stringify(outputs)) as StackOutputs;
        const env = elsewhere.workers[WORKER]?.env;
        assert.ok(env);
        // The profile's paths as the stack exports them: where the pod mounts its Secret, absent here.
        env.TEMPORAL_TLS_CLIENT_CERT_PATH = "/etc/temporal/tls/tls.crt";
        env.TEMPORAL_TLS_CLIENT_KEY_PATH = "/etc/temporal/tls/tls.key";
        env.TEMPORAL_TLS_SERVER_CA_CERT_PATH = "/etc/temporal/tls/ca.crt";
        const file = `${stack.dir}/outputs-elsewhere.json`;
        fs.writeFileSync(file, JSON.stringify(elsewhere));
        const asked: string[] = [];
        const vault: Record<string, string> = {
            [`${WORKER}-client`]: `${stack.pki.client.keyPem}${stack.pki.client.certPem}${stack.pki.ca.certPem}`,
            "temporal-ca-bundle": stack.pki.ca.certPem,
        };
        const r = await cli(["--outputs", file, "--as", `worker:${WORKER}`, "--token", "-"], {
            stdin: Readable.from([token]),
            secretReader: async (vaultUri) => {
                assert.equal(vaultUri, outputs.keyVaultUri);
                return {
                    getSecret: async (name: string) => {
                        asked.push(name);
                        const value = vault[name];
                        if (value === undefined) throw Object.assign(new Error("not found"), { statusCode: 404 });
                        return { value, properties: { contentType: "application/x-pem-file" } };
                    },
                };
            },
        });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(asked, [`${WORKER}-client`, "temporal-ca-bundle"]);
        assert.match(r.stdout, /client cert {2}CN=payments-worker, issued by CN=temporal-azure test CA, valid until \S+ \(https:\/\/kv-temporal-test.vault.azure.net\/ secret payments-worker-client\)/);
        assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
    });

    it("without --token, asks Entra ID as the worker: client credentials with the worker's own certificate", async () => {
        const calls: string[] = [];
        // The credential a worker outside AKS builds; here its token comes from the local issuer, signed for real.
        const credentials: CredentialFactory = {
            certificate: (tenantId, clientId, pem) => {
                calls.push(`certificate ${tenantId === outputs.tenantId} ${clientId === stack.workerClientId} ${pem.replace(/\s+/g, "") === `${stack.pki.client.certPem}${stack.pki.client.keyPem}`.replace(/\s+/g, "")}`);
                return { getToken: async (scope) => (calls.push(`scope ${String(scope)}`), { token: await stack.entra.appToken(clientId, ["payments:write"]), expiresOnTimestamp: Date.now() + 3600_000 }) };
            },
            workloadIdentity: () => assert.fail("not on AKS"),
            cli: () => assert.fail("not a user"),
            default: () => assert.fail("a certificate is at hand"),
        };
        const r = await cli(["--outputs", stack.writeOutputs(stack.secured), "--as", `worker:${WORKER}`], { credentials });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(calls, ["certificate true true true", `scope api://${outputs.apiClientId}/.default`]);
        assert.match(r.stdout, new RegExp(`token {8}token from Entra ID via certificate credential \\(client id ${stack.workerClientId}\\), tenant ${outputs.tenantId}, scope api://${outputs.apiClientId}/\\.default`));
    });

    it("--as user: the connection from flags, the namespace named, no needs assumed", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:read"]);
        const file = stack.writeOutputs(stack.secured);
        const tlsFlags = ["--tls-ca", stack.files.ca, "--tls-cert", stack.files.cert, "--tls-key", stack.files.key];
        const r = await cli(["--outputs", file, "--as", "user", "--namespace", "payments", ...tlsFlags, "--token", "-"], { stdin: Readable.from([token]) });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^verify-live user -> 127\.0\.0\.1:\d+ \(server name temporal-frontend\.temporal\.svc\)/);
        assert.match(r.stdout, /SignalWorkflowExecution\s+write\s+payments\s+deny\s+deny \(PERMISSION_DENIED\)\s+match/);
        const bad = await cli(["--outputs", file, "--as", "user", "--namespace", "payments", ...tlsFlags, "--address", "localhost:http"]);
        assert.equal(bad.code, 2);
        assert.equal(bad.stderr, 'verify-live: --address: address "localhost:http" is not host:port\nRun with --help for the options.\n');
    });

    it("no verdict (exit 3) when the validator cannot fetch the tenant's keys: never a false mismatch", async () => {
        const token = await stack.entra.appToken(stack.workerClientId, ["payments:write"]);
        const file = `${stack.dir}/outputs-nokeys.json`;
        fs.writeFileSync(file, JSON.stringify({ ...outputs, jwksUrl: "http://127.0.0.1:1/keys" }));
        const r = await cli(["--outputs", file, "--as", `worker:${WORKER}`, "--token", "-"], { stdin: Readable.from([token]) });
        assert.equal(r.code, 3);
        assert.match(r.stderr, /^verify-live: the validator cannot judge the token \(keys-unavailable\): .*http:\/\/127\.0\.0\.1:1\/keys.*\n$/);
        assert.equal(r.stdout, "");
    });

    it("a missing outputs file or TLS file is a setup failure (exit 3) naming it", async () => {
        const missing = await cli(["--outputs", "/nonexistent/outputs.json", "--as", "user"]);
        assert.equal(missing.code, 3);
        assert.equal(missing.stderr, "verify-live: --outputs /nonexistent/outputs.json: cannot read the file (ENOENT)\n");
        const file = stack.writeOutputs(stack.secured);
        const noCa = await cli(["--outputs", file, "--as", `worker:${WORKER}`, "--tls-ca", "/nonexistent/ca.crt"]);
        assert.equal(noCa.code, 3);
        assert.match(noCa.stderr, /^verify-live: --tls-ca \/nonexistent\/ca.crt: cannot read it \(ENOENT\)/);
    });
});

