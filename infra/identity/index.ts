import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import * as time from "@pulumiverse/time";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import type { ResolvedConfig } from "../config/profiles";
import type { WorkerConfig } from "../config/identity";
import {
    appRoleTable,
    DEFAULT_ACCESS_APP_ROLE_ID,
    nameSuffix,
    previousNameSuffix,
    principals,
    roleAssignments,
    uiSignInPrincipals,
    workloadIdentitySubject,
    type AppRoleSpec,
    type Principal,
} from "./access";
import {
    apiAppOnlyScope,
    apiApplicationOptions,
    apiIdentifierUri,
    apiPermissionScope,
    apiScope,
    applicationJwksUrl,
    certificateValidity,
    displayNames,
    entraEndpoints,
    GRAPH_OIDC_PERMISSION_IDS,
    leafCertificatePem,
    MICROSOFT_GRAPH_APP_ID,
    OIDC_SCOPES,
    secretEndDate,
    secretRotation,
    TOKEN_EXCHANGE_AUDIENCE,
    tokenSigningCertificateName,
    tokenSigningKeyRotation,
    UI_CLIENT_SECRET_NAME,
    uiCallbackUrl,
    uiRedirectUris,
    uiScopes,
    uiScopesEnvValue,
} from "./registration";

export * from "./access";
export * from "./registration";
export { deterministicUuid, uuidV5 } from "./uuid";
export { identityRules, accessMapIssues, APP_ROLE_VALUE_MAX } from "./rules";
export { temporalIdentityArgs, type TemporalIdentityWiring } from "./args";

export interface TemporalIdentityArgs {
    /** Stack name: part of display names and of every deterministic id. */
    stack: string;
    /** Stack profile (prod refuses a localhost callback; the config rules enforce it). */
    profile: "dev" | "prod" | "ephemeral";
    /** Entra ID tenant that issues the tokens and holds the registrations. */
    tenantId: string;
    /** Azure region of the workers' managed identities. */
    location: string;
    /** UI host, localhost callback, secret rotation, consent. */
    identity: ResolvedConfig["identity"];
    /** Declared Temporal namespaces and who may do what in them. */
    access: ResolvedConfig["access"];
    /** Worker identities: managed identities on AKS, app registrations with a certificate elsewhere. */
    workers: ResolvedConfig["workers"];
    /** Resource group of the managed identities and the Key Vault. */
    resourceGroupName: pulumi.Input<string>;
    /** Where the UI secret is written (azure-native keyvault.Secret, pulumi.secret value). */
    keyVault: { name: pulumi.Input<string>; id: pulumi.Input<string> };
    /** External workers' client certificate PEM (from the PKI), used as their app's certificate credential. */
    workerCertificatesPem: Record<string, pulumi.Input<string>>;
    /** AKS OIDC issuer, for aks workers' federated credentials. */
    oidcIssuerUrl?: pulumi.Input<string>;
}

export interface WorkerIdentity {
    /** What the worker's client-credentials request names as client_id (AZURE_CLIENT_ID). */
    clientId: pulumi.Output<string>;
    /** Object id of its service principal: the token's `oid` and `sub`. */
    principalId: pulumi.Output<string>;
    kind: "managed-identity" | "app-registration";
}

/**
 * Entra ID objects for a Temporal cluster, from the access map: the API registration (the
 * resource: app roles = permissions, v2 tokens, assignment required), the UI registration (a
 * confidential web client, assignment required, pre-authorized on the API, rotating secret in Key
 * Vault), the workers' identities, and an app role assignment for every (principal, permission).
 */
