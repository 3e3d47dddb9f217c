import { verify as cryptoVerify } from "node:crypto";
import type { JSONWebKeySet } from "jose";
import { applicationJwksUrl, entraEndpoints } from "./entra";
import { ClaimsError } from "./errors";
import { createKeySource, type KeySource, type KeySourceOptions, type KeyType, type VerificationKey } from "./keys";
import type { CallKind } from "./authorizer";
import { compilePermissionsPattern, foldPermissions, type PermissionsPattern } from "./permissions";
import { lookupTable, type Claims } from "./roles";
import * as token from "./token";
import type { JsonObject } from "./token";

// Bound once: a bundler's export getters (tsx, esbuild) are not free on the hot path.
const { GOLANG_JWT_METHODS, goDecodeJsonObject, goDecodeSegment, goString, goTimeClaim, goTrimSpace, goVerifyAudience, splitCompact } = token;

/**
 * The server's default JWT claim mapper (server 1.31.2, golang-jwt v4.5.2), plus an Entra ID profile.
 *
 * profile "temporal" (default) decides exactly as the server does:
 * - empty or absent header: empty claims, no error;
 * - split at the first space; the scheme is `bearer` in any case; the rest is the token, untrimmed;
 * - the token must be three base64url segments (Go's decoder: no padding); header and claims JSON;
 * - `alg` RS256 or ES256 only; a string `kid`; the key looked up by kid among keys of the alg's type;
 * - `exp`, `iat`, `nbf` checked only when present (0 counts as absent), numeric, whole seconds, no
 *   clock skew, `iat` in the future rejected; `iss`, `typ`, `jti`, `crit` never looked at;
 * - `aud` checked only when `audience` is set (exact match, string or array);
 * - `sub` must be a string; the permissions claim parsed as `parsePermissions` describes.
 *
 * profile "entra" rejects everything the server rejects and, in addition, what a careful Entra ID
 * deployment must: tokens of other tenants (issuer and `tid`), v1 tokens unless `acceptV1`, a wrong
 * `ver`, no `exp`, ID tokens (no `azp`/`appid`) and Microsoft Graph tokens. It is never more lenient
 * than the server: there is no clock skew in either profile.
 *
 * Why not `jose.jwtVerify`: it disagrees with the server on several points (it accepts a future
 * `iat`, rejects `crit` and small RSA keys, decodes padded base64url), and jose 6 verifies through
 * asynchronous WebCrypto at a fraction of `crypto.verify`'s throughput. Tokens are parsed here as
 * golang-jwt parses them and signatures are checked with node:crypto on keys imported once.
 */
export interface ClaimMapperOptions extends Omit<KeySourceOptions, "jwks" | "jwksUri" | "now"> {
    /** A local JWK set. Exactly one of `jwks` / `jwksUri` (profile "entra" defaults `jwksUri` to the API's own key set, `?appid=<audience>`, as the deployment configures the server; the tenant-wide keys when the audience is not a client id). */
    jwks?: JSONWebKeySet;
    /** JWKS URL(s), as the server's `jwtKeyProvider.keySourceURIs`. Tuning (refreshIntervalMs, cooldownMs, maxStaleMs, timeoutMs, maxJwksBytes, fetch) as in createKeySource. */
    jwksUri?: string | string[];
    /** The server's `permissionsClaimName` (default "permissions"; Entra app roles arrive in "roles"). */
    permissionsClaimName?: string;
    /** The server's `permissionsRegex` (Go RE2 syntax). */
    permissionsRegex?: string;
    /** The server's `authorization.audience`. Required by profile "entra". */
    audience?: string;
    /** "temporal" (default): exactly the server. "entra": the server plus Entra ID's tenant, version and token-kind rules. */
    profile?: "temporal" | "entra";
    /** Entra ID tenant id (a GUID). Required by profile "entra". */
    tenantId?: string;
    /** Profile "entra": also accept v1 tokens (issuer https://sts.windows.net/<tenant>/, ver "1.0"). */
    acceptV1?: boolean;
    /**
     * Refuse authorization headers longer than this many bytes before any parsing (default: no
     * limit, as the server: gRPC accepts header lists up to 16 MiB, and the server any token in them).
     */
    maxTokenBytes?: number;
    /** A key source to share between mappers (instead of `jwks` / `jwksUri`). */
    keySource?: KeySource;
    /** Clock in epoch milliseconds (tests). */
    now?: () => number;
}

