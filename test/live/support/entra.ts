import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

/**
 * A local stand-in for a tenant's token issuer, with Entra ID's two kinds of signing keys: the
 * shared keys (`/<tenant>/discovery/v2.0/keys`, the same for every tenant, signing every
 * application's tokens) and the API's application-specific key (`?appid=<api client id>`, holding
 * only that key), which signs the tokens issued for the API once its service principal has a token
 * signing certificate, as the deployment gives it. Tokens are shaped like Entra ID v2 access
 * tokens: iss, tid, aud = the API's client id, azp, oid, sub, roles (and scp for a user signed in
 * through the UI). Real signatures, verified by the real validator and the real server through a
 * real JWKS fetch. `token()` can mint what another application, another tenant, a v1 endpoint or
 * an expired session would present: anything not issued for the API by its own tenant is signed
 * with the shared key, as Entra signs it.
 */
export interface FakeEntra {
    tenantId: string;
    apiClientId: string;
    /** What the deployment configures (keySourceURIs): the API's own keys, `?appid=<api client id>`. */
    jwksUrl: string;
    /** The tenant-wide key set: Entra's shared keys. */
    tenantJwksUrl: string;
    /** The v2 issuer of `tenantId` (or of another tenant). */
    issuer(tenantId?: string): string;
    /** Signs an app token for `clientId`; `roles` undefined omits the claim, as Entra does with no role assigned. */
    appToken(clientId: string, roles: string[] | undefined, extra?: Record<string, unknown>): Promise<string>;
    /** A user's access token obtained through the UI's registration (`azp` = the UI's client id, `scp` = the API's scope). */
    userToken(objectId: string, uiClientId: string, roles: string[] | undefined, extra?: Record<string, unknown>): Promise<string>;
    /** Signs exactly these claims over the v2 defaults (iss, aud, iat, nbf, exp): anything can be overridden or removed (`undefined`). */
    token(claims: Record<string, unknown>): Promise<string>;
    /** Key ids of the shared keys and of the API's own key (equal when `appSigningKey` is off). */
    kids: { shared: string; app: string };
    /** JWKS fetches served so far (the server fetches at start and on its refresh ticker). */
    fetches(): number;
    close(): Promise<void>;
}

export interface FakeEntraOptions {
    /** The tenant (default: a fresh GUID); the JWKS is served at `/<tenant>/discovery/v2.0/keys`. */
    tenantId?: string;
    /** The API registration's client id: the audience of its v2 tokens (default: a fresh GUID). */
    apiClientId?: string;
    /**
     * The API's service principal has a token signing certificate (default true, as deployed): its
     * tokens are signed with a key served only at `?appid=`. false: Entra signs them with the shared
     * keys, and `?appid=` serves the shared keys, as for an application without a key of its own.
     */
    appSigningKey?: boolean;
}

export async function startFakeEntra(options: FakeEntraOptions = {}): Promise<FakeEntra> {
    const tenantId = options.tenantId ?? randomUUID();
    const apiClientId = options.apiClientId ?? randomUUID();
    const appSigningKey = options.appSigningKey ?? true;
    const keyPair = async (kid: string) => {
        const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
        return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
    };
    const shared = await keyPair(`shared-${randomUUID().slice(0, 8)}`);
    const app = appSigningKey ? await keyPair(`app-${randomUUID().slice(0, 8)}`) : shared;
    const sharedBody = JSON.stringify({ keys: [shared.jwk] });
    const appBody = JSON.stringify({ keys: [app.jwk] });
    let fetches = 0;
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(url.pathname)) {
            fetches++;
            const appid = url.searchParams.get("appid");
            const own = appid !== null && appid.toLowerCase() === apiClientId.toLowerCase() && url.pathname === `/${tenantId}/discovery/v2.0/keys`;
            res.writeHead(200, { "content-type": "application/json" }).end(own ? appBody : sharedBody);
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const issuer = (tenant = tenantId) => `https://login.microsoftonline.com/${tenant}/v2.0`;
    const sign = (claims: Record<string, unknown>) => {
        // Entra backdates iat and nbf by about five minutes.
        const now = Math.floor(Date.now() / 1000);
        const standard = { iss: issuer(), aud: apiClientId, iat: now - 300, nbf: now - 300, exp: now + 3600 };
        const merged = Object.fromEntries(Object.entries({ ...standard, ...claims }).filter(([, v]) => v !== undefined));
        // Only the API's own tenant issues tokens for the API (a single-tenant registration); all else is the shared keys'.
        const forApi = merged.aud === apiClientId && merged.iss === issuer() && (merged.tid === undefined || merged.tid === tenantId);
        const key = forApi ? app : shared;
        return new SignJWT(merged).setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" }).sign(key.privateKey);
    };
    return {
        tenantId,
        apiClientId,
        jwksUrl: `http://127.0.0.1:${port}/${tenantId}/discovery/v2.0/keys?appid=${apiClientId}`,
        tenantJwksUrl: `http://127.0.0.1:${port}/${tenantId}/discovery/v2.0/keys`,
        kids: { shared: shared.kid, app: app.kid },
        issuer,
        appToken: (clientId, roles, extra = {}) => {
            const oid = randomUUID();
            return sign({ tid: tenantId, azp: clientId, azpacr: "2", oid, sub: oid, ver: "2.0", uti: randomUUID(), ...(roles ? { roles } : {}), ...extra });
        },
        userToken: (objectId, uiClientId, roles, extra = {}) =>
            // sub is pairwise (per app) for users: not the object id.
            sign({ tid: tenantId, azp: uiClientId, azpacr: "1", oid: objectId, sub: randomUUID(), scp: "default", ver: "2.0", uti: randomUUID(), ...(roles ? { roles } : {}), ...extra }),
        token: (claims) => sign(claims),
        fetches: () => fetches,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
