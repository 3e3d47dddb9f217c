import { parseApplicationJwksUrl } from "../../claims/entra";
import { compileGoRegexp } from "../../claims/go-regexp";
import { envList, envValue, getPath, leaves } from "./values";

/**
 * Checks over the Temporal Helm release (`kubernetes:helm.sh/v3:Release`). Each returns messages
 * naming the values key and the fix; an empty list means the release passes. They encode the traps
 * of reference §3–§6: the server must really be configured the way the validator predicts.
 */

export const TEMPORAL_CHART = { name: "temporal", version: "1.6.0", repo: "https://go.temporal.io/helm-charts" } as const;

/** Env names the server's config templates read (reference §4); any other TEMPORAL_TLS_/AUTH_/JWT_ is ignored silently. */
export const SERVER_READ_ENV = new Set([
    "TEMPORAL_TLS_REFRESH_INTERVAL",
    "TEMPORAL_TLS_EXPIRATION_CHECKS_WARNING_WINDOW",
    "TEMPORAL_TLS_EXPIRATION_CHECKS_ERROR_WINDOW",
    "TEMPORAL_TLS_EXPIRATION_CHECKS_CHECK_INTERVAL",
    "TEMPORAL_TLS_REQUIRE_CLIENT_AUTH",
    "TEMPORAL_TLS_SERVER_CERT",
    "TEMPORAL_TLS_SERVER_KEY",
    "TEMPORAL_TLS_SERVER_KEY_DATA",
    "TEMPORAL_TLS_SERVER_CA_CERT",
    "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
    "TEMPORAL_TLS_INTERNODE_SERVER_NAME",
    "TEMPORAL_TLS_INTERNODE_DISABLE_HOST_VERIFICATION",
    "TEMPORAL_TLS_FRONTEND_CERT",
    "TEMPORAL_TLS_FRONTEND_KEY",
    "TEMPORAL_TLS_FRONTEND_KEY_DATA",
    "TEMPORAL_TLS_CLIENT1_CA_CERT",
    "TEMPORAL_TLS_CLIENT2_CA_CERT",
    "TEMPORAL_TLS_CLIENT1_CA_CERT_DATA",
    "TEMPORAL_TLS_CLIENT2_CA_CERT_DATA",
    "TEMPORAL_TLS_FRONTEND_SERVER_NAME",
    "TEMPORAL_TLS_FRONTEND_DISABLE_HOST_VERIFICATION",
    "TEMPORAL_AUTH_AUTHORIZER",
    "TEMPORAL_AUTH_CLAIM_MAPPER",
    "TEMPORAL_JWT_KEY_SOURCE1",
    "TEMPORAL_JWT_KEY_SOURCE2",
    "TEMPORAL_JWT_KEY_REFRESH",
    "TEMPORAL_JWT_PERMISSIONS_CLAIM",
    "TEMPORAL_JWT_PERMISSIONS_REGEX",
    "USE_INTERNAL_FRONTEND",
]);

const SERVER_ENV_PATHS = [
    "server.additionalEnv",
    "server.frontend.additionalEnv",
    "server.internal-frontend.additionalEnv",
    "server.history.additionalEnv",
    "server.matching.additionalEnv",
    "server.worker.additionalEnv",
];

export function checkChartPinned(props: Record<string, unknown>): string[] {
    const out: string[] = [];
    if (props.chart !== TEMPORAL_CHART.name) out.push(`chart must be "${TEMPORAL_CHART.name}" (got ${JSON.stringify(props.chart)})`);
    if (props.version !== TEMPORAL_CHART.version) out.push(`version must pin chart ${TEMPORAL_CHART.version} (got ${JSON.stringify(props.version)}): an unpinned chart changes under you`);
    const repo = getPath(props, "repositoryOpts.repo");
    if (repo !== TEMPORAL_CHART.repo) out.push(`repositoryOpts.repo must be ${TEMPORAL_CHART.repo} (got ${JSON.stringify(repo)})`);
    const values = props.values;
    for (const key of ["server.image.tag", "admintools.image.tag", "web.image.tag"]) {
        const tag = getPath(values, key);
        if (typeof tag !== "string" || tag === "" || tag === "latest") out.push(`values.${key} must pin an image version (got ${JSON.stringify(tag)}), never latest`);
    }
    return out;
}

