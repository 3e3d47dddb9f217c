import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { isSecretEnvelope, SECRET_SIG, SECRET_SIG_KEY, type OfflineEngine } from "../../scripts/lib/offline/engine";
import { planStack, type PlanReport } from "../../scripts/lib/plan/run";
import { formatMarkdown, formatText } from "../../scripts/lib/plan/format";
import { formatPath, SECRET } from "../../scripts/lib/plan/material";

/** Every string inside a Pulumi secret envelope of a resource's raw inputs, with its path. */
function secretStrings(value: unknown, inSecret = false, at: (string | number)[] = [], out: Array<{ path: string; value: string }> = []) {
    if (isSecretEnvelope(value)) return secretStrings(value.value, true, at, out);
    if (Array.isArray(value)) value.forEach((v, i) => secretStrings(v, inSecret, [...at, i], out));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) secretStrings(v, inSecret, [...at, k], out);
    else if (inSecret && typeof value === "string") out.push({ path: formatPath(at), value });
    return out;
}

/** The inputs with every secret subtree removed. */
function stripSecrets(value: unknown): unknown {
    if (isSecretEnvelope(value)) return undefined;
    if (Array.isArray(value)) return value.map(stripSecrets);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripSecrets(v)]));
    return value;
}

function at(value: unknown, path: (string | number)[]): unknown {
    return path.reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined), value);
}

