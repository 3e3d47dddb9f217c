import { X509Certificate } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { IdentityConfig } from "../config/identity";
import { deterministicUuid } from "./uuid";

/**
 * Values of the app registrations that need no Azure: endpoints, redirect URIs, scopes, the
 * secret's rotation schedule, resource options. The component passes them through unchanged.
 */

// Defined beside the validator, which must stand on its own; re-exported for the component.
export { applicationJwksUrl, entraEndpoints, type EntraEndpoints } from "../../policies/claims/entra";

/** The Temporal UI's OIDC callback path (fixed by the UI server). */
export const UI_CALLBACK_PATH = "/auth/sso/callback";
/** Where `kubectl port-forward svc/<ui> 8080` serves the UI. */
export const LOCALHOST_CALLBACK_URL = `http://localhost:8080${UI_CALLBACK_PATH}`;

export function uiCallbackUrl(uiHost: string): string {
    return `https://${uiHost}${UI_CALLBACK_PATH}`;
}

/** The UI registration's web redirect URIs: the ingress, plus localhost only where config allows it. */
export function uiRedirectUris(identity: Pick<IdentityConfig, "uiHost" | "allowLocalhostCallback">): string[] {
    return identity.allowLocalhostCallback ? [uiCallbackUrl(identity.uiHost), LOCALHOST_CALLBACK_URL] : [uiCallbackUrl(identity.uiHost)];
}

/** Value of the API's one delegated scope. */
export const API_SCOPE_VALUE = "default";

export function apiIdentifierUri(apiClientId: string): string {
    return `api://${apiClientId}`;
}

/** The scope the UI asks for, so the access token it forwards is for the Temporal API. */
export function apiScope(apiClientId: string): string {
    return `${apiIdentifierUri(apiClientId)}/${API_SCOPE_VALUE}`;
}

/** What workers request with client credentials: every app role assigned to them. */
export function apiAppOnlyScope(apiClientId: string): string {
    return `${apiIdentifierUri(apiClientId)}/.default`;
}

/** OIDC sign-in scopes; without the API's scope Entra would issue a Microsoft Graph token instead. */
export const OIDC_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

export function uiScopes(apiClientId: string): string[] {
    return [...OIDC_SCOPES, apiScope(apiClientId)];
}

/** TEMPORAL_AUTH_SCOPES takes the scopes comma separated. */
export function uiScopesEnvValue(scopes: string[]): string {
    return scopes.join(",");
}

/** Microsoft Graph's application id and the ids of its OIDC delegated permissions (the same in every tenant). */
export const MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
export const GRAPH_OIDC_PERMISSION_IDS: Readonly<Record<(typeof OIDC_SCOPES)[number], string>> = {
    openid: "37f7f235-527c-4136-accd-4a02d197296e",
    profile: "14dad69e-099b-42c9-810b-d002981feec1",
    email: "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    offline_access: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
};

export interface PermissionScopeSpec {
    id: string;
    value: string;
    type: "User";
    enabled: boolean;
    adminConsentDisplayName: string;
    adminConsentDescription: string;
    userConsentDisplayName: string;
    userConsentDescription: string;
}

/** The API's `default` delegated scope, with a stable id. */
export function apiPermissionScope(stack: string): PermissionScopeSpec {
    return {
        id: deterministicUuid(stack, "oauth2-permission-scope", API_SCOPE_VALUE),
        value: API_SCOPE_VALUE,
        type: "User",
        enabled: true,
        adminConsentDisplayName: "Use Temporal",
        adminConsentDescription: "Lets the Temporal UI call the Temporal API as the signed-in user; what the user may do is decided by the user's app roles.",
        userConsentDisplayName: "Use Temporal",
        userConsentDescription: "Lets the Temporal UI call Temporal as you.",
    };
}

/** Display names in the tenant: the stack in each, so several stacks can share a tenant. */
export function displayNames(stack: string) {
    return {
        api: `Temporal API (${stack})`,
        ui: `Temporal UI (${stack})`,
        worker: (name: string) => `Temporal worker ${name} (${stack})`,
        uiSecret: `Temporal UI client secret`,
    };
}