export class TemporalIdentity extends pulumi.ComponentResource {
    readonly tenantId: string;
    /** `iss` of every token the server should accept. */
    readonly issuerUrl: string;
    /** The API's own signing keys (`?appid=`): the only keys the server trusts. */
    readonly jwksUrl: pulumi.Output<string>;
    /** Thumbprint of the API's token signing certificate (Entra holds its private key). */
    readonly tokenSigningKeyThumbprint: pulumi.Output<string>;
    /** When the API's token signing certificate ends (it is replaced `tokenSigningKeyRotationDays` after its start). */
    readonly tokenSigningKeyEndDate: pulumi.Output<string>;
    readonly apiClientId: pulumi.Output<string>;
    readonly apiIdentifierUri: pulumi.Output<string>;
    /** `api://<id>/default`: the delegated scope the UI requests. */
    readonly apiScope: pulumi.Output<string>;
    /** `api://<id>/.default`: what workers request with client credentials. */
    readonly apiAppOnlyScope: pulumi.Output<string>;
    readonly uiClientId: pulumi.Output<string>;
    readonly uiCallbackUrl: string;
    readonly uiRedirectUris: string[];
    readonly uiScopes: pulumi.Output<string[]>;
    /** The scopes as TEMPORAL_AUTH_SCOPES takes them (comma separated). */
    readonly uiScopesString: pulumi.Output<string>;
    readonly uiClientSecret: pulumi.Output<string>;
    readonly uiClientSecretName: string;
    readonly workers: Record<string, WorkerIdentity>;
    /** The claim that carries the app roles; the server's `permissionsClaimName`. */
    readonly permissionsClaimName = "roles" as const;
    /** The API registration's app roles, as declared. */
    readonly appRoles: AppRoleSpec[];
    /** Object id of every principal of the access map, by principal key (`group:<name>`, `user:<upn>`, `worker:<name>`). */
    readonly principalObjectIds: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: TemporalIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("temporal-azure:identity:TemporalIdentity", name, {}, opts);
        if (args.profile === "prod" && args.identity.allowLocalhostCallback) {
            // The config rules refuse this too; the component does not rely on being called after them.
            throw new Error("identity.allowLocalhostCallback: prod stacks do not register a localhost redirect URI: set it to false");
        }
        const endpoints = entraEndpoints(args.tenantId);
        const names = displayNames(args.stack);
        const scope = apiPermissionScope(args.stack);
        this.appRoles = appRoleTable(args.stack, args.access);
        // The deployer stays owner, so a deployer with only Application.ReadWrite.OwnedBy can manage them.
        const owners = [azuread.getClientConfigOutput({ parent: this }).objectId];

        const api = new azuread.Application(
            `${name}-api`,
            {
                displayName: names.api,
                signInAudience: "AzureADMyOrg",
                owners,
                api: { requestedAccessTokenVersion: 2, oauth2PermissionScopes: [scope] },
                appRoles: this.appRoles,
            },
            apiApplicationOptions(this),
        );
        const apiUri = new azuread.ApplicationIdentifierUri(
            `${name}-api-uri`,
            { applicationId: api.id, identifierUri: api.clientId.apply(apiIdentifierUri) },
            { parent: this },
        );
        const apiSp = new azuread.ServicePrincipal(`${name}-api-sp`, { clientId: api.clientId, appRoleAssignmentRequired: true, owners }, { parent: this });
        // Server v1.31.2 skips the audience check on streams and Nexus HTTP calls, and Entra's shared
        // keys sign every tenant's tokens: with a signing key of its own, published only at the
        // API's `?appid=` JWKS, a token minted for any other application or tenant fails signature
        // verification on every call (docs/identity.md, "Tokens for other applications").
        const signing = tokenSigningKeyRotation(args.identity.tokenSigningKeyRotationDays);
        const signingRotation = new time.Rotating(`${name}-api-signing-key-rotation`, { rotationDays: signing.rotationDays }, { parent: this });
        const signingKey = new azuread.ServicePrincipalTokenSigningCertificate(
            `${name}-api-signing-key`,
            {
                servicePrincipalId: apiSp.id,
                displayName: tokenSigningCertificateName(args.stack),
                // A new end date replaces the certificate: the new key is created before the old one is deleted.
                endDate: signingRotation.rfc3339.apply((start) => secretEndDate(start, signing.lifetimeDays)),
            },
            { parent: this },
        );

        this.uiRedirectUris = uiRedirectUris(args.identity);
        this.uiCallbackUrl = uiCallbackUrl(args.identity.uiHost);
        const ui = new azuread.Application(
            `${name}-ui`,
            {
                displayName: names.ui,
                signInAudience: "AzureADMyOrg",
                owners,
                web: {
                    homepageUrl: `https://${args.identity.uiHost}/`,
                    redirectUris: this.uiRedirectUris,
                    implicitGrant: { accessTokenIssuanceEnabled: false, idTokenIssuanceEnabled: false },
                },
                requiredResourceAccesses: [
                    { resourceAppId: api.clientId, resourceAccesses: [{ id: scope.id, type: "Scope" }] },
                    { resourceAppId: MICROSOFT_GRAPH_APP_ID, resourceAccesses: OIDC_SCOPES.map((s) => ({ id: GRAPH_OIDC_PERMISSION_IDS[s], type: "Scope" })) },
                ],
            },
            { parent: this },
        );
        const uiSp = new azuread.ServicePrincipal(`${name}-ui-sp`, { clientId: ui.clientId, appRoleAssignmentRequired: true, owners }, { parent: this });
        new azuread.ApplicationPreAuthorized(
            `${name}-ui-preauthorized`,
            { applicationId: api.id, authorizedClientId: ui.clientId, permissionIds: [scope.id] },
            { parent: this },
        );
        if (args.identity.grantSignInConsent) {
            const graph = azuread.getServicePrincipalOutput({ clientId: MICROSOFT_GRAPH_APP_ID }, { parent: this });
            new azuread.ServicePrincipalDelegatedPermissionGrant(
                `${name}-ui-signin-consent`,
                { servicePrincipalObjectId: uiSp.objectId, resourceServicePrincipalObjectId: graph.objectId, claimValues: [...OIDC_SCOPES] },
                { parent: this },
            );
        }

