import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KeyObject, createHmac, sign as cryptoSign } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from "jose";

/** Real key pairs made for the tests, with their public JWKs. */
export interface TestKey {
    alg: "RS256" | "ES256";
    kid: string;
    privateKey: KeyObject;
    publicJwk: JWK;
}

export async function makeKey(alg: "RS256" | "ES256", kid: string, options: { modulusLength?: number } = {}): Promise<TestKey> {
    const pair = await generateKeyPair(alg, { extractable: true, ...(options.modulusLength ? { modulusLength: options.modulusLength } : {}) });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" };
    return { alg, kid, privateKey: KeyObject.from(pair.privateKey), publicJwk };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A token signed with jose's SignJWT, the way an issuer makes one. */
export async function signed(key: TestKey, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }).sign(key.privateKey);
}

const b64 = (v: string | Buffer): string => Buffer.from(v).toString("base64url");

/**
 * A token assembled by hand (for shapes SignJWT refuses to make) and really signed: header and
 * payload are objects (JSON-encoded) or raw strings (used as the JSON text); `alg` picks the
 * signature, independent of what the header claims.
 */
export function rawToken(header: unknown, payload: unknown, signer: { alg: "RS256" | "ES256" | "HS256" | "none"; key?: KeyObject; secret?: Buffer | string }): string {
    const h = b64(typeof header === "string" ? header : JSON.stringify(header));
    const p = b64(typeof payload === "string" ? payload : JSON.stringify(payload));
    const input = `${h}.${p}`;
    let sig = "";
    if (signer.alg === "RS256") sig = b64(cryptoSign("sha256", Buffer.from(input), signer.key as KeyObject));
    else if (signer.alg === "ES256") sig = b64(cryptoSign("sha256", Buffer.from(input), { key: signer.key as KeyObject, dsaEncoding: "ieee-p1363" }));
    else if (signer.alg === "HS256") sig = b64(createHmac("sha256", signer.secret ?? "").update(input).digest());
    return `${input}.${sig}`;
}

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

/** A JWKS endpoint on 127.0.0.1 whose behaviour a test can change between requests. */
export interface JwksServer {
    url: string;
    requests: number;
    /** Answer with this (default: the current JWK set). */
    respond: (req: IncomingMessage, res: ServerResponse) => void;
    setKeys(keys: JWK[]): void;
    close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
    let body = JSON.stringify({ keys });
    const state: JwksServer = {
        url: "",
        requests: 0,
        respond: (_req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(body);
        },
        setKeys(next) {
            body = JSON.stringify({ keys: next });
        },
        close: async () => undefined,
    };
    const server: Server = createServer((req, res) => {
        state.requests++;
        state.respond(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    state.url = `http://127.0.0.1:${port}/keys`;
    state.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return state;
}

/** A deterministic PRNG (mulberry32) so that fuzz failures reproduce. */
export function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
