import type { ConfigIssue, ConfigRule } from "../config/issues";

/** Cross-section config rules of the Temporal release, run at preview before any resource is registered. */

const audienceRule: ConfigRule = (cfg) =>
    cfg.identity.acceptV1Tokens
        ? [
              {
                  path: "identity.acceptV1Tokens",
                  message:
                      "the Temporal server compares aud with one value, the API's client id as v2 tokens carry it; v1 tokens carry api://<client-id> and would all be refused: set it to false",
              },
          ]
        : [];

const hostsRule: ConfigRule = (cfg) =>
    cfg.temporal.frontendExternalHost !== undefined && cfg.temporal.frontendExternalHost === cfg.identity.uiHost
        ? [
              {
                  path: "temporal.frontendExternalHost",
                  message: `"${cfg.temporal.frontendExternalHost}" is also identity.uiHost: the frontend (TLS passthrough) and the UI (TLS terminated) need different host names`,
              },
          ]
        : [];

/** The AKS application routing add-on's default IngressClass: a managed ingress-nginx in `app-routing-system`. */
export const APP_ROUTING_DEFAULT_CLASS = "webapprouting.kubernetes.azure.com";
/** Where the add-on runs every NginxIngressController (aks-app-routing-operator's default namespace). */
export const APP_ROUTING_NAMESPACE = "app-routing-system";
/** IngressClasses of Azure Application Gateway's controllers (AGIC's add-on, Application Gateway for Containers): not nginx, TLS ends at the gateway. */
export const APPLICATION_GATEWAY_CLASSES = ["azure-application-gateway", "azure-alb-external", "azure-alb-internal"];

const PASSTHROUGH = "needs TLS passthrough (the frontend checks the client certificate itself), but";

/**
 * The external frontend needs an ingress-nginx controller started with --enable-ssl-passthrough:
 * the add-on's default controller runs without it (its NginxIngressController is reconciled to the
 * add-on's spec), and an Application Gateway terminates TLS. The UI needs nginx's larger proxy
 * buffer for Entra's session cookies. Other class names are taken as ingress-nginx (docs/temporal.md).
 */
const ingressRule: ConfigRule = (cfg) => {
    const k = cfg.kubernetes;
    const external = cfg.temporal.frontendExternalHost !== undefined;
    const issues: ConfigIssue[] = [];
    if (k.ingressClassName === APP_ROUTING_DEFAULT_CLASS) {
        if (external) {
            issues.push({
                path: "temporal.frontendExternalHost",
                message: `${PASSTHROUGH} the application routing add-on's default controller (class ${APP_ROUTING_DEFAULT_CLASS}) runs without --enable-ssl-passthrough, so the connection would be terminated at the ingress: create an NginxIngressController with spec.enableSSLPassthrough: true (app routing operator 0.2.6 or later) and set kubernetes.ingressClassName to its ingressClassName, or use ingress-nginx started with --enable-ssl-passthrough`,
            });
        }
        if (k.ingressNamespace !== APP_ROUTING_NAMESPACE) {
            issues.push({
                path: "kubernetes.ingressNamespace",
                message: `is "${k.ingressNamespace}", but the application routing add-on runs its controllers in ${APP_ROUTING_NAMESPACE}, and the NetworkPolicies admit traffic from this namespace only: set kubernetes.ingressNamespace: ${APP_ROUTING_NAMESPACE}`,
            });
        }
    }
    if (APPLICATION_GATEWAY_CLASSES.includes(k.ingressClassName)) {
        if (external) {
            issues.push({
                path: "temporal.frontendExternalHost",
                message: `${PASSTHROUGH} ${k.ingressClassName} is an Azure Application Gateway class, which terminates TLS at the gateway and cannot pass a client's mTLS connection through: use an ingress-nginx class started with --enable-ssl-passthrough (community ingress-nginx, or an app routing NginxIngressController with spec.enableSSLPassthrough: true), or drop temporal.frontendExternalHost`,
            });
        }
        issues.push({
            path: "kubernetes.ingressClassName",
            severity: "warning",
            message: `${k.ingressClassName} is not nginx, so the UI ingress's nginx.ingress.kubernetes.io/proxy-buffer-size (16k, for the session cookies Entra ID's tokens make) does not apply: make sure the gateway accepts response headers of 16 KB, or the UI fails right after sign-in`,
        });
    }
    return issues;
};

export const temporalRules: ConfigRule[] = [audienceRule, hostsRule, ingressRule];
