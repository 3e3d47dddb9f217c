import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { formatIssue, PROJECT } from "./config";
import { temporalServiceNames } from "./config/names";
import { loadStackConfig } from "./stack-config";
import { TemporalPki, temporalPkiArgs, UI_CLIENT_NAME } from "./pki";
import { TemporalIdentity, temporalIdentityArgs, workerServiceAccount } from "./identity";
import { aksDnsPrefix, KubernetesCluster } from "./cluster";
import { TemporalDatabase } from "./database";
import { resolveTemporalSettings, TemporalCluster } from "./temporal";
import { workerConnectionEnv } from "./temporal/connection";

/**
 * The program: stack config → resource group → PKI (Key Vault) → cluster → Entra ID identities →
 * database → the Temporal release. Every choice is made from the parsed config; every secret stays
 * a Pulumi secret from where it is made to the Kubernetes Secret that holds it.
 */

const stack = pulumi.getStack();
const config = new pulumi.Config(PROJECT);
// Every key of the stack, so the config check reads exactly what this program reads (and names what it would ignore).
const stackConfig = pulumi.runtime.allConfig();
// Structured values arrive as JSON, plain ones (profile) as bare strings.
const readValue = (key: string): unknown => {
    const v = stackConfig[key];
    if (v === undefined) return undefined;
    try {
        return JSON.parse(v) as unknown;
    } catch {
        return v;
    }
};
const loaded = loadStackConfig({ keys: Object.keys(stackConfig), get: readValue }, stack);
// Logged, not awaited: the engine shows them with the preview (the stack goes on).
for (const warning of loaded.warnings) void pulumi.log.warn(formatIssue(warning));
const cfg = loaded.config;
const kubeconfig = config.getSecret("kubeconfig");

const tags = { project: PROJECT, stack, profile: cfg.profile };
const serviceNames = temporalServiceNames(cfg.kubernetes.namespace, cfg.temporal.frontendExternalHost);
const settings = resolveTemporalSettings(cfg);

const resourceGroup = new resources.ResourceGroup("resource-group", {
    resourceGroupName: cfg.azure.resourceGroupName ?? `rg-temporal-${stack}`,
    location: cfg.azure.location,
    tags,
});

// The PKI issues its certificates for the very names the release verifies (the same object).
const pki = new TemporalPki("pki", { ...temporalPkiArgs(cfg, resourceGroup.name), serviceNames });

const cluster = new KubernetesCluster("cluster", {
    profile: cfg.profile,
    source: cfg.kubernetes.source,
    namespace: cfg.kubernetes.namespace,
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(cfg.kubernetes.context !== undefined ? { context: cfg.kubernetes.context } : {}),
    ...(cfg.kubernetes.aks !== undefined
        ? {
              aks: {
                  settings: cfg.kubernetes.aks,
                  resourceGroupName: resourceGroup.name,
                  location: cfg.azure.location,
                  tenantId: cfg.azure.tenantId,
                  dnsPrefix: aksDnsPrefix(stack),
                  tags,
              },
          }
        : {}),
});

const oidcIssuerUrl = cfg.kubernetes.oidcIssuerUrl ?? cluster.oidcIssuerUrl;
const identity = new TemporalIdentity(
    "identity",
    temporalIdentityArgs(cfg, {
        resourceGroupName: resourceGroup.name,
        keyVault: { name: pki.vaultName, id: pki.vaultId },
        workerCertificatesPem: Object.fromEntries(cfg.workers.map((w) => [w.name, pki.issued(w.name).certPem])),
        oidcIssuerUrl,
    }),
);
// Each worker may read its own certificate from Key Vault (external workers fetch it from there).
for (const w of cfg.workers) pki.grantRead(w.name, identity.workers[w.name]!.principalId, "ServicePrincipal");

