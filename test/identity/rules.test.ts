import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { sampleRaw } from "./fixtures";

type Grant = Record<string, unknown>;

/** Every issue parseStackConfig reports for the sample stack with these grants (and namespaces). */
function issuesWith(grants: Grant[], namespaces?: string[]): string[] {
    const raw = sampleRaw();
    const access = raw.access as { namespaces: unknown[] };
    try {
        parseStackConfig({ ...raw, access: { namespaces: namespaces ? namespaces.map((name) => ({ name })) : access.namespaces, grants } }, "t");
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
        return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
}

const WORKERS_OK: Grant[] = [
    { worker: "payments-worker", permissions: ["payments:write"] },
    { worker: "orders-worker", permissions: ["orders:write"] },
];

describe("access map rules", () => {
    it("accept the sample map (every kind of principal, worker next to write)", () => {
        assert.deepEqual(issuesWith((sampleRaw().access as { grants: Grant[] }).grants), []);
    });

    it("reject what server 1.31 would mis-file or skip, naming path, principal and the fix", () => {
        const issues = issuesWith([
            { group: "Temporal Admins", permissions: ["system:admin", "Temporal-system:admin", "temporal-system:Admin"] },
            { user: "carol@contoso.example", permissions: [" payments:read", "payments: read", "payments:reader", "payments:read:x", ":read", "payments"] },
            ...WORKERS_OK,
        ]);
        assert.deepEqual(issues, [
            'access.grants[0].permissions[0]: group "Temporal Admins": "system:admin" uses the legacy "system" scope: since server 1.21 it means a namespace literally named "system", not the cluster; write "temporal-system:admin"',
            'access.grants[0].permissions[1]: group "Temporal Admins": "Temporal-system:admin" is not the cluster scope: the server matches "temporal-system" exactly, so this is a namespace named "Temporal-system"; write "temporal-system:admin"',
            'access.grants[0].permissions[2]: group "Temporal Admins": "temporal-system:Admin": role words are case-insensitive, so "Admin" works, but lower case is the convention; Entra ID app role values are exact strings, so write "temporal-system:admin"',
            'access.grants[1].permissions[0]: user "carol@contoso.example": " payments:read" has whitespace the server keeps: it is filed under namespace " payments" with word "read"; write "payments:read"',
            'access.grants[1].permissions[1]: user "carol@contoso.example": "payments: read" has whitespace the server keeps: it is filed under namespace "payments" with word " read"; write "payments:read"',
            'access.grants[1].permissions[2]: user "carol@contoso.example": "payments:reader" has the unknown role word "reader": it grants nothing (use read, write, worker or admin); write "payments:read", "payments:write" or "payments:admin"',
            'access.grants[1].permissions[3]: user "carol@contoso.example": "payments:read:x" has more than one colon: the server splits at the first, so the role word is "read:x", which is unknown; write "payments:read", "payments:write" or "payments:admin"',
            'access.grants[1].permissions[4]: user "carol@contoso.example": ":read" has an empty namespace: the server files it under namespace "", which no request names; write "<namespace>:read"',
            'access.grants[1].permissions[5]: user "carol@contoso.example": "payments" has no colon: skipped (write "<namespace>:<read|write|worker|admin>")',
        ]);
    });

    it("reject permissions on undeclared namespaces and values longer than Entra allows", () => {
        const long = `${"n".repeat(116)}:read`;
        const issues = issuesWith([{ user: "dave@contoso.example", permissions: ["paymnets:read", long] }, ...WORKERS_OK], ["payments", "orders", "n".repeat(116)]);
        assert.deepEqual(issues, [
            'access.grants[0].permissions[0]: user "dave@contoso.example": "paymnets:read" names Temporal namespace "paymnets", which access.namespaces does not declare (payments, orders, ' +
                `${"n".repeat(116)}): declare it or fix the name`,
            `access.grants[0].permissions[1]: user "dave@contoso.example": "${long}" is 121 characters long, but Entra ID app role values are at most 120: use a shorter namespace name`,
        ]);
    });

    it("report every problem of a value in one run, and no word reaches Object.prototype", () => {
        const issues = issuesWith([{ user: "dave@contoso.example", permissions: ["default:Read", "payments:constructor", "orders:toString"] }, ...WORKERS_OK]);
        assert.deepEqual(issues, [
            'access.grants[0].permissions[0]: user "dave@contoso.example": "default:Read": role words are case-insensitive, so "Read" works, but lower case is the convention; Entra ID app role values are exact strings, so write "default:read"',
            'access.grants[0].permissions[0]: user "dave@contoso.example": "default:Read" names Temporal namespace "default", which access.namespaces does not declare (payments, orders, billing): declare it or fix the name',
            'access.grants[0].permissions[1]: user "dave@contoso.example": "payments:constructor" has the unknown role word "constructor": it grants nothing (use read, write, worker or admin); write "payments:read", "payments:write" or "payments:admin"',
            'access.grants[0].permissions[2]: user "dave@contoso.example": "orders:toString" has the unknown role word "toString": it grants nothing (use read, write, worker or admin); write "orders:read", "orders:write" or "orders:admin"',
        ]);
    });

    it("allow worker only next to write, and require write on a worker's own namespace", () => {
        const issues = issuesWith([
            { user: "erin@contoso.example", permissions: ["payments:worker"] },
            { group: "Operators", permissions: ["orders:worker", "orders:admin"] },
            { worker: "payments-worker", permissions: ["payments:worker", "payments:read"] },
        ]);
        assert.deepEqual(issues, [
            'access.grants[0].permissions[0]: user "erin@contoso.example": "payments:worker" without write grants nothing a worker can use: polling and completing tasks need Writer, so add "payments:write"',
            'access.grants[2].permissions[0]: worker "payments-worker": "payments:worker" without write grants nothing a worker can use: polling and completing tasks need Writer, so add "payments:write"',
            'access.grants: worker "payments-worker" polls Temporal namespace "payments" (workers[0].temporalNamespace) but no grant gives it write there: add "payments:write" to access.grants[2].permissions',
            'access.grants: worker "orders-worker" polls Temporal namespace "orders" (workers[1].temporalNamespace) but no grant gives it write there: add a grant { worker: orders-worker, permissions: ["orders:write"] }',
        ]);
    });

    it("accept write on the cluster scope as a worker's write", () => {
        assert.deepEqual(issuesWith([{ worker: "payments-worker", permissions: ["temporal-system:write"] }, WORKERS_OK[1]!]), []);
    });

    it("reject duplicate grants and permissions, and group ids that would become display-name lookups", () => {
        const issues = issuesWith([
            { group: "Temporal Admins", permissions: ["temporal-system:admin"] },
            { group: "temporal admins", permissions: ["orders:read", "orders:read"] },
            { group: "{8D3C4A57-1F5E-4F0B-9A51-3F1C2B7D9E10}", permissions: ["orders:read"] },
            { group: "8d3c4a571f5e4f0b9a513f1c2b7d9e10", permissions: ["orders:read"] },
            { group: "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e1", permissions: ["orders:read"] },
            { group: "cafe-babe", permissions: ["orders:read"] },
            { user: "Alice@Contoso.example", permissions: ["payments:read"] },
            { user: "alice@contoso.example", permissions: ["payments:write"] },
            ...WORKERS_OK,
        ]);
        assert.deepEqual(issues, [
            'access.grants[1]: group "temporal admins" is already granted in access.grants[0]: merge its permissions into that grant',
            'access.grants[1].permissions[1]: group "temporal admins": "orders:read" is listed twice (also access.grants[1].permissions[0]): remove the duplicate',
            'access.grants[2].group: "{8D3C4A57-1F5E-4F0B-9A51-3F1C2B7D9E10}" is a group object id in another notation, so it would be looked up as a display name: write it as "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10"',
            'access.grants[3].group: "8d3c4a571f5e4f0b9a513f1c2b7d9e10" is a group object id in another notation, so it would be looked up as a display name: write it as "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e10"',
            'access.grants[4].group: "8d3c4a57-1f5e-4f0b-9a51-3f1c2b7d9e1" looks like a group object id but is not a GUID (8-4-4-4-12 hex digits), so it would be looked up as a display name: fix the id (az ad group show --group <name> --query id)',
            'access.grants[7]: user "alice@contoso.example" is already granted in access.grants[6]: merge its permissions into that grant',
        ]);
    });

    it("report through ConfigError with the project prefix, every problem at once", () => {
        const raw = sampleRaw();
        assert.throws(
            () => parseStackConfig({ ...raw, access: { ...(raw.access as object), grants: [{ group: "Temporal Admins", permissions: ["system:admin"] }, ...WORKERS_OK] } }, "dev"),
            (err: unknown) =>
                err instanceof ConfigError &&
                err.message.includes(
                    '  - temporal-azure:access.grants[0].permissions[0]: group "Temporal Admins": "system:admin" uses the legacy "system" scope: since server 1.21 it means a namespace literally named "system", not the cluster; write "temporal-system:admin"',
                ),
        );
    });
});
