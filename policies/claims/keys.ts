import { createPublicKey, type KeyObject, type VerifyKeyObjectInput } from "node:crypto";
import type { JSONWebKeySet } from "jose";
import { ClaimsError } from "./errors";
import { lookupTable } from "./roles";
import { goDecodeSegment, goTrimSpace } from "./token";

/**
 * Where the claim mapper gets its verification keys: a local JWK set, or JWKS URLs fetched over
 * HTTP(S) the way the server's default token key provider reads them (go-jose's JWK set decoding,
 * RSA and EC keys only, several URLs merged by `kid` with later URLs winning, one failed URL failing
 * the whole refresh, the last good set kept).
 *
 * Where it deliberately differs from the server, it is to serve a validator well and is reported:
 * - the server refreshes on a timer only, so a new `kid` fails until the next tick; this source
 *   also refetches on an unknown `kid`, at most once per cooldown, and says so (`refetched`);
 * - the server keeps the last good set forever; this one only for `maxStaleMs`, then fails closed;
 * - fetches time out and are size-capped; a non-2xx answer is a failed refresh (the server would
 *   decode any JSON body, even of an error page);
 * - x5c/x5t consistency, which go-jose checks, is not checked.
 */

export type KeyType = "RSA" | "EC";

/** One public key, imported once and kept ready for `crypto.verify`. */
export interface VerificationKey {
    kid: string;
    kty: KeyType;
    key: KeyObject;
    /** What `crypto.verify` takes: the key, with IEEE P1363 signatures for ECDSA (as JWS encodes them). */
    verifyInput: KeyObject | VerifyKeyObjectInput;
    /** RSA: modulus size in bits. EC: the curve's field size in bits. */
    bits: number;
    /** EC only: "P-256", "P-384" or "P-521". */
    crv?: string;
    /** Why the server cannot verify any signature with this key (it still loads it). */
    unusable?: string;
    /** Something a reviewer should know about this key. */
    note?: string;
}

export interface KeySet {
    rsa: Map<string, VerificationKey>;
    ec: Map<string, VerificationKey>;
    /** Entries the server skips (private keys, symmetric and OKP keys). */
    ignored: string[];
}

export interface KeySourceOptions {
    /** A JWK set held locally (tests, offline checks). Exactly one of `jwks` / `jwksUri`. */
    jwks?: JSONWebKeySet;
    /** JWKS URLs, as the server's `jwtKeyProvider.keySourceURIs`; blank entries are skipped, as the server does. */
    jwksUri?: string | string[];
    /** Refresh a remote set this often (default 60 min; the server's template default is 1 min). */
    refreshIntervalMs?: number;
    /** Minimum time between fetches caused by an unknown kid or a failed refresh (default 5 min). */
    cooldownMs?: number;
    /** How long the last good set survives failed refreshes before the source fails closed (default 24 h). */
    maxStaleMs?: number;
    /** Per-fetch timeout, headers and body (default 5 s). */
    timeoutMs?: number;
    /** Largest JWKS document accepted (default 512 KiB). */
    maxJwksBytes?: number;
    /** Injectable fetch (tests); defaults to the global fetch. */
    fetch?: typeof fetch;
    /** Clock in epoch milliseconds (tests). */
    now?: () => number;
}

export interface ResolvedKey {
    key?: VerificationKey;
    /** The kid was found only after a refetch the server would not have made. */
    refetched: boolean;
    /** The kid exists, but for the other key type. */
    otherType?: KeyType;
    /** Why a refetch for this kid did not happen or failed. */
    refetchNote?: string;
}

export interface KeySourceStatus {
    kind: "local" | "remote";
    uris: string[];
    /** HTTP fetches started so far (one per URL per refresh). */
    fetches: number;
    loadedAt?: number;
    lastError?: string;
    rsaKids: string[];
    ecKids: string[];
    ignored: string[];
}

export interface KeySource {
    /**
     * Synchronous lookup on the current set: the key; `null` when the set is usable but has no such
     * kid; `undefined` when there is no usable set (cold start, or stale beyond `maxStaleMs`).
     * Starts a background refresh when the set is due.
     */
    peek(kid: string, kty: KeyType): VerificationKey | null | undefined;
    /** Full lookup: loads the set if needed, refetches once per cooldown on an unknown kid. Throws ClaimsError `keys-unavailable` / `jwks-too-large`. */
    resolve(kid: string, kty: KeyType): Promise<ResolvedKey>;
    /** Forces a refresh now (single-flight with any refresh in progress). */
    refresh(): Promise<void>;
    status(): KeySourceStatus;
}