const database = new TemporalDatabase("database", {
    kind: cfg.database.kind,
    provider: cluster.provider,
    namespace: cluster.namespaceName,
    namespaceName: cfg.kubernetes.namespace,
    releaseName: serviceNames.releaseName,
    postgresVersion: cfg.database.postgresVersion,
    inCluster: { volumeSize: cfg.database.volumeSize, ...(cfg.database.storageClassName !== undefined ? { storageClassName: cfg.database.storageClassName } : {}) },
    ...(cfg.database.kind === "flexible-server"
        ? {
              flexibleServer: {
                  resourceGroupName: resourceGroup.name,
                  location: cfg.azure.location,
                  skuName: cfg.database.skuName,
                  skuTier: cfg.database.skuTier,
                  storageSizeGb: cfg.database.storageSizeGb,
                  highAvailability: cfg.database.highAvailability,
                  backupRetentionDays: cfg.database.backupRetentionDays ?? (cfg.profile === "prod" ? 35 : 7),
                  ...(cfg.database.privateAccess !== undefined ? { privateAccess: cfg.database.privateAccess } : {}),
                  allowedIps: [...(cfg.database.allowedIps ?? []), ...(cluster.egressIp !== undefined ? [cluster.egressIp] : [])],
                  tags,
              },
          }
        : {}),
});

const uiCertificate = pki.issued(UI_CLIENT_NAME);
const temporal = new TemporalCluster("temporal", {
    provider: cluster.provider,
    serviceNames,
    namespace: cluster.namespaceName,
    settings,
    tls: {
        trustBundlePem: pki.trustBundlePem,
        internodeTrustBundlePem: pki.internodeTrustBundlePem,
        frontendClientTrustBundlePem: pki.frontendClientTrustBundlePem,
        internode: pki.internode,
        frontend: pki.frontend,
        ui: uiCertificate,
    },
    auth: { jwksUrl: identity.jwksUrl, audience: identity.apiClientId, permissionsClaimName: identity.permissionsClaimName },
    ui: {
        host: cfg.identity.uiHost,
        issuerUrl: identity.issuerUrl,
        clientId: identity.uiClientId,
        callbackUrl: identity.uiCallbackUrl,
        scopes: identity.uiScopes,
        clientSecret: identity.uiClientSecret,
        ingressClassName: cfg.kubernetes.ingressClassName,
    },
    database: database.connection,
    temporalNamespaces: cfg.access.namespaces,
    workers: cfg.workers.map((w) => ({
        name: w.name,
        kubernetesNamespace: w.kubernetesNamespace,
        certificate: pki.issued(w.name),
        ...(w.runsOn === "aks" ? { workloadIdentity: { serviceAccountName: workerServiceAccount(w), clientId: identity.workers[w.name]!.clientId } } : {}),
    })),
    network: {
        ingressNamespace: cfg.kubernetes.ingressNamespace,
        createWorkerNamespaces: cfg.kubernetes.createWorkerNamespaces,
        ...(cfg.kubernetes.monitoringNamespace !== undefined ? { monitoringNamespace: cfg.kubernetes.monitoringNamespace } : {}),
    },
});

/** In-cluster gRPC address of the frontend. */
export const frontendAddress = temporal.frontendAddress;
/** The name every client verifies the frontend certificate against. */
export const frontendServerName = temporal.frontendServerName;
/** The frontend for clients outside the cluster (TLS passthrough), when exposed. */
export const externalFrontendAddress = temporal.externalFrontendAddress;
export const uiUrl = temporal.uiUrl;
export const keyVaultUri = pki.vaultUri;
export const tenantId = identity.tenantId;
export const issuerUrl = identity.issuerUrl;
export const jwksUrl = identity.jwksUrl;
export const apiClientId = identity.apiClientId;
/** The delegated scope the UI requests. */
export const apiScope = identity.apiScope;
/** The AKS OIDC issuer the workers' federated credentials trust, when there is one. */
export const clusterOidcIssuerUrl = oidcIssuerUrl;
/** Per worker: the env of a ready Temporal client, the scope of its client-credentials token, its identity and its certificate Secret. */
export const workers = Object.fromEntries(
    cfg.workers.map((w) => [
        w.name,
        {
            env: workerConnectionEnv({
                runsOn: w.runsOn,
                temporalNamespace: w.temporalNamespace,
                serviceNames,
                ...(cfg.temporal.frontendExternalHost !== undefined ? { frontendExternalHost: cfg.temporal.frontendExternalHost } : {}),
            }),
            tokenScope: pulumi.interpolate`${identity.apiIdentifierUri}/.default`,
            clientId: identity.workers[w.name]!.clientId,
            kubernetesSecret: `${temporal.workerSecrets[w.name]!.namespace}/${temporal.workerSecrets[w.name]!.name}`,
        },
    ]),
);
