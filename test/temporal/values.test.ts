import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildTemporalValues, MOUNTS, trustedCertificateDigests } from "../../infra/temporal/values";
import { chartKeyIssues, readChartDefaults, UNRELEASED_IN_CHART, valueKeyPaths } from "../../infra/temporal/chart-keys";
import { TEMPORAL_ADMIN_TOOLS_IMAGE, TEMPORAL_CHART, TEMPORAL_SERVER_IMAGE, TEMPORAL_UI_IMAGE } from "../../infra/temporal/versions";
import { expirationChecks, resolveTemporalSettings } from "../../infra/temporal/settings";
import { sizingFor } from "../../infra/temporal/sizing";
import {
    API_CLIENT_ID,
    API_SCOPE,
    at,
    env,
    FLEXIBLE_DB,
    ISSUER,
    JWKS,
    resolved,
    SERVER_READS_ENV,
    SERVER_SERVICE_KEYS,
    serverEnvNames,
    UI_CLIENT_ID,
    valuesInput,
} from "./fixtures";

const dev = resolved("dev");
const prod = resolved("prod");
const devInput = valuesInput(dev);
const devValues = buildTemporalValues(devInput);
const prodValues = buildTemporalValues(valuesInput(prod, FLEXIBLE_DB));
const defaults = readChartDefaults();

describe("Helm values: every key is one the chart reads", () => {
    it("dev and prod values have no key outside the chart's values file (server.config passthrough aside)", () => {
        assert.deepEqual(chartKeyIssues(devValues, defaults), []);
        assert.deepEqual(chartKeyIssues(prodValues, defaults), []);
        assert.ok(valueKeyPaths(prodValues).length > 60, "the check walked the whole tree");
    });

    it("catches an invented key, a wrong shape and a key only the chart's main branch has", () => {
        const bad = {
            web: { ingres: { enabled: true }, additionalEnv: "X=1" },
            server: { tls: { internode: { enabled: true } }, frontend: { replicas: 2 } },
        };
        assert.deepEqual(chartKeyIssues(bad, defaults), [
            "web.ingres: the chart has no such value: fix the spelling or remove it",
            "web.additionalEnv: the chart expects a list here",
            "server.tls: not read by the released chart 1.6.0 (added on the chart's main branch later): use a key 1.6.0 reads",
            "server.frontend.replicas: the chart has no such value: fix the spelling or remove it",
        ]);
    });

    it("lists only keys the reference file really has as unreleased (the list is not stale)", () => {
        for (const path of UNRELEASED_IN_CHART) assert.notEqual(at(defaults, path), undefined, `${path} is not in the reference values file`);
    });

    it("sets no server.tls or web.tls: the released chart would ignore them and leave the cluster without TLS", () => {
        assert.equal(at(devValues, "server.tls"), undefined);
        assert.equal(at(devValues, "web.tls"), undefined);
    });
});

describe("Helm values: pinned versions", () => {
    it("pins chart 1.6.0 from the official repository and server 1.31.2, admin tools 1.31.2, UI 2.52.0", () => {
        assert.deepEqual(TEMPORAL_CHART, { name: "temporal", version: "1.6.0", repository: "https://go.temporal.io/helm-charts" });
        assert.deepEqual(at(devValues, "server.image"), { repository: "temporalio/server", tag: "1.31.2", pullPolicy: "IfNotPresent" });
        assert.equal(at(devValues, "admintools.image.tag"), TEMPORAL_ADMIN_TOOLS_IMAGE.tag);
        assert.deepEqual(at(devValues, "web.image"), { ...TEMPORAL_UI_IMAGE, pullPolicy: "IfNotPresent" });
        assert.equal(TEMPORAL_SERVER_IMAGE.tag, "1.31.2");
        assert.equal(TEMPORAL_UI_IMAGE.tag, "2.52.0");
    });

    it("has no floating tag anywhere", () => {
        assert.doesNotMatch(JSON.stringify(prodValues), /:latest\b|"latest"/);
    });

    it("turns the 1.29 shims off (server 1.31)", () => {
        assert.deepEqual(at(devValues, "shims"), { dockerize: false, elasticsearchTool: false });
    });
});

