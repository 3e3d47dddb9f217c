import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { accessDetails, accessMatrix, API_ACCESS, authorize, methodAccess, resolveApiName, type Claims } from "../../policies/claims";

const claims = (system: number, namespaces: Record<string, number> = {}): Claims => ({ subject: "s", system, namespaces });
const WF = "/temporal.api.workflowservice.v1.WorkflowService/";
const ADMIN = "/temporal.server.api.adminservice.v1.AdminService/";
const REQUIRED: Record<string, number> = { ReadOnly: 2, Write: 4, Admin: 8 };

describe("default authorizer (reference §2)", () => {
    it("keeps the method table as data: every method has a scope and an access level", () => {
        assert.ok(API_ACCESS.length > 100);
        for (const m of API_ACCESS) {
            assert.match(m.api, /^\/temporal\.api\.\w+\.v1\.\w+Service\/\w+$/);
            assert.ok(["Namespace", "Cluster"].includes(m.scope) && m.access in REQUIRED, m.api);
        }
    });

    // The project reference lives outside the repository (on the build machine only). It was made from
    // server code newer than 1.31.2: the project's copy keeps exactly the 126 methods of v1.31.2's
    // common/api/metadata.go (checked against the tag) and lists the other 14 under notInServer.
    const referencePath = join(__dirname, "../../../shared/reference/temporal-api-access.json");
    const local = JSON.parse(readFileSync(join(__dirname, "../../policies/claims/api-access.json"), "utf8")) as { methods: Array<{ api: string }>; notInServer: string[] };
    it("is the reference table restricted to the methods server 1.31.2 has", { skip: !existsSync(referencePath) && "reference not on this machine" }, () => {
        const reference = JSON.parse(readFileSync(referencePath, "utf8")) as { methods: Array<{ api: string }> };
        assert.deepEqual(local.methods, reference.methods.filter((m) => !local.notInServer.includes(m.api)));
        assert.equal(local.methods.length + local.notInServer.length, reference.methods.length);
        assert.equal(API_ACCESS.length, 126);
    });

    it("denies the 14 methods that exist only in later servers, even to a system admin", () => {
        assert.equal(local.notInServer.length, 14);
        for (const api of local.notInServer) {
            const r = authorize(claims(8), { apiName: api, namespace: "default" });
            assert.equal(r.decision, "deny", api);
        }
    });

    it("always allows the health check and GetSystemInfo, even without claims", () => {
        for (const api of ["/grpc.health.v1.Health/Check", `${WF}GetSystemInfo`, "GetSystemInfo"]) {
            assert.equal(authorize(undefined, { apiName: api }).decision, "allow", api);
            assert.equal(authorize(null, { apiName: api }).decision, "allow", api);
        }
    });

    it("denies everything else without claims, and with empty claims", () => {
        const r = authorize(undefined, { apiName: `${WF}DescribeNamespace`, namespace: "default" });
        assert.equal(r.decision, "deny");
        assert.match(r.reason, /no claims/);
        assert.equal(authorize(claims(0), { apiName: `${WF}DescribeNamespace`, namespace: "default" }).decision, "deny");
    });

    it("denies a method not in the table, even to a system admin", () => {
        for (const api of [`${WF}NoSuchMethod`, "/temporal.api.other.v1.Other/Foo", "/grpc.health.v1.Health/Watch"]) {
            const r = authorize(claims(15), { apiName: api, namespace: "default" });
            assert.equal(r.decision, "deny", api);
            assert.match(r.reason, /not in the server's method table.*even to a system admin/);
        }
    });

    it("treats every AdminService method as cluster admin", () => {
        for (const api of [`${ADMIN}DescribeCluster`, `${ADMIN}AnythingAtAll`, ADMIN]) {
            assert.deepEqual(methodAccess(api), { api, scope: "Cluster", access: "Admin" });
            assert.equal(authorize(claims(8), { apiName: api }).decision, "allow");
            const r = authorize(claims(7, { default: 8 }), { apiName: api });
            assert.equal(r.decision, "deny");
            assert.match(r.reason, /only a system admin/);
        }
    });

    it("looks the method up by the text after the last slash, as api.GetMethodMetadata does", () => {
        assert.equal(methodAccess(`${WF}x/StartWorkflowExecution`)?.access, "Write");
    });

    it("uses only the system role for cluster scope: namespace roles never open ListNamespaces", () => {
        const r = authorize(claims(0, { default: 8, other: 8 }), { apiName: "ListNamespaces" });
        assert.equal(r.decision, "deny");
        assert.match(r.reason, /namespace roles never open cluster-scope calls/);
        assert.equal(authorize(claims(2), { apiName: "ListNamespaces" }).decision, "allow");
    });

    it("ORs the system role into namespace scope and looks the namespace up exactly", () => {
        assert.equal(authorize(claims(4), { apiName: "StartWorkflowExecution", namespace: "anything" }).decision, "allow");
        const r = authorize(claims(0, { Payments: 4 }), { apiName: "StartWorkflowExecution", namespace: "payments" });
        assert.equal(r.decision, "deny");
        assert.match(r.reason, /roles for "Payments", but namespace names are matched exactly/);
        assert.equal(authorize(claims(0, { " payments": 4 }), { apiName: "StartWorkflowExecution", namespace: "payments" }).decision, "deny");
        assert.equal(authorize(claims(0, { constructor: 4 }), { apiName: "StartWorkflowExecution", namespace: "toString" }).decision, "deny");
    });

    it("compares roles as numbers: worker alone grants nothing, reader|writer|worker is not admin", () => {
        const worker = authorize(claims(0, { payments: 1 }), { apiName: "PollWorkflowTaskQueue", namespace: "payments" });
        assert.equal(worker.decision, "deny");
        assert.match(worker.reason, /worker \(1\) alone grants nothing/);
        assert.equal(authorize(claims(0, { payments: 5 }), { apiName: "PollWorkflowTaskQueue", namespace: "payments" }).decision, "allow");
        const seven = authorize(claims(0, { payments: 7 }), { apiName: "UpdateNamespace", namespace: "payments" });
        assert.equal(seven.decision, "deny");
        assert.match(seven.reason, /writer\|reader\|worker \(7\) is still below admin \(8\)/);
        // A bit test would allow Reader for 8 (admin) too; the server compares numbers, so admin reads.
        assert.equal(authorize(claims(0, { payments: 8 }), { apiName: "DescribeNamespace", namespace: "payments" }).decision, "allow");
    });

    it("explains a denial in a full sentence naming what is needed and what the caller has", () => {
        const r = authorize(claims(0, { payments: 2 }), { apiName: `${WF}StartWorkflowExecution`, namespace: "payments" });
        assert.equal(
            r.reason,
            'deny: StartWorkflowExecution needs Writer (4) on namespace "payments"; the caller has reader (2) there and none on the cluster; grant "payments:write" (or "temporal-system:write" for every namespace).',
        );
    });

    it("accepts an unambiguous short name and says which full name it used", () => {
        assert.deepEqual(resolveApiName("StartWorkflowExecution"), { api: `${WF}StartWorkflowExecution`, shortened: true });
        assert.deepEqual(resolveApiName("OperatorService/ListClusters"), { api: "/temporal.api.operatorservice.v1.OperatorService/ListClusters", shortened: true });
        const r = authorize(claims(8), { apiName: "OperatorService/ListClusters" });
        assert.equal(r.decision, "allow");
        assert.match(r.reason, /"OperatorService\/ListClusters" was read as \/temporal\.api\.operatorservice\.v1\.OperatorService\/ListClusters/);
        // AdminService methods the frontend serves have short names too.
        assert.deepEqual(resolveApiName("DescribeCluster"), { api: "/temporal.server.api.adminservice.v1.AdminService/DescribeCluster", shortened: true });
        assert.equal(authorize(claims(8), { apiName: "StreamWorkflowReplicationMessages" }).decision, "allow");
    });

    it("refuses an ambiguous or unknown short name, with the candidates or the closest names", () => {
        const ambiguous = resolveApiName("ListClusters");
        assert.ok("error" in ambiguous);
        assert.deepEqual(ambiguous.suggestions, ["OperatorService/ListClusters", "AdminService/ListClusters"]);
        const typo = resolveApiName("StartWorkflowExecutoin");
        assert.ok("error" in typo);
        assert.deepEqual(typo.suggestions, ["StartWorkflowExecution"]);
        assert.match(typo.error, /did you mean "StartWorkflowExecution"\?/);
        const lower = resolveApiName("describenamespace");
        assert.ok("error" in lower && lower.suggestions[0] === "DescribeNamespace");
        assert.equal(authorize(claims(15), { apiName: "NoSuchThing" }).decision, "deny");
    });

    it("every method of the table: the role just below the required one is denied, the required one allowed", () => {
        let checked = 0;
        for (const m of API_ACCESS) {
            if (m.api === `${WF}GetSystemInfo`) {
                assert.equal(authorize(claims(0), { apiName: m.api }).decision, "allow");
                continue;
            }
            const required = REQUIRED[m.access] as number;
            const below = required - 1; // 1, 3 (reader|worker) or 7 (reader|writer|worker)
            if (m.scope === "Cluster") {
                assert.equal(authorize(claims(below, { ns: 15 }), { apiName: m.api }).decision, "deny", `${m.api} with system ${below}`);
                assert.equal(authorize(claims(required), { apiName: m.api }).decision, "allow", `${m.api} with system ${required}`);
            } else {
                assert.equal(authorize(claims(0, { ns: below }), { apiName: m.api, namespace: "ns" }).decision, "deny", `${m.api} with ${below} on ns`);
                assert.equal(authorize(claims(below), { apiName: m.api, namespace: "ns" }).decision, "deny", `${m.api} with system ${below}`);
                assert.equal(authorize(claims(0, { ns: required }), { apiName: m.api, namespace: "ns" }).decision, "allow", `${m.api} with ${required} on ns`);
                assert.equal(authorize(claims(required), { apiName: m.api, namespace: "ns" }).decision, "allow", `${m.api} with system ${required}`);
                assert.equal(authorize(claims(0, { other: 15 }), { apiName: m.api, namespace: "ns" }).decision, "deny", `${m.api}: another namespace's roles`);
            }
            checked++;
        }
        assert.equal(checked, API_ACCESS.length - 1);
    });
});

describe("accessMatrix", () => {
    it("is computed through authorize() on representative methods", () => {
        const m = accessMatrix(claims(2, { payments: 4, ops: 8, idle: 1 }), ["payments", "ops", "idle", "absent"]);
        assert.deepEqual(JSON.parse(JSON.stringify(m)), { cluster: "read", namespaces: { payments: "write", ops: "admin", idle: "read", absent: "read" } });
        assert.deepEqual(accessMatrix(claims(8), []), { cluster: "admin", namespaces: {} });
        assert.deepEqual(JSON.parse(JSON.stringify(accessMatrix(claims(0, { payments: 7 }), ["payments"]))), { cluster: "none", namespaces: { payments: "write" } });
        assert.deepEqual(JSON.parse(JSON.stringify(accessMatrix(undefined, ["payments"]))), { cluster: "none", namespaces: { payments: "none" } });
    });

    it("gives the authorizer's reason for every level not reached", () => {
        const d = accessDetails(claims(0, { payments: 2 }), ["payments"]);
        assert.deepEqual(
            d.denials.map((x) => x.split(":")[0]),
            ["cluster read", "cluster admin", 'namespace "payments" write', 'namespace "payments" admin'],
        );
        assert.match(d.denials[2] ?? "", /StartWorkflowExecution needs Writer \(4\)/);
    });
});
