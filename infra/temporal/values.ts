import type { TemporalServiceNames } from "../config/names";
import { TEMPORAL_ADMIN_TOOLS_IMAGE, TEMPORAL_SERVER_IMAGE, TEMPORAL_UI_IMAGE } from "./versions";
import { SERVER_SERVICES, sizingFor, type Resources } from "./sizing";
import type { TemporalSettings } from "./settings";

/**
 * The Helm values of the official chart, as a pure function of resolved (plain) inputs. Nothing here
 * is secret: certificates' keys, the UI's client secret and the database password reach the pods
 * only through Kubernetes Secrets, which the values name and never contain.
 *
 * TLS is wired through `server.config.tls` plus extra volumes rather than `server.tls`/`web.tls`:
 * those stanzas exist only on the chart's main branch, and the released chart 1.6.0 ignores them
 * (see chart-keys.ts).
 */

/** Where each Secret is mounted. Secrets are mounted as directories (no subPath) so kubelet swaps rotated files in place. */
export const MOUNTS = {
    internode: "/etc/temporal/tls/internode",
    frontend: "/etc/temporal/tls/frontend",
    web: "/etc/temporal/tls",
    adminClient: "/etc/temporal/tls/client",
} as const;

export interface DatabaseConnection {
    host: string;
    port: number;
    user: string;
    /** Secret (in the release namespace) holding the password, and its key. */
    passwordSecretName: string;
    passwordSecretKey: string;
    databaseName: string;
    visibilityDatabaseName: string;
    /** Let the schema job create the databases (in-cluster); Flexible Server databases are Pulumi resources. */
    createDatabase: boolean;
    /** TLS to the database with host verification against this name; absent = plaintext (in-cluster only). */
    tlsServerName?: string;
}

export interface TemporalValuesInput {
    serviceNames: TemporalServiceNames;
    settings: TemporalSettings;
    /** Names of the Secrets the component creates. */
    secrets: { internodeTls: string; frontendTls: string; webTls: string; webAuthEnv: string };
    /**
     * SHA-256 of the UI's and the internode client certificates: pod annotations, so pods that read
     * their certificate only at start (UI, admin tools) roll when it is reissued. The server itself
     * re-reads its files every `tlsRefreshInterval`.
     */
    certificateDigests: { web: string; internode: string };
    /**
     * SHA-256 of the trust bundles (every `ca.crt` the release mounts): a pod annotation of the
     * server, the UI and the admin tools, so a change of the trusted CAs (steps 1 and 3 of a CA
     * rotation) rolls them. Server 1.31.2 re-reads its certificate files but does not take up a
     * changed CA set without a restart: it detects a change only by the FIRST certificate of each
     * bundle file (an appended CA goes unnoticed) and its internal clients keep the root CAs they
     * loaded at start (temporalio/temporal#11230). A leaf renewal leaves the bundles alone: no roll.
     */
    trustBundlesDigest: string;
    auth: {
        /** The API's own JWKS URL (`?appid=`), the only keys the server trusts. */
        jwksUrl: string;
        /** The API registration's client id: the `aud` of v2 access tokens. */
        audience: string;
        permissionsClaimName: string;
    };
    ui: {
        host: string;
        /** OIDC issuer of the tenant (v2). */
        issuerUrl: string;
        clientId: string;
        callbackUrl: string;
        scopes: string[];
        ingressClassName: string;
    };
    database: DatabaseConnection;
    temporalNamespaces: { name: string; retention: string }[];
}

export type HelmValues = Record<string, unknown>;
export interface EnvVar {
    name: string;
    value: string;
}

const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

/** The pod annotation whose change rolls a Deployment when the trusted CAs change (see `trustBundlesDigest`). */
export const TRUST_BUNDLES_ANNOTATION = "temporal-azure/trusted-ca-sha256";