const DEFAULTS = {
    refreshIntervalMs: 60 * 60_000,
    cooldownMs: 5 * 60_000,
    maxStaleMs: 24 * 60 * 60_000,
    timeoutMs: 5_000,
    maxJwksBytes: 512 * 1024,
};

const CURVE_BITS: Readonly<Record<string, number>> = lookupTable({ "P-256": 256, "P-384": 384, "P-521": 521 });

/** The smallest RSA modulus Go's crypto/rsa verifies with (Go 1.24+; the server is built with Go 1.26). */
const GO_RSA_MIN_BITS = 1024;

const bad = (message: string): ClaimsError => new ClaimsError("invalid-options", message);

function describe(v: unknown): string {
    return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/**
 * Decodes a JWK set as go-jose v4 does for the server: any malformed entry or unknown `kty` fails
 * the WHOLE set (the server then keeps its previous keys); private keys, `oct` and `OKP` keys load
 * but the server ignores them. Throws an Error whose message names the entry and the fix.
 */
export function parseJwks(doc: unknown, where: string): KeySet {
    const set: KeySet = { rsa: new Map(), ec: new Map(), ignored: [] };
    if (doc === null) return set;
    if (typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${where} is ${describe(doc)}, not a JWK set object {"keys": [...]}`);
    const keys = (doc as { keys?: unknown }).keys;
    if (keys === undefined || keys === null) return set;
    if (!Array.isArray(keys)) throw new Error(`${where}: "keys" is ${describe(keys)}, not an array`);
    keys.forEach((raw: unknown, i) => {
        const at = `${where}: keys[${i}]`;
        if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${at} is ${describe(raw)}, not a JWK object`);
        const jwk = raw as Record<string, unknown>;
        for (const field of ["kty", "kid", "crv", "n", "e", "x", "y", "alg", "use"]) {
            if (jwk[field] !== undefined && typeof jwk[field] !== "string") throw new Error(`${at}: "${field}" must be a string`);
        }
        const kid = (jwk.kid as string | undefined) ?? "";
        const named = kid === "" ? `${at} (no kid)` : `${at} (kid ${JSON.stringify(kid)})`;
        switch (jwk.kty) {
            case "RSA": {
                if (jwk.d !== undefined) return void set.ignored.push(`${named}: a private RSA key; the server ignores it (and it must not be published)`);
                const n = typeof jwk.n === "string" ? goDecodeSegment(jwk.n.replace(/=+$/, "")) : undefined;
                const e = typeof jwk.e === "string" ? goDecodeSegment(jwk.e.replace(/=+$/, "")) : undefined;
                if (!n || !e || n.length === 0 || e.length === 0) throw new Error(`${named}: an RSA key needs base64url "n" and "e"`);
                let key: KeyObject;
                try {
                    key = createPublicKey({ key: { kty: "RSA", n: jwk.n as string, e: jwk.e as string }, format: "jwk" });
                } catch (err) {
                    throw new Error(`${named}: not a usable RSA public key (${(err as Error).message})`);
                }
                const bits = key.asymmetricKeyDetails?.modulusLength ?? n.length * 8;
                const exponent = e.length <= 6 ? e.readUIntBE(0, e.length) : Infinity;
                const entry: VerificationKey = { kid, kty: "RSA", key, verifyInput: key, bits };
                if (bits < GO_RSA_MIN_BITS) entry.unusable = `the RSA key ${JSON.stringify(kid)} has ${bits} bits; Go refuses keys under ${GO_RSA_MIN_BITS} bits, so the server rejects every signature made with it`;
                else if (exponent < 2 || exponent > 2 ** 31 - 1 || exponent % 2 === 0) entry.unusable = `the RSA key ${JSON.stringify(kid)} has public exponent ${exponent}, which Go refuses`;
                else if (bits < 2048) entry.note = `the RSA key ${JSON.stringify(kid)} has only ${bits} bits: the server accepts it, but use 2048 bits or more`;
                set.rsa.set(kid, entry);
                return;
            }
            case "EC": {
                if (jwk.d !== undefined) return void set.ignored.push(`${named}: a private EC key; the server ignores it (and it must not be published)`);
                const crv = jwk.crv as string | undefined;
                const size = crv === undefined ? undefined : CURVE_BITS[crv];
                if (size === undefined) throw new Error(`${named}: unsupported curve ${JSON.stringify(crv)} (P-256, P-384 or P-521)`);
                const bytes = Math.ceil(size / 8);
                const x = typeof jwk.x === "string" ? goDecodeSegment(jwk.x.replace(/=+$/, "")) : undefined;
                const y = typeof jwk.y === "string" ? goDecodeSegment(jwk.y.replace(/=+$/, "")) : undefined;
                if (!x || !y || x.length !== bytes || y.length !== bytes) throw new Error(`${named}: "x" and "y" must be base64url coordinates of ${bytes} bytes for ${crv}`);
                let key: KeyObject;
                try {
                    key = createPublicKey({ key: { kty: "EC", crv, x: jwk.x as string, y: jwk.y as string }, format: "jwk" });
                } catch (err) {
                    throw new Error(`${named}: not a point on ${crv} (${(err as Error).message})`);
                }
                const entry: VerificationKey = { kid, kty: "EC", key, verifyInput: { key, dsaEncoding: "ieee-p1363" }, bits: size, crv };
                set.ec.set(kid, entry);
                return;
            }
            case "oct":
                if (typeof jwk.k !== "string") throw new Error(`${named}: a symmetric ("oct") key needs "k"`);
                return void set.ignored.push(`${named}: a symmetric key; the server verifies HS* tokens with nothing, so it ignores it`);
            case "OKP":
                if (jwk.crv !== "Ed25519" || typeof jwk.x !== "string") throw new Error(`${named}: unsupported OKP curve ${JSON.stringify(jwk.crv)}`);
                return void set.ignored.push(`${named}: an Ed25519 key; the server only uses RSA and EC keys`);
            default:
                throw new Error(`${named}: unknown key type ${JSON.stringify(jwk.kty)}; the server's JWKS decoder rejects the whole set over it`);
        }
    });
    return set;
}