describe("Helm values: mTLS", () => {
    const tls = at(devValues, "server.config.tls") as Record<string, Record<string, Record<string, unknown>>>;
    const names = devInput.serviceNames;

    it("reloads rotated certificates every minute and checks expiry", () => {
        assert.equal(at(devValues, "server.config.tls.refreshInterval"), "1m");
        assert.deepEqual(at(devValues, "server.config.tls.expirationChecks"), { warningWindow: "360h", errorWindow: "168h", checkInterval: "1h" });
    });

    it("requires client certificates on internode and frontend, and verifies the server names", () => {
        for (const section of ["internode", "frontend"] as const) {
            assert.equal(tls[section]!.server!.requireClientAuth, true, section);
            assert.deepEqual(tls[section]!.server!.clientCaFiles, [`${MOUNTS[section]}/ca.crt`], section);
            assert.deepEqual(tls[section]!.client!.rootCaFiles, [`${MOUNTS[section]}/ca.crt`], section);
        }
        assert.equal(tls.internode!.client!.serverName, names.internodeServerName);
        assert.equal(tls.frontend!.client!.serverName, names.frontendServerName);
    });

    it("reads each certificate from the Secret mounted at its path, as a directory (no subPath, so rotation reaches the pod)", () => {
        const volumes = at(devValues, "server.additionalVolumes") as { name: string; secret: { secretName: string } }[];
        const mounts = at(devValues, "server.additionalVolumeMounts") as { name: string; mountPath: string; subPath?: string }[];
        const secretAt = (path: string) => {
            const mount = mounts.find((m) => path.startsWith(`${m.mountPath}/`));
            assert.ok(mount, `nothing mounted at ${path}`);
            assert.equal(mount.subPath, undefined);
            return volumes.find((v) => v.name === mount.name)?.secret.secretName;
        };
        assert.equal(secretAt(tls.internode!.server!.certFile as string), devInput.secrets.internodeTls);
        assert.equal(secretAt(tls.internode!.server!.keyFile as string), devInput.secrets.internodeTls);
        assert.equal(secretAt(tls.frontend!.server!.certFile as string), devInput.secrets.frontendTls);
        // Each section's CAs come from its own Secret: internode servers and clients read the
        // internode Secret's ca.crt (internode CAs only), the frontend its own (client-facing + internode).
        for (const side of ["server", "client"] as const) {
            const files = (section: "internode" | "frontend") => tls[section]![side]![side === "server" ? "clientCaFiles" : "rootCaFiles"] as string[];
            assert.deepEqual(files("internode").map(secretAt), [devInput.secrets.internodeTls], side);
            assert.deepEqual(files("frontend").map(secretAt), [devInput.secrets.frontendTls], side);
        }
    });

    it("the UI dials the frontend with its own client certificate and host verification on", () => {
        const e = env(at(devValues, "web.additionalEnv"));
        assert.equal(e.TEMPORAL_TLS_ENABLE_HOST_VERIFICATION, "true");
        assert.equal(e.TEMPORAL_TLS_SERVER_NAME, names.frontendServerName);
        assert.equal(e.TEMPORAL_TLS_CERT, "/etc/temporal/tls/tls.crt");
        assert.deepEqual(at(devValues, "web.additionalVolumes"), [{ name: "web-tls", secret: { secretName: devInput.secrets.webTls } }]);
        assert.deepEqual(at(devValues, "web.additionalVolumeMounts"), [{ name: "web-tls", mountPath: "/etc/temporal/tls", readOnly: true }]);
    });

    it("admin tools and the namespace job reach the internal frontend with the internode certificate", () => {
        const e = env(at(devValues, "admintools.additionalEnv"));
        assert.equal(e.TEMPORAL_TLS_SERVER_NAME, names.internodeServerName);
        assert.equal(e.TEMPORAL_TLS_CLIENT_CERT_PATH, "/etc/temporal/tls/client/tls.crt");
        // ...and verify it against the internode Secret's ca.crt: the internode CAs, which sign the internal frontend's certificate.
        assert.equal(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH, "/etc/temporal/tls/client/ca.crt");
        assert.deepEqual(at(devValues, "admintools.additionalVolumes"), [{ name: "admin-client-tls", secret: { secretName: devInput.secrets.internodeTls } }]);
        assert.deepEqual(at(devValues, "admintools.additionalVolumeMounts"), [{ name: "admin-client-tls", mountPath: "/etc/temporal/tls/client", readOnly: true }]);
    });

    it("rolls the UI and admin pods when their certificate is reissued (they read it only at start)", () => {
        assert.equal((at(devValues, "web.podAnnotations") as Record<string, string>)["temporal-azure/client-certificate-sha256"], "a".repeat(64));
        assert.equal((at(devValues, "admintools.podAnnotations") as Record<string, string>)["temporal-azure/client-certificate-sha256"], "b".repeat(64));
    });

    it("rolls the server, the UI and the admin pods when the trusted CAs change (server 1.31.2 does not take up a changed CA set without a restart)", () => {
        for (const path of ["server.podAnnotations", "web.podAnnotations", "admintools.podAnnotations"]) {
            assert.equal((at(devValues, path) as Record<string, string>)["temporal-azure/trusted-ca-sha256"], "c".repeat(64), path);
        }
    });

    it("the trusted-CA annotation: one digest per CA certificate of the bundles, first occurrence first, so a new CA generation changes it and a reordered duplicate does not", () => {
        const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----`;
        const digest = (s: string) => `h(${s.slice(28, 29)})`;
        assert.equal(trustedCertificateDigests([`${pem("A")}\n`, `${pem("B")}\n${pem("A")}\n`], digest), "h(A),h(B)");
        assert.equal(trustedCertificateDigests([`${pem("A")}\n${pem("C")}\n`, pem("B")], digest), "h(A),h(C),h(B)");
        assert.equal(trustedCertificateDigests(["no certificate here"], digest), "");
    });
});

describe("Helm values: JWT authorization", () => {
    it("uses the default mapper and authorizer, the roles claim, the API's own key set and the API's client id as audience", () => {
        assert.deepEqual(at(devValues, "server.config.authorization"), {
            jwtKeyProvider: { keySourceURIs: [JWKS], refreshInterval: "5m" },
            permissionsClaimName: "roles",
            authorizer: "default",
            claimMapper: "default",
            audience: API_CLIENT_ID,
        });
    });

    it("runs the internal frontend so the system worker is not denied", () => {
        assert.equal(at(devValues, "server.internal-frontend.enabled"), true);
    });

    it("sets no env var on the server that the server does not read", () => {
        for (const name of [...serverEnvNames(devValues), ...serverEnvNames(prodValues)]) assert.ok(SERVER_READS_ENV.includes(name), `${name} is not read by the server`);
        assert.equal(at(devValues, "server.additionalEnvSecretName"), undefined);
    });
});

describe("Helm values: the UI's sign-in", () => {
    const e = env(at(devValues, "web.additionalEnv"));

    it("asks Entra for the API's scope as well as openid, so the access token is for the API", () => {
        const scopes = e.TEMPORAL_AUTH_SCOPES!.split(",");
        assert.ok(scopes.includes(API_SCOPE), e.TEMPORAL_AUTH_SCOPES);
        assert.ok(scopes.includes("openid"), e.TEMPORAL_AUTH_SCOPES);
        assert.equal(e.TEMPORAL_AUTH_USE_ID_TOKEN_AS_BEARER, "false");
    });

    it("takes provider, issuer, client id and callback from the identity outputs", () => {
        assert.equal(e.TEMPORAL_AUTH_ENABLED, "true");
        assert.equal(e.TEMPORAL_AUTH_PROVIDER_URL, ISSUER);
        assert.equal(e.TEMPORAL_AUTH_ISSUER_URL, ISSUER);
        assert.equal(e.TEMPORAL_AUTH_CLIENT_ID, UI_CLIENT_ID);
        assert.equal(e.TEMPORAL_AUTH_CALLBACK_URL, "https://temporal.dev.contoso.example/auth/sso/callback");
    });

    it("sets no variable ui-server 2.52.0 ignores, and opens the first declared namespace after sign-in", () => {
        assert.equal(e.TEMPORAL_AUTH_TYPE, undefined);
        assert.equal(e.TEMPORAL_AUTH_LABEL, undefined);
        assert.equal(e.TEMPORAL_DEFAULT_NAMESPACE, "payments");
        assert.equal(devInput.temporalNamespaces[0]?.name, "payments");
    });

    it("gets the client secret only from the Secret named by web.additionalEnvSecretName", () => {
        assert.equal(e.TEMPORAL_AUTH_CLIENT_SECRET, undefined);
        assert.equal(at(devValues, "web.additionalEnvSecretName"), devInput.secrets.webAuthEnv);
    });

    it("serves the UI through an ingress with TLS for its host", () => {
        assert.deepEqual(at(devValues, "web.ingress.hosts"), ["temporal.dev.contoso.example"]);
        assert.deepEqual(at(devValues, "web.ingress.tls"), [{ secretName: "temporal-web-ingress-tls", hosts: ["temporal.dev.contoso.example"] }]);
        assert.equal(at(devValues, "web.ingress.className"), "nginx");
        assert.equal((at(prodValues, "web.ingress.annotations") as Record<string, string>)["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    });
});

describe("Helm values: persistence", () => {
    it("uses the postgres12 plugin for both stores with the password from the Secret, never in values", () => {
        for (const store of ["default", "visibility"]) {
            const sql = at(devValues, `server.config.persistence.datastores.${store}.sql`) as Record<string, unknown>;
            assert.equal(sql.pluginName, "postgres12");
            assert.equal(sql.existingSecret, "temporal-db");
            assert.equal(sql.secretKey, "password");
            assert.equal("password" in sql, false);
            assert.equal(sql.manageSchema, true);
        }
        assert.equal(at(devValues, "server.config.persistence.datastores.visibility.sql.databaseName"), "temporal_visibility");
    });

    it("verifies the Flexible Server's certificate against its FQDN and lets Pulumi own its databases", () => {
        assert.deepEqual(at(prodValues, "server.config.persistence.datastores.default.sql.tls"), { enabled: true, enableHostVerification: true, serverName: FLEXIBLE_DB.host });
        assert.equal(at(prodValues, "server.config.persistence.datastores.default.sql.createDatabase"), false);
        assert.equal(at(devValues, "server.config.persistence.datastores.default.sql.tls"), undefined);
    });

    it("creates the declared namespaces with their retention", () => {
        assert.deepEqual(at(devValues, "server.config.namespaces"), { create: true, namespace: [{ name: "payments", retention: "3d" }, { name: "orders", retention: "3d" }] });
        assert.equal(at(devValues, "server.config.persistence.numHistoryShards"), 4);
    });
});

describe("Helm values: sizing per environment", () => {
    it("prod: 3 replicas, a budget of 2 on every server service, 2 UI replicas with a budget of 1, no admin pod", () => {
        assert.equal(at(prodValues, "server.replicaCount"), 3);
        for (const svc of SERVER_SERVICE_KEYS) assert.deepEqual(at(prodValues, `server.${svc}.podDisruptionBudget`), { minAvailable: 2 }, svc);
        assert.equal(at(prodValues, "web.replicaCount"), 2);
        assert.deepEqual(at(prodValues, "web.podDisruptionBudget"), { minAvailable: 1 });
        assert.equal(at(prodValues, "admintools.enabled"), false);
    });

    it("dev: 1 replica and no budgets (a budget on a single replica blocks node drains)", () => {
        assert.equal(at(devValues, "server.replicaCount"), 1);
        for (const svc of SERVER_SERVICE_KEYS) assert.equal(at(devValues, `server.${svc}.podDisruptionBudget`), undefined, svc);
        assert.equal(at(devValues, "web.podDisruptionBudget"), undefined);
    });

    it("every container has requests and limits", () => {
        for (const values of [devValues, prodValues]) {
            for (const path of [...SERVER_SERVICE_KEYS.map((s) => `server.${s}.resources`), "web.resources", "admintools.resources", "schema.resources"]) {
                const r = at(values, path) as { requests: Record<string, string>; limits: Record<string, string> };
                assert.ok(r.requests.cpu && r.requests.memory && r.limits.cpu && r.limits.memory, path);
            }
        }
        assert.notDeepEqual(sizingFor("prod").server.history, sizingFor("dev").server.history);
    });

    it("exposes the frontend to outside workers only through TLS passthrough (the frontend checks their certificates)", () => {
        assert.equal(at(devValues, "server.frontend.ingress"), undefined);
        const ingress = at(prodValues, "server.frontend.ingress") as { hosts: string[]; annotations: Record<string, string>; tls: unknown[] };
        assert.deepEqual(ingress.hosts, ["temporal-grpc.contoso.example"]);
        assert.equal(ingress.annotations["nginx.ingress.kubernetes.io/ssl-passthrough"], "true");
        assert.deepEqual(ingress.tls, []);
    });
});

describe("Temporal settings", () => {
    it("derives expiration windows from the renewal window", () => {
        assert.deepEqual(expirationChecks(720), { warningWindow: "360h", errorWindow: "168h", checkInterval: "1h" });
        assert.deepEqual(expirationChecks(168), { warningWindow: "84h", errorWindow: "42h", checkInterval: "1h" });
        assert.deepEqual(expirationChecks(2), { warningWindow: "2h", errorWindow: "1h", checkInterval: "1h" });
    });

    it("applies profile defaults and explicit settings", () => {
        const s = resolveTemporalSettings(resolved("dev", (r) => ({ ...r, temporal: { tlsRefreshInterval: "30s", jwksRefreshInterval: "1h", logLevel: "debug" } })));
        assert.equal(s.tlsRefreshInterval, "30s");
        assert.equal(s.jwksRefreshInterval, "1h");
        assert.equal(s.logLevel, "debug");
        assert.equal(s.adminTools, true);
        assert.equal(resolveTemporalSettings(prod).adminTools, false);
        assert.equal(resolveTemporalSettings(dev).tlsRefreshInterval, "1m");
    });
});

describe("Helm values: no secret material", () => {
    it("holds no key, password or client secret, only Secret names", () => {
        const text = JSON.stringify(prodValues);
        assert.doesNotMatch(text, /PRIVATE KEY|BEGIN CERTIFICATE/);
        assert.doesNotMatch(text, /"password"\s*:/);
        assert.doesNotMatch(text, /CLIENT_SECRET/);
    });
});