/**
 * The pods' annotation value that changes when the set of trusted CAs does: the SHA-256 of each CA
 * certificate of the bundles (trimmed PEM), first occurrence first, comma-separated. One digest
 * per certificate rather than one over the bundles, so a reviewer's plan can name each certificate
 * it comes from (a digest of a concatenation names nothing).
 */
export function trustedCertificateDigests(bundles: string[], sha256: (s: string) => string): string {
    const blocks = bundles.flatMap((b) => b.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []);
    return [...new Set(blocks.map((b) => sha256(b.trim())))].join(",");
}

function sqlStore(db: DatabaseConnection, databaseName: string): Record<string, unknown> {
    return {
        sql: {
            pluginName: "postgres12",
            databaseName,
            connectAddr: `${db.host}:${db.port}`,
            connectProtocol: "tcp",
            user: db.user,
            existingSecret: db.passwordSecretName,
            secretKey: db.passwordSecretKey,
            createDatabase: db.createDatabase,
            manageSchema: true,
            maxConns: 20,
            maxIdleConns: 20,
            maxConnLifetime: "1h",
            ...(db.tlsServerName !== undefined
                ? { tls: { enabled: true, enableHostVerification: true, serverName: db.tlsServerName } }
                : {}),
        },
    };
}

/**
 * `server.config.tls`: both listeners require client certificates; every client verifies the server
 * name. Each section reads `ca.crt` from its own Secret, so the internode listeners (the internal
 * frontend's included) trust only the internode CAs, and the frontend trusts the client-facing and
 * the internode CAs (see `trustBundleFor` in manifests.ts).
 */
export function serverTlsConfig(names: TemporalServiceNames, s: TemporalSettings): Record<string, unknown> {
    const section = (mount: string, serverName: string) => ({
        server: {
            certFile: `${mount}/tls.crt`,
            keyFile: `${mount}/tls.key`,
            requireClientAuth: true,
            clientCaFiles: [`${mount}/ca.crt`],
        },
        client: { serverName, rootCaFiles: [`${mount}/ca.crt`] },
    });
    return {
        refreshInterval: s.tlsRefreshInterval,
        expirationChecks: s.expirationChecks,
        internode: section(MOUNTS.internode, names.internodeServerName),
        frontend: section(MOUNTS.frontend, names.frontendServerName),
    };
}

/** `server.config.authorization`: the default claim mapper and authorizer, with the audience pinned. */
export function authorizationConfig(auth: TemporalValuesInput["auth"], s: TemporalSettings): Record<string, unknown> {
    return {
        jwtKeyProvider: { keySourceURIs: [auth.jwksUrl], refreshInterval: s.jwksRefreshInterval },
        permissionsClaimName: auth.permissionsClaimName,
        authorizer: "default",
        claimMapper: "default",
        audience: auth.audience,
    };
}

/**
 * The UI's environment: TLS to the frontend and OIDC sign-in. The client secret is NOT here (it comes
 * from `web.additionalEnvSecretName`). Every variable is one ui-server 2.52.0 acts on (test/ui runs it):
 * it has no use for TEMPORAL_AUTH_TYPE (OIDC is all it does) or TEMPORAL_AUTH_LABEL (its sign-in page
 * says "Continue to SSO" whatever the label), so they are not set.
 */
