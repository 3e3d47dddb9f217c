import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { exampleStackRaw } from "../support/config";

function issuesOf(raw: Record<string, unknown>): string[] {
    try {
        parseStackConfig(raw, "t");
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
        return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
}

describe("stack config", () => {
    it("accepts the dev example and applies the dev profile's defaults", () => {
        const cfg = parseStackConfig(exampleStackRaw("dev"), "dev");
        assert.equal(cfg.profile, "dev");
        assert.equal(cfg.database.kind, "in-cluster");
        assert.equal(cfg.keyVault.purgeProtection, true);
        assert.equal(cfg.temporal.replicas, 1);
        assert.equal(cfg.pki.issuer, cfg.pki.cas[0]!.id);
    });

    it("names the field and the fix for unknown keys and bad values, all at once", () => {
        const raw = exampleStackRaw("dev");
        const issues = issuesOf({ ...raw, pki: { cas: [{ id: "Bad Id", commonName: "" }], leafValidityDays: 0, bogus: 1 } });
        assert.deepEqual(issues, [
            'pki.cas[0].id: pki.cas[].id must be 1-16 lower-case letters, digits or hyphens (e.g. "2026")',
            "pki.cas[0].commonName: pki.cas[].commonName is required: a CA certificate must have a subject",
            "pki.leafValidityDays: pki.leafValidityDays must be 1-825 days, got 0",
            'pki: unknown key "bogus": remove or fix the spelling',
        ]);
    });

    it("rejects a grant to an undeclared worker and a worker on an undeclared namespace", () => {
        const raw = exampleStackRaw("dev");
        const access = raw.access as { namespaces: unknown[]; grants: unknown[] };
        const issues = issuesOf({
            ...raw,
            access: { ...access, grants: [...access.grants, { worker: "ghost", permissions: ["payments:write"] }] },
            workers: [{ name: "w", runsOn: "external", kubernetesNamespace: "w", temporalNamespace: "nowhere" }],
        });
        assert.ok(issues.includes('workers[0].temporalNamespace: "nowhere" is not declared in access.namespaces: declare it or fix the name'), issues.join("\n"));
        assert.ok(issues.some((i) => i.startsWith('access.grants[5].worker: worker "ghost" is not declared in workers')), issues.join("\n"));
    });

    it("keeps prod safe: no purge-protection opt-out, no localhost callback", () => {
        const raw = exampleStackRaw("dev");
        const issues = issuesOf({ ...raw, profile: "prod", keyVault: { purgeProtection: false } });
        assert.ok(issues.includes("keyVault.purgeProtection: prod stacks keep purge protection on: remove the setting or use profile ephemeral"), issues.join("\n"));
        assert.ok(issues.includes("identity.allowLocalhostCallback: prod stacks do not register a localhost redirect URI: set it to false"), issues.join("\n"));
    });
});