export interface AuthInfo {
    /** The value of the gRPC `authorization` header, e.g. "Bearer eyJ...". */
    authorization?: string;
    /**
     * How the call arrives (default "unary"). Only unary calls get the configured audience: the
     * server's stream interceptor and its Nexus HTTP handlers hand the mapper an EMPTY audience, so
     * on "stream" and "nexus" calls the audience is not checked at all.
     */
    call?: CallKind;
}

/** Everything one verification learned, for `explain`. */
export interface TokenInspection {
    /** The claims the server would hand its authorizer; absent when the token is rejected. */
    claims?: Claims;
    /** Every rule the token breaks, most fundamental first; the first is what `getClaims` throws. */
    errors: ClaimsError[];
    /** The token's JOSE header, when it could be decoded. */
    header?: JsonObject;
    /** The token's claims, when they could be decoded (trustworthy only if `signatureVerified`). */
    payload?: JsonObject;
    signatureVerified: boolean;
    /** The kid was found only after an on-demand refetch, which the server does not make. */
    keyRefetched: boolean;
    /** The verification key used. */
    key?: Pick<VerificationKey, "kid" | "kty" | "bits" | "crv" | "note">;
    /** Observations that are not rejections. */
    notes: string[];
}

export interface ClaimMapper {
    /** The server's GetClaims: resolves to the claims or rejects with a ClaimsError. */
    getClaims(authInfo: AuthInfo): Promise<Claims>;
    /** Like getClaims, but never throws for a token: reports every failed rule. */
    inspect(authInfo: AuthInfo): Promise<TokenInspection>;
    readonly keySource: KeySource;
    readonly settings: Readonly<MapperSettings>;
}