export function webEnv(input: Pick<TemporalValuesInput, "serviceNames" | "ui" | "temporalNamespaces">): EnvVar[] {
    const { ui } = input;
    const firstNamespace = input.temporalNamespaces[0]?.name;
    return [
        { name: "TEMPORAL_TLS_CA", value: `${MOUNTS.web}/ca.crt` },
        { name: "TEMPORAL_TLS_CERT", value: `${MOUNTS.web}/tls.crt` },
        { name: "TEMPORAL_TLS_KEY", value: `${MOUNTS.web}/tls.key` },
        { name: "TEMPORAL_TLS_SERVER_NAME", value: input.serviceNames.frontendServerName },
        { name: "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION", value: "true" },
        { name: "TEMPORAL_AUTH_ENABLED", value: "true" },
        { name: "TEMPORAL_AUTH_PROVIDER_URL", value: ui.issuerUrl },
        { name: "TEMPORAL_AUTH_ISSUER_URL", value: ui.issuerUrl },
        { name: "TEMPORAL_AUTH_CLIENT_ID", value: ui.clientId },
        { name: "TEMPORAL_AUTH_CALLBACK_URL", value: ui.callbackUrl },
        // Comma separated; must hold the API's scope, or Entra issues a Graph token the server cannot verify.
        { name: "TEMPORAL_AUTH_SCOPES", value: ui.scopes.join(",") },
        // The server's claim mapper reads the access token (audience = the API); the ID token's audience is the UI.
        { name: "TEMPORAL_AUTH_USE_ID_TOKEN_AS_BEARER", value: "false" },
        // The UI opens "default" after sign-in unless told otherwise, and the release never creates it.
        ...(firstNamespace !== undefined ? [{ name: "TEMPORAL_DEFAULT_NAMESPACE", value: firstNamespace }] : []),
    ];
}

/**
 * The `temporal` CLI's environment in the admin-tools pod and the namespace job: internode mTLS to
 * the internal frontend, with the internode Secret (its certificate, and the internode CAs to verify
 * the internal frontend's internode certificate).
 */
export function adminToolsEnv(names: TemporalServiceNames): EnvVar[] {
    return [
        { name: "TEMPORAL_TLS", value: "true" },
        { name: "TEMPORAL_TLS_CLIENT_CERT_PATH", value: `${MOUNTS.adminClient}/tls.crt` },
        { name: "TEMPORAL_TLS_CLIENT_KEY_PATH", value: `${MOUNTS.adminClient}/tls.key` },
        { name: "TEMPORAL_TLS_SERVER_CA_CERT_PATH", value: `${MOUNTS.adminClient}/ca.crt` },
        { name: "TEMPORAL_TLS_SERVER_NAME", value: names.internodeServerName },
    ];
}

const secretVolume = (name: string, secretName: string) => ({ name, secret: { secretName } });
const readOnlyMount = (name: string, mountPath: string) => ({ name, mountPath, readOnly: true });

