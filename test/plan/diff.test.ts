import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { planInChild } from "../../scripts/lib/plan/base";
import { diffPlans, type PlanDiff } from "../../scripts/lib/plan/diff";
import { formatDiffMarkdown, formatDiffText } from "../../scripts/lib/plan/format-diff";
import type { PlanReport } from "../../scripts/lib/plan/run";

const ROOT = join(__dirname, "..", "..");
type Config = Record<string, Record<string, unknown> & { cas?: unknown[]; grants?: Array<{ user?: string; permissions: string[] }> }>;

/** Variants of the dev example, each one change away from another. */
const VARIANTS: Record<string, (c: Config) => void> = {
    base: () => undefined,
    // Alice: payments:write → payments:admin, nothing else.
    grant: (c) => {
        c["temporal-azure:access"]!.grants!.find((g) => g.user === "alice@contoso.example")!.permissions = ["payments:admin"];
    },
    tls: (c) => {
        c["temporal-azure:temporal"] = { ...c["temporal-azure:temporal"], tlsRefreshInterval: "5m" };
    },
    // The next CA generation, trusted but not yet signing (step 1 of a rotation)...
    caAdded: (c) => {
        c["temporal-azure:pki"]!.cas = [...c["temporal-azure:pki"]!.cas!, { id: "2027", commonName: "Temporal dev CA 2027", organization: "Contoso Platform" }];
    },
    // ... then signing (step 2).
    issuer: (c) => {
        VARIANTS.caAdded!(c);
        c["temporal-azure:pki"]!.issuer = "2027";
    },
};