/** Name of the Key Vault secret that holds the UI's client secret. */
export const UI_CLIENT_SECRET_NAME = "temporal-ui-client-secret";

/** Longest lifetime Entra ID allows for a client secret (Microsoft recommends less). */
export const SECRET_MAX_LIFETIME_DAYS = 730;
/** How long an old secret stays valid after its rotation is due, so a late `pulumi up` is not an outage. */
export const SECRET_GRACE_DAYS = 30;

export interface RotationSchedule {
    /** `time.Rotating` rotationDays: when the next `pulumi up` replaces the secret. */
    rotationDays: number;
    /** The password's lifetime: rotation plus grace, within Entra's limit. */
    lifetimeDays: number;
}

export function secretRotation(rotationDays: number): RotationSchedule {
    if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > SECRET_MAX_LIFETIME_DAYS) {
        throw new Error(`identity.uiSecretRotationDays must be a whole number of days from 1 to ${SECRET_MAX_LIFETIME_DAYS}, got ${rotationDays}`);
    }
    return { rotationDays, lifetimeDays: Math.min(rotationDays + SECRET_GRACE_DAYS, SECRET_MAX_LIFETIME_DAYS) };
}

/** Longest lifetime Graph's addTokenSigningCertificate gives a token signing certificate (three years). */
export const TOKEN_SIGNING_KEY_MAX_LIFETIME_DAYS = 1095;

/** The API's token signing key: replaced every `rotationDays`, valid for the same grace as the UI secret after that, within Entra's limit. */
export function tokenSigningKeyRotation(rotationDays: number): RotationSchedule {
    if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays + SECRET_GRACE_DAYS > TOKEN_SIGNING_KEY_MAX_LIFETIME_DAYS) {
        throw new Error(`identity.tokenSigningKeyRotationDays must be a whole number of days from 1 to ${TOKEN_SIGNING_KEY_MAX_LIFETIME_DAYS - SECRET_GRACE_DAYS}, got ${rotationDays}`);
    }
    return { rotationDays, lifetimeDays: rotationDays + SECRET_GRACE_DAYS };
}

/** Subject of the API's token signing certificate (Graph requires `CN=`); names the stack, since several stacks can share a tenant. */
export function tokenSigningCertificateName(stack: string): string {
    return `CN=Temporal API token signing (${stack})`;
}

/** The password's end date: `lifetimeDays` after the rotation's start (an RFC 3339 instant). */
export function secretEndDate(startRfc3339: string, lifetimeDays: number): string {
    const start = Date.parse(startRfc3339);
    if (Number.isNaN(start)) throw new Error(`secretEndDate: "${startRfc3339}" is not an RFC 3339 time`);
    return new Date(start + lifetimeDays * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Options of the API's Application: `api://<client-id>` is set by the separate
 * ApplicationIdentifierUri (the client id exists only after creation), so the Application must not
 * fight it over `identifierUris`.
 */
export function apiApplicationOptions(parent: pulumi.Resource): pulumi.CustomResourceOptions {
    return { parent, ignoreChanges: ["identifierUris"] };
}

/** The first certificate of a PEM bundle: Entra takes one certificate per key credential. */
export function leafCertificatePem(pem: string): string {
    const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
    if (!m) throw new Error("worker certificate: no PEM certificate block (-----BEGIN CERTIFICATE-----) found");
    return `${m[0]}\n`;
}

/** A key credential must not outlive its certificate; Entra rejects dates outside the validity. */
export function certificateValidity(pem: string): { startDate: string; endDate: string } {
    const cert = new X509Certificate(leafCertificatePem(pem));
    const iso = (s: string) => new Date(s).toISOString().replace(/\.\d{3}Z$/, "Z");
    return { startDate: iso(cert.validFrom), endDate: iso(cert.validTo) };
}

/** Audience Entra ID expects in a workload identity's federated token. */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
