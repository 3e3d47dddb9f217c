import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { programConsistencyChecks, runProgram, type ProgramRun } from "./program";

/** The dev stack pointed at a cluster through the secret config `temporal-azure:kubeconfig`. */
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n";

let run: ProgramRun;
before(async () => {
    run = await runProgram(
        "dev",
        (c) => ({ ...c, "temporal-azure:kubernetes": { ...(c["temporal-azure:kubernetes"] as object), source: "kubeconfig" } }),
        { "temporal-azure:kubeconfig": KUBECONFIG },
    );
});

describe("whole program, dev with a kubeconfig secret", () => {
    it("hands the kubeconfig to the Kubernetes provider as a secret, and every Kubernetes object goes through that provider", () => {
        const provider = run.engine.ofType("pulumi:providers:kubernetes");
        assert.equal(provider.length, 1);
        assert.equal(provider[0]!.inputs.kubeconfig, KUBECONFIG);
        assert.ok(provider[0]!.secretPaths.includes("kubeconfig"));
        for (const r of run.engine.resources.filter((x) => x.type.startsWith("kubernetes:"))) assert.ok(r.provider?.includes("cluster-provider"), `${r.type} ${r.name} is not on the stack's provider`);
    });

    programConsistencyChecks(() => run);
});