function positive(value: number | undefined, fallback: number, name: string): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw bad(`${name} must be a non-negative number of milliseconds (got ${String(value)})`);
    return value;
}

/** The URLs of `jwksUri`, blank entries dropped as the server drops them; throws invalid-options. */
export function normalizeUris(jwksUri: string | string[] | undefined): string[] {
    if (jwksUri === undefined) return [];
    const list = Array.isArray(jwksUri) ? jwksUri : [jwksUri];
    const uris: string[] = [];
    for (const u of list) {
        if (typeof u !== "string") throw bad(`jwksUri entries must be strings (got ${describe(u)})`);
        if (goTrimSpace(u) === "") continue;
        let url: URL;
        try {
            url = new URL(u);
        } catch {
            throw bad(`jwksUri ${JSON.stringify(u)} is not a URL: give the JWKS endpoint, e.g. https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys`);
        }
        if (url.protocol !== "https:" && url.protocol !== "http:") throw bad(`jwksUri ${JSON.stringify(u)} must be http or https (the server fetches it with an HTTP GET)`);
        uris.push(u);
    }
    return uris;
}

export function createKeySource(options: KeySourceOptions): KeySource {
    const uris = normalizeUris(options.jwksUri);
    if (options.jwks !== undefined && uris.length > 0) throw bad("give either jwks (a local JWK set) or jwksUri (URLs), not both");
    const now = options.now ?? Date.now;
    if (options.jwks !== undefined) {
        let set: KeySet;
        try {
            set = parseJwks(options.jwks, "jwks");
        } catch (err) {
            throw bad(`${(err as Error).message}`);
        }
        return localSource(set);
    }
    if (uris.length === 0) throw bad("no verification keys: give jwksUri (the JWKS URL(s) the server's jwtKeyProvider.keySourceURIs use) or jwks (a local JWK set)");
    return remoteSource(uris, {
        refreshIntervalMs: positive(options.refreshIntervalMs, DEFAULTS.refreshIntervalMs, "refreshIntervalMs"),
        cooldownMs: positive(options.cooldownMs, DEFAULTS.cooldownMs, "cooldownMs"),
        maxStaleMs: positive(options.maxStaleMs, DEFAULTS.maxStaleMs, "maxStaleMs"),
        timeoutMs: positive(options.timeoutMs, DEFAULTS.timeoutMs, "timeoutMs"),
        maxJwksBytes: positive(options.maxJwksBytes, DEFAULTS.maxJwksBytes, "maxJwksBytes"),
        fetch: options.fetch ?? fetch,
        now,
    });
}

