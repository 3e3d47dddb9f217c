import { createHash } from "node:crypto";
import { emulatedUserObjectId } from "../../../scripts/lib/offline/emulators/azuread";
import type { PlannedStack } from "../../upstream/plan";

/**
 * The Entra ID tenant a planned stack would create, read from its planned `azuread:` resources
 * (never from the stack's config): the API and UI app registrations, their service principals,
 * the UI's client secret, the pre-authorization of the UI on the API's scope, and every app-role
 * assignment. The local OpenID provider issues tokens from this and nothing else, so a wrong
 * redirect URI, scope, role value or assignment in the program shows up as a failed sign-in.
 *
 * Users are the access map's, with the object ids the plan looked up (the offline engine's Graph).
 * Group members are not part of the plan (the stack assigns groups, Entra resolves membership), so
 * each assigned group gets one member account here; one more account is in the tenant with no
 * assignment at all.
 */

type Resource = PlannedStack["entra"][number];

/** The app role every app has when it declares none for users ("Default Access"). */
export const DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000";

export interface EntraAccount {
    /** What the user types at the sign-in page (user principal name). */
    login: string;
    objectId: string;
    displayName: string;
    /** Object ids of the groups the account is a member of. */
    memberOf: string[];
    /** How the account came to be in this directory (for messages and screenshots). */
    origin: string;
}

export interface AppRoleAssignment {
    principalObjectId: string;
    resourceObjectId: string;
    appRoleId: string;
}

export interface EntraDirectory {
    tenantId: string;
    /** The domain of the tenant's user principal names. */
    domain: string;
    api: {
        clientId: string;
        /** `api://<client id>`. */
        identifierUri: string;
        /** The delegated scope's value (`default`) and id. */
        scope: { value: string; id: string };
        /** App-role values by role id, enabled roles only. */
        roleValues: Map<string, string>;
        servicePrincipalObjectId: string;
        assignmentRequired: boolean;
    };
    ui: {
        clientId: string;
        displayName: string;
        clientSecrets: string[];
        redirectUris: string[];
        servicePrincipalObjectId: string;
        assignmentRequired: boolean;
        /** Scope ids of the API the UI is pre-authorized for (no consent prompt). */
        preAuthorizedScopeIds: string[];
    };
    accounts: EntraAccount[];
    assignments: AppRoleAssignment[];
}

const str = (v: unknown, what: string): string => {
    if (typeof v !== "string" || v === "") throw new Error(`the planned Entra objects have no ${what}`);
    return v;
};

function one(resources: Resource[], type: string, name: string): Resource {
    const found = resources.filter((r) => r.type === `azuread:index/${type}` && r.name.endsWith(name));
    if (found.length !== 1) throw new Error(`expected one planned ${type} named *${name}, found ${found.length}`);
    return found[0]!;
}