/** Keys of the chart's main branch that the released chart 1.6.0 does not read (upstream tag temporal-1.6.0). */
export const UNRELEASED_TLS_KEYS = ["server.tls", "web.tls"];

export function checkMutualTls(values: unknown): string[] {
    const out: string[] = [];
    for (const key of UNRELEASED_TLS_KEYS) {
        if (getPath(values, key) !== undefined) {
            out.push(`values.${key} is not read by the released chart 1.6.0 (it exists only on the chart's main branch): TLS would silently stay off; configure server.config.tls and mount the Secrets instead`);
        }
    }
    const tls = getPath(values, "server.config.tls");
    for (const section of ["internode", "frontend"] as const) {
        const base = `server.config.tls.${section}`;
        const server = getPath(tls, `${section}.server`) as Record<string, unknown> | undefined;
        const client = getPath(tls, `${section}.client`) as Record<string, unknown> | undefined;
        if (!server || typeof server.certFile !== "string" || typeof server.keyFile !== "string") {
            out.push(`values.${base}.server.certFile and keyFile must point at the mounted ${section} certificate: without them ${section} traffic is plaintext`);
            continue;
        }
        if (server.requireClientAuth !== true) out.push(`values.${base}.server.requireClientAuth must be true: mTLS is the first gate`);
        if (!Array.isArray(server.clientCaFiles) || server.clientCaFiles.length === 0) out.push(`values.${base}.server.clientCaFiles must list the trust bundle, or client certificates are not verified`);
        if (!client || typeof client.serverName !== "string" || client.serverName === "") out.push(`values.${base}.client.serverName must name a SAN of the ${section} certificate`);
        if (!client || !Array.isArray(client.rootCaFiles) || client.rootCaFiles.length === 0) out.push(`values.${base}.client.rootCaFiles must list the trust bundle`);
        if (client?.disableHostVerification === true) out.push(`values.${base}.client.disableHostVerification must not be true`);
    }
    const refresh = getPath(tls, "refreshInterval");
    if (typeof refresh !== "string" || refresh === "" || /^0+[smh]?$/.test(refresh)) {
        out.push("values.server.config.tls.refreshInterval must be a duration such as 1m: with 0 (the default) rotated certificates are never reloaded");
    }
    const web = (name: string) => envValue(values, "web.additionalEnv", name);
    if (!web("TEMPORAL_TLS_CERT") || !web("TEMPORAL_TLS_KEY") || !web("TEMPORAL_TLS_CA")) {
        out.push("values.web.additionalEnv must set TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and TEMPORAL_TLS_CA: the UI must reach the frontend over mTLS with its own client certificate");
    }
    if (!web("TEMPORAL_TLS_SERVER_NAME")) out.push("values.web.additionalEnv TEMPORAL_TLS_SERVER_NAME must name a SAN of the frontend certificate");
    if (web("TEMPORAL_TLS_ENABLE_HOST_VERIFICATION") !== "true") {
        out.push("values.web.additionalEnv TEMPORAL_TLS_ENABLE_HOST_VERIFICATION must be \"true\": otherwise the UI trusts any certificate from the CA for any name");
    }
    return out;
}

