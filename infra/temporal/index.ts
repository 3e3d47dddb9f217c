import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { TemporalServiceNames } from "../config/names";
import { TEMPORAL_CHART } from "./versions";
import type { TemporalSettings } from "./settings";
import { buildTemporalValues, trustedCertificateDigests, type DatabaseConnection, type HelmValues } from "./values";
import { namespaceManifest, opaqueSecret, temporalNetworkPolicies, tlsSecret, trustBundleFor, workloadIdentityServiceAccount, type TlsSecretHolder } from "./manifests";

export { buildTemporalValues, type DatabaseConnection, type HelmValues } from "./values";
export { resolveTemporalSettings, type TemporalSettings } from "./settings";
export { TEMPORAL_CHART, TEMPORAL_SERVER_IMAGE, TEMPORAL_UI_IMAGE, TEMPORAL_ADMIN_TOOLS_IMAGE } from "./versions";

/** A certificate and its key, as any PKI produces them. */
export interface CertificateMaterial {
    /** Leaf then issuing CA: what the holder presents (`tls.crt`). */
    chainPem: pulumi.Input<string>;
    /** The leaf alone; its digest rolls pods that read certificates only at start. */
    certPem: pulumi.Input<string>;
    /** Private key (secret). */
    privateKeyPem: pulumi.Input<string>;
}

export interface TemporalWorkerArgs {
    /** Worker name: also the name of its certificate Secret. */
    name: string;
    /** Namespace the worker runs in; its certificate Secret goes there. */
    kubernetesNamespace: string;
    certificate: CertificateMaterial;
    /** For workers on this cluster: the service account whose token workload identity exchanges for the worker identity's. */
    workloadIdentity?: { serviceAccountName: string; clientId: pulumi.Input<string> };
}

export interface TemporalClusterArgs {
    /** Provider of the target cluster; every Kubernetes object is created through it. */
    provider: k8s.Provider;
    /** Release name, namespace, server names and addresses, the same object the PKI issued the certificates for. */
    serviceNames: TemporalServiceNames;
    /** The release namespace, as an output of the resource that created it (orders everything after it). */
    namespace: pulumi.Input<string>;
    /** Resolved choices: replicas, budgets, refresh intervals, admin tools. */
    settings: TemporalSettings;
    tls: {
        /** Client-facing CAs: `ca.crt` of the UI's and the workers' Secrets (they verify the frontend with it). */
        trustBundlePem: pulumi.Input<string>;
        /**
         * Internode CAs only: `ca.crt` of the internode Secret (client CAs and roots of every internode
         * connection, the internal frontend's included, and the roots of the admin tools and namespace job).
         */
        internodeTrustBundlePem: pulumi.Input<string>;
        /** Client-facing and internode CAs: `ca.crt` of the frontend Secret (whom the frontend accepts as clients). */
        frontendClientTrustBundlePem: pulumi.Input<string>;
        /** Internode certificate: server and client between services, and the internal frontend (cluster admin). */
        internode: CertificateMaterial;
        /** The frontend's server certificate. */
        frontend: CertificateMaterial;
        /** The UI's client certificate towards the frontend. */
        ui: CertificateMaterial;
    };
    /** JWT authorization on the frontend. */
    auth: {
        /** The API's own JWKS URL (`?appid=`). */
        jwksUrl: pulumi.Input<string>;
        /** The API registration's client id (`aud` of v2 access tokens). */
        audience: pulumi.Input<string>;
        /** Claim holding `<namespace>:<role>` strings; Entra app roles arrive in `roles`. */
        permissionsClaimName: string;
    };
    /** The Web UI's sign-in. */
    ui: {
        /** Browser-facing host (ingress). */
        host: string;
        /** The tenant's v2 issuer (also the OIDC provider URL). */
        issuerUrl: pulumi.Input<string>;
        clientId: pulumi.Input<string>;
        /** A redirect URI registered on the UI's app registration. */
        callbackUrl: pulumi.Input<string>;
        /** Must include the API's scope. */
        scopes: pulumi.Input<string[]>;
        /** The UI's client secret (secret); reaches the pod only through a Secret. */
        clientSecret: pulumi.Input<string>;
        ingressClassName: string;
    };
    /** Where the persistence lives; the password stays in the Secret it names. */
    database: pulumi.Input<DatabaseConnection>;
    /** Temporal namespaces the chart creates, with their retention. */
    temporalNamespaces: { name: string; retention: string }[];
    workers: TemporalWorkerArgs[];
    network: {
        /** Namespace of the ingress controller. */
        ingressNamespace: string;
        /** Namespace of Prometheus (metrics port); none = closed. */
        monitoringNamespace?: string;
        /** Create the workers' namespaces (otherwise they must exist). */
        createWorkerNamespaces: boolean;
    };
}