/** A stable object id for an account the plan does not create (a group member, the unassigned user). */
function objectIdFor(seed: string): string {
    const h = createHash("sha256").update(`directory/${seed}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function entraDirectory(plan: PlannedStack): EntraDirectory {
    const r = plan.entra;
    const apiApp = one(r, "application:Application", "-api").state;
    const uiApp = one(r, "application:Application", "-ui").state;
    const apiSp = r.find((x) => x.type === "azuread:index/servicePrincipal:ServicePrincipal" && x.state.clientId === apiApp.clientId)?.state;
    const uiSp = r.find((x) => x.type === "azuread:index/servicePrincipal:ServicePrincipal" && x.state.clientId === uiApp.clientId)?.state;
    if (!apiSp || !uiSp) throw new Error("the plan has no service principal for the API or the UI registration");
    const identifierUri = r.find((x) => x.type === "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri" && x.state.applicationId === apiApp.objectId)?.state.identifierUri;
    const scopes = ((apiApp.api as { oauth2PermissionScopes?: { id: string; value: string; enabled: boolean }[] } | undefined)?.oauth2PermissionScopes ?? []).filter((s) => s.enabled);
    if (scopes.length !== 1) throw new Error(`the API registration declares ${scopes.length} enabled delegated scopes; the UI needs exactly one`);
    const roles = (apiApp.appRoles ?? []) as { id: string; value: string; enabled: boolean }[];
    const secrets = r.filter((x) => x.type === "azuread:index/applicationPassword:ApplicationPassword" && x.state.applicationId === uiApp.objectId).map((x) => str(x.state.value, "UI client secret value"));
    const preAuthorized = r
        .filter((x) => x.type === "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized" && x.state.applicationId === apiApp.objectId && x.state.authorizedClientId === uiApp.clientId)
        .flatMap((x) => (x.state.permissionIds ?? []) as string[]);
    const assignments: AppRoleAssignment[] = r
        .filter((x) => x.type === "azuread:index/appRoleAssignment:AppRoleAssignment")
        .map((x) => ({ principalObjectId: str(x.state.principalObjectId, "principal"), resourceObjectId: str(x.state.resourceObjectId, "resource"), appRoleId: str(x.state.appRoleId, "app role") }));

    // Users and groups assigned anywhere; the UPNs come from the access map (Entra looked them up by UPN).
    const upns = ((plan.raw.access as { grants?: { user?: string }[] } | undefined)?.grants ?? []).flatMap((g) => (g.user ? [g.user] : []));
    const domain = upns[0]?.split("@")[1] ?? "contoso.example";
    const principals = new Map<string, { type: string; displayName: string }>();
    for (const x of r.filter((y) => y.type === "azuread:index/appRoleAssignment:AppRoleAssignment")) {
        principals.set(String(x.state.principalObjectId), { type: String(x.state.principalType), displayName: String(x.state.principalDisplayName ?? "") });
    }
    const accounts: EntraAccount[] = [];
    for (const [objectId, p] of principals) {
        if (p.type === "User") {
            const upn = upns.find((u) => emulatedUserObjectId(u) === objectId);
            accounts.push({ login: upn ?? `${p.displayName.toLowerCase()}@${domain}`, objectId, displayName: p.displayName, memberOf: [], origin: `user ${p.displayName} of the access map` });
        } else if (p.type === "Group") {
            const name = p.displayName || objectId;
            const local = `member.${objectId.slice(0, 8)}`;
            accounts.push({ login: `${local}@${domain}`, objectId: objectIdFor(local), displayName: `Member of ${name}`, memberOf: [objectId], origin: `a member of group ${name}` });
        }
    }
    accounts.push({ login: `outsider@${domain}`, objectId: objectIdFor("outsider"), displayName: "Outsider", memberOf: [], origin: "a user of the tenant with no assignment" });

    return {
        tenantId: str((plan.raw.azure as { tenantId?: string } | undefined)?.tenantId, "tenant id"),
        domain,
        api: {
            clientId: str(apiApp.clientId, "API client id"),
            identifierUri: str(identifierUri, "API identifier URI"),
            scope: { value: scopes[0]!.value, id: scopes[0]!.id },
            roleValues: new Map(roles.filter((x) => x.enabled).map((x) => [x.id, x.value])),
            servicePrincipalObjectId: str(apiSp.objectId, "API service principal"),
            assignmentRequired: apiSp.appRoleAssignmentRequired === true,
        },
        ui: {
            clientId: str(uiApp.clientId, "UI client id"),
            displayName: str(uiApp.displayName, "UI display name"),
            clientSecrets: secrets,
            redirectUris: ((uiApp.web as { redirectUris?: string[] } | undefined)?.redirectUris ?? []).slice(),
            servicePrincipalObjectId: str(uiSp.objectId, "UI service principal"),
            assignmentRequired: uiSp.appRoleAssignmentRequired === true,
            preAuthorizedScopeIds: preAuthorized,
        },
        accounts,
        assignments,
    };
}

/**
 * The app-role assignments that reach an account on a service principal: its own and its groups'
 * (Entra puts group-assigned roles in members' tokens). `undefined` when nothing is assigned.
 */
export function assignmentsOf(dir: EntraDirectory, account: EntraAccount, servicePrincipalObjectId: string): AppRoleAssignment[] | undefined {
    const ids = new Set([account.objectId, ...account.memberOf]);
    const found = dir.assignments.filter((a) => a.resourceObjectId === servicePrincipalObjectId && ids.has(a.principalObjectId));
    return found.length ? found : undefined;
}

/** The `roles` claim of the account's access token for the API: role values, sorted; `undefined` (no claim) without one. */
export function apiRolesOf(dir: EntraDirectory, account: EntraAccount): string[] | undefined {
    const values = (assignmentsOf(dir, account, dir.api.servicePrincipalObjectId) ?? []).flatMap((a) => {
        const v = dir.api.roleValues.get(a.appRoleId);
        return v === undefined ? [] : [v];
    });
    return values.length ? [...new Set(values)].sort() : undefined;
}

export function accountByLogin(dir: EntraDirectory, login: string): EntraAccount | undefined {
    return dir.accounts.find((a) => a.login.toLowerCase() === login.trim().toLowerCase());
}
