import { createHash } from "node:crypto";
import { DEFAULT_IDENTITY, emulatedNow, isSecretEnvelope, rfc3339, stableGuid, type CallEmulator, type Emulator } from "../engine";

/**
 * Entra ID as the offline engine sees it: what Microsoft Graph would assign (client ids, object
 * ids, key ids, secret values) derived from the resource's logical name, so two runs of the same
 * program give the same ids. Also the Azure resources that exist only for workload identity
 * (user-assigned managed identities, their federated credentials) and the `time` provider's
 * rotation schedule that drives the UI secret.
 */

type Inputs = Record<string, unknown>;

interface DirectoryObject {
    type: "Application" | "ServicePrincipal" | "Group" | "User";
    displayName: string;
}

/** Applications by client id: service principals read their app roles from here. */
const applications = new Map<string, Inputs>();
/** Every object id handed out, so role assignments can report the principal's type and name. */
const directory = new Map<string, DirectoryObject>();

/** The mock runtime hands secret inputs over in Pulumi's secret envelope. */
const plain = (v: unknown): unknown => (isSecretEnvelope(v) ? v.value : v);
const str = (v: unknown): string | undefined => {
    const p = plain(v);
    return typeof p === "string" ? p : undefined;
};
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** Graph's object id for a resource: the engine's own id for it, so `id` and `objectId` agree. */
const objectIdOf = (args: { type: string; name: string }) => stableGuid(`${args.type}/${args.name}`);


/** A client secret in Entra's shape (3 characters, "8Q~", 34 more), deterministic per seed. */
export function emulatedClientSecret(seed: string): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~";
    const bytes = createHash("sha256").update(`client-secret/${seed}`).digest();
    const chars = [...bytes, ...createHash("sha256").update(bytes).digest()].map((b) => alphabet[b % alphabet.length]);
    return `${chars.slice(0, 3).join("")}8Q~${chars.slice(3, 37).join("")}`;
}