// The engine is process-wide: this file plans the prod example once.
describe("the plan's report (prod example, in process)", () => {
    let report: PlanReport;
    let engine: OfflineEngine;
    before(async () => {
        const planned = await planStack("prod");
        report = planned.report;
        engine = planned.engine!;
        assert.equal(report.ok, true, JSON.stringify(report.error ?? report.violations));
    });

    it("lists every resource the program registered, sorted by type and name, each with its inputs", () => {
        const custom = engine.resources.filter((r) => r.custom);
        assert.equal(report.resources.length, custom.length);
        const keys = report.resources.map((r) => `${r.type}::${r.name}`);
        assert.deepEqual(keys, [...keys].sort());
        assert.deepEqual(new Set(keys), new Set(custom.map((r) => `${r.type}::${r.name}`)));
        const release = report.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        assert.equal(at(release.inputs, ["values", "server", "replicaCount"]), 3, "a replicas change would show");
        const sortedKeys = (v: unknown): boolean =>
            Array.isArray(v) ? v.every(sortedKeys) : v !== null && typeof v === "object" ? Object.keys(v).join("\n") === Object.keys(v).sort().join("\n") && Object.values(v).every(sortedKeys) : true;
        for (const r of report.resources) assert.ok(sortedKeys(r.inputs), `${r.name}: keys not sorted`);
    });

    it("shows every secret input as [secret], never its value, in JSON, text and Markdown", () => {
        const secrets = engine.resources.flatMap((r) => secretStrings(r.rawInputs).map((s) => ({ ...s, resource: r })));
        const generated = [
            ...engine.ofType("tls:index/privateKey:PrivateKey").flatMap((k) => [String(k.state.privateKeyPem), String(k.state.privateKeyPemPkcs8)]),
            String(engine.ofType("random:index/randomPassword:RandomPassword")[0]!.state.result),
            String(engine.ofType("azuread:index/applicationPassword:ApplicationPassword")[0]!.state.value),
        ];
        assert.ok(secrets.length >= 30, `found ${secrets.length} secret inputs`);
        const outputs = [JSON.stringify(report), formatText(report, { inputs: true }).join("\n"), formatMarkdown(report).join("\n")];
        // Constants that Pulumi marks secret only because they sit next to a secret (a Key Vault secret's contentType) are printed elsewhere anyway.
        const plain = new Set(engine.resources.flatMap((r) => secretStrings({ [SECRET_SIG_KEY]: SECRET_SIG, value: stripSecrets(r.rawInputs) }).map((s) => s.value)));
        for (const value of [...secrets.map((s) => s.value), ...generated]) {
            if (value.trim().length < 20 || plain.has(value)) continue;
            const probe = value.trim().split("\n").find((l) => l.length >= 20 && !l.startsWith("-----")) ?? value.trim();
            for (const o of outputs) assert.equal(o.includes(probe), false, `a secret value is printed: ${probe.slice(0, 12)}…`);
        }
        for (const o of outputs) assert.doesNotMatch(o, /PRIVATE KEY|8Q~/);
        const tls = report.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "temporal-internode-tls")!;
        assert.deepEqual(tls.inputs.stringData, {
            "ca.crt": `${SECRET} ← \${pki-ca-2026-internode.certPem}`,
            "tls.crt": `${SECRET} ← \${pki-internode.certPem} + \${pki-ca-2026-internode.certPem}`,
            "tls.key": `${SECRET} ← \${pki-internode-key.privateKeyPemPkcs8}`,
        });
        const db = report.resources.find((r) => r.type === "azure-native:dbforpostgresql:Server")!;
        assert.equal(db.inputs.administratorLoginPassword, `${SECRET} ← \${database-password.result}`);
    });

    it("names values that differ between runs by their source, whole or inside a longer string", () => {
        const json = JSON.stringify(report);
        assert.doesNotMatch(json, /BEGIN CERTIFICATE|BEGIN CERTIFICATE REQUEST/);
        const leaf = report.resources.find((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert" && r.name === "pki-frontend")!;
        assert.equal(leaf.inputs.caCertPem, "${pki-ca-2026.certPem}");
        assert.equal(leaf.inputs.certRequestPem, "${pki-frontend-csr.certRequestPem}");
        assert.deepEqual(leaf.dependencies.caCertPem, ["tls:index/selfSignedCert:SelfSignedCert::pki-ca-2026"]);
        const release = report.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        assert.equal(at(release.inputs, ["values", "web", "podAnnotations", "temporal-azure/client-certificate-sha256"]), "sha256(${pki-client-temporal-ui.certPem})");
        const partner = report.resources.find((r) => r.type === "azuread:index/applicationCertificate:ApplicationCertificate")!;
        assert.equal(partner.inputs.value, `${SECRET} ← \${pki-client-partner-bridge.certPem}`);
        assert.equal(partner.inputs.endDate, "${pki-client-partner-bridge.validityEndTime}");
        // No absolute time of the run is printed anywhere.
        const now = new Date().toISOString().slice(0, 13);
        assert.equal(json.includes(now), false, `a time of this run (${now}…) is in the report`);
    });

    it("reads the trust bundles and the TLS and auth wiring from the resources", () => {
        const w = report.wiring!;
        assert.deepEqual(w.settings["internode listener trusts (clientCaFiles)"], ["pki-ca-2026-internode (CN=Temporal CA 2026 internode)"]);
        assert.deepEqual(w.settings["frontend listener trusts (clientCaFiles)"], ["pki-ca-2026 (CN=Temporal CA 2026)", "pki-ca-2026-internode (CN=Temporal CA 2026 internode)"]);
        assert.equal(w.settings["frontend listener requireClientAuth"], true);
        assert.equal(w.settings["server authorization.audience"], report.outputs.apiClientId);
        assert.equal(w.settings["server authorization.permissionsClaimName"], "roles");
        assert.equal(w.settings["frontend ingress ssl-passthrough"], "true");
        assert.deepEqual(
            w.trustBundles.find((b) => b.where === "Secret partner-bridge/partner-bridge ca.crt"),
            { where: "Secret partner-bridge/partner-bridge ca.crt", cas: ["pki-ca-2026 (CN=Temporal CA 2026)"] },
        );
        const frontend = report.certificates.find((c) => c.name === "pki-frontend")!;
        assert.deepEqual([frontend.ca, frontend.issuer, frontend.keyAlgorithm], [false, "pki-ca-2026", "ECDSA P-256"]);
        assert.ok(frontend.dnsNames.includes("temporal-grpc.contoso.example"));
        assert.deepEqual(report.certificates.filter((c) => c.ca).map((c) => c.name), ["pki-ca-2026", "pki-ca-2026-internode"]);
    });

    it("says none for an output the stack has no value for, instead of undefined", () => {
        const outputs = formatText({ ...report, outputs: { ...report.outputs, clusterOidcIssuerUrl: null } }).join("\n");
        assert.match(outputs, /^ {2}clusterOidcIssuerUrl: none$/m);
        assert.doesNotMatch(formatText(report).join("\n"), /undefined/);
    });
});