        const schedule = secretRotation(args.identity.uiSecretRotationDays);
        const rotation = new time.Rotating(`${name}-ui-secret-rotation`, { rotationDays: schedule.rotationDays }, { parent: this });
        const endDate = rotation.rfc3339.apply((start) => secretEndDate(start, schedule.lifetimeDays));
        const password = new azuread.ApplicationPassword(
            `${name}-ui-secret`,
            { applicationId: ui.id, displayName: names.uiSecret, endDate, rotateWhenChanged: { rotation: rotation.id } },
            // The azuread SDK marks `value` secret itself (additionalSecretOutputs), but not under mocks.
            { parent: this },
        );
        this.uiClientSecret = pulumi.secret(password.value);
        this.uiClientSecretName = UI_CLIENT_SECRET_NAME;
        new keyvault.Secret(
            `${name}-ui-secret-kv`,
            {
                resourceGroupName: args.resourceGroupName,
                vaultName: args.keyVault.name,
                secretName: UI_CLIENT_SECRET_NAME,
                properties: {
                    // azure-native does not mark this value secret on its own.
                    value: this.uiClientSecret,
                    contentType: "text/plain",
                    attributes: { enabled: true, expires: endDate.apply((d) => Math.floor(Date.parse(d) / 1000)) },
                },
            },
            { parent: this, additionalSecretOutputs: ["properties"] },
        );

        this.workers = {};
        for (const worker of args.workers) this.workers[worker.name] = this.workerIdentity(name, worker, args, owners);

        this.principalObjectIds = {};
        for (const p of principals(args.access)) this.principalObjectIds[p.key] = this.objectIdOf(p);
        // Entra refuses a second identical assignment, so a renamed one must stay the same resource (alias), never be recreated.
        const renamed = (prefix: string, suffix: string, previous: string) => (suffix === previous ? {} : { aliases: [{ name: `${prefix}-${previous}` }] });
        for (const a of roleAssignments(args.stack, args.access)) {
            new azuread.AppRoleAssignment(
                `${name}-role-${a.nameSuffix}`,
                { appRoleId: a.appRoleId, principalObjectId: this.principalObjectIds[a.principal.key]!, resourceObjectId: apiSp.objectId },
                // The role must exist on the app before it is assigned (an update may add it).
                { parent: this, dependsOn: [api], ...renamed(`${name}-role`, a.nameSuffix, a.previousNameSuffix) },
            );
        }
        for (const p of uiSignInPrincipals(args.access)) {
            new azuread.AppRoleAssignment(
                `${name}-signin-${nameSuffix(p.key)}`,
                { appRoleId: DEFAULT_ACCESS_APP_ROLE_ID, principalObjectId: this.principalObjectIds[p.key]!, resourceObjectId: uiSp.objectId },
                { parent: this, ...renamed(`${name}-signin`, nameSuffix(p.key), previousNameSuffix(p.key)) },
            );
        }

        this.tenantId = args.tenantId;
        this.issuerUrl = endpoints.issuerUrl;
        // Through the certificate, so the release switches to this URL only once the key exists.
        this.jwksUrl = pulumi.all([api.clientId, signingKey.thumbprint]).apply(([id]) => applicationJwksUrl(args.tenantId, id));
        this.tokenSigningKeyThumbprint = signingKey.thumbprint;
        this.tokenSigningKeyEndDate = signingKey.endDate;
        this.apiClientId = api.clientId;
        this.apiIdentifierUri = apiUri.identifierUri;
        this.apiScope = pulumi.all([api.clientId, apiUri.identifierUri]).apply(([id]) => apiScope(id));
        this.apiAppOnlyScope = pulumi.all([api.clientId, apiUri.identifierUri]).apply(([id]) => apiAppOnlyScope(id));
        this.uiClientId = ui.clientId;
        this.uiScopes = pulumi.all([api.clientId, apiUri.identifierUri]).apply(([id]) => uiScopes(id));
        this.uiScopesString = this.uiScopes.apply(uiScopesEnvValue);

