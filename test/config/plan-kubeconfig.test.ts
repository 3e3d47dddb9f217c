import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPlan } from "../../scripts/lib/plan/run";
import { formatText } from "../../scripts/lib/plan/format";
import { REPO_ROOT } from "../support/config";

/**
 * The documented setup for an existing cluster, `kubernetes.source: kubeconfig` with the secret
 * `temporal-azure:kubeconfig`, planned end to end as the pull-request check plans it: the plan reads
 * exactly the keys the program reads, so the secret is neither an "unknown key" nor missing. (One
 * plan per process: the mock runtime is global.)
 */

/** The dev example, pointed at a cluster through the secret kubeconfig, as `pulumi config set --secret` writes it. */
function kubeconfigStack(dir: string): void {
    const dev = readFileSync(join(REPO_ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
    const stack = dev
        .replace("    source: ambient\n", "    source: kubeconfig\n")
        .replace("config:\n", "config:\n  temporal-azure:kubeconfig:\n    secure: v1:c2VjcmV0LWluLWEtcmVhbC1zdGFjay1maWxl:dGhlIGNpcGhlcnRleHQ=\n");
    assert.notEqual(stack, dev);
    assert.match(stack, /source: kubeconfig/);
    writeFileSync(join(dir, "Pulumi.kc.yaml"), stack);
}

describe("offline plan of a kubeconfig stack", () => {
    it("plans it end to end: no config error, every policy, admission and TLS check passes", async () => {
        const dir = mkdtempSync(join(tmpdir(), "plan-kubeconfig-"));
        try {
            kubeconfigStack(dir);
            const report = await runPlan("kc", { stacksDir: dir });
            assert.deepEqual(report.configErrors, []);
            assert.ok(report.resources.some((r) => r.type === "pulumi:providers:kubernetes"), "the stack's Kubernetes provider");
            assert.deepEqual(report.violations, []);
            // The dev example's vault is open to the network: allowed outside prod, and said.
            assert.deepEqual(report.configWarnings?.map((w) => w.split(": ")[0]), ["temporal-azure:keyVault.publicNetworkAccess"]);
            const text = formatText(report).join("\n");
            assert.match(text, /\nStack config warnings \(1\); the plan goes on:\n {2}⚠ temporal-azure:keyVault\.publicNetworkAccess: the vault is reachable from any address /);
            assert.equal(report.ok, true, JSON.stringify({ tls: report.tlsProblems, admission: report.admission?.violations }));
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
