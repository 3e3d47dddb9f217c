import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT, MAX_STDIN_BYTES, main, type Io } from "../../scripts/claims";
import { makeKey, nowSeconds, signed, startJwksServer, type JwksServer, type TestKey } from "./support";

const ROOT = join(__dirname, "../..");

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** The CLI as users run it: a separate process. */
function cli(args: string[], stdin?: string): Promise<Run> {
    return new Promise((resolve) => {
        const child = execFile(process.execPath, ["--import", "tsx", "scripts/claims.ts", ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
        child.stdin?.end(stdin ?? "");
    });
}

/** The same entry point, in this process (fast). */
async function run(args: string[], stdin = ""): Promise<Run> {
    let stdout = "";
    let stderr = "";
    const io: Io = { out: (t) => void (stdout += `${t}\n`), err: (t) => void (stderr += `${t}\n`), readStdin: async () => stdin };
    const code = await main(args, io);
    return { code, stdout, stderr };
}

describe("npm run claims", () => {
    let key: TestKey;
    let server: JwksServer;
    let jwksFile: string;
    let good: string;
    let expired: string;

    before(async () => {
        key = await makeKey("RS256", "cli");
        server = await startJwksServer([key.publicJwk]);
        const dir = mkdtempSync(join(tmpdir(), "claims-cli-"));
        jwksFile = join(dir, "jwks.json");
        writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
        good = await signed(key, { sub: "worker-1", aud: "api", permissions: ["payments:write", "payments:worker"], exp: nowSeconds() + 600 });
        expired = await signed(key, { sub: "worker-1", aud: "api", permissions: ["payments:write"], exp: nowSeconds() - 600 });
    });
    after(() => server.close());

    it("never prints the token, passing or failing (child processes, real HTTP JWKS)", async () => {
        const [pass, fail, piped, can, cannot] = await Promise.all([
            cli(["explain", good, "--jwks-uri", server.url, "--audience", "api"]),
            cli(["explain", expired, "--jwks-uri", server.url, "--audience", "api"]),
            cli(["explain", "-", "--jwks-uri", server.url, "--audience", "api", "--json"], `${good}\n`),
            cli(["can", good, "StartWorkflowExecution", "payments", "--jwks-uri", server.url, "--audience", "api"]),
            cli(["can", expired, "StartWorkflowExecution", "payments", "--jwks-uri", server.url, "--audience", "api"]),
        ]);
        assert.equal(pass.code, 0, pass.stderr);
        assert.match(pass.stdout, /^VALID/);
        assert.match(pass.stdout, /"payments": write/);
        assert.equal(fail.code, 1, fail.stderr);
        assert.match(fail.stdout, /^REJECTED \(expired\)/);
        assert.equal(piped.code, 0, piped.stderr);
        assert.equal((JSON.parse(piped.stdout) as { verified: boolean }).verified, true);
        assert.equal(can.code, 0);
        assert.match(can.stdout, /^allow: StartWorkflowExecution needs Writer \(4\) on namespace "payments"/);
        assert.equal(cannot.code, 1);
        assert.match(cannot.stdout, /^deny: the claim mapper rejects the token \(expired\)/);
        for (const r of [pass, fail, piped, can, cannot]) {
            for (const t of [good, expired]) {
                for (const piece of [t, ...t.split(".")]) {
                    assert.ok(!r.stdout.includes(piece) && !r.stderr.includes(piece), "a token (or a piece of it) was printed");
                }
            }
        }
    });

    it("exits 2 on usage errors without echoing a misplaced token", async () => {
        const [none, swapped, unknown] = await Promise.all([cli([]), cli(["can", "StartWorkflowExecution", good, "payments", "--jwks", jwksFile]), cli(["frobnicate"])]);
        assert.equal(none.code, 2);
        assert.equal(swapped.code, 2);
        assert.match(swapped.stderr, /the token goes on standard input/);
        assert.ok(!swapped.stderr.includes(good) && !swapped.stdout.includes(good));
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /unknown command "frobnicate"/);
    });

    it("explain: JSON report, namespaces to report on, local JWKS file", async () => {
        const r = await run(["explain", good, "--jwks", jwksFile, "--namespace", "payments,orders", "--json"]);
        assert.equal(r.code, 0);
        const report = JSON.parse(r.stdout) as { access: { cluster: string; namespaces: Record<string, string> }; notes: string[] };
        assert.deepEqual(report.access, { cluster: "none", namespaces: { payments: "write", orders: "none" } });
        assert.ok(report.notes.some((n) => /no audience is configured/.test(n)));
        assert.ok(!r.stdout.includes(good));
    });

    it("explain: exit codes and options errors", async () => {
        assert.equal((await run(["explain", expired, "--jwks", jwksFile])).code, 1);
        const wrongAud = await run(["explain", good, "--jwks", jwksFile, "--audience", "other"]);
        assert.equal(wrongAud.code, 1);
        assert.match(wrongAud.stdout, /REJECTED \(audience-mismatch\)/);
        const noKeys = await run(["explain", good]);
        assert.equal(noKeys.code, 2);
        assert.match(noKeys.stderr, /--jwks-uri/);
        const entraNoAudience = await run(["explain", good, "--tenant", "11111111-2222-3333-4444-555555555555", "--jwks", jwksFile]);
        assert.equal(entraNoAudience.code, 2);
        assert.match(entraNoAudience.stderr, /needs audience/);
        assert.equal((await run(["explain", "-", "--jwks", jwksFile], "  \n")).code, 2);
        assert.equal((await run(["explain", good, "--jwks", "/nonexistent/jwks.json"])).code, 2);
        assert.equal((await run(["explain", good, "--jwks", jwksFile, "--bogus"])).code, 2);
    });

    it("can: allow and deny with the reason", async () => {
        const allow = await run(["can", good, "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue", "payments", "--jwks", jwksFile]);
        assert.equal(allow.code, 0);
        const deny = await run(["can", good, "UpdateNamespace", "payments", "--jwks", jwksFile]);
        assert.equal(deny.code, 1);
        assert.match(deny.stdout, /^deny: UpdateNamespace needs Admin \(8\) on namespace "payments"; the caller has writer\|worker \(5\) there/);
        const json = await run(["can", good, "ListNamespaces", "payments", "--jwks", jwksFile, "--json"]);
        assert.equal(json.code, 1);
        assert.equal((JSON.parse(json.stdout) as { decision: string }).decision, "deny");
        assert.equal((await run(["can", good, "ListNamespaces", "--jwks", jwksFile])).code, 2);
    });

    it("check: how the server parses app-role values, exit 1 when one does not mean what it says", async () => {
        const ok = await run(["check", "payments:write", "temporal-system:read"]);
        assert.equal(ok.code, 0);
        assert.match(ok.stdout, /"payments:write" -> namespace "payments": writer \(4\)/);
        assert.match(ok.stdout, /"temporal-system:read" -> cluster \(temporal-system\): reader \(2\)/);
        const bad = await run(["check", "system:admin", "payments:worker", " orders:read"]);
        assert.equal(bad.code, 1);
        assert.match(bad.stdout, /legacy "system" scope/);
        assert.match(bad.stdout, /without write grants nothing/);
        assert.match(bad.stdout, /whitespace the server keeps/);
        const rx = await run(["check", "write:payments", "--regex", "(?P<role>\\w+):(?P<namespace>[\\w-]+)", "--json"]);
        assert.equal(rx.code, 0);
        assert.deepEqual((JSON.parse(rx.stdout) as { namespaces: unknown }).namespaces, { payments: 4 });
        assert.equal((await run(["check", "x:read", "--regex", "(?P<namespace>a)(?P<role>b)(?P<namespace>c)"])).code, 2, "a pattern the validator cannot reproduce is a usage error");
        const token = await run(["check", good]);
        assert.equal(token.code, 2);
        assert.ok(!token.stderr.includes(good) && !token.stdout.includes(good));
        assert.equal((await run(["check"])).code, 2);
    });
    it("reads the token on standard input, and warns when it is given as an argument", async () => {
        const piped = await run(["explain", "--jwks", jwksFile], `${good}\n`);
        assert.equal(piped.code, 0);
        assert.equal(piped.stderr, "");
        const dash = await run(["can", "-", "StartWorkflowExecution", "payments", "--jwks", jwksFile], good);
        assert.equal(dash.code, 0);
        assert.equal(dash.stderr, "");
        const argument = await run(["explain", good, "--jwks", jwksFile]);
        assert.equal(argument.code, 0);
        assert.match(argument.stderr, /^warning: the token was given as an argument, so it is visible in the process list.*pipe it on standard input/);
        assert.ok(!argument.stderr.includes(good) && !argument.stdout.includes(good));
        const empty = await run(["explain", "--jwks", jwksFile], "");
        assert.equal(empty.code, 2);
        assert.match(empty.stderr, /no token on standard input/);
        const huge = await run(["explain", "--jwks", jwksFile], "A".repeat(MAX_STDIN_BYTES + 1));
        assert.equal(huge.code, 2);
        assert.match(huge.stderr, /this CLI's own limit on what it reads \(the server has none\)/);
    });

    it("exit codes: 2 for an unknown or ambiguous method (with a suggestion), 3 when the keys cannot be fetched, 1 for a real denial", async () => {
        const typo = await run(["can", "StartWorkflowExecutoin", "payments", "--jwks", jwksFile], good);
        assert.equal(typo.code, EXIT.usage);
        assert.match(typo.stderr, /did you mean "StartWorkflowExecution"\?/);
        const ambiguous = await run(["can", "ListClusters", "payments", "--jwks", jwksFile], good);
        assert.equal(ambiguous.code, EXIT.usage);
        assert.match(ambiguous.stderr, /"OperatorService\/ListClusters" or "AdminService\/ListClusters"/);
        const unreachable = ["--jwks-uri", "http://127.0.0.1:1/keys", "--timeout", "2000"];
        const can = await run(["can", "StartWorkflowExecution", "payments", ...unreachable], good);
        assert.equal(can.code, EXIT.noVerdict, can.stdout);
        assert.match(can.stdout, /keys-unavailable.*fail closed/);
        const ex = await run(["explain", ...unreachable], good);
        assert.equal(ex.code, EXIT.noVerdict);
        const denied = await run(["can", "UpdateNamespace", "payments", "--jwks", jwksFile], good);
        assert.equal(denied.code, EXIT.denied);
        const unknownPath = await run(["can", "/temporal.api.workflowservice.v1.WorkflowService/NoSuchMethod", "payments", "--jwks", jwksFile], good);
        assert.equal(unknownPath.code, EXIT.denied, "a full path is a real question: the server answers it (Unimplemented)");
        assert.match(unknownPath.stdout, /serves no method/);
    });

    it("can and explain: a token for another audience is ALLOWED on the replication stream, and they say why", async () => {
        const foreign = await signed(key, { sub: "intruder", aud: "some-other-app", permissions: ["temporal-system:admin"], exp: nowSeconds() + 600 });
        const stream = await run(["can", "StreamWorkflowReplicationMessages", "-", "--jwks", jwksFile, "--audience", "api"], foreign);
        assert.equal(stream.code, EXIT.ok, stream.stdout);
        assert.match(stream.stdout, /^allow: StreamWorkflowReplicationMessages needs Admin \(8\) on the cluster/);
        assert.match(stream.stdout, /streaming call: the server's stream interceptor has no request at stream start and hands the claim mapper an EMPTY audience/);
        assert.match(stream.stdout, /Every unary call rejects this token .*this call is ALLOWED/);
        const unary = await run(["can", "AdminService/DescribeCluster", "-", "--jwks", jwksFile, "--audience", "api"], foreign);
        assert.equal(unary.code, EXIT.denied);
        assert.match(unary.stdout, /audience-mismatch/);
        const ex = await run(["explain", "--jwks", jwksFile, "--audience", "api", "--json"], foreign);
        assert.equal(ex.code, EXIT.denied);
        const report = JSON.parse(ex.stdout) as { error: { code: string }; withoutAudienceCheck: { replicationStream: string } };
        assert.equal(report.error.code, "audience-mismatch");
        assert.equal(report.withoutAudienceCheck.replicationStream, "allow");
        const text = await run(["explain", "--jwks", jwksFile, "--audience", "api"], foreign);
        assert.match(text.stdout, /without the audience check \(streams, Nexus HTTP calls\): ACCEPTED\n {2}StreamWorkflowReplicationMessages: allow/);
    });

    it("check agrees with the stack rules, reports every problem of a value at once, and reads a stack's access map", async () => {
        const both = await run(["check", "default:Read", "--stack", "dev"]);
        assert.equal(both.code, EXIT.denied);
        assert.match(both.stdout, /"default:Read": role words are case-insensitive.*write "default:read"/);
        assert.match(both.stdout, /"default:Read" names Temporal namespace "default", which access\.namespaces does not declare/);
        const alone = await run(["check", "default:Read"]);
        assert.equal(alone.code, EXIT.denied, "a role word in another case is an error here as in the plan");
        const proto = await run(["check", "payments:constructor", "payments:toString", "payments:__proto__"]);
        assert.equal(proto.code, EXIT.denied);
        assert.equal(proto.stdout.match(/has the unknown role word/g)?.length, 3);
        const stack = await run(["check", "--stack", "dev"]);
        assert.equal(stack.code, EXIT.ok, stack.stdout);
        assert.match(stack.stdout, /"temporal-system:admin" -> cluster/);
        const missing = await run(["check", "payments:read", "--stack", "no-such-stack"]);
        assert.equal(missing.code, EXIT.usage);
        assert.match(missing.stderr, /--stack no-such-stack: no stack file .*Pulumi\.no-such-stack\.yaml/);
    });
});