export function checkAuthorization(values: unknown): string[] {
    const out: string[] = [];
    const auth = getPath(values, "server.config.authorization") as Record<string, unknown> | undefined;
    if (!auth || typeof auth !== "object") {
        return ["values.server.config.authorization is missing: without an authorizer every caller may do everything"];
    }
    if (auth.authorizer !== "default") out.push(`values.server.config.authorization.authorizer must be "default" (got ${JSON.stringify(auth.authorizer)}): empty means allow everything`);
    if (auth.claimMapper !== "default") out.push(`values.server.config.authorization.claimMapper must be "default" (got ${JSON.stringify(auth.claimMapper)}): empty makes everyone system admin`);
    if (typeof auth.audience !== "string" || auth.audience === "") {
        out.push("values.server.config.authorization.audience must be the API's client id: without it a token for ANY app of ANY tenant verifies (Microsoft signs them all with the same keys)");
    }
    const uris = getPath(auth, "jwtKeyProvider.keySourceURIs");
    const wanted = "https://login.microsoftonline.com/<tenant-id>/discovery/v2.0/keys?appid=<audience>";
    if (!Array.isArray(uris) || uris.length === 0) {
        out.push(`values.server.config.authorization.jwtKeyProvider.keySourceURIs must list the API's own JWKS URL ${wanted}`);
    } else {
        for (const u of uris) {
            const app = typeof u === "string" ? parseApplicationJwksUrl(u) : undefined;
            if (app === undefined) {
                out.push(
                    `values.server.config.authorization.jwtKeyProvider.keySourceURIs entry ${JSON.stringify(u)} must be the API's own JWKS URL ${wanted}: ` +
                        "Entra's tenant-wide keys sign tokens for every application of every tenant, and server 1.31.2 checks no audience on streams and Nexus HTTP calls, " +
                        "so with those keys anyone's token carrying temporal-system:admin is system admin on AdminService/StreamWorkflowReplicationMessages",
                );
            } else if (typeof auth.audience === "string" && auth.audience !== "" && app.appId.toLowerCase() !== auth.audience.toLowerCase()) {
                out.push(`values.server.config.authorization.jwtKeyProvider.keySourceURIs entry ${JSON.stringify(u)} holds the keys of application ${app.appId}, not of the audience ${auth.audience}: use ?appid=${auth.audience}`);
            }
        }
    }
    const refresh = getPath(auth, "jwtKeyProvider.refreshInterval");
    if (typeof refresh !== "string" || refresh === "") out.push("values.server.config.authorization.jwtKeyProvider.refreshInterval must be set (e.g. 1h): Entra rolls keys without notice");
    if (auth.permissionsClaimName !== "roles") out.push(`values.server.config.authorization.permissionsClaimName must be "roles" for Entra app roles (got ${JSON.stringify(auth.permissionsClaimName)})`);
    if (typeof auth.permissionsRegex === "string" && auth.permissionsRegex !== "") {
        try {
            compileGoRegexp(auth.permissionsRegex);
        } catch (err) {
            out.push(`values.server.config.authorization.permissionsRegex: ${(err as Error).message}`);
        }
    }
    if (getPath(values, "server.internal-frontend.enabled") !== true) {
        out.push('values.server.internal-frontend.enabled must be true: with an authorizer on, the system worker carries no token and is denied on the public frontend');
    }
    return out;
}

export function checkServerEnv(values: unknown): string[] {
    const out: string[] = [];
    for (const path of SERVER_ENV_PATHS) {
        for (const env of envList(values, path)) {
            if (/^TEMPORAL_(TLS|AUTH|JWT)_/.test(env.name) && !SERVER_READ_ENV.has(env.name)) {
                out.push(`values.${path} sets ${env.name}, which the server never reads (it is silently ignored): use server.config instead`);
            }
            if (env.name.startsWith("TEMPORAL_CLI_")) out.push(`values.${path} sets ${env.name}: TEMPORAL_CLI_* is read by the old tctl, never by the server`);
        }
    }
    return out;
}

/**
 * Env names the UI image's config template reads (ui-server v2.52.0 `config/docker.yaml`, which the
 * `temporalio/ui:2.52.0` image runs with); test/ui checks this list against the real template.
 */
