import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readProjectConfig, type StackConfigSource } from "../../infra/config";
import { loadStackConfig } from "../../infra/stack-config";
import { ConfigError } from "../../infra/config";
import { exampleStackRaw } from "../support/config";

/** A stack's config as full keys (what `pulumi.runtime.allConfig()` and the stack file both give). */
function source(config: Record<string, unknown>, secretKeys: string[] = []): StackConfigSource {
    return { keys: Object.keys(config), get: (k) => config[k], isSecret: (k) => secretKeys.includes(k) };
}

function devKeys(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(exampleStackRaw("dev")).map(([k, v]) => [`temporal-azure:${k}`, v]));
}

function errorsOf(config: Record<string, unknown>, secretKeys: string[] = []): string[] {
    try {
        loadStackConfig(source(config, secretKeys), "t");
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
}

describe("reading exactly the keys the program reads", () => {
    it("reads each section and the secret kubeconfig, and leaves other namespaces to their providers", () => {
        const read = readProjectConfig(source({ ...devKeys(), "temporal-azure:kubeconfig": "x", "azure-native:location": "westeurope" }, ["temporal-azure:kubeconfig"]));
        assert.deepEqual(Object.keys(read.sections).sort(), ["access", "azure", "database", "identity", "keyVault", "kubernetes", "pki", "profile", "temporal", "workers"]);
        assert.equal(read.kubeconfigSet, true);
        assert.deepEqual(read.issues, []);
    });

    it("never reads the kubeconfig's value", () => {
        const asked: string[] = [];
        readProjectConfig({ keys: ["temporal-azure:kubeconfig", "temporal-azure:profile"], get: (k) => (asked.push(k), "dev") });
        assert.deepEqual(asked, ["temporal-azure:profile"]);
    });

    it("reads Pulumi's older <namespace>:config:<name> form as the program does", () => {
        const read = readProjectConfig(source({ "temporal-azure:config:profile": "dev" }));
        assert.deepEqual(read.sections, { profile: "dev" });
    });

    it("names an unknown key of the project's namespace, which the program would silently ignore", () => {
        assert.deepEqual(errorsOf({ ...devKeys(), "temporal-azure:kubeconfg": "x" }), [
            "kubeconfg: unknown key: the program reads temporal-azure:<section> for profile, azure, keyVault, pki, identity, access, workers, kubernetes, database, temporal, and the secret temporal-azure:kubeconfig: remove it or fix the spelling",
        ]);
    });

    it("refuses a kubeconfig written in plain text in the stack file", () => {
        const config = { ...devKeys(), "temporal-azure:kubernetes": { source: "kubeconfig" }, "temporal-azure:kubeconfig": "apiVersion: v1" };
        assert.deepEqual(errorsOf(config), [
            "kubeconfig: is plain text in the stack file, but a kubeconfig holds the cluster's credentials: remove it from the file and set it as a secret: pulumi config set --secret temporal-azure:kubeconfig < path/to/kubeconfig",
        ]);
        assert.deepEqual(errorsOf(config, ["temporal-azure:kubeconfig"]), []);
    });

    it("names a section written without the namespace, and still checks what it says", () => {
        const { "temporal-azure:identity": identity, ...rest } = devKeys();
        assert.deepEqual(errorsOf({ ...rest, identity }), [
            'identity: is missing; the stack file has the key "identity", without a namespace, which Pulumi refuses (keys are <namespace>:<name>): rename it to temporal-azure:identity',
        ]);
        assert.deepEqual(errorsOf({ ...rest, identity: { uiHost: "-bad-" } }), [
            'identity: is missing; the stack file has the key "identity", without a namespace, which Pulumi refuses (keys are <namespace>:<name>): rename it to temporal-azure:identity',
            "identity.uiHost: identity.uiHost must be a DNS name (letters, digits, hyphens and dots, e.g. temporal.example.com)",
        ]);
    });

    it("names a section under another namespace", () => {
        const { "temporal-azure:pki": pki, ...rest } = devKeys();
        assert.deepEqual(errorsOf({ ...rest, "temporal:pki": pki }), [
            'pki: is missing; the stack file has the key "temporal:pki", in the namespace "temporal", which this program does not read: rename it to temporal-azure:pki',
        ]);
    });

    it("names any other key without a namespace (Pulumi refuses the file)", () => {
        assert.deepEqual(errorsOf({ ...devKeys(), location: "westeurope" }), [
            'location: the stack file has the key "location" without a namespace, which Pulumi refuses (keys are <namespace>:<name>): write it as <namespace>:location',
        ]);
    });
});
