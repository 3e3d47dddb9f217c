/**
 * Which input changes make the provider replace a resource rather than update it in place: the
 * force-new properties of each type this program registers, from the providers' schemas and
 * behaviour (Pulumi shows these as `+-` in a preview). It is a prediction for the review; the real
 * `pulumi preview` asks the provider. A type not listed here is predicted to update in place.
 */

/** Every input forces replacement. */
const ALL = ["*"];

const AZURE_CHILD = (...names: string[]) => ["resourceGroupName", ...names];

export const REPLACE_ON: Record<string, string[]> = {
    // terraform-provider-tls, -random and -time: every argument is RequiresReplace.
    "tls:index/privateKey:PrivateKey": ALL,
    "tls:index/certRequest:CertRequest": ALL,
    "tls:index/selfSignedCert:SelfSignedCert": ALL,
    "tls:index/locallySignedCert:LocallySignedCert": ALL,
    "random:index/randomPassword:RandomPassword": ALL,
    "random:index/randomId:RandomId": ALL,
    "time:index/rotating:Rotating": ["rfc3339"],
    // azuread: credentials and assignments cannot be edited, only recreated.
    "azuread:index/applicationPassword:ApplicationPassword": ALL,
    "azuread:index/applicationCertificate:ApplicationCertificate": ALL,
    "azuread:index/appRoleAssignment:AppRoleAssignment": ALL,
    "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri": ALL,
    "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized": ["applicationId", "authorizedClientId"],
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": ["applicationId", "displayName"],
    "azuread:index/servicePrincipal:ServicePrincipal": ["clientId"],
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": ["servicePrincipalObjectId", "resourceServicePrincipalObjectId", "userObjectId"],
    // azure-native: the resource's name, its parents and its region are its identity.
    "azure-native:resources:ResourceGroup": ["resourceGroupName", "location"],
    "azure-native:keyvault:Vault": AZURE_CHILD("vaultName", "location"),
    "azure-native:keyvault:Secret": AZURE_CHILD("vaultName", "secretName"),
    "azure-native:authorization:RoleAssignment": ["roleAssignmentName", "scope", "principalId", "roleDefinitionId"],
    "azure-native:containerservice:ManagedCluster": AZURE_CHILD("resourceName", "location", "dnsPrefix", "nodeResourceGroup"),
    "azure-native:dbforpostgresql:Server": AZURE_CHILD("serverName", "location", "administratorLogin"),
    "azure-native:dbforpostgresql:Configuration": AZURE_CHILD("serverName", "configurationName"),
    "azure-native:dbforpostgresql:Database": AZURE_CHILD("serverName", "databaseName", "charset", "collation"),
    "azure-native:dbforpostgresql:FirewallRule": AZURE_CHILD("serverName", "firewallRuleName"),
    "azure-native:managedidentity:UserAssignedIdentity": AZURE_CHILD("resourceName", "location"),
    "azure-native:managedidentity:FederatedIdentityCredential": AZURE_CHILD("resourceName", "federatedIdentityCredentialResourceName"),
    // The Key Vault certificate's own diff (infra/pki/keyvault-certificate.ts, diffCertificate).
    "pulumi-nodejs:dynamic/keyvault:Certificate": ["vaultUri", "certificateName"],
    // Kubernetes: an object's name, namespace, kind and the immutable fields of its spec.
    "kubernetes:core/v1:Secret": ["type"],
    "kubernetes:apps/v1:StatefulSet": ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy"],
    "kubernetes:core/v1:Service": ["spec.clusterIP"],
    "kubernetes:helm.sh/v3:Release": ["name", "namespace"],
};

const KUBERNETES_IDENTITY = ["apiVersion", "kind", "metadata.name", "metadata.namespace"];

/** The force-new inputs of a type (`["*"]`: all of them). */
export function replaceOn(type: string): string[] {
    const own = REPLACE_ON[type] ?? [];
    return type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh/") && !type.startsWith("pulumi:") ? [...KUBERNETES_IDENTITY, ...own] : own;
}

/** True when a change at `path` (a `formatPath` path) replaces a resource of `type`. */
export function forcesReplacement(type: string, path: string): boolean {
    return replaceOn(type).some((p) => p === "*" || path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}
