/** Where Entra ID's v2 endpoint publishes a tenant's issuer and keys. */
export interface EntraEndpoints {
    /** `iss` of v2 tokens. */
    issuerUrl: string;
    /** `iss` of v1 tokens (accepted only where v1 is allowed: the mapper's `acceptV1`). */
    v1IssuerUrl: string;
    /** The tenant's signing keys: Entra's shared keys, which sign tokens for every tenant's applications. */
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

/**
 * The JWKS of one application's own signing keys (`?appid=`): where Entra publishes the custom
 * signing key of an application whose service principal has one, and nothing of the keys shared by
 * every tenant. A server that reads only this URL cannot verify a token minted for any other
 * application or tenant, whatever its audience: the defence on calls where server v1.31.2 skips the
 * audience check (streams, Nexus HTTP).
 */
export function applicationJwksUrl(tenantId: string, appId: string): string {
    return `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys?appid=${appId}`;
}

/** The tenant and application of an `applicationJwksUrl`; undefined for any other URL (the tenant-wide key set included). */
export function parseApplicationJwksUrl(url: string): { tenantId: string; appId: string } | undefined {
    const m = /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\/discovery\/v2\.0\/keys\?appid=([0-9a-f-]{36})$/i.exec(url);
    return m ? { tenantId: m[1]!, appId: m[2]! } : undefined;
}
