import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { deterministicUuid } from "../../infra/identity";
import { clientCertificatePem } from "./fixtures";

const exec = promisify(execFile);
const REPO = join(__dirname, "..", "..");

interface Digested {
    type: string;
    name: string;
    id: string;
    state: Record<string, unknown>;
}

/** One run of the component in a fresh process (its own Pulumi runtime and engine). */
async function planInFreshProcess(stack: string, certificatePem: string): Promise<Digested[]> {
    const { stdout } = await exec(process.execPath, ["--import", "tsx", join(__dirname, "plan-identity.ts"), stack], {
        cwd: REPO,
        env: { ...process.env, IDENTITY_CERT_PEM: certificatePem },
        maxBuffer: 16 * 1024 * 1024,
    });
    const line = stdout.split("\n").find((l) => l.startsWith("IDENTITY-DIGEST "));
    assert.ok(line, `no digest in output:\n${stdout}`);
    return JSON.parse(line.slice("IDENTITY-DIGEST ".length)) as Digested[];
}

const byKey = (d: Digested[]) => new Map(d.map((r) => [`${r.type} ${r.name}`, r]));

describe("TemporalIdentity across runs", () => {
    it("registers the same resources with the same ids and inputs in two separate processes", async () => {
        const pem = clientCertificatePem("payments-worker");
        const [first, second] = await Promise.all([planInFreshProcess("dev", pem), planInFreshProcess("dev", pem)]);
        assert.equal(first.length, 34);
        // Registration order may differ with timing; the set of resources and each one's state may not.
        assert.deepEqual(byKey(second), byKey(first));

        const api = byKey(first).get("azuread:index/application:Application temporal-api")!;
        const roles = api.state.appRoles as Array<{ id: string; value: string }>;
        assert.deepEqual(
            roles.map((r) => r.id),
            roles.map((r) => deterministicUuid("dev", "app-role", r.value)),
        );
        const assignments = [...byKey(first).values()].filter((r) => r.type === "azuread:index/appRoleAssignment:AppRoleAssignment");
        assert.equal(assignments.length, 16);
        for (const a of assignments) assert.ok(a.state.appRoleId === "00000000-0000-0000-0000-000000000000" || roles.some((r) => r.id === a.state.appRoleId), a.name);
    });
});
