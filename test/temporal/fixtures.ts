import type { RecordedResource } from "../../scripts/lib/offline/engine";
import { SERVER_READ_ENV } from "../../policies/pack/checks/release";
import type { ResolvedConfig } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { temporalServiceNames } from "../../infra/config/names";
import { resolveTemporalSettings } from "../../infra/temporal/settings";
import type { DatabaseConnection, EnvVar, HelmValues, TemporalValuesInput } from "../../infra/temporal/values";
import { temporalSecretNames } from "../../infra/temporal";
import { exampleStackRaw } from "../support/config";

/** Inputs of the pure builders, as a stack would resolve them; no Pulumi involved. */

export const TENANT = "11111111-2222-3333-4444-555555555555";
export const API_CLIENT_ID = "620043f4-9628-4fa5-a3f1-8ffd3e9ad10b";
export const UI_CLIENT_ID = "2c8fd9bd-92f7-47cf-a7eb-800d3ba20606";
export const API_SCOPE = `api://${API_CLIENT_ID}/default`;
export const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;
export const JWKS = `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`;

/** Env names the Temporal server's config templates read (temporal-server-auth.md §4), as the policy pack holds them. */
export const SERVER_READS_ENV = [...SERVER_READ_ENV];

export function resolved(stack: string, patch: (raw: Record<string, unknown>) => Record<string, unknown> = (r) => r): ResolvedConfig {
    return parseStackConfig(patch(exampleStackRaw(stack)), stack);
}

export const IN_CLUSTER_DB: DatabaseConnection = {
    host: "temporal-postgres.temporal.svc",
    port: 5432,
    user: "temporal",
    passwordSecretName: "temporal-db",
    passwordSecretKey: "password",
    databaseName: "temporal",
    visibilityDatabaseName: "temporal_visibility",
    createDatabase: true,
};

export const FLEXIBLE_DB: DatabaseConnection = {
    ...IN_CLUSTER_DB,
    host: "temporal-prod-pg.postgres.database.azure.com",
    user: "temporaladmin",
    createDatabase: false,
    tlsServerName: "temporal-prod-pg.postgres.database.azure.com",
};

export function valuesInput(cfg: ResolvedConfig, database: DatabaseConnection = IN_CLUSTER_DB): TemporalValuesInput {
    const serviceNames = temporalServiceNames(cfg.kubernetes.namespace, cfg.temporal.frontendExternalHost);
    return {
        serviceNames,
        settings: resolveTemporalSettings(cfg),
        secrets: temporalSecretNames(serviceNames.releaseName),
        certificateDigests: { web: "a".repeat(64), internode: "b".repeat(64) },
        trustBundlesDigest: "c".repeat(64),
        auth: { jwksUrl: JWKS, audience: API_CLIENT_ID, permissionsClaimName: "roles" },
        ui: {
            host: cfg.identity.uiHost,
            issuerUrl: ISSUER,
            clientId: UI_CLIENT_ID,
            callbackUrl: `https://${cfg.identity.uiHost}/auth/sso/callback`,
            scopes: ["openid", "profile", "email", "offline_access", API_SCOPE],
            ingressClassName: cfg.kubernetes.ingressClassName,
        },
        database,
        temporalNamespaces: cfg.access.namespaces,
    };
}

/** Reads a value at a dotted path (keys may contain hyphens, e.g. `server.internal-frontend.enabled`). */
export function at(values: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), values);
}

export function env(list: unknown): Record<string, string> {
    return Object.fromEntries((list as EnvVar[]).map((e) => [e.name, e.value]));
}

export const SERVER_SERVICE_KEYS = ["frontend", "internal-frontend", "history", "matching", "worker"] as const;

/** Every env var name set on server containers (global and per service). */
export function serverEnvNames(values: HelmValues): string[] {
    const lists = [at(values, "server.additionalEnv"), ...SERVER_SERVICE_KEYS.map((s) => at(values, `server.${s}.additionalEnv`))];
    return lists.flatMap((l) => (Array.isArray(l) ? (l as EnvVar[]).map((e) => e.name) : []));
}

/** True when the program registered this input (dotted path) as a Pulumi secret. */
export function wasSecret(r: RecordedResource, path: string): boolean {
    return r.secretPaths.includes(path);
}
