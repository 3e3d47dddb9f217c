import { it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { NetworkPolicy, type INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { setupFullEngine } from "../../scripts/lib/offline/emulators";
import { settleProgram, type Emulator, type OfflineEngine, type RecordedResource } from "../../scripts/lib/offline/engine";
import { chartKeyIssues } from "../../infra/temporal/chart-keys";
import { runTlsChecks } from "../../scripts/lib/plan/tls-checks";
import { readStackFile, type StackFile } from "../../scripts/lib/plan/run";
import { at, env, SERVER_READS_ENV, serverEnvNames } from "./fixtures";

/**
 * Whole-program checks: `infra/index.ts` runs on the offline engine with an example stack's config,
 * and the assertions read what it REGISTERED (the Helm release's values against the tls, azuread and
 * azure-native resources), so the PKI, the identity component and the release are checked against
 * each other, not against themselves. One stack per process: the mock runtime is global.
 */

export interface ProgramRun {
    stack: string;
    engine: OfflineEngine;
    /** The stack file's `temporal-azure:` values. */
    raw: Record<string, unknown>;
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    /** The Helm release's values. */
    values: Record<string, unknown>;
}

/** An example stack's config as the engine takes it (`secure:` values become a placeholder marked secret). */
export function stackConfig(stack: string): StackFile {
    return readStackFile(stack);
}

/**
 * Runs the program for an example stack, optionally with config changed (`patch`), secret keys
 * added (`secrets`, e.g. `temporal-azure:kubeconfig`) and emulators replaced (`emulators`, e.g. to
 * carry a previous update's state over).
 */
export async function runProgram(
    stack: string,
    patch: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c,
    secrets: Record<string, string> = {},
    emulators: Record<string, Emulator> = {},
): Promise<ProgramRun> {
    const file = stackConfig(stack);
    const config = { ...patch(file.config), ...secrets };
    const secretKeys = [...file.secretKeys, ...Object.keys(secrets)];
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) if (key.startsWith("temporal-azure:")) raw[key.slice("temporal-azure:".length)] = value;
    const engine = setupFullEngine({ stack, config, secretKeys, emulators });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the engine is set up
    const program = require("../../infra") as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [name, value] of Object.entries(program)) {
        if (name === "__esModule" || typeof value === "function" || value === undefined) continue;
        const output = pulumi.output(value) as pulumi.Output<unknown>;
        if (await pulumi.isSecret(output)) secretOutputs.push(name);
        outputs[name] = await new Promise((resolve) => output.apply((v) => { resolve(v); return v; }));
    }
    // Every registration the program started, however long the emulators' signing takes on a loaded machine.
    await settleProgram();
    const values = engine.byName("kubernetes:helm.sh/v3:Release", "temporal").inputs.values as Record<string, unknown>;
    return { stack, engine, raw, outputs, secretOutputs, values };
}

// --------------------------------------------------------------------------------------------
// Reading what was registered

const k8sSecret = (run: ProgramRun, namespace: string, name: string): RecordedResource => {
    const found = run.engine.ofType("kubernetes:core/v1:Secret").filter((s) => {
        const m = s.inputs.metadata as { name: string; namespace: string };
        return m.name === name && m.namespace === namespace;
    });
    assert.equal(found.length, 1, `Secret ${namespace}/${name}`);
    return found[0]!;
};
const secretData = (r: RecordedResource) => r.inputs.stringData as Record<string, string>;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const certificates = (pem: string) => (pem.match(PEM_CERT) ?? []).map((p) => new X509Certificate(p));
const leafOf = (r: RecordedResource) => certificates(secretData(r)["tls.crt"]!)[0]!;
const dnsSans = (cert: X509Certificate) => (cert.subjectAltName ?? "").split(", ").filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