/** Names of the Secrets the component creates in the release namespace. */
export function temporalSecretNames(releaseName: string) {
    return {
        internodeTls: `${releaseName}-internode-tls`,
        frontendTls: `${releaseName}-frontend-tls`,
        webTls: `${releaseName}-web-tls`,
        webAuthEnv: `${releaseName}-web-auth`,
    };
}

const sha256 = (pem: string) => createHash("sha256").update(pem).digest("hex");

/**
 * The Temporal server and Web UI from the official chart, wired for mTLS on every hop and JWT
 * authorization on the frontend, with the Secrets and NetworkPolicies around it. Takes plain inputs
 * (PEMs, ids, URLs), so it works with any PKI and any identity provider that produces them.
 */
export class TemporalCluster extends pulumi.ComponentResource {
    /** The chart release (`helm.v3.Release`, so the schema job's hooks run). */
    readonly release: k8s.helm.v3.Release;
    /** The values given to the chart: secret-free. */
    readonly values: pulumi.Output<HelmValues>;
    /** In-cluster gRPC address of the frontend. */
    readonly frontendAddress: string;
    /** The name clients verify the frontend certificate against. */
    readonly frontendServerName: string;
    /** Address of the frontend for clients outside the cluster (TLS passthrough on 443), when exposed. */
    readonly externalFrontendAddress?: string;
    readonly uiUrl: string;
    /** Each worker's certificate Secret. */
    readonly workerSecrets: Record<string, { namespace: string; name: string }>;
    readonly secretNames: ReturnType<typeof temporalSecretNames>;