        this.registerOutputs({
            tenantId: this.tenantId,
            issuerUrl: this.issuerUrl,
            jwksUrl: this.jwksUrl,
            tokenSigningKeyThumbprint: this.tokenSigningKeyThumbprint,
            tokenSigningKeyEndDate: this.tokenSigningKeyEndDate,
            apiClientId: this.apiClientId,
            apiIdentifierUri: this.apiIdentifierUri,
            apiScope: this.apiScope,
            uiClientId: this.uiClientId,
            uiCallbackUrl: this.uiCallbackUrl,
            uiScopes: this.uiScopesString,
            uiClientSecret: this.uiClientSecret,
            workerClientIds: Object.fromEntries(Object.entries(this.workers).map(([n, w]) => [n, w.clientId])),
        });
    }

    private workerIdentity(name: string, worker: WorkerConfig, args: TemporalIdentityArgs, owners: pulumi.Input<string>[]): WorkerIdentity {
        const base = `${name}-worker-${worker.name}`;
        if (worker.runsOn === "aks") {
            if (args.oidcIssuerUrl === undefined) {
                throw new Error(
                    `worker "${worker.name}" runs on AKS but TemporalIdentity got no oidcIssuerUrl: pass the cluster's OIDC issuer (kubernetes.oidcIssuerUrl, or the AKS cluster's oidcIssuerProfile.issuerUrl)`,
                );
            }
            const identity = new managedidentity.UserAssignedIdentity(
                base,
                { resourceGroupName: args.resourceGroupName, location: args.location, resourceName: managedIdentityName(args.stack, worker.name) },
                { parent: this },
            );
            new managedidentity.FederatedIdentityCredential(
                `${base}-federation`,
                {
                    resourceGroupName: args.resourceGroupName,
                    resourceName: identity.name,
                    federatedIdentityCredentialResourceName: `kubernetes-${worker.kubernetesNamespace}`,
                    issuer: args.oidcIssuerUrl,
                    subject: workloadIdentitySubject(worker),
                    audiences: [TOKEN_EXCHANGE_AUDIENCE],
                },
                { parent: this },
            );
            return { clientId: identity.clientId, principalId: identity.principalId, kind: "managed-identity" };
        }
        const pem = args.workerCertificatesPem[worker.name];
        if (pem === undefined) {
            throw new Error(`worker "${worker.name}" runs outside AKS, so its app registration needs its client certificate: pass workerCertificatesPem["${worker.name}"] from the PKI`);
        }
        const app = new azuread.Application(base, { displayName: displayNames(args.stack).worker(worker.name), signInAudience: "AzureADMyOrg", owners }, { parent: this });
        const leaf = pulumi.output(pem).apply(leafCertificatePem);
        const validity = leaf.apply(certificateValidity);
        new azuread.ApplicationCertificate(
            `${base}-certificate`,
            { applicationId: app.id, type: "AsymmetricX509Cert", encoding: "pem", value: leaf, startDate: validity.startDate, endDate: validity.endDate },
            { parent: this },
        );
        // Nobody needs a token for the worker's own app; requiring assignment keeps it that way.
        const sp = new azuread.ServicePrincipal(`${base}-sp`, { clientId: app.clientId, appRoleAssignmentRequired: true, owners }, { parent: this });
        return { clientId: app.clientId, principalId: sp.objectId, kind: "app-registration" };
    }

    private objectIdOf(p: Principal): pulumi.Output<string> {
        switch (p.kind) {
            case "group":
                return p.byObjectId
                    ? pulumi.output(p.value.toLowerCase())
                    : azuread.getGroupOutput({ displayName: p.value, securityEnabled: true }, { parent: this }).objectId;
            case "user":
                return azuread.getUserOutput({ userPrincipalName: p.value }, { parent: this }).objectId;
            case "worker": {
                const w = this.workers[p.value];
                if (!w) throw new Error(`access.grants: worker "${p.value}" is not declared in workers`);
                return w.principalId;
            }
        }
    }
}

/** User-assigned identity names: letters, digits, hyphens and underscores, 3–128 characters. */
export function managedIdentityName(stack: string, worker: string): string {
    return `id-temporal-${stack}-${worker}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 128);
}
