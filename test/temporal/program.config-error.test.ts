import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setupFullEngine } from "../../scripts/lib/offline/emulators";
import { ConfigError } from "../../infra/config";
import { stackConfig } from "./program";

describe("whole program: a config error surfaces before any resource is created", () => {
    it("source kubeconfig without the secret stops the program with the fix, having registered nothing", () => {
        const { config } = stackConfig("dev");
        const engine = setupFullEngine({ stack: "dev", config: { ...config, "temporal-azure:kubernetes": { ...(config["temporal-azure:kubernetes"] as object), source: "kubeconfig" } } });
        let error: unknown;
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the engine is set up
            require("../../infra");
        } catch (err) {
            error = err;
        }
        assert.ok(error instanceof ConfigError, String(error));
        assert.deepEqual(error.issues, [{ path: "kubeconfig", message: 'kubernetes.source is kubeconfig but the secret is not set: pulumi config set --secret temporal-azure:kubeconfig < path/to/kubeconfig (from standard input, so the kubeconfig is never a command-line argument)' }]);
        assert.equal(engine.resources.length, 0);
    });
});