function lookup(set: KeySet, kid: string, kty: KeyType): VerificationKey | undefined {
    return (kty === "RSA" ? set.rsa : set.ec).get(kid);
}

function otherType(set: KeySet, kid: string, kty: KeyType): KeyType | undefined {
    return lookup(set, kid, kty === "RSA" ? "EC" : "RSA") ? (kty === "RSA" ? "EC" : "RSA") : undefined;
}

function localSource(set: KeySet): KeySource {
    return {
        peek: (kid, kty) => lookup(set, kid, kty) ?? null,
        resolve: async (kid, kty) => {
            const key = lookup(set, kid, kty);
            return key ? { key, refetched: false } : { refetched: false, otherType: otherType(set, kid, kty) };
        },
        refresh: async () => undefined,
        status: () => ({ kind: "local", uris: [], fetches: 0, rsaKids: [...set.rsa.keys()], ecKids: [...set.ec.keys()], ignored: set.ignored }),
    };
}

interface RemoteSettings {
    refreshIntervalMs: number;
    cooldownMs: number;
    maxStaleMs: number;
    timeoutMs: number;
    maxJwksBytes: number;
    fetch: typeof fetch;
    now: () => number;
}

function remoteSource(uris: string[], cfg: RemoteSettings): KeySource {
    let set: KeySet | undefined;
    let loadedAt = 0;
    let lastAttemptAt: number | undefined;
    let lastError: ClaimsError | undefined;
    let inflight: Promise<void> | undefined;
    let fetches = 0;

    const usable = (t: number): boolean => set !== undefined && t - loadedAt <= cfg.maxStaleMs;
    const coolingDown = (t: number): boolean => lastAttemptAt !== undefined && t - lastAttemptAt < cfg.cooldownMs;

    const refresh = (): Promise<void> => {
        if (inflight) return inflight;
        lastAttemptAt = cfg.now();
        const run = async (): Promise<void> => {
            // The server fetches every URL and fails the whole refresh if one fails; later URLs win on a kid.
            const docs = await Promise.all(
                uris.map((uri) => {
                    fetches++;
                    return fetchJwks(uri, cfg);
                }),
            );
            const merged: KeySet = { rsa: new Map(), ec: new Map(), ignored: [] };
            docs.forEach((doc, i) => {
                let part: KeySet;
                try {
                    part = parseJwks(doc, uris[i] ?? "jwks");
                } catch (err) {
                    throw new ClaimsError("keys-unavailable", `the key set is unusable: ${(err as Error).message}`);
                }
                for (const [kid, k] of part.rsa) merged.rsa.set(kid, k);
                for (const [kid, k] of part.ec) merged.ec.set(kid, k);
                merged.ignored.push(...part.ignored);
            });
            set = merged;
            loadedAt = cfg.now();
            lastError = undefined;
        };
        inflight = run()
            .catch((err: unknown) => {
                lastError = err instanceof ClaimsError ? err : new ClaimsError("keys-unavailable", `could not load the key set: ${String(err)}`);
                throw lastError;
            })
            .finally(() => {
                inflight = undefined;
            });
        return inflight;
    };

    const unavailable = (): ClaimsError => {
        const why = lastError ? lastError.message : "no key set has been loaded";
        if (lastError?.code === "jwks-too-large") return lastError;
        const stale = set !== undefined ? ` The last good key set is older than maxStaleMs (${cfg.maxStaleMs} ms), so the validator fails closed.` : "";
        return new ClaimsError("keys-unavailable", `no usable verification keys from ${uris.join(", ")}: ${why}.${stale} Check that the JWKS URL is reachable from here and serves a JWK set.`);
    };

    const ensureUsable = async (): Promise<void> => {
        const t = cfg.now();
        if (usable(t)) return;
        if (inflight) await inflight.catch(() => undefined);
        else if (!coolingDown(t) || lastError === undefined) await refresh().catch(() => undefined);
        if (!usable(cfg.now())) throw unavailable();
    };

    return {
        peek(kid, kty) {
            const t = cfg.now();
            if (!usable(t) || set === undefined) return undefined;
            if (t - loadedAt >= cfg.refreshIntervalMs && !inflight && !(lastAttemptAt !== undefined && t - lastAttemptAt < Math.min(cfg.cooldownMs, cfg.refreshIntervalMs))) {
                // Due: refresh in the background and keep answering from the current set meanwhile.
                refresh().catch(() => undefined);
            }
            return lookup(set, kid, kty) ?? null;
        },
        async resolve(kid, kty) {
            await ensureUsable();
            const current = set as KeySet;
            const found = lookup(current, kid, kty);
            if (found) return { key: found, refetched: false };
            // Unknown kid: one refetch per cooldown, shared by every caller waiting for it.
            let refetchNote: string | undefined;
            if (inflight) await inflight.catch(() => undefined);
            else if (!coolingDown(cfg.now())) await refresh().catch(() => undefined);
            else refetchNote = `the key set was fetched less than cooldownMs (${cfg.cooldownMs} ms) ago, so it was not refetched for this kid`;
            if (set && set !== current) {
                const again = lookup(set, kid, kty);
                if (again) return { key: again, refetched: true };
            } else if (!refetchNote && lastError) {
                refetchNote = `refetching the key set for this kid failed: ${lastError.message}`;
            }
            return { refetched: false, otherType: otherType(set ?? current, kid, kty), refetchNote };
        },
        refresh,
        status: () => ({
            kind: "remote",
            uris,
            fetches,
            loadedAt: set ? loadedAt : undefined,
            lastError: lastError?.message,
            rsaKids: set ? [...set.rsa.keys()] : [],
            ecKids: set ? [...set.ec.keys()] : [],
            ignored: set?.ignored ?? [],
        }),
    };
}

