import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, StackConfig } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { caRules, consumerRule, leafRenewalRule, pkiRules, sanRule, vaultNameRule, vaultNetworkRule } from "../../infra/pki/rules";
import { stackRaw } from "./support";

/** The parsed (not yet resolved) config the rules see, from the dev example with `patch` applied. */
function cfgOf(patch: Record<string, unknown> = {}) {
    return StackConfig.parse(stackRaw(patch));
}

function configErrorLines(raw: Record<string, unknown>): string[] {
    try {
        parseStackConfig(raw, "dev");
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.message.split("\n").slice(1).map((l) => l.trim());
    }
    return [];
}

describe("PKI config rules", () => {
    it("accept the dev example (its open vault is a warning, not an error)", () => {
        const cfg = cfgOf();
        assert.deepEqual(pkiRules.flatMap((rule) => rule(cfg, "dev")).filter((i) => i.severity !== "warning"), []);
    });

    it("refuse a leaf validity no longer than the renewal window", () => {
        assert.deepEqual(leafRenewalRule(cfgOf({ pki: { leafValidityDays: 30, earlyRenewalHours: 720 } }), "dev"), [
            {
                path: "pki.leafValidityDays",
                message: "30 days (720 hours) is not longer than the renewal window (pki.earlyRenewalHours 720), so every `pulumi up` would reissue every certificate: raise leafValidityDays above 30 days, or lower earlyRenewalHours (e.g. to a third of the validity, 240)",
            },
        ]);
        assert.deepEqual(leafRenewalRule(cfgOf({ pki: { leafValidityDays: 31, earlyRenewalHours: 720 } }), "dev"), []);
    });

    it("refuse a leaf that outlives its issuing CA, a CA renewed at every run, and over-long subjects", () => {
        const cfg = cfgOf({
            pki: {
                cas: [{ id: "short", commonName: "C".repeat(65), organization: "O".repeat(70), validityYears: 1, earlyRenewalDays: 400 }],
                leafValidityDays: 400,
            },
        });
        assert.deepEqual(caRules(cfg, "dev"), [
            { path: "pki.cas[0].earlyRenewalDays", message: "400 days is not shorter than the CA's validity (validityYears 1), so every `pulumi up` would re-sign the CA: lower earlyRenewalDays or raise validityYears" },
            {
                path: "pki.cas[0].commonName",
                message: 'is 65 characters; the generation\'s internode CA is named "<commonName> internode" and X.509 allows at most 64 characters in a common name: shorten it to 54 or fewer',
            },
            { path: "pki.cas[0].organization", message: "is 70 characters; X.509 allows at most 64 in an organization: shorten it" },
            { path: "pki.leafValidityDays", message: '400 days is longer than the issuing CA "short" is valid (validityYears 1): a leaf cannot outlive its CA; lower leafValidityDays' },
        ]);
    });

    it("measure the common name by the internode CA's (the longer one), and refuse ids that would name another generation's internode CA", () => {
        const fits = { id: "2026", commonName: "C".repeat(54) };
        assert.deepEqual(caRules(cfgOf({ pki: { cas: [fits] } }), "dev"), []);
        assert.deepEqual(
            caRules(cfgOf({ pki: { cas: [{ ...fits, commonName: "C".repeat(55) }, { id: "2026-internode", commonName: "CA" }] } }), "dev"),
            [
                {
                    path: "pki.cas[0].commonName",
                    message: 'is 55 characters; the generation\'s internode CA is named "<commonName> internode" and X.509 allows at most 64 characters in a common name: shorten it to 54 or fewer',
                },
                {
                    path: "pki.cas[1].id",
                    message: '"2026-internode" ends in "-internode", which names the internode CA of a generation (pki-ca-<id>-internode): choose an id without that ending',
                },
            ],
        );
    });

    it("refuse more than two CAs: a rotation overlaps two generations", () => {
        const cas = ["2026", "2027", "2028"].map((id) => ({ id, commonName: `CA ${id}` }));
        assert.deepEqual(caRules(cfgOf({ pki: { cas } }), "dev"), [
            {
                path: "pki.cas",
                message: "lists 3 CAs but a rotation trusts at most 2 at once (the current and the next): finish the running rotation by removing the retired CA (the oldest) before adding another",
            },
        ]);
    });

    it("refuse bad explicit vault names, and any explicit name on an ephemeral stack", () => {
        for (const name of ["kv", "1vault", "my--vault", "vault-", "this-name-is-far-too-long-for-azure", "vault_name"]) {
            assert.deepEqual(vaultNameRule(cfgOf({ keyVault: { name } }), "dev"), [
                {
                    path: "keyVault.name",
                    message: `"${name}" is not a valid Key Vault name (3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit): fix it, or remove keyVault.name to derive one from the stack`,
                },
            ]);
        }
        assert.deepEqual(vaultNameRule(cfgOf({ keyVault: { name: "kv-temporal-prod-01" } }), "dev"), []);
        assert.deepEqual(vaultNameRule(cfgOf({ profile: "ephemeral", keyVault: { name: "kv-temporal-pr-1" } }), "pr-1"), [
            {
                path: "keyVault.name",
                message: "ephemeral stacks get a fresh vault name per deployment because a deleted vault's name stays reserved for its soft-delete retention: remove keyVault.name",
            },
        ]);
    });

    it("refuse firewall rules that a disabled public endpoint would ignore", () => {
        assert.deepEqual(vaultNetworkRule(cfgOf({ keyVault: { publicNetworkAccess: "Disabled", allowedIpRanges: ["203.0.113.0/24"] } }), "dev"), [
            {
                path: "keyVault.publicNetworkAccess",
                message: "is Disabled, so keyVault.allowedIpRanges and keyVault.allowedSubnetIds have no effect: remove those rules, or set publicNetworkAccess to Enabled to let the firewall rules apply",
            },
        ]);
        assert.deepEqual(vaultNetworkRule(cfgOf({ keyVault: { publicNetworkAccess: "Disabled" } }), "dev"), []);
    });

    it("check every SAN the certificates will carry", () => {
        const cfg = cfgOf({ pki: { extraFrontendDnsNames: ["temporal.internal.contoso.example", "temporal-frontend"] } });
        assert.deepEqual(sanRule(cfg, "dev"), [{ path: "pki.extraFrontendDnsNames[1]", message: '"temporal-frontend" is already a SAN of the frontend certificate: remove it' }]);
        // A namespace the schema would refuse still yields a named issue if it reaches the rule.
        const bad = { ...cfgOf(), kubernetes: { ...cfgOf().kubernetes, namespace: "Bad_NS" } };
        assert.deepEqual(sanRule(bad, "dev")[0], { path: "kubernetes.namespace", message: 'gives the certificate name "temporal-frontend.Bad_NS", which is not a valid DNS name: choose a shorter namespace' });
    });

    it("refuse a worker that takes the UI's or the admin tools' consumer name (it would have no certificate)", () => {
        const workers = [
            { name: "temporal-ui", runsOn: "external", kubernetesNamespace: "payments", temporalNamespace: "payments" },
            { name: "temporal-admin", runsOn: "external", kubernetesNamespace: "orders", temporalNamespace: "orders" },
        ];
        assert.deepEqual(consumerRule(cfgOf({ workers, access: { grants: [] } }), "dev"), [
            { path: "workers[0].name", message: '"temporal-ui" is the consumer name of the Web UI\'s client certificate, so this worker would get no certificate of its own: rename the worker' },
            { path: "workers[1].name", message: '"temporal-admin" is the consumer name of the admin tools\' client certificate, so this worker would get no certificate of its own: rename the worker' },
        ]);
    });

    it("reach the user at preview as temporal-azure:<field>: <fix>, next to the schema's own checks", () => {
        assert.deepEqual(configErrorLines(stackRaw({ pki: { leafValidityDays: 10, earlyRenewalHours: 720 }, keyVault: { name: "my--vault" } })), [
            "- temporal-azure:pki.leafValidityDays: 10 days (240 hours) is not longer than the renewal window (pki.earlyRenewalHours 720), so every `pulumi up` would reissue every certificate: raise leafValidityDays above 30 days, or lower earlyRenewalHours (e.g. to a third of the validity, 80)",
            '- temporal-azure:keyVault.name: "my--vault" is not a valid Key Vault name (3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit): fix it, or remove keyVault.name to derive one from the stack',
        ]);
        assert.deepEqual(configErrorLines(stackRaw({ pki: { leafKeyAlgorithm: "ECDSA-P224", extraFrontendDnsNames: ["not a host"] }, keyVault: { certificateContacts: ["nobody"] } })), [
            "- temporal-azure:keyVault.certificateContacts[0]: keyVault.certificateContacts entries must be email addresses like pki-team@contoso.com",
            "- temporal-azure:pki.leafKeyAlgorithm: must be one of ECDSA-P256, RSA-3072, RSA-4096, got \"ECDSA-P224\"",
            "- temporal-azure:pki.extraFrontendDnsNames[0]: pki.extraFrontendDnsNames[] must be a DNS name (letters, digits, hyphens and dots, e.g. temporal.example.com)",
        ]);
    });
});
