import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StackConfig } from "../../infra/config";
import { apiServerAccessRule } from "../../infra/cluster/rules";
import { parseStackConfig } from "../../infra/stack-config";
import { exampleStackRaw } from "../support/config";

/** The prod example (a cluster this stack creates) with its AKS settings replaced by `aks`. */
function prodWith(aks: Record<string, unknown>, profile: "prod" | "dev" = "prod") {
    const raw = exampleStackRaw("prod");
    const kubernetes = raw.kubernetes as { aks: Record<string, unknown> };
    return StackConfig.parse({ ...raw, profile, kubernetes: { ...kubernetes, aks: { ...kubernetes.aks, ...aks } } });
}

describe("the AKS API server's network exposure", () => {
    it("the prod example admits only its listed range", () => {
        const cfg = StackConfig.parse(exampleStackRaw("prod"));
        assert.deepEqual(apiServerAccessRule(cfg, "prod"), []);
        assert.doesNotThrow(() => parseStackConfig(exampleStackRaw("prod"), "prod"));
    });

    it("a prod cluster with no authorized ranges is refused, naming the fix; dev is warned", () => {
        assert.deepEqual(apiServerAccessRule(prodWith({ authorizedIpRanges: [] }), "prod"), [
            {
                path: "kubernetes.aks.authorizedIpRanges",
                severity: "error",
                message: 'is empty, so the prod cluster\'s API server is reachable from any address: list the egress IPs of the machines that run `pulumi up` and `kubectl` (and CI\'s, see docs/pki.md, "Reaching a locked vault from CI")',
            },
        ]);
        const dev = apiServerAccessRule(prodWith({ authorizedIpRanges: [] }, "dev"), "dev");
        assert.deepEqual(dev.map((i) => [i.path, i.severity]), [["kubernetes.aks.authorizedIpRanges", "warning"]]);
        assert.match(dev[0]!.message, /acceptable for a dev stack.*a prod stack must/);
    });

    it("refuses 0.0.0.0/0, ranges wider than a /24, and private ranges, each saying why, all at once", () => {
        const issues = apiServerAccessRule(prodWith({ authorizedIpRanges: ["0.0.0.0/0", "20.0.0.0/16", "10.1.0.0/16", "203.0.113.7"] }), "prod");
        assert.deepEqual(
            issues.map((i) => [i.path, i.severity ?? "error"]),
            [
                ["kubernetes.aks.authorizedIpRanges[0]", "error"],
                ["kubernetes.aks.authorizedIpRanges[1]", "error"],
                ["kubernetes.aks.authorizedIpRanges[2]", "error"],
            ],
        );
        assert.match(issues[0]!.message, /admits every IPv4 address/);
        assert.match(issues[1]!.message, /admits 65536 addresses/);
        assert.match(issues[2]!.message, /private range: the API server's public endpoint sees public source addresses/);
    });

    it("says nothing for clusters this stack does not create", () => {
        assert.deepEqual(apiServerAccessRule(StackConfig.parse(exampleStackRaw("dev")), "dev"), []);
    });

    it("the stack's config check reports it with every other problem, before anything is created", () => {
        const raw = exampleStackRaw("prod");
        const kubernetes = raw.kubernetes as { aks: Record<string, unknown> };
        assert.throws(
            () => parseStackConfig({ ...raw, kubernetes: { ...kubernetes, aks: { ...kubernetes.aks, authorizedIpRanges: [] } } }, "prod"),
            /kubernetes\.aks\.authorizedIpRanges: is empty, so the prod cluster's API server is reachable from any address/,
        );
    });
});