describe("the plan diff (real plans of variants of the dev example)", () => {
    const reports: Record<string, PlanReport> = {};
    let again: PlanReport;
    before(async () => {
        // Each variant is the stack "dev" (names derive from the stack) in a folder of its own.
        const dir = mkdtempSync(join(tmpdir(), "plan-diff-"));
        const dev = parse(readFileSync(join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8")) as { config: Config };
        for (const [name, change] of Object.entries(VARIANTS)) {
            const doc = structuredClone(dev);
            change(doc.config);
            mkdirSync(join(dir, name));
            writeFileSync(join(dir, name, "Pulumi.dev.yaml"), stringify(doc));
        }
        // Two at a time (the machine's cores); the base twice, in separate processes.
        const names = [...Object.keys(VARIANTS), "base"];
        const results: PlanReport[] = [];
        for (let i = 0; i < names.length; i += 2) results.push(...(await Promise.all(names.slice(i, i + 2).map(async (n) => (await planInChild(ROOT, "dev", join(dir, n))).report))));
        names.slice(0, -1).forEach((n, i) => (reports[n] = results[i]!));
        again = results.at(-1)!;
        rmSync(dir, { recursive: true, force: true });
        for (const [n, r] of Object.entries(reports)) assert.equal(r.ok, true, `${n}: ${JSON.stringify(r.error ?? r.configErrors ?? r.violations)}`);
    });
    const diff = (from: string, to: string): PlanDiff => diffPlans(reports[from]!, reports[to]!, { ref: from });

    it("says no changes for the same input planned twice, in every format", () => {
        const d = diffPlans(reports.base!, again, { ref: "HEAD" });
        assert.equal(d.changed, false, JSON.stringify(d, null, 1).slice(0, 2000));
        assert.deepEqual(formatDiffText(d).slice(1), ["", "No changes."]);
        assert.match(formatDiffMarkdown(d).join("\n"), /\*\*No changes\.\*\*$/);
    });

    it("names exactly the principal, namespace and permission of a one-grant change, from the tokens' admission", () => {
        const d = diff("base", "grant");
        assert.deepEqual(
            d.access.map((a) => [a.principal, a.scope, a.before, a.after, a.change]),
            [['User "Alice"', "payments", "write", "admin", "gained"]],
        );
        assert.deepEqual(diff("grant", "base").access.map((a) => [a.principal, a.scope, a.before, a.after, a.change]), [['User "Alice"', "payments", "admin", "write", "lost"]]);
        // The resources behind it: a new app role on the API, Alice's assignment replaced (assignments cannot be edited).
        assert.ok(d.resources.updated.some((r) => r.name === "identity-api" && r.changes.some((c) => c.path.startsWith("appRoles"))));
        assert.ok(d.resources.replaced.some((r) => r.type === "azuread:index/appRoleAssignment:AppRoleAssignment" && /alice/.test(r.name)) || d.resources.created.some((r) => /alice/.test(r.name)));
        assert.deepEqual(d.wiring, []);
        assert.deepEqual(d.certificates.reissued, []);
        const text = formatDiffText(d).join("\n");
        assert.match(text, /1\. Access\n {2}\+ User "Alice" \([0-9a-f-]{36}\) on namespace payments: gains admin \(write → admin\)\n/);
    });

    it("names the TLS setting that changed, and nothing else of the wiring", () => {
        const d = diff("base", "tls");
        assert.deepEqual(d.wiring, [{ setting: "server tls.refreshInterval", before: "1m", after: "5m" }]);
        assert.deepEqual([d.access, d.trustBundles, d.certificates.reissued], [[], [], []]);
        assert.deepEqual(d.resources.updated.map((r) => r.name), ["temporal"]);
        assert.deepEqual(d.resources.updated[0]!.changes.map((c) => [c.path, c.before, c.after]), [["values.server.config.tls.refreshInterval", "1m", "5m"]]);
        assert.match(formatDiffMarkdown(d).join("\n"), /#### 2\. Auth and TLS wiring\n\n- server tls\.refreshInterval: 1m → 5m/);
    });

    it("shows every trust bundle change when a CA generation is added, and reissues no leaf", () => {
        const d = diff("base", "caAdded");
        assert.deepEqual(d.certificates.caAdded, ["pki-ca-2027 (CN=Temporal dev CA 2027)", "pki-ca-2027-internode (CN=Temporal dev CA 2027 internode)"]);
        assert.deepEqual(d.certificates.reissued, []);
        const bundles = Object.fromEntries(reports.base!.wiring!.trustBundles.map((b) => [b.where, b.cas]));
        assert.equal(d.trustBundles.length, Object.keys(bundles).length, "every bundle changes");
        for (const change of d.trustBundles) {
            const internodeOnly = bundles[change.setting]!.every((ca) => ca.includes("internode"));
            const clientOnly = bundles[change.setting]!.every((ca) => !ca.includes("internode"));
            const expected = [...(clientOnly ? [] : ["pki-ca-2027-internode (CN=Temporal dev CA 2027 internode)"]), ...(internodeOnly ? [] : ["pki-ca-2027 (CN=Temporal dev CA 2027)"])].sort();
            assert.deepEqual([...change.added!].sort(), expected, change.setting);
            assert.deepEqual(change.removed, [], change.setting);
        }
        assert.ok(d.wiring.some((w) => w.setting === "internode listener trusts (clientCaFiles)" && w.added!.join() === "pki-ca-2027-internode (CN=Temporal dev CA 2027 internode)"));
        // The Kubernetes Secrets' ca.crt changes (a secret: named by what it holds, never printed).
        const frontendTls = d.resources.updated.find((r) => r.name === "temporal-frontend-tls")!;
        assert.deepEqual(frontendTls.changes.map((c) => c.path), ['stringData["ca.crt"]']);
        assert.match(frontendTls.changes[0]!.after!, /^\[secret\] ← \$\{pki-ca-2026\.certPem\} \+ \$\{pki-ca-2027\.certPem\} \+ \$\{pki-ca-2026-internode\.certPem\} \+ \$\{pki-ca-2027-internode\.certPem\}$/);
    });

    it("lists every leaf reissued when the issuer moves to the new CA, with the reason", () => {
        const d = diff("caAdded", "issuer");
        const leaves = reports.caAdded!.certificates.filter((c) => !c.ca).map((c) => c.name);
        assert.deepEqual(d.certificates.reissued.map((r) => r.name), leaves);
        for (const r of d.certificates.reissued) assert.ok(r.because.some((b) => /caCertPem changes|caPrivateKeyPem changes/.test(b)), `${r.name}: ${r.because.join("; ")}`);
        assert.deepEqual([d.certificates.caAdded, d.certificates.caRemoved, d.access], [[], [], []]);
        // What reads a reissued leaf changes with it: the Key Vault certificates and the Secrets.
        assert.ok(d.resources.updated.some((r) => r.name === "pki-frontend-kv"));
        const text = formatDiffText(d).join("\n");
        assert.match(text, /± reissued pki-frontend: caCertPem changes/);
    });
});