export const UI_READ_ENV = new Set([
    "TEMPORAL_ADDRESS", "TEMPORAL_UI_PORT", "TEMPORAL_UI_PUBLIC_PATH", "TEMPORAL_UI_ENABLED", "TEMPORAL_CLOUD_UI", "TEMPORAL_DEFAULT_NAMESPACE",
    "TEMPORAL_FEEDBACK_URL", "TEMPORAL_DISABLE_NEWS_FETCH", "TEMPORAL_NAV_COLLAPSED_BY_DEFAULT", "TEMPORAL_CONFIG_REFRESH_INTERVAL",
    "TEMPORAL_SHOW_TEMPORAL_SYSTEM_NAMESPACE", "TEMPORAL_DISABLE_WRITE_ACTIONS", "TEMPORAL_WORKFLOW_TERMINATE_DISABLED", "TEMPORAL_WORKFLOW_CANCEL_DISABLED",
    "TEMPORAL_WORKFLOW_SIGNAL_DISABLED", "TEMPORAL_WORKFLOW_UPDATE_DISABLED", "TEMPORAL_WORKFLOW_RESET_DISABLED", "TEMPORAL_WORKFLOW_PAUSE_DISABLED",
    "TEMPORAL_BATCH_ACTIONS_DISABLED", "TEMPORAL_START_WORKFLOW_DISABLED", "TEMPORAL_HIDE_WORKFLOW_QUERY_ERRORS", "TEMPORAL_REFRESH_WORKFLOW_COUNTS_DISABLED",
    "TEMPORAL_ACTIVITY_COMMANDS_DISABLED", "TEMPORAL_CSRF_COOKIE_INSECURE", "TEMPORAL_CORS_UNSAFE_ALLOW_ALL_ORIGINS", "TEMPORAL_CORS_ORIGINS",
    "TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA_DATA", "TEMPORAL_TLS_CERT_DATA", "TEMPORAL_TLS_KEY_DATA",
    "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_UI_SERVER_TLS_CERT", "TEMPORAL_UI_SERVER_TLS_KEY",
    "TEMPORAL_AUTH_ENABLED", "TEMPORAL_AUTH_REDIRECT_TO_PROVIDER", "TEMPORAL_AUTH_LABEL", "TEMPORAL_AUTH_TYPE", "TEMPORAL_AUTH_PROVIDER_URL",
    "TEMPORAL_AUTH_ISSUER_URL", "TEMPORAL_AUTH_CLIENT_ID", "TEMPORAL_AUTH_CLIENT_SECRET", "TEMPORAL_AUTH_CALLBACK_URL", "TEMPORAL_AUTH_USE_ID_TOKEN_AS_BEARER",
    "TEMPORAL_AUTH_SCOPES", "TEMPORAL_CODEC_ENDPOINT", "TEMPORAL_CODEC_PASS_ACCESS_TOKEN", "TEMPORAL_CODEC_INCLUDE_CREDENTIALS",
    "TEMPORAL_CODEC_DEFAULT_ERROR_MESSAGE", "TEMPORAL_CODEC_DEFAULT_ERROR_LINK", "TEMPORAL_FORWARD_HEADERS", "TEMPORAL_HIDE_LOGS",
]);

/** Variables the template reads into the UI server's config but that ui-server 2.52.0 never acts on (seen running it in test/ui). */
export const UI_IGNORED_ENV: Readonly<Record<string, string>> = {
    TEMPORAL_AUTH_LABEL: 'its sign-in page says "Continue to SSO" whatever the label (the settings it renders from carry none)',
    TEMPORAL_AUTH_TYPE: "it signs in with OIDC whatever the type",
};

