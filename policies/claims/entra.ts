/** Where Entra ID's v2 endpoint publishes a tenant's issuer and keys. */
export interface EntraEndpoints {
    /** `iss` of v2 tokens. */
    issuerUrl: string;
    /** `iss` of v1 tokens (accepted only where v1 is allowed: the mapper's `acceptV1`). */
    v1IssuerUrl: string;
    jwksUrl: string;
    /** OIDC discovery document (what the UI's TEMPORAL_AUTH_PROVIDER_URL points at). */
    openIdConfigurationUrl: string;
}

export function entraEndpoints(tenantId: string): EntraEndpoints {
    const base = `https://login.microsoftonline.com/${tenantId}`;
    return {
        issuerUrl: `${base}/v2.0`,
        v1IssuerUrl: `https://sts.windows.net/${tenantId}/`,
        jwksUrl: `${base}/discovery/v2.0/keys`,
        openIdConfigurationUrl: `${base}/v2.0/.well-known/openid-configuration`,
    };
}