/** GET one JWKS URL with a timeout and a size cap. Throws ClaimsError. */
async function fetchJwks(uri: string, cfg: RemoteSettings): Promise<unknown> {
    const signal = AbortSignal.timeout(cfg.timeoutMs);
    const timedOut = (): ClaimsError => new ClaimsError("keys-unavailable", `fetching ${uri} timed out after ${cfg.timeoutMs} ms; check the endpoint, or raise timeoutMs`);
    let res: Response;
    try {
        res = await cfg.fetch(uri, { signal, headers: { accept: "application/json" } });
    } catch (err) {
        if (signal.aborted) throw timedOut();
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new ClaimsError("keys-unavailable", `could not fetch ${uri}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const tooLarge = (size: string): ClaimsError =>
        new ClaimsError("jwks-too-large", `the JWKS at ${uri} is ${size}, over maxJwksBytes (${cfg.maxJwksBytes}); a real key set is a few KiB, so check the URL (or raise maxJwksBytes)`);
    try {
        if (!res.ok) throw new ClaimsError("keys-unavailable", `${uri} answered HTTP ${res.status}, not a JWK set`);
        const declared = Number(res.headers.get("content-length") ?? NaN);
        if (declared > cfg.maxJwksBytes) throw tooLarge(`${declared} bytes`);
        const chunks: Uint8Array[] = [];
        let size = 0;
        if (res.body) {
            const reader = res.body.getReader();
            for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                size += value.byteLength;
                if (size > cfg.maxJwksBytes) {
                    await reader.cancel().catch(() => undefined);
                    throw tooLarge(`more than ${cfg.maxJwksBytes} bytes`);
                }
                chunks.push(value);
            }
        }
        const text = Buffer.concat(chunks).toString("utf8");
        try {
            return JSON.parse(text) as unknown;
        } catch {
            throw new ClaimsError("keys-unavailable", `${uri} did not answer JSON: it is not a JWKS endpoint (for Entra ID use https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys)`);
        }
    } catch (err) {
        if (err instanceof ClaimsError) throw err;
        if (signal.aborted) throw timedOut();
        throw new ClaimsError("keys-unavailable", `reading ${uri} failed: ${(err as Error).message}`);
    } finally {
        if (!res.bodyUsed && res.body) await res.body.cancel().catch(() => undefined);
    }
}
