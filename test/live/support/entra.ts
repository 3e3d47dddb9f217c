import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

/**
 * A local stand-in for a tenant's token issuer: an RS256 key whose JWKS is served over HTTP on
 * 127.0.0.1 (as login.microsoftonline.com serves the tenant's keys), and tokens shaped like Entra ID
 * v2 access tokens for an app (client credentials): iss, tid, aud = the API's client id, azp, oid,
 * sub, roles. Real signatures, verified by the real validator through the real JWKS fetch.
 */
export interface FakeEntra {
    tenantId: string;
    apiClientId: string;
    jwksUrl: string;
    /** Signs an app token for `clientId`; `roles` undefined omits the claim, as Entra does with no role assigned. */
    appToken(clientId: string, roles: string[] | undefined, extra?: Record<string, unknown>): Promise<string>;
    close(): Promise<void>;
}

export async function startFakeEntra(): Promise<FakeEntra> {
    const tenantId = randomUUID();
    const apiClientId = randomUUID();
    const kid = `test-${randomUUID().slice(0, 8)}`;
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
    const body = JSON.stringify({ keys: [jwk] });
    const server = http.createServer((req, res) => {
        if (req.url === `/${tenantId}/discovery/v2.0/keys`) {
            res.writeHead(200, { "content-type": "application/json" }).end(body);
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const sign = (claims: Record<string, unknown>, key: CryptoKey) => {
        // Entra backdates iat and nbf by about five minutes.
        const now = Math.floor(Date.now() / 1000);
        const standard = { iss: `https://login.microsoftonline.com/${tenantId}/v2.0`, aud: apiClientId, iat: now - 300, nbf: now - 300, exp: now + 3600 };
        return new SignJWT({ ...standard, ...claims }).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(key);
    };
    return {
        tenantId,
        apiClientId,
        jwksUrl: `http://127.0.0.1:${port}/${tenantId}/discovery/v2.0/keys`,
        appToken: (clientId, roles, extra = {}) => {
            const oid = randomUUID();
            return sign({ tid: tenantId, azp: clientId, azpacr: "2", oid, sub: oid, ver: "2.0", uti: randomUUID(), ...(roles ? { roles } : {}), ...extra }, privateKey);
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