export interface MapperSettings {
    profile: "temporal" | "entra";
    permissionsClaimName: string;
    permissionsRegex?: string;
    /** The configured audience when the server would check it (non-blank), else undefined. */
    audience?: string;
    tenantId?: string;
    acceptV1: boolean;
    maxTokenBytes: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Microsoft Graph's application id and resource URLs: a token for Graph is never a token for Temporal. */
const GRAPH_AUDIENCES = new Set(["00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com", "https://graph.microsoft.com/"]);
/** The algs the server's key provider supports; keyed by the token's `alg`, so without a prototype. */
const ALG_KEY_TYPE: Readonly<Record<string, KeyType>> = lookupTable<KeyType>({ RS256: "RSA", ES256: "EC" });
const HEADER_CACHE_MAX = 256;

interface ParsedHeader {
    header: JsonObject;
    alg: string;
    kty: KeyType;
    kid: string;
    nonce: boolean;
}

const err = (code: ClaimsError["code"], message: string): ClaimsError => new ClaimsError(code, message);

function settingsFrom(options: ClaimMapperOptions): { settings: MapperSettings; pattern: PermissionsPattern; jwksUri?: string | string[] } {
    if (options === null || typeof options !== "object") throw err("invalid-options", "createClaimMapper needs an options object");
    const profile = options.profile ?? "temporal";
    if (profile !== "temporal" && profile !== "entra") throw err("invalid-options", `profile must be "temporal" or "entra" (got ${JSON.stringify(profile)})`);
    const claimName = options.permissionsClaimName ?? "permissions";
    if (typeof claimName !== "string" || claimName === "") throw err("invalid-options", "permissionsClaimName must be a non-empty string (the server's default is \"permissions\"; Entra ID app roles arrive in \"roles\")");
    let pattern: PermissionsPattern;
    try {
        pattern = compilePermissionsPattern(options.permissionsRegex);
    } catch (e) {
        throw err("invalid-options", (e as Error).message);
    }
    const maxTokenBytes = options.maxTokenBytes ?? Infinity;
    if (options.maxTokenBytes !== undefined && (!Number.isInteger(maxTokenBytes) || maxTokenBytes <= 0)) throw err("invalid-options", `maxTokenBytes must be a positive integer (got ${String(options.maxTokenBytes)})`);
    if (options.audience !== undefined && typeof options.audience !== "string") throw err("invalid-options", "audience must be a string");
    // The server checks the audience only when strings.TrimSpace leaves something, and then compares it untrimmed.
    const audience = options.audience !== undefined && goTrimSpace(options.audience) !== "" ? options.audience : undefined;
    let tenantId: string | undefined;
    let jwksUri = options.jwksUri;
    if (profile === "entra") {
        if (typeof options.tenantId !== "string" || !GUID.test(options.tenantId)) {
            throw err("invalid-options", `profile "entra" needs tenantId, the directory (tenant) id GUID${options.tenantId === undefined ? "" : ` (got ${JSON.stringify(options.tenantId)})`}: every Entra tenant's tokens are signed by the same Microsoft keys`);
        }
        if (audience === undefined) {
            throw err("invalid-options", 'profile "entra" needs audience (the API registration\'s client id, as the server\'s authorization.audience): without it the server accepts a token minted for ANY application in ANY tenant');
        }
        tenantId = options.tenantId.toLowerCase();
        if (options.jwks === undefined && jwksUri === undefined && options.keySource === undefined) {
            // The deployment's key set: the API signs with a key of its own, published only at ?appid=.
            jwksUri = GUID.test(audience) ? applicationJwksUrl(tenantId, audience.toLowerCase()) : entraEndpoints(tenantId).jwksUrl;
        }
    } else if (options.tenantId !== undefined || options.acceptV1 !== undefined) {
        throw err("invalid-options", 'tenantId and acceptV1 belong to profile "entra": the server itself never checks the issuer or the tenant; set profile: "entra"');
    }
    return {
        settings: {
            profile,
            permissionsClaimName: claimName,
            ...(options.permissionsRegex ? { permissionsRegex: options.permissionsRegex } : {}),
            audience,
            tenantId,
            acceptV1: options.acceptV1 === true,
            maxTokenBytes,
        },
        pattern,
        jwksUri,
    };
}

/**
 * Creates the claim mapper. Options are validated and compiled once; throws ClaimsError
 * `invalid-options` naming the option and the fix.
 */
export function createClaimMapper(options: ClaimMapperOptions): ClaimMapper {
    const { settings, pattern, jwksUri } = settingsFrom(options);
    const now = options.now ?? Date.now;
    let keySource: KeySource;
    if (options.keySource) {
        if (options.jwks !== undefined || options.jwksUri !== undefined) throw err("invalid-options", "give keySource or jwks/jwksUri, not both");
        keySource = options.keySource;
    } else {
        const { refreshIntervalMs, cooldownMs, maxStaleMs, timeoutMs, maxJwksBytes, fetch } = options;
        keySource = createKeySource({ jwks: options.jwks, jwksUri, now, refreshIntervalMs, cooldownMs, maxStaleMs, timeoutMs, maxJwksBytes, fetch });
    }
    const tenantEndpoints = settings.tenantId ? entraEndpoints(settings.tenantId) : undefined;
    const v2Issuer = tenantEndpoints?.issuerUrl ?? "";
    const v1Issuer = tenantEndpoints?.v1IssuerUrl ?? "";
    const headerCache = new Map<string, ParsedHeader>();
    // Scratch space for the hot path, reused across calls: each use is consumed synchronously (the
    // claims are turned into a string, the signing input and signature into a verify call) with no
    // await in between, so concurrent calls cannot see each other's bytes.
    const scratchInput = Buffer.allocUnsafeSlow(Math.min(settings.maxTokenBytes, 64 * 1024));
    const scratchSignature = Buffer.allocUnsafeSlow(1024);
    let lastHeader: ParsedHeader | undefined;
    let lastSegment = "";

    /** Header segment → parsed header; headers repeat across tokens (same alg and kid), so they are cached. */
    function parseHeader(segment: string, token: string, inspection: TokenInspection | undefined): ParsedHeader {
        if (segment === lastSegment && lastHeader) {
            if (inspection) inspection.header = lastHeader.header;
            return lastHeader;
        }
        const cached = headerCache.get(segment);
        if (cached) {
            if (inspection) inspection.header = cached.header;
            lastSegment = segment;
            lastHeader = cached;
            return cached;
        }
        const bytes = goDecodeSegment(segment);
        if (!bytes) {
            if (token.toLowerCase().startsWith("bearer ")) throw err("malformed-token", 'the token itself starts with "Bearer ": send the header as "Bearer <jwt>", with the scheme once');
            if (/^\s/.test(token)) throw err("malformed-token", 'there is more than one space after "Bearer": the server does not trim the token; send "Bearer <jwt>" with one space');
            throw err("malformed-token", "the token's header segment is not unpadded base64url: send the JWT exactly as issued (no padding, no spaces, no quotes)");
        }
        const decoded = goDecodeJsonObject(bytes, true);
        if (!decoded.ok) throw err("malformed-token", `the token's header ${decoded.reason}: this is not a JWT`);
        const header = decoded.value ?? {};
        if (inspection) inspection.header = header;
        const alg = header.alg;
        const kid = header.kid;
        const parsed: ParsedHeader | undefined =
            typeof alg === "string" && ALG_KEY_TYPE[alg] !== undefined && typeof kid === "string"
                ? { header, alg, kty: ALG_KEY_TYPE[alg] as KeyType, kid, nonce: header.nonce !== undefined }
                : undefined;
        if (parsed) {
            if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear();
            headerCache.set(segment, parsed);
        }
        // Only a usable header is cached; the others are re-judged in golang-jwt's order below.
        return parsed ?? ({ header, alg: "", kty: "RSA", kid: "", nonce: false } as ParsedHeader);
    }

    function checkAlgAndKid(h: ParsedHeader): void {
        if (h.alg !== "") return;
        const alg = h.header.alg;
        if (typeof alg !== "string") throw err("unsupported-alg", 'the token\'s header has no "alg": the server accepts RS256 and ES256 only');
        if (ALG_KEY_TYPE[alg] === undefined) {
            const known = GOLANG_JWT_METHODS.has(alg);
            const hint = alg === "none" ? "unsigned tokens are never accepted" : alg.startsWith("HS") ? "the server has no shared secret; an HS* token signed with a public key is an algorithm-confusion attack" : known ? "sign with RS256 or ES256" : "this algorithm name is unknown to the server's JWT library";
            throw err("unsupported-alg", `the token is signed with ${JSON.stringify(alg)}, but the server accepts RS256 and ES256 only: ${hint}`);
        }
        throw err("missing-kid", 'the token\'s header has no string "kid": the server looks the key up by kid, so the issuer must set it (Entra ID always does)');
    }

    function verifySignature(key: VerificationKey, alg: string, signingInput: string, sigSegment: string): void {
        if (key.unusable) throw err("bad-signature", key.unusable);
        const sig = goDecodeSegment(sigSegment, scratchSignature);
        if (!sig) throw err("bad-signature", "the token's signature segment is not unpadded base64url");
        if (alg === "ES256") {
            if (key.crv !== "P-256") throw err("bad-signature", `the token is ES256 but key ${JSON.stringify(key.kid)} is on ${key.crv ?? "another curve"}; ES256 needs a P-256 key`);
            // golang-jwt: an ES256 signature is exactly r||s, 32 bytes each.
            if (sig.length !== 64) throw err("bad-signature", `the ES256 signature is ${sig.length} bytes, not 64 (r||s): the token was altered or not signed as a JWS`);
        } else if (sig.length !== Math.ceil(key.bits / 8)) {
            // Go's rsa.VerifyPKCS1v15 needs a signature exactly as long as the modulus.
            throw err("bad-signature", `the RS256 signature is ${sig.length} bytes but key ${JSON.stringify(key.kid)} is ${key.bits} bits: the token was altered or signed with another key`);
        }
        const input = signingInput.length <= scratchInput.length ? scratchInput.subarray(0, scratchInput.write(signingInput, 0, "latin1")) : Buffer.from(signingInput, "latin1");
        if (!cryptoVerify("sha256", input, key.verifyInput, sig)) {
            throw err("bad-signature", `the signature does not verify with key ${JSON.stringify(key.kid)}: the token was altered, or signed by another issuer that reuses this kid`);
        }
    }

    function unknownKid(h: ParsedHeader, otherType: KeyType | undefined, note: string | undefined): ClaimsError {
        const where = keySource.status().uris.join(", ") || "the local JWK set";
        const other = otherType ? ` (there is an ${otherType} key with that kid, but ${h.alg} needs an ${h.kty} key)` : "";
        const server = " The server refreshes its keys only on its timer (jwtKeyProvider.refreshInterval), so a newly rolled key fails until the next refresh.";
        return err("unknown-kid", `no ${h.kty} key with kid ${JSON.stringify(h.kid)} in ${where}${other}: the token was signed by another issuer or tenant, or with a key not published there.${server}${note ? ` Note: ${note}.` : ""}`);
    }

    function timeError(kind: "exp" | "iat" | "nbf", value: unknown, nowSeconds: number): ClaimsError | undefined {
        const verdict = goTimeClaim(kind, value, nowSeconds);
        if (verdict === "ok") return undefined;
        if (verdict === "not-a-number") {
            return err("bad-time-claim", `the "${kind}" claim is ${value === null ? "null" : typeof value}, not a number of seconds: the server rejects the token; the issuer must write NumericDate values`);
        }
        const t = value as number;
        if (kind === "exp" && t > 9.2e18) {
            return err("expired", `the "exp" claim (${t}) is so large that Go's time arithmetic overflows and the server reads it as long past, so the token counts as expired: use a real expiry time`);
        }
        const at = Number.isFinite(t) && Math.abs(t) < 8.64e12 ? new Date(Math.floor(t) * 1000).toISOString() : String(t);
        const delta = Math.abs(nowSeconds - Math.floor(t));
        if (kind === "exp") return err("expired", `the token expired at ${at} (${delta} s ago; the server allows no clock skew): get a new token`);
        if (kind === "nbf") return err("not-yet-valid", `the token is not valid before ${at} (${delta} s from now; no clock skew): check the clock of the issuer and of this host`);
        return err("issued-in-future", `the token's "iat" is ${at}, ${delta} s in the future; the server rejects it with no clock skew: check the clocks`);
    }

    function entraErrors(payload: JsonObject, h: ParsedHeader, out: ClaimsError[]): void {
        const tid = settings.tenantId ?? "";
        const iss = payload.iss;
        let version: "1.0" | "2.0" | undefined;
        if (iss === v2Issuer) version = "2.0";
        else if (iss === v1Issuer && settings.acceptV1) version = "1.0";
        else if (iss === v1Issuer) {
            out.push(err("wrong-issuer", `the token is a v1 token (issuer ${v1Issuer}): set the API registration's requestedAccessTokenVersion to 2 (api.requestedAccessTokenVersion), or accept v1 explicitly with acceptV1`));
        } else {
            const other = typeof iss === "string" ? /^https:\/\/(?:login\.microsoftonline\.com\/([^/]+)\/v2\.0|sts\.windows\.net\/([^/]+)\/)$/.exec(iss) : null;
            const shown = typeof iss === "string" ? JSON.stringify(iss) : "missing";
            out.push(
                err(
                    "wrong-issuer",
                    other
                        ? `the token was issued by tenant ${other[1] ?? other[2]}, not ${tid}: get a token from this tenant (the audience check alone does not stop other tenants' tokens for a multi-tenant app)`
                        : `the token's issuer is ${shown}, not ${v2Issuer}: it was not issued by this Entra ID tenant`,
                ),
            );
        }
        if (typeof payload.tid !== "string" || payload.tid.toLowerCase() !== tid) {
            out.push(err("wrong-tenant", `the token's "tid" is ${typeof payload.tid === "string" ? JSON.stringify(payload.tid) : "missing"}, not ${tid}: it belongs to another tenant`));
        }
        const expected = version ?? (iss === v1Issuer ? "1.0" : "2.0");
        if (version !== undefined && payload.ver !== expected) {
            out.push(err("wrong-version", `the token's "ver" is ${JSON.stringify(payload.ver) ?? "missing"} but its issuer is the v${expected[0]} endpoint's: Entra writes "${expected}" there, so this token was not issued as it claims`));
        }
        if (payload.exp === undefined || payload.exp === 0) {
            out.push(err("missing-exp", 'the token has no "exp": the server would accept it forever; Entra ID access tokens always carry exp, so this one was not issued by Entra'));
        }
        const graph = h.nonce || audiences(payload.aud).some((a) => GRAPH_AUDIENCES.has(a));
        if (graph) {
            out.push(err("graph-token", "this is a Microsoft Graph access token, not one for the Temporal API: the client asked only for OIDC scopes; request the API's scope (api://<api-client-id>/default, or /.default for daemons)"));
        } else if (typeof payload.azp !== "string" && typeof payload.appid !== "string") {
            out.push(err("id-token", 'this is an ID token (no "azp" or "appid"), not an access token: send the access token; if UI and API share one app registration, separate them'));
        }
    }

    async function run(authorization: string | undefined, call: CallKind | undefined, inspection: TokenInspection | undefined): Promise<Claims> {
        if (authorization === undefined || authorization === "") return { subject: "", system: 0, namespaces: Object.create(null) as Record<string, number> };
        if (typeof authorization !== "string") throw err("malformed-header", "the authorization header must be a string");
        if (authorization.length > settings.maxTokenBytes || (authorization.length * 3 > settings.maxTokenBytes && Buffer.byteLength(authorization) > settings.maxTokenBytes)) {
            throw err("token-too-large", `the authorization header is ${Buffer.byteLength(authorization)} bytes, over maxTokenBytes (${settings.maxTokenBytes}), a limit of this validator's caller (the server has none): raise or drop maxTokenBytes`);
        }
        const space = authorization.indexOf(" ");
        if (space < 0) throw err("malformed-header", 'the authorization header has no space: the server expects "Bearer <jwt>"');
        const scheme = authorization.slice(0, space);
        if (scheme.length !== 6 || scheme.toLowerCase() !== "bearer") {
            // Name the scheme only when it is a plain word: anything else may be a piece of a token.
            const shown = /^[A-Za-z-]{1,16}$/.test(scheme) ? JSON.stringify(scheme) : "not a scheme name";
            throw err("unsupported-scheme", `the authorization scheme is not "Bearer" (it is ${shown}): send "Bearer <jwt>"`);
        }
        const token = authorization.slice(space + 1);
        const parts = splitCompact(token);
        if (!parts) {
            const hint = token.startsWith(" ") ? ": there is more than one space after \"Bearer\"; the server does not trim it" : ": send the JWT exactly as issued (header.payload.signature)";
            throw err("malformed-token", `the token does not have exactly three dot-separated parts${hint}`);
        }
        const [headerSeg, payloadSeg, sigSeg] = parts;
        const h = parseHeader(headerSeg, token, inspection);

        // golang-jwt decodes the claims before it looks at alg and kid.
        const payloadBytes = goDecodeSegment(payloadSeg, scratchInput);
        if (!payloadBytes) throw err("malformed-token", "the token's claims segment is not unpadded base64url: send the JWT exactly as issued");
        const decoded = goDecodeJsonObject(payloadBytes, false);
        if (!decoded.ok) throw err("malformed-token", `the token's claims ${decoded.reason}`);
        const payload = decoded.value ?? {};
        if (inspection) {
            inspection.payload = payload;
            if (decoded.trailing) inspection.notes.push("the claims JSON is followed by extra bytes; the server's decoder ignores them");
        }
        checkAlgAndKid(h);
        if (settings.profile === "entra" && h.nonce) {
            throw err("graph-token", 'the token\'s header has a "nonce": it is a Microsoft Graph access token, which nobody but Graph can verify; the client asked only for OIDC scopes: request the API\'s scope (api://<api-client-id>/default)');
        }

        let key = keySource.peek(h.kid, h.kty);
        if (!key) {
            const resolved = await keySource.resolve(h.kid, h.kty);
            if (!resolved.key) throw unknownKid(h, resolved.otherType, resolved.refetchNote);
            key = resolved.key;
            if (inspection) inspection.keyRefetched = resolved.refetched;
        }
        if (inspection) {
            inspection.key = { kid: key.kid, kty: key.kty, bits: key.bits, ...(key.crv ? { crv: key.crv } : {}), ...(key.note ? { note: key.note } : {}) };
        }
        verifySignature(key, h.alg, token.slice(0, headerSeg.length + 1 + payloadSeg.length), sigSeg);
        if (inspection) inspection.signatureVerified = true;

        // The server's claim rules, by hand (see the module comment): thrown at once on the hot
        // path, collected when inspecting.
        const nowSeconds = Math.floor(now() / 1000);
        flag(timeError("exp", payload.exp, nowSeconds), inspection);
        flag(timeError("iat", payload.iat, nowSeconds), inspection);
        flag(timeError("nbf", payload.nbf, nowSeconds), inspection);
        if (settings.audience !== undefined && (call === undefined || call === "unary") && !goVerifyAudience(payload.aud, settings.audience)) {
            flag(audienceError(payload.aud, settings.audience), inspection);
        }
        let sub = payload.sub;
        if (typeof sub !== "string") {
            flag(err("missing-subject", `the token's "sub" is ${sub === undefined ? "missing" : `a ${sub === null ? "null" : typeof sub}`}, but the server requires a string subject`), inspection);
        }
        if (settings.profile === "entra") {
            const list: ClaimsError[] = inspection ? inspection.errors : [];
            entraErrors(payload, h, list);
            if (list[0]) throw list[0];
        }
        if (inspection && inspection.errors[0]) throw inspection.errors[0];
        let claim = Object.prototype.hasOwnProperty.call(payload, settings.permissionsClaimName) ? payload[settings.permissionsClaimName] : undefined;
        if (decoded.escapes) {
            // Go turns an unpaired surrogate escape into U+FFFD; only possible when the JSON has \u escapes.
            sub = goString(sub as string);
            if (Array.isArray(claim)) claim = claim.map((p: unknown) => (typeof p === "string" ? goString(p) : p));
        }
        const roles = foldPermissions(claim, pattern);
        return { subject: sub as string, system: roles.system, namespaces: roles.namespaces };
    }

    return {
        getClaims: (authInfo) => run(authInfo?.authorization, authInfo?.call, undefined),
        async inspect(authInfo) {
            const inspection: TokenInspection = { errors: [], signatureVerified: false, keyRefetched: false, notes: [] };
            try {
                inspection.claims = await run(authInfo?.authorization, authInfo?.call, inspection);
            } catch (e) {
                if (!(e instanceof ClaimsError)) throw e;
                if (!inspection.errors.includes(e)) inspection.errors.unshift(e);
            }
            return inspection;
        },
        keySource,
        settings,
    };
}

/** Throws `e` on the hot path; records it when inspecting. */
function flag(e: ClaimsError | undefined, inspection: TokenInspection | undefined): void {
    if (!e) return;
    if (!inspection) throw e;
    inspection.errors.push(e);
}

function audienceError(aud: unknown, expected: string): ClaimsError {
    const got = audiences(aud);
    return err(
        "audience-mismatch",
        `the token's audience is ${got.length ? got.map((a) => JSON.stringify(a)).join(", ") : "missing or not a string"}, not ${JSON.stringify(expected)}: request a token for the Temporal API (scope api://<api-client-id>/default), or make authorization.audience what the issuer writes in "aud"`,
    );
}

function audiences(aud: unknown): string[] {
    if (typeof aud === "string") return [aud];
    if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === "string");
    return [];
}