function volumeSecret(values: Record<string, unknown>, volumesPath: string, mountsPath: string, file: string): string {
    const mounts = at(values, mountsPath) as { name: string; mountPath: string }[];
    const volumes = at(values, volumesPath) as { name: string; secret: { secretName: string } }[];
    const mount = mounts.find((m) => file.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${file} is not under any mount of ${mountsPath}`);
    const volume = volumes.find((v) => v.name === mount.name);
    assert.ok(volume, `no volume ${mount.name}`);
    return volume.secret.secretName;
}

/** The API registration (it declares the delegated scope) and the UI registration (it has the web redirect URIs). */
function registrations(run: ProgramRun) {
    const apps = run.engine.ofType("azuread:index/application:Application");
    const api = apps.filter((a) => ((at(a.inputs, "api.oauth2PermissionScopes") as unknown[] | undefined) ?? []).length > 0);
    const ui = apps.filter((a) => ((at(a.inputs, "web.redirectUris") as unknown[] | undefined) ?? []).length > 0);
    assert.equal(api.length, 1, "one API registration");
    assert.equal(ui.length, 1, "one UI registration");
    return { api: api[0]!, ui: ui[0]! };
}

function tenantOf(run: ProgramRun): string {
    return (run.raw.azure as { tenantId: string }).tenantId;
}

// --------------------------------------------------------------------------------------------
// The checks every example stack must pass

export function programConsistencyChecks(get: () => ProgramRun): void {
    it("installs chart 1.6.0 with values the chart reads, and the internal frontend", () => {
        const run = get();
        const release = run.engine.byName("kubernetes:helm.sh/v3:Release", "temporal");
        assert.equal(release.inputs.version, "1.6.0");
        assert.equal(release.inputs.chart, "temporal");
        assert.deepEqual(chartKeyIssues(run.values), []);
        assert.equal(at(run.values, "server.internal-frontend.enabled"), true);
        assert.equal(at(run.values, "server.image.tag"), "1.31.2");
        for (const name of serverEnvNames(run.values)) assert.ok(SERVER_READS_ENV.includes(name), name);
    });

    it("every TLS server name is a SAN of the certificate behind it, and every chain verifies against the trust bundle", () => {
        const { values, stack } = get();
        const run = get();
        const ns = (run.raw.kubernetes as { namespace?: string }).namespace ?? "temporal";
        const tls = at(values, "server.config.tls") as Record<string, { server: { certFile: string }; client: { serverName: string } }>;
        const internodeSecret = k8sSecret(run, ns, volumeSecret(values, "server.additionalVolumes", "server.additionalVolumeMounts", tls.internode!.server.certFile));
        const frontendSecret = k8sSecret(run, ns, volumeSecret(values, "server.additionalVolumes", "server.additionalVolumeMounts", tls.frontend!.server.certFile));
        const internode = leafOf(internodeSecret);
        const frontend = leafOf(frontendSecret);
        const expectSan = (cert: X509Certificate, name: string, who: string) => assert.ok(dnsSans(cert).includes(name), `${stack}: ${who} verifies "${name}" but the certificate's SANs are ${dnsSans(cert).join(", ")}`);

        expectSan(internode, tls.internode!.client.serverName, "every service (internode)");
        expectSan(frontend, tls.frontend!.client.serverName, "frontend clients");
        expectSan(frontend, env(at(values, "web.additionalEnv")).TEMPORAL_TLS_SERVER_NAME!, "the UI");
        expectSan(internode, env(at(values, "admintools.additionalEnv")).TEMPORAL_TLS_SERVER_NAME!, "admin tools and the namespace job");
        expectSan(frontend, run.outputs.frontendServerName as string, "the exported frontendServerName");
        for (const [name, w] of Object.entries(run.outputs.workers as Record<string, { env: Record<string, string> }>)) expectSan(frontend, w.env.TEMPORAL_TLS_SERVER_NAME!, `worker ${name}`);

        // Internode is server and client between services: both extended key usages (or none).
        assert.ok(internode.keyUsage.includes(SERVER_AUTH) && internode.keyUsage.includes(CLIENT_AUTH), `internode EKUs: ${internode.keyUsage.join(", ")}`);
        assert.ok(frontend.keyUsage.includes(SERVER_AUTH));

        const uiSecret = k8sSecret(run, ns, volumeSecret(values, "web.additionalVolumes", "web.additionalVolumeMounts", env(at(values, "web.additionalEnv")).TEMPORAL_TLS_CERT!));
        assert.ok(leafOf(uiSecret).keyUsage.includes(CLIENT_AUTH), "the UI certificate is a client certificate");
        for (const s of [internodeSecret, frontendSecret, uiSecret]) {
            const [leaf, issuer] = certificates(secretData(s)["tls.crt"]!);
            const trusted = certificates(secretData(s)["ca.crt"]!);
            assert.ok(issuer, `${s.name}: tls.crt holds the issuing CA after the leaf`);
            assert.ok(trusted.some((ca) => leaf!.checkIssued(ca) && leaf!.verify(ca.publicKey)), `${s.name}: the leaf does not verify against ca.crt`);
            assert.ok(trusted.some((ca) => ca.fingerprint256 === issuer.fingerprint256), `${s.name}: the chain's CA is not in the trust bundle`);
        }
    });

    it("each Secret's ca.crt holds its holder's bundle: internode CAs only for internode, both hierarchies for the frontend, client-facing CAs for the UI and workers", () => {
        const run = get();
        const ns = (run.raw.kubernetes as { namespace?: string }).namespace ?? "temporal";
        const tls = at(run.values, "server.config.tls") as Record<string, { server: { certFile: string } }>;
        const secretOf = (file: string) => k8sSecret(run, ns, volumeSecret(run.values, "server.additionalVolumes", "server.additionalVolumeMounts", file));
        const cas = run.engine.ofType("tls:index/selfSignedCert:SelfSignedCert");
        const fingerprints = (pem: string) => certificates(pem).map((c) => c.fingerprint256);
        const internodeCas = cas.filter((c) => c.name.endsWith("-internode")).map((c) => new X509Certificate(String(c.state.certPem)).fingerprint256);
        const clientCas = cas.filter((c) => !c.name.endsWith("-internode")).map((c) => new X509Certificate(String(c.state.certPem)).fingerprint256);
        assert.ok(internodeCas.length >= 1 && internodeCas.length === clientCas.length, "one internode CA per generation");

        const internodeSecret = secretOf(tls.internode!.server.certFile);
        assert.deepEqual(fingerprints(secretData(internodeSecret)["ca.crt"]!), internodeCas, "internode ca.crt");
        assert.deepEqual(fingerprints(secretData(secretOf(tls.frontend!.server.certFile))["ca.crt"]!), [...clientCas, ...internodeCas], "frontend ca.crt");
        const uiSecret = k8sSecret(run, ns, volumeSecret(run.values, "web.additionalVolumes", "web.additionalVolumeMounts", env(at(run.values, "web.additionalEnv")).TEMPORAL_TLS_CERT!));
        const workers = (run.raw.workers as { name: string; kubernetesNamespace: string }[]).map((w) => k8sSecret(run, w.kubernetesNamespace, w.name));
        for (const s of [uiSecret, ...workers]) assert.deepEqual(fingerprints(secretData(s)["ca.crt"]!), clientCas, `${s.name} ca.crt`);

        // What that buys: no client certificate verifies against what the internode servers trust.
        const internodeTrust = certificates(secretData(internodeSecret)["ca.crt"]!);
        for (const s of [uiSecret, ...workers]) assert.ok(!internodeTrust.some((ca) => leafOf(s).verify(ca.publicKey)), `${s.name}: a client certificate verifies against the internode CAs`);
        assert.ok(internodeTrust.some((ca) => leafOf(internodeSecret).verify(ca.publicKey)));
    });

    it("the plan's handshakes: client certificates refused by the internode servers; and those checks fail if the internode Secret trusted the client-facing CAs", async () => {
        const run = get();
        const refusals = (checks: Awaited<ReturnType<typeof runTlsChecks>>["checks"]) => checks.filter((c) => c.name.startsWith("internode:") && c.expect === "reject");
        const workers = (run.raw.workers as unknown[]).length;
        const planned = await runTlsChecks(run.engine.resources);
        assert.deepEqual(planned.problems, []);
        assert.equal(refusals(planned.checks).length, workers + 1, "the UI and every worker");
        for (const c of refusals(planned.checks)) assert.deepEqual([c.passed, c.result.refusedBy], [true, "server"], c.name);

        // The hole this closes: with one CA for everything (the internode Secret's ca.crt = the frontend's bundle), every client certificate passes.
        const ns = (run.raw.kubernetes as { namespace?: string }).namespace ?? "temporal";
        const tls = at(run.values, "server.config.tls") as Record<string, { server: { clientCaFiles: string[] } }>;
        const secretOf = (file: string) => k8sSecret(run, ns, volumeSecret(run.values, "server.additionalVolumes", "server.additionalVolumeMounts", file));
        const internodeSecret = secretOf(tls.internode!.server.clientCaFiles[0]!);
        const frontendBundle = secretData(secretOf(tls.frontend!.server.clientCaFiles[0]!))["ca.crt"]!;
        const widened = run.engine.resources.map((r) => (r === internodeSecret ? { ...r, inputs: { ...r.inputs, stringData: { ...secretData(r), "ca.crt": frontendBundle } } } : r));
        const widenedRun = await runTlsChecks(widened);
        assert.equal(refusals(widenedRun.checks).length, workers + 1);
        for (const c of refusals(widenedRun.checks)) assert.equal(c.passed, false, c.name);
        assert.ok(widenedRun.problems.some((p) => p.startsWith("internode: the Web UI's client certificate is refused: expected reject by the server, got accepted")), widenedRun.problems.join("\n"));
    });

    it("the audience is the API registration's client id, and the JWKS URL holds the API's own keys only", () => {
        const run = get();
        const { api } = registrations(run);
        const auth = at(run.values, "server.config.authorization") as { audience: string; jwtKeyProvider: { keySourceURIs: string[] }; permissionsClaimName: string };
        assert.equal(auth.audience, api.state.clientId);
        assert.equal(run.outputs.apiClientId, api.state.clientId);
        assert.equal(at(api.inputs, "api.requestedAccessTokenVersion"), 2, "v2 tokens carry the client id as aud");
        const identifierUri = run.engine.ofType("azuread:index/applicationIdentifierUri:ApplicationIdentifierUri")[0]!;
        assert.equal(identifierUri.inputs.identifierUri, `api://${auth.audience}`);
        const jwks = `https://login.microsoftonline.com/${tenantOf(run)}/discovery/v2.0/keys?appid=${auth.audience}`;
        assert.deepEqual(auth.jwtKeyProvider.keySourceURIs, [jwks]);
        assert.equal(run.outputs.jwksUrl, jwks);
        assert.equal(auth.permissionsClaimName, "roles");
    });

    it("the UI signs in with its own registration, a registered callback, and a scope of the API", () => {
        const run = get();
        const { api, ui } = registrations(run);
        const e = env(at(run.values, "web.additionalEnv"));
        assert.equal(e.TEMPORAL_AUTH_CLIENT_ID, ui.state.clientId);
        assert.notEqual(e.TEMPORAL_AUTH_CLIENT_ID, api.state.clientId, "UI and API are separate registrations");
        assert.ok((at(ui.inputs, "web.redirectUris") as string[]).includes(e.TEMPORAL_AUTH_CALLBACK_URL!), `${e.TEMPORAL_AUTH_CALLBACK_URL} is not a redirect URI of the UI registration`);
        const scopeValues = (at(api.inputs, "api.oauth2PermissionScopes") as { value: string }[]).map((s) => `api://${String(api.state.clientId)}/${s.value}`);
        const requested = e.TEMPORAL_AUTH_SCOPES!.split(",");
        assert.ok(requested.some((s) => scopeValues.includes(s)), `UI scopes ${requested.join(",")} hold none of the API's scopes ${scopeValues.join(",")}`);
        assert.ok(requested.includes(run.outputs.apiScope as string));
        assert.ok(requested.includes("openid"));
        const issuer = `https://login.microsoftonline.com/${tenantOf(run)}/v2.0`;
        assert.equal(e.TEMPORAL_AUTH_ISSUER_URL, issuer);
        assert.equal(e.TEMPORAL_AUTH_PROVIDER_URL, issuer);
        assert.equal(run.outputs.uiUrl, `https://${(run.raw.identity as { uiHost: string }).uiHost}`);
    });

    it("every Secret's data is a Pulumi secret, and no secret reaches values, env, other objects or outputs", () => {
        const run = get();
        const secrets = run.engine.ofType("kubernetes:core/v1:Secret");
        for (const s of secrets) assert.ok(s.secretPaths.includes("stringData"), `${s.name}: stringData is not a Pulumi secret`);
        const secretMaterial = [
            ...secrets.flatMap((s) => Object.values(secretData(s)).filter((v) => /PRIVATE KEY/.test(v))),
            String(run.engine.ofType("azuread:index/applicationPassword:ApplicationPassword")[0]!.state.value),
            String(run.engine.ofType("random:index/randomPassword:RandomPassword")[0]!.state.result),
        ];
        assert.ok(secretMaterial.length >= 4 && secretMaterial.every((m) => m.length >= 20), "found the secrets to look for");
        const uiSecretEnv = run.engine.ofType("kubernetes:core/v1:Secret").find((s) => "TEMPORAL_AUTH_CLIENT_SECRET" in secretData(s));
        assert.equal(uiSecretEnv && secretData(uiSecretEnv).TEMPORAL_AUTH_CLIENT_SECRET, secretMaterial.at(-2), "the UI's env Secret holds the registration's client secret");
        assert.equal((uiSecretEnv!.inputs.metadata as { name: string }).name, at(run.values, "web.additionalEnvSecretName"));

        const exposed = [
            ["the Helm values", run.values],
            ...run.engine.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Secret" && r.type !== "kubernetes:helm.sh/v3:Release").map((r) => [`${r.type} ${r.name}`, r.inputs] as const),
            ...Object.entries(run.outputs).filter(([k]) => !run.secretOutputs.includes(k)).map(([k, v]) => [`output ${k}`, v] as const),
        ] as const;
        for (const [where, value] of exposed) {
            const text = JSON.stringify(value) ?? "";
            for (const m of secretMaterial) assert.equal(text.includes(m.trim().slice(0, 60)), false, `secret material in ${where}`);
            assert.doesNotMatch(text, /PRIVATE KEY/, where);
        }
        assert.deepEqual(run.engine.byName("kubernetes:helm.sh/v3:Release", "temporal").secretPaths, []);
        assert.equal(run.engine.ofType("kubernetes:core/v1:ConfigMap").length, 0);
        assert.deepEqual(run.secretOutputs, []);
    });

    it("objects created directly validate against the Kubernetes schemas", () => {
        const run = get();
        const models: Record<string, (o: never) => { validate(): void }> = {
            "kubernetes:core/v1:Secret": (o) => new Secret(o),
            "kubernetes:core/v1:Namespace": (o) => new Namespace(o),
            "kubernetes:core/v1:ServiceAccount": (o) => new ServiceAccount(o),
            "kubernetes:core/v1:Service": (o) => new Service(o),
            "kubernetes:apps/v1:StatefulSet": (o) => new StatefulSet(o),
            "kubernetes:networking.k8s.io/v1:NetworkPolicy": (o) => new NetworkPolicy(o),
        };
        const objects = run.engine.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
        assert.ok(objects.length >= 8);
        for (const r of objects) {
            const model = models[r.type];
            assert.ok(model, `no schema check for ${r.type}`);
            assert.doesNotThrow(() => model(r.inputs as never).validate(), `${r.type} ${r.name}`);
        }
    });

    it("each worker gets a ready connection profile: address, namespace, its certificate Secret, its identity, the API's app-only scope", () => {
        const run = get();
        const { api } = registrations(run);
        const workers = run.raw.workers as { name: string; runsOn?: string; kubernetesNamespace: string; serviceAccount?: string; temporalNamespace: string }[];
        const profiles = run.outputs.workers as Record<string, { env: Record<string, string>; tokenScope: string; clientId: string; kubernetesSecret: string }>;
        assert.deepEqual(Object.keys(profiles).sort(), workers.map((w) => w.name).sort());
        const identities = new Map<string, string>([
            ...run.engine.ofType("azure-native:managedidentity:UserAssignedIdentity").map((m) => [String(m.state.clientId), "managed-identity"] as [string, string]),
            ...run.engine.ofType("azuread:index/application:Application").map((a) => [String(a.state.clientId), "app-registration"] as [string, string]),
        ]);
        for (const w of workers) {
            const p = profiles[w.name]!;
            assert.equal(p.env.TEMPORAL_NAMESPACE, w.temporalNamespace);
            assert.equal(p.tokenScope, `api://${String(api.state.clientId)}/.default`);
            assert.equal(identities.get(p.clientId), (w.runsOn ?? "aks") === "aks" ? "managed-identity" : "app-registration", `${w.name}'s client id`);
            assert.equal(p.kubernetesSecret, `${w.kubernetesNamespace}/${w.name}`);
            const secret = k8sSecret(run, w.kubernetesNamespace, w.name);
            assert.equal(secret.inputs.type, "kubernetes.io/tls");
            const leaf = leafOf(secret);
            assert.ok(leaf.keyUsage.includes(CLIENT_AUTH), `${w.name}: not a client certificate`);
            for (const key of ["TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"]) assert.match(p.env[key]!, /^\/etc\/temporal\/tls\/(tls\.crt|tls\.key|ca\.crt)$/);
            if ((w.runsOn ?? "aks") === "aks") {
                assert.equal(p.env.TEMPORAL_ADDRESS, run.outputs.frontendAddress);
                const saName = w.serviceAccount ?? w.name;
                const sa = run.engine.ofType("kubernetes:core/v1:ServiceAccount").find((s) => (s.inputs.metadata as { name: string; namespace: string }).name === saName && (s.inputs.metadata as { namespace: string }).namespace === w.kubernetesNamespace);
                assert.ok(sa, `no service account ${w.kubernetesNamespace}/${saName}`);
                assert.equal((sa.inputs.metadata as { annotations: Record<string, string> }).annotations["azure.workload.identity/client-id"], p.clientId);
                const federation = run.engine.ofType("azure-native:managedidentity:FederatedIdentityCredential").find((f) => f.inputs.subject === `system:serviceaccount:${w.kubernetesNamespace}:${saName}`);
                assert.ok(federation, `no federated credential trusts ${w.kubernetesNamespace}/${saName}`);
                assert.equal(federation.inputs.issuer, run.outputs.clusterOidcIssuerUrl);
            }
        }
    });

    it("the frontend's NetworkPolicy admits the UI, the ingress controller and every declared worker namespace, and nothing else", () => {
        const run = get();
        const policy = run.engine.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => (p.inputs.metadata as { name: string }).name === "temporal-frontend")!;
        const spec = (policy.inputs as unknown as INetworkPolicy).spec!;
        const namespaces = (spec.ingress ?? []).flatMap((r) => (r.from ?? []).map((f) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"])).filter((n): n is string => n !== undefined);
        const workers = run.raw.workers as { kubernetesNamespace: string }[];
        const kubernetes = run.raw.kubernetes as { ingressNamespace?: string };
        assert.deepEqual([...new Set(namespaces)].sort(), [...new Set([kubernetes.ingressNamespace ?? "ingress-nginx", ...workers.map((w) => w.kubernetesNamespace)])].sort());
        for (const rule of spec.ingress ?? []) assert.deepEqual(rule.ports, [{ protocol: "TCP", port: 7233 }]);
    });

    it("the chart reads the database password from the Secret the database was given", () => {
        const run = get();
        const ns = (run.raw.kubernetes as { namespace?: string }).namespace ?? "temporal";
        const sql = at(run.values, "server.config.persistence.datastores.default.sql") as { existingSecret: string; secretKey: string; connectAddr: string };
        const password = String(run.engine.ofType("random:index/randomPassword:RandomPassword")[0]!.state.result);
        assert.equal(secretData(k8sSecret(run, ns, sql.existingSecret))[sql.secretKey], password);
        const server = run.engine.ofType("azure-native:dbforpostgresql:Server")[0];
        if (server) {
            assert.equal(sql.connectAddr, `${String(server.state.fullyQualifiedDomainName)}:5432`);
            assert.equal(server.inputs.administratorLoginPassword, password);
            assert.ok(server.secretPaths.includes("administratorLoginPassword"));
        } else {
            const service = run.engine.ofType("kubernetes:core/v1:Service")[0]!;
            assert.equal(sql.connectAddr, `${(service.inputs.metadata as { name: string }).name}.${ns}.svc:5432`);
        }
    });

    it("exports what operators need, none of it secret", () => {
        const run = get();
        const vault = run.engine.ofType("azure-native:keyvault:Vault")[0]!;
        assert.equal(run.outputs.keyVaultUri, at(vault.state, "properties.vaultUri"));
        assert.equal(run.outputs.tenantId, tenantOf(run));
        assert.match(run.outputs.frontendAddress as string, /^temporal-frontend\.[a-z0-9-]+\.svc:7233$/);
        assert.equal(run.outputs.apiScope, `api://${String(run.outputs.apiClientId)}/default`);
        assert.deepEqual(run.secretOutputs, []);
    });
}