function valueToId(entries: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of list<Inputs>(entries)) {
        const value = str(e.value);
        const id = str(e.id);
        if (value !== undefined && id !== undefined) out[value] = id;
    }
    return out;
}

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const azureadEmulators: Record<string, Emulator> = {
    "azuread:index/application:Application": (args) => {
        const inputs = args.inputs as Inputs;
        const objectId = objectIdOf(args);
        const clientId = stableGuid(`${args.type}/${args.name}/clientId`);
        const api = (inputs.api ?? {}) as Inputs;
        const state = {
            objectId,
            clientId,
            appRoleIds: valueToId(inputs.appRoles),
            oauth2PermissionScopeIds: valueToId(api.oauth2PermissionScopes),
            identifierUris: list<string>(inputs.identifierUris),
            disabledByMicrosoft: "",
            publisherDomain: "contoso.onmicrosoft.com",
            logoUrl: "",
            templateId: "",
            tags: list<string>(inputs.tags),
            featureTags: [],
        };
        applications.set(clientId, { ...inputs, ...state });
        directory.set(objectId, { type: "Application", displayName: str(inputs.displayName) ?? args.name });
        return state;
    },
    "azuread:index/servicePrincipal:ServicePrincipal": (args) => {
        const inputs = args.inputs as Inputs;
        const clientId = str(inputs.clientId) ?? "";
        const app = applications.get(clientId) ?? {};
        const objectId = objectIdOf(args);
        const displayName = str(app.displayName) ?? args.name;
        directory.set(objectId, { type: "ServicePrincipal", displayName });
        const api = (app.api ?? {}) as Inputs;
        return {
            objectId,
            displayName,
            applicationTenantId: DEFAULT_IDENTITY.tenantId,
            appRoles: list(app.appRoles),
            appRoleIds: valueToId(app.appRoles),
            oauth2PermissionScopes: list(api.oauth2PermissionScopes),
            oauth2PermissionScopeIds: valueToId(api.oauth2PermissionScopes),
            servicePrincipalNames: [clientId, ...list<string>(app.identifierUris)],
            signInAudience: str(app.signInAudience) ?? "AzureADMyOrg",
            redirectUris: list<string>(((app.web ?? {}) as Inputs).redirectUris),
            type: "Application",
            homepageUrl: "",
            loginUrl: "",
            logoutUrl: "",
            samlMetadataUrl: "",
            tags: [],
            features: [],
            featureTags: [],
        };
    },
    "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri": () => ({}),
    "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized": () => ({}),
    "azuread:index/applicationPassword:ApplicationPassword": (args) => {
        const inputs = args.inputs as Inputs;
        // A new rotation trigger gives a new secret, as the replacement it causes would.
        const seed = JSON.stringify([args.name, inputs.rotateWhenChanged ?? {}]);
        return {
            keyId: stableGuid(`password/${seed}`),
            value: emulatedClientSecret(seed),
            startDate: str(inputs.startDate) ?? rfc3339(emulatedNow()),
            endDate: str(inputs.endDate) ?? rfc3339(new Date(emulatedNow().getTime() + 730 * 86_400_000)),
        };
    },
    "azuread:index/applicationCertificate:ApplicationCertificate": (args) => ({
        keyId: str((args.inputs as Inputs).keyId) ?? stableGuid(`certificate/${args.name}/${str((args.inputs as Inputs).value) ?? ""}`),
    }),
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (args) => ({
        credentialId: stableGuid(`federated-credential/${args.name}`),
    }),
    "azuread:index/appRoleAssignment:AppRoleAssignment": (args) => {
        const inputs = args.inputs as Inputs;
        const principal = directory.get(str(inputs.principalObjectId) ?? "");
        const resource = directory.get(str(inputs.resourceObjectId) ?? "");
        return {
            // Users and service principals are always looked up or created here; only a group given by object id is not.
            principalType: principal?.type ?? "Group",
            principalDisplayName: principal?.displayName ?? "",
            resourceDisplayName: resource?.displayName ?? "",
        };
    },
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": () => ({}),
    "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate": (args) => {
        const inputs = args.inputs as Inputs;
        const seed = `token-signing-certificate/${args.name}/${str(inputs.displayName) ?? ""}`;
        // Graph generates the certificate and keeps its private key; what it returns is its identity and dates.
        return {
            keyId: stableGuid(seed),
            thumbprint: createHash("sha1").update(seed).digest("hex").toUpperCase(),
            displayName: str(inputs.displayName) ?? "CN=Microsoft Azure Federated SSO Certificate",
            startDate: rfc3339(emulatedNow()),
            endDate: str(inputs.endDate) ?? rfc3339(new Date(emulatedNow().getTime() + 1095 * 86_400_000)),
        };
    },

    "azure-native:managedidentity:UserAssignedIdentity": (args) => {
        const inputs = args.inputs as Inputs;
        const principalId = stableGuid(`${args.type}/${args.name}/principalId`);
        const name = str(inputs.resourceName) ?? args.name;
        directory.set(principalId, { type: "ServicePrincipal", displayName: name });
        return {
            name,
            clientId: stableGuid(`${args.type}/${args.name}/clientId`),
            principalId,
            tenantId: DEFAULT_IDENTITY.tenantId,
            type: "Microsoft.ManagedIdentity/userAssignedIdentities",
            azureApiVersion: "2023-01-31",
        };
    },
    "azure-native:managedidentity:FederatedIdentityCredential": (args) => ({
        name: str((args.inputs as Inputs).federatedIdentityCredentialResourceName) ?? args.name,
        type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        azureApiVersion: "2023-01-31",
    }),

    "time:index/rotating:Rotating": (args) => {
        const inputs = args.inputs as Inputs;
        const start = str(inputs.rfc3339) !== undefined ? new Date(str(inputs.rfc3339)!) : emulatedNow();
        const next = new Date(start);
        const n = (k: string) => (typeof inputs[k] === "number" ? (inputs[k] as number) : 0);
        next.setUTCFullYear(next.getUTCFullYear() + n("rotationYears"), next.getUTCMonth() + n("rotationMonths"), next.getUTCDate() + n("rotationDays"));
        next.setUTCHours(next.getUTCHours() + n("rotationHours"), next.getUTCMinutes() + n("rotationMinutes"));
        return {
            rfc3339: rfc3339(start),
            rotationRfc3339: str(inputs.rotationRfc3339) ?? rfc3339(next),
            year: start.getUTCFullYear(),
            month: start.getUTCMonth() + 1,
            day: start.getUTCDate(),
            hour: start.getUTCHours(),
            minute: start.getUTCMinutes(),
            second: start.getUTCSeconds(),
            unix: Math.floor(start.getTime() / 1000),
        };
    },
};

