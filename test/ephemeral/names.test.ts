import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ephemeralName, isEphemeralStack, MAX_ID_LENGTH, vaultNameFromUri } from "../../scripts/lib/ephemeral/names";
import { aksDnsPrefix } from "../../infra/cluster/aks";
import { deriveVaultName, VAULT_NAME } from "../../infra/pki/names";
import { K8S_NAME } from "../../infra/config/shared";

describe("ephemeral stack names", () => {
    it("turns an id into the stack ephemeral-<id>, and accepts the stack name itself", () => {
        assert.deepEqual(ephemeralName("pr-42"), { id: "pr-42", stack: "ephemeral-pr-42" });
        assert.deepEqual(ephemeralName("ephemeral-pr-42"), { id: "pr-42", stack: "ephemeral-pr-42" });
        assert.deepEqual(ephemeralName("7"), { id: "7", stack: "ephemeral-7" });
    });

    it("refuses a missing id, other characters and hyphens at the ends, naming the rule", () => {
        assert.throws(() => ephemeralName(undefined), { name: "UsageError", message: "--name is required: the id of the ephemeral stack (e.g. pr-42 for pull request 42)" });
        assert.throws(() => ephemeralName(""), { message: /^--name is required/ });
        for (const bad of ["PR-42", "pr_42", "pr.42", "-pr", "pr-", "ephemeral-", "pr 42", "ümlaut"]) {
            assert.throws(() => ephemeralName(bad), {
                name: "UsageError",
                message: `--name ${JSON.stringify(bad)} must be lower-case letters, digits and hyphens, starting and ending with a letter or digit (e.g. pr-42): it names the stack ephemeral-<id> and its Azure resources`,
            }, bad);
        }
    });

    it("allows 42 characters, the most a worker's managed identity name can take", () => {
        assert.equal(MAX_ID_LENGTH, 42);
        assert.equal(ephemeralName("a".repeat(42)).stack.length, 52);
        assert.throws(() => ephemeralName("a".repeat(43)), {
            message: `--name "${"a".repeat(43)}": the id is 43 characters, at most 42 fit: a worker's managed identity is named id-temporal-ephemeral-<id>-<worker>, Azure allows 128 characters and worker names have up to 63; use a shorter id (e.g. pr-1234)`,
        });
    });

    it("keeps every name the program derives whole and valid at the longest id (the real naming functions)", async () => {
        // Imported here: infra/identity pulls in the azuread SDK.
        const { managedIdentityName } = await import("../../infra/identity");
        const longestWorker = "w".repeat(63);
        assert.match(longestWorker, K8S_NAME);
        const longest = ephemeralName("p".repeat(MAX_ID_LENGTH)).stack;
        const identity = managedIdentityName(longest, longestWorker);
        assert.equal(identity.length, 128);
        assert.ok(identity.endsWith(`-${longestWorker}`), "the worker's name is whole");
        // One more character and the program would cut into the worker's name: the limit is tight.
        const tooLong = managedIdentityName(`ephemeral-${"p".repeat(MAX_ID_LENGTH + 1)}`, longestWorker);
        assert.ok(!tooLong.endsWith(`-${longestWorker}`));
        // The resource group (rg-temporal-<stack>, 90 at most) fits with room to spare.
        assert.ok(`rg-temporal-${longest}`.length <= 90);
        // The DNS prefix and the vault name are cut on purpose and stay valid.
        assert.ok(aksDnsPrefix(longest).length <= 54);
        assert.match(aksDnsPrefix(longest), /^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
        assert.match(deriveVaultName(longest, "tenant/stack/abcd1234"), VAULT_NAME);
    });

    it("recognises ephemeral stacks, fully qualified or not", () => {
        assert.equal(isEphemeralStack("ephemeral-pr-42"), true);
        assert.equal(isEphemeralStack("contoso/temporal-azure/ephemeral-pr-42"), true);
        assert.equal(isEphemeralStack("ephemeral"), false);
        assert.equal(isEphemeralStack("ephemeral-"), false);
        assert.equal(isEphemeralStack("dev"), false);
        assert.equal(isEphemeralStack("contoso/ephemeral-x/dev"), false);
    });

    it("reads the vault name from a Key Vault URI, in any cloud", () => {
        assert.equal(vaultNameFromUri("https://kv-tmprl-ephemera-93913b.vault.azure.net/"), "kv-tmprl-ephemera-93913b");
        assert.equal(vaultNameFromUri("https://kv-tmprl-ephemera-93913b.vault.usgovcloudapi.net"), "kv-tmprl-ephemera-93913b");
        assert.equal(vaultNameFromUri("https://example.com/"), undefined);
        assert.equal(vaultNameFromUri("http://kv-x.vault.azure.net/"), undefined);
    });
});