export function checkUiSso(values: unknown): string[] {
    const out: string[] = [];
    const env = (name: string) => envValue(values, "web.additionalEnv", name);
    if (env("TEMPORAL_AUTH_ENABLED") !== "true") out.push("values.web.additionalEnv TEMPORAL_AUTH_ENABLED must be \"true\": the UI would serve anyone");
    const scopes = (env("TEMPORAL_AUTH_SCOPES") ?? "").split(",").map((s) => s.trim());
    if (!scopes.some((s) => /^api:\/\/[^/]+\/default$/.test(s))) {
        out.push("values.web.additionalEnv TEMPORAL_AUTH_SCOPES must include the API scope api://<api-client-id>/default: with only OIDC scopes the UI gets a Microsoft Graph token and every call is \"Request unauthorized\"");
    }
    if (!scopes.includes("openid")) out.push("values.web.additionalEnv TEMPORAL_AUTH_SCOPES must include openid");
    const callback = env("TEMPORAL_AUTH_CALLBACK_URL") ?? "";
    if (!/^https:\/\/[^/]+\/auth\/sso\/callback$/.test(callback)) out.push(`values.web.additionalEnv TEMPORAL_AUTH_CALLBACK_URL must be https://<ui-host>/auth/sso/callback (got ${JSON.stringify(callback)})`);
    for (const name of ["TEMPORAL_AUTH_ISSUER_URL", "TEMPORAL_AUTH_PROVIDER_URL"]) {
        const v = env(name) ?? "";
        if (!/^https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/v2\.0$/i.test(v)) out.push(`values.web.additionalEnv ${name} must be the tenant's v2 issuer https://login.microsoftonline.com/<tenant-id>/v2.0 (got ${JSON.stringify(v)})`);
    }
    if (envList(values, "web.additionalEnv").some((e) => e.name === "TEMPORAL_AUTH_CLIENT_SECRET")) {
        out.push("values.web.additionalEnv must not carry TEMPORAL_AUTH_CLIENT_SECRET: put it in the Secret named by web.additionalEnvSecretName");
    }
    const secretName = getPath(values, "web.additionalEnvSecretName");
    if (typeof secretName !== "string" || secretName === "") out.push("values.web.additionalEnvSecretName must name the Secret holding TEMPORAL_AUTH_CLIENT_SECRET");
    for (const e of envList(values, "web.additionalEnv")) {
        if (!e.name.startsWith("TEMPORAL_")) continue;
        if (!UI_READ_ENV.has(e.name)) out.push(`values.web.additionalEnv sets ${e.name}, which the UI server never reads (it is silently ignored)`);
        else if (e.name in UI_IGNORED_ENV) out.push(`values.web.additionalEnv sets ${e.name}, which ui-server 2.52.0 ignores: ${UI_IGNORED_ENV[e.name]}`);
    }
    const created = ((getPath(values, "server.config.namespaces.namespace") ?? []) as { name?: unknown }[]).map((n) => String(n.name));
    const landing = env("TEMPORAL_DEFAULT_NAMESPACE");
    if (getPath(values, "server.config.namespaces.create") === true && created.length > 0 && !created.includes(landing ?? "default")) {
        out.push(
            `values.web.additionalEnv TEMPORAL_DEFAULT_NAMESPACE ${landing === undefined ? 'is not set, so the UI opens "default" after sign-in' : `is "${landing}"`}, which the release does not create ("Namespace … is not found"): set it to one of ${created.join(", ")}`,
        );
    }
    return out;
}

const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----/;
const SECRET_KEY_NAME = /(password|secret|private[_-]?key|token|kubeconfig)$/i;

/** Secret material in plain values: PEM private keys anywhere, or literal values under secret-looking keys. */
export function findSecretMaterial(values: unknown, where = "values"): string[] {
    const out: string[] = [];
    for (const [path, v] of leaves(values)) {
        if (typeof v !== "string" || v === "") continue;
        const key = path.split(".").pop() ?? "";
        if (PRIVATE_KEY_PEM.test(v)) out.push(`${where}.${path} holds a private key in plain text: reference a Secret instead`);
        else if (SECRET_KEY_NAME.test(key) && !/secretName$|SecretName$|existingSecret$|secretKey$/.test(key)) {
            out.push(`${where}.${path} holds a literal secret: reference a Secret (existingSecret / additionalEnvSecretName) instead`);
        }
    }
    // additionalEnv entries carry the name in a sibling field.
    for (const [path, v] of leaves(values)) {
        if (!path.endsWith(".name") || typeof v !== "string" || !SECRET_KEY_NAME.test(v)) continue;
        const value = getPath(values, `${path.slice(0, -".name".length)}.value`);
        if (typeof value === "string" && value !== "") out.push(`${where}.${path.slice(0, -".name".length)} sets ${v} as a literal env value: use a Secret`);
    }
    return out;
}