export function buildTemporalValues(input: TemporalValuesInput): HelmValues {
    const { serviceNames: names, settings: s, secrets } = input;
    const sizing = sizingFor(s.profile);
    const budget = (minAvailable: number) => (minAvailable > 0 ? { podDisruptionBudget: { minAvailable } } : {});
    const service = (svc: (typeof SERVER_SERVICES)[number]) => ({
        resources: sizing.server[svc],
        containerSecurityContext: RESTRICTED_CONTAINER,
        ...budget(s.minAvailable),
    });
    // ingress-nginx's annotations on every class: an ingress-nginx class may have any name (the AKS app
    // routing add-on's are ingress-nginx too), and a controller that is not nginx ignores them; the
    // config rules (infra/temporal/rules.ts) refuse the classes that cannot work.
    const ingressAnnotations = (extra: Record<string, string>) => extra;

    const server: Record<string, unknown> = {
        image: { ...TEMPORAL_SERVER_IMAGE, pullPolicy: "IfNotPresent" },
        replicaCount: s.replicas,
        securityContext: { fsGroup: 1000, runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        podAnnotations: { [TRUST_BUNDLES_ANNOTATION]: input.trustBundlesDigest },
        additionalVolumes: [secretVolume("internode-tls", secrets.internodeTls), secretVolume("frontend-tls", secrets.frontendTls)],
        additionalVolumeMounts: [readOnlyMount("internode-tls", MOUNTS.internode), readOnlyMount("frontend-tls", MOUNTS.frontend)],
        config: {
            logLevel: s.logLevel,
            tls: serverTlsConfig(names, s),
            authorization: authorizationConfig(input.auth, s),
            persistence: {
                defaultStore: "default",
                visibilityStore: "visibility",
                numHistoryShards: s.numHistoryShards,
                datastores: {
                    default: sqlStore(input.database, input.database.databaseName),
                    visibility: sqlStore(input.database, input.database.visibilityDatabaseName),
                },
            },
            namespaces: {
                create: input.temporalNamespaces.length > 0,
                namespace: input.temporalNamespaces.map((n) => ({ name: n.name, retention: n.retention })),
            },
        },
        frontend: {
            ...service("frontend"),
            ...(s.frontendExternalHost !== undefined
                ? {
                      // TLS passthrough: the frontend terminates mTLS itself; an ingress that terminated TLS would drop the client certificate.
                      ingress: {
                          enabled: true,
                          className: input.ui.ingressClassName,
                          annotations: ingressAnnotations({
                              "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
                              "nginx.ingress.kubernetes.io/backend-protocol": "GRPCS",
                          }),
                          hosts: [s.frontendExternalHost],
                          tls: [],
                      },
                  }
                : {}),
        },
        // Without it the server's own worker service carries no JWT and is denied by the authorizer.
        "internal-frontend": { enabled: true, ...service("internal-frontend") },
        history: service("history"),
        matching: service("matching"),
        worker: service("worker"),
    };

    const uiAnnotations: Record<string, string> = {
        ...(s.uiCertManagerClusterIssuer !== undefined ? { "cert-manager.io/cluster-issuer": s.uiCertManagerClusterIssuer } : {}),
        // Entra's tokens make the UI's session cookies larger than nginx's default 4k header buffer (502 after sign-in).
        ...ingressAnnotations({ "nginx.ingress.kubernetes.io/proxy-buffer-size": "16k" }),
    };
    const web = {
        enabled: true,
        replicaCount: s.webReplicas,
        image: { ...TEMPORAL_UI_IMAGE, pullPolicy: "IfNotPresent" },
        podAnnotations: { "temporal-azure/client-certificate-sha256": input.certificateDigests.web, [TRUST_BUNDLES_ANNOTATION]: input.trustBundlesDigest },
        additionalVolumes: [secretVolume("web-tls", secrets.webTls)],
        additionalVolumeMounts: [readOnlyMount("web-tls", MOUNTS.web)],
        additionalEnv: webEnv(input),
        additionalEnvSecretName: secrets.webAuthEnv,
        ingress: {
            enabled: true,
            className: input.ui.ingressClassName,
            annotations: uiAnnotations,
            hosts: [input.ui.host],
            tls: [{ secretName: s.uiIngressTlsSecretName, hosts: [input.ui.host] }],
        },
        resources: sizing.web,
        containerSecurityContext: RESTRICTED_CONTAINER,
        ...budget(s.webReplicas > 1 ? s.webReplicas - 1 : 0),
    };

    const admintools = {
        enabled: s.adminTools,
        image: { ...TEMPORAL_ADMIN_TOOLS_IMAGE, pullPolicy: "IfNotPresent" },
        podAnnotations: { "temporal-azure/client-certificate-sha256": input.certificateDigests.internode, [TRUST_BUNDLES_ANNOTATION]: input.trustBundlesDigest },
        // Also mounted by the schema and namespace jobs: the namespace job talks to the internal frontend with it.
        additionalEnv: adminToolsEnv(names),
        additionalVolumes: [secretVolume("admin-client-tls", secrets.internodeTls)],
        additionalVolumeMounts: [readOnlyMount("admin-client-tls", MOUNTS.adminClient)],
        resources: sizing.adminTools,
        containerSecurityContext: RESTRICTED_CONTAINER,
    };

    return {
        server,
        admintools,
        web,
        schema: { resources: sizing.jobs satisfies Resources, containerSecurityContext: RESTRICTED_CONTAINER },
        // The 1.29 compatibility shims; server 1.31 needs neither.
        shims: { dockerize: false, elasticsearchTool: false },
    };
}
