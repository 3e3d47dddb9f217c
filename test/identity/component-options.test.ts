import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { setupOfflineEngine, type OfflineEngine } from "../../scripts/lib/offline/engine";
import { azureadCalls, azureadEmulators } from "../../scripts/lib/offline/emulators/azuread";
import type * as identityModule from "../../infra/identity";
import { clientCertificatePem, sampleConfig } from "./fixtures";
import { identityArgs, registered, type Registration } from "./run";

let engine: OfflineEngine;
let mod: typeof identityModule;
const pem = clientCertificatePem("payments-worker");

before(async () => {
    engine = setupOfflineEngine({ stack: "prod", emulators: azureadEmulators, calls: azureadCalls });
    mod = await import("../../infra/identity");
});

describe("TemporalIdentity options", () => {
    it("refuses an AKS worker without the cluster's OIDC issuer, naming the fix", () => {
        const args = identityArgs(sampleConfig("dev"), { "payments-worker": pem });
        delete args.oidcIssuerUrl;
        assert.throws(
            () => new mod.TemporalIdentity("no-issuer", args),
            new Error('worker "orders-worker" runs on AKS but TemporalIdentity got no oidcIssuerUrl: pass the cluster\'s OIDC issuer (kubernetes.oidcIssuerUrl, or the AKS cluster\'s oidcIssuerProfile.issuerUrl)'),
        );
    });

    it("refuses an external worker without its client certificate, naming the fix", () => {
        assert.throws(
            () => new mod.TemporalIdentity("no-cert", identityArgs(sampleConfig("dev"), {})),
            new Error('worker "payments-worker" runs outside AKS, so its app registration needs its client certificate: pass workerCertificatesPem["payments-worker"] from the PKI'),
        );
    });

    it("refuses a localhost callback for prod even when called without the config rules", () => {
        const args = identityArgs(sampleConfig("dev"), { "payments-worker": pem });
        assert.throws(
            () => new mod.TemporalIdentity("prod-localhost", { ...args, profile: "prod" }),
            new Error("identity.allowLocalhostCallback: prod stacks do not register a localhost redirect URI: set it to false"),
        );
    });

    it("registers no localhost callback and no consent grant when the config says so", async () => {
        const cfg = sampleConfig("prod", { profile: "prod", keyVault: { allowedIpRanges: ["203.0.113.0/28"] }, identity: { uiHost: "temporal.contoso.example", grantSignInConsent: false, uiSecretRotationDays: 30 } });
        const registrations: Registration[] = [];
        new mod.TemporalIdentity("prod", identityArgs(cfg, { "payments-worker": pem }), {
            transformations: [(t) => void registrations.push({ type: t.type, name: t.name, props: t.props as Record<string, unknown>, opts: t.opts })],
        });
        await registered(engine, registrations);
        const ui = engine.byName("azuread:index/application:Application", "prod-ui").state as { web: { redirectUris: string[] } };
        assert.deepEqual(ui.web.redirectUris, ["https://temporal.contoso.example/auth/sso/callback"]);
        assert.equal(engine.ofType("azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant").filter((r) => r.name.startsWith("prod-")).length, 0);
        assert.equal((engine.byName("time:index/rotating:Rotating", "prod-ui-secret-rotation").state as { rotationDays: number }).rotationDays, 30);
    });
});