    constructor(name: string, args: TemporalClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("temporal-azure:temporal:TemporalCluster", name, {}, opts);
        const names = args.serviceNames;
        const k8sOpts = { parent: this, provider: args.provider };
        const secretNames = temporalSecretNames(names.releaseName);
        this.secretNames = secretNames;

        const bundles = { clientFacing: args.tls.trustBundlePem, internode: args.tls.internodeTrustBundlePem, frontendClients: args.tls.frontendClientTrustBundlePem };
        const tlsSecretResource = (suffix: string, secretName: string, namespace: pulumi.Input<string>, holder: TlsSecretHolder, cert: CertificateMaterial, extra: pulumi.CustomResourceOptions = {}) => {
            const manifest = tlsSecret(secretName, names.namespace, { ...cert, trustBundlePem: trustBundleFor(holder, bundles) });
            return new k8s.core.v1.Secret(
                `${name}-${suffix}`,
                { ...manifest, metadata: { ...manifest.metadata, namespace }, stringData: pulumi.secret(manifest.stringData) },
                { ...k8sOpts, ...extra },
            );
        };
        const internode = tlsSecretResource("internode-tls", secretNames.internodeTls, args.namespace, "internode", args.tls.internode);
        const frontend = tlsSecretResource("frontend-tls", secretNames.frontendTls, args.namespace, "frontend", args.tls.frontend);
        const web = tlsSecretResource("web-tls", secretNames.webTls, args.namespace, "web", args.tls.ui);
        const webAuthManifest = opaqueSecret(secretNames.webAuthEnv, names.namespace, { TEMPORAL_AUTH_CLIENT_SECRET: args.ui.clientSecret });
        const webAuth = new k8s.core.v1.Secret(
            `${name}-web-auth`,
            { ...webAuthManifest, metadata: { ...webAuthManifest.metadata, namespace: args.namespace }, stringData: pulumi.secret(webAuthManifest.stringData) },
            k8sOpts,
        );

        const workerNamespaces = new Map<string, k8s.core.v1.Namespace>();
        if (args.network.createWorkerNamespaces) {
            for (const ns of new Set(args.workers.map((w) => w.kubernetesNamespace))) {
                if (ns === names.namespace) continue;
                workerNamespaces.set(ns, new k8s.core.v1.Namespace(`${name}-ns-${ns}`, namespaceManifest(ns), k8sOpts));
            }
        }
        this.workerSecrets = {};
        const workerResources: pulumi.Resource[] = [];
        for (const w of args.workers) {
            const nsResource = workerNamespaces.get(w.kubernetesNamespace);
            const namespace = nsResource ? nsResource.metadata.name : w.kubernetesNamespace;
            workerResources.push(tlsSecretResource(`worker-${w.name}-tls`, w.name, namespace, "worker", w.certificate));
            this.workerSecrets[w.name] = { namespace: w.kubernetesNamespace, name: w.name };
            if (w.workloadIdentity) {
                const sa = workloadIdentityServiceAccount(w.workloadIdentity.serviceAccountName, w.kubernetesNamespace, w.workloadIdentity.clientId);
                workerResources.push(new k8s.core.v1.ServiceAccount(`${name}-worker-${w.name}-sa`, { ...sa, metadata: { ...sa.metadata, namespace } }, k8sOpts));
            }
        }

        const policies = temporalNetworkPolicies({
            namespace: names.namespace,
            releaseName: names.releaseName,
            workerNamespaces: args.workers.map((w) => w.kubernetesNamespace),
            ingressNamespace: args.network.ingressNamespace,
            ...(args.network.monitoringNamespace !== undefined ? { monitoringNamespace: args.network.monitoringNamespace } : {}),
        }).map((p) => new k8s.networking.v1.NetworkPolicy(`${name}-${p.metadata.name}`, { ...p, metadata: { ...p.metadata, namespace: args.namespace } }, k8sOpts));

        this.values = pulumi
            .output({
                jwksUrl: args.auth.jwksUrl,
                audience: args.auth.audience,
                issuerUrl: args.ui.issuerUrl,
                clientId: args.ui.clientId,
                callbackUrl: args.ui.callbackUrl,
                scopes: args.ui.scopes,
                database: args.database,
                uiCert: args.tls.ui.certPem,
                internodeCert: args.tls.internode.certPem,
                bundles: pulumi.all([bundles.clientFacing, bundles.internode, bundles.frontendClients]),
            })
            .apply((v) =>
                buildTemporalValues({
                    serviceNames: names,
                    settings: args.settings,
                    secrets: secretNames,
                    certificateDigests: { web: sha256(v.uiCert), internode: sha256(v.internodeCert) },
                    trustBundlesDigest: trustedCertificateDigests(v.bundles, sha256),
                    auth: { jwksUrl: v.jwksUrl, audience: v.audience, permissionsClaimName: args.auth.permissionsClaimName },
                    ui: { host: args.ui.host, issuerUrl: v.issuerUrl, clientId: v.clientId, callbackUrl: v.callbackUrl, scopes: v.scopes, ingressClassName: args.ui.ingressClassName },
                    database: v.database,
                    temporalNamespaces: args.temporalNamespaces,
                }),
            );

        this.release = new k8s.helm.v3.Release(
            name,
            {
                name: names.releaseName,
                chart: TEMPORAL_CHART.name,
                version: TEMPORAL_CHART.version,
                repositoryOpts: { repo: TEMPORAL_CHART.repository },
                namespace: args.namespace,
                values: this.values,
                // The schema job and first pod starts can take minutes on a fresh database.
                timeout: 900,
                waitForJobs: true,
                cleanupOnFail: true,
                maxHistory: 10,
            },
            { ...k8sOpts, dependsOn: [internode, frontend, web, webAuth, ...policies, ...workerResources] },
        );

        this.frontendAddress = names.frontendAddress;
        this.frontendServerName = names.frontendServerName;
        if (args.settings.frontendExternalHost !== undefined) this.externalFrontendAddress = `${args.settings.frontendExternalHost}:443`;
        this.uiUrl = `https://${args.ui.host}`;

        this.registerOutputs({
            release: this.release,
            frontendAddress: this.frontendAddress,
            frontendServerName: this.frontendServerName,
            externalFrontendAddress: this.externalFrontendAddress,
            uiUrl: this.uiUrl,
            workerSecrets: this.workerSecrets,
        });
    }
}
