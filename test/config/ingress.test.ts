import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigIssue } from "../../infra/config";
import { parseStackConfig, stackConfigIssues } from "../../infra/stack-config";
import { buildTemporalValues } from "../../infra/temporal/values";
import { at, FLEXIBLE_DB, valuesInput } from "../temporal/fixtures";
import { exampleStackRaw } from "../support/config";

/**
 * Ingress classes users run on AKS: community ingress-nginx (`nginx` or a class of its own), the
 * AKS application routing add-on (a managed ingress-nginx: its default class
 * `webapprouting.kubernetes.azure.com`, or an NginxIngressController of the user's), and the
 * Application Gateway controllers, which are not nginx. The nginx annotations the release needs
 * (TLS passthrough for the external frontend, a larger proxy buffer for the UI) are written for
 * every class (a controller that is not nginx ignores them); what cannot work is refused, with the
 * reason.
 */

type Raw = Record<string, unknown>;
const withKubernetes = (kubernetes: Raw) => (raw: Raw) => ({ ...raw, kubernetes: { ...(raw.kubernetes as Raw), ...kubernetes } });
function issues(patch: (raw: Raw) => Raw, stack = "prod"): ConfigIssue[] {
    return stackConfigIssues(patch(exampleStackRaw(stack)), stack).filter((i) => i.path.startsWith("kubernetes.ingress") || i.path.startsWith("temporal.frontendExternalHost"));
}
const text = (list: ConfigIssue[]) => list.map((i) => `${i.severity ?? "error"} ${i.path}: ${i.message}`);

const withoutExternalFrontend = (raw: Raw) => ({ ...raw, temporal: { ...(raw.temporal as Raw), frontendExternalHost: undefined } });

function valuesFor(ingressClassName: string, patch: (raw: Raw) => Raw = (r) => r) {
    const raw = patch(withKubernetes({ ingressClassName, ingressNamespace: ingressClassName === "webapprouting.kubernetes.azure.com" ? "app-routing-system" : "ingress-nginx" })(exampleStackRaw("prod")));
    return buildTemporalValues(valuesInput(parseStackConfig(raw, "prod"), FLEXIBLE_DB));
}

describe("ingress classes", () => {
    it("keeps the frontend's TLS passthrough and the UI's proxy buffer on an ingress-nginx class that is not named nginx", () => {
        for (const className of ["nginx", "nginx-public", "nginx-passthrough.approuting.kubernetes.azure.com"]) {
            const values = valuesFor(className);
            assert.equal(at(values, "server.frontend.ingress.className"), className);
            assert.deepEqual(at(values, "server.frontend.ingress.annotations"), {
                "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
                "nginx.ingress.kubernetes.io/backend-protocol": "GRPCS",
            });
            assert.equal((at(values, "web.ingress.annotations") as Record<string, string>)["nginx.ingress.kubernetes.io/proxy-buffer-size"], "16k", className);
        }
    });

    it("the app routing add-on's default class serves the UI, with the add-on's namespace", () => {
        const raw = (r: Raw) => withoutExternalFrontend(withKubernetes({ ingressClassName: "webapprouting.kubernetes.azure.com", ingressNamespace: "app-routing-system" })(r));
        assert.deepEqual(issues(raw), []);
        const values = valuesFor("webapprouting.kubernetes.azure.com", withoutExternalFrontend);
        assert.equal((at(values, "web.ingress.annotations") as Record<string, string>)["nginx.ingress.kubernetes.io/proxy-buffer-size"], "16k");
    });

    it("refuses the external frontend on the add-on's default class: its controller runs without SSL passthrough", () => {
        assert.deepEqual(text(issues(withKubernetes({ ingressClassName: "webapprouting.kubernetes.azure.com", ingressNamespace: "app-routing-system" }))), [
            "error temporal.frontendExternalHost: needs TLS passthrough (the frontend checks the client certificate itself), but the application routing add-on's default controller (class webapprouting.kubernetes.azure.com) runs without --enable-ssl-passthrough, so the connection would be terminated at the ingress: create an NginxIngressController with spec.enableSSLPassthrough: true (app routing operator 0.2.6 or later) and set kubernetes.ingressClassName to its ingressClassName, or use ingress-nginx started with --enable-ssl-passthrough",
        ]);
    });

    it("refuses the add-on's class with another ingress namespace: the NetworkPolicies would shut its controller out", () => {
        assert.deepEqual(text(issues(withKubernetes({ ingressClassName: "webapprouting.kubernetes.azure.com", ingressNamespace: "ingress-nginx" }), "dev")), [
            'error kubernetes.ingressNamespace: is "ingress-nginx", but the application routing add-on runs its controllers in app-routing-system, and the NetworkPolicies admit traffic from this namespace only: set kubernetes.ingressNamespace: app-routing-system',
        ]);
    });

    it("refuses the external frontend on Application Gateway classes, which terminate TLS; warns that the UI's buffer setting is nginx's", () => {
        for (const className of ["azure-application-gateway", "azure-alb-external"]) {
            assert.deepEqual(text(issues(withKubernetes({ ingressClassName: className }))), [
                `error temporal.frontendExternalHost: needs TLS passthrough (the frontend checks the client certificate itself), but ${className} is an Azure Application Gateway class, which terminates TLS at the gateway and cannot pass a client's mTLS connection through: use an ingress-nginx class started with --enable-ssl-passthrough (community ingress-nginx, or an app routing NginxIngressController with spec.enableSSLPassthrough: true), or drop temporal.frontendExternalHost`,
                `warning kubernetes.ingressClassName: ${className} is not nginx, so the UI ingress's nginx.ingress.kubernetes.io/proxy-buffer-size (16k, for the session cookies Entra ID's tokens make) does not apply: make sure the gateway accepts response headers of 16 KB, or the UI fails right after sign-in`,
            ]);
        }
    });
});