/** What these emulators compute from the clock (ids and secret values are derived from names, so they repeat). */
export const azureadVolatile: Record<string, string[]> = {
    "azuread:index/applicationPassword:ApplicationPassword": ["startDate", "endDate"],
    "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate": ["startDate", "endDate"],
    "time:index/rotating:Rotating": ["rfc3339", "rotationRfc3339", "year", "month", "day", "hour", "minute", "second", "unix"],
};

/** Object id Graph would return for a group display name (stable per name, case-insensitive like Graph's filter). */
export function emulatedGroupObjectId(displayName: string): string {
    return stableGuid(`group/${displayName.toLowerCase()}`);
}

/** Object id Graph would return for a user principal name. */
export function emulatedUserObjectId(userPrincipalName: string): string {
    return stableGuid(`user/${userPrincipalName.toLowerCase()}`);
}

/** Object id of Microsoft Graph's service principal in the emulated tenant. */
export const EMULATED_GRAPH_OBJECT_ID = stableGuid("service-principal/00000003-0000-0000-c000-000000000000");

/** Provider functions (invokes) answered locally. */
export const azureadCalls: Record<string, CallEmulator> = {
    "azuread:index/getGroup:getGroup": (inputs) => {
        const displayName = str(inputs.displayName);
        const given = str(inputs.objectId);
        if (displayName === undefined && given === undefined) throw new Error("getGroup: one of displayName or objectId is required");
        const objectId = given?.toLowerCase() ?? emulatedGroupObjectId(displayName!);
        const name = displayName ?? `Group ${objectId.slice(0, 8)}`;
        directory.set(objectId, { type: "Group", displayName: name });
        return {
            id: objectId,
            objectId,
            displayName: name,
            securityEnabled: inputs.securityEnabled ?? true,
            mailEnabled: inputs.mailEnabled ?? false,
            mailNickname: name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
            description: "",
            members: [],
            owners: [],
            types: [],
            behaviors: [],
            provisioningOptions: [],
            proxyAddresses: [],
            dynamicMemberships: [],
            visibility: "Private",
            assignableToRole: false,
        };
    },
    "azuread:index/getUser:getUser": (inputs) => {
        const upn = str(inputs.userPrincipalName);
        const given = str(inputs.objectId);
        if (upn === undefined && given === undefined) throw new Error("getUser: userPrincipalName or objectId is required (the program looks users up by UPN)");
        const objectId = given?.toLowerCase() ?? emulatedUserObjectId(upn!);
        const userPrincipalName = upn ?? `${objectId.slice(0, 8)}@contoso.example`;
        const local = userPrincipalName.split("@")[0] ?? userPrincipalName;
        const displayName = local.charAt(0).toUpperCase() + local.slice(1);
        directory.set(objectId, { type: "User", displayName });
        return {
            id: objectId,
            objectId,
            userPrincipalName,
            displayName,
            mail: userPrincipalName,
            mailNickname: local,
            accountEnabled: true,
            userType: "Member",
            businessPhones: [],
            imAddresses: [],
            otherMails: [],
            proxyAddresses: [],
        };
    },
    "azuread:index/getServicePrincipal:getServicePrincipal": (inputs) => {
        const clientId = str(inputs.clientId);
        if (clientId === "00000003-0000-0000-c000-000000000000") {
            directory.set(EMULATED_GRAPH_OBJECT_ID, { type: "ServicePrincipal", displayName: "Microsoft Graph" });
            return { id: EMULATED_GRAPH_OBJECT_ID, objectId: EMULATED_GRAPH_OBJECT_ID, clientId, displayName: "Microsoft Graph", appRoleIds: {}, oauth2PermissionScopeIds: {} };
        }
        const seed = clientId ?? str(inputs.objectId) ?? str(inputs.displayName);
        if (seed === undefined) throw new Error("getServicePrincipal: one of clientId, objectId or displayName is required");
        const objectId = str(inputs.objectId) ?? stableGuid(`service-principal/${seed}`);
        const app = clientId !== undefined ? applications.get(clientId) : undefined;
        return {
            id: objectId,
            objectId,
            clientId: clientId ?? stableGuid(`service-principal-client/${seed}`),
            displayName: str(inputs.displayName) ?? str(app?.displayName) ?? seed,
            appRoleIds: valueToId(app?.appRoles),
            oauth2PermissionScopeIds: {},
        };
    },
};
