import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

/**
 * A local stand-in for a tenant's token issuer: an RS256 key whose JWKS is served over HTTP on
 * 127.0.0.1 (as login.microsoftonline.com serves the tenant's keys), and tokens shaped like Entra ID
 * v2 access tokens: iss, tid, aud = the API's client id, azp, oid, sub, roles (and scp for a user
 * signed in through the UI). Real signatures, verified by the real validator and the real server
 * through a real JWKS fetch. Like Microsoft's, the key signs for every tenant: `token()` can mint
 * what another tenant, a v1 endpoint or an expired session would present.
 */
export interface FakeEntra {
    tenantId: string;
    apiClientId: string;
    jwksUrl: string;
    /** The v2 issuer of `tenantId` (or of another tenant). */
    issuer(tenantId?: string): string;
    /** Signs an app token for `clientId`; `roles` undefined omits the claim, as Entra does with no role assigned. */
    appToken(clientId: string, roles: string[] | undefined, extra?: Record<string, unknown>): Promise<string>;
    /** A user's access token obtained through the UI's registration (`azp` = the UI's client id, `scp` = the API's scope). */
    userToken(objectId: string, uiClientId: string, roles: string[] | undefined, extra?: Record<string, unknown>): Promise<string>;
    /** Signs exactly these claims over the v2 defaults (iss, aud, iat, nbf, exp): anything can be overridden or removed (`undefined`). */
    token(claims: Record<string, unknown>): Promise<string>;
    /** JWKS fetches served so far (the server fetches at start and on its refresh ticker). */
    fetches(): number;
    close(): Promise<void>;
}

export interface FakeEntraOptions {
    /** The tenant (default: a fresh GUID); the JWKS is served at `/<tenant>/discovery/v2.0/keys`. */
    tenantId?: string;
    /** The API registration's client id: the audience of its v2 tokens (default: a fresh GUID). */
    apiClientId?: string;
}

export async function startFakeEntra(options: FakeEntraOptions = {}): Promise<FakeEntra> {
    const tenantId = options.tenantId ?? randomUUID();
    const apiClientId = options.apiClientId ?? randomUUID();
    const kid = `test-${randomUUID().slice(0, 8)}`;
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
    const body = JSON.stringify({ keys: [jwk] });
    let fetches = 0;
    const server = http.createServer((req, res) => {
        if (req.url === `/${tenantId}/discovery/v2.0/keys`) {
            fetches++;
            res.writeHead(200, { "content-type": "application/json" }).end(body);
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const issuer = (tenant = tenantId) => `https://login.microsoftonline.com/${tenant}/v2.0`;
    const sign = (claims: Record<string, unknown>, key: CryptoKey) => {
        // Entra backdates iat and nbf by about five minutes.
        const now = Math.floor(Date.now() / 1000);
        const standard = { iss: issuer(), aud: apiClientId, iat: now - 300, nbf: now - 300, exp: now + 3600 };
        const merged = Object.fromEntries(Object.entries({ ...standard, ...claims }).filter(([, v]) => v !== undefined));
        return new SignJWT(merged).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(key);
    };
    return {
        tenantId,
        apiClientId,
        jwksUrl: `http://127.0.0.1:${port}/${tenantId}/discovery/v2.0/keys`,
        issuer,
        appToken: (clientId, roles, extra = {}) => {
            const oid = randomUUID();
            return sign({ tid: tenantId, azp: clientId, azpacr: "2", oid, sub: oid, ver: "2.0", uti: randomUUID(), ...(roles ? { roles } : {}), ...extra }, privateKey);
        },
        userToken: (objectId, uiClientId, roles, extra = {}) =>
            // sub is pairwise (per app) for users: not the object id.
            sign({ tid: tenantId, azp: uiClientId, azpacr: "1", oid: objectId, sub: randomUUID(), scp: "default", ver: "2.0", uti: randomUUID(), ...(roles ? { roles } : {}), ...extra }, privateKey),
        token: (claims) => sign(claims, privateKey),
        fetches: () => fetches,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
