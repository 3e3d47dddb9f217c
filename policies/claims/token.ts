/**
 * How golang-jwt v4.5.2 (the library server 1.31 uses) reads a compact JWT, reproduced byte for byte
 * where it decides acceptance. Written by hand because no JavaScript library reads tokens the way Go
 * does: `jose` decodes base64url through `atob` (which accepts "=" padding and whitespace that Go
 * rejects), refuses `crit` headers and RSA keys under 2048 bits that the server accepts, and
 * `JSON.parse` refuses trailing data that Go's streaming decoder ignores.
 */

/**
 * Go's `base64.RawURLEncoding.DecodeString` (non-strict): URL alphabet only, no padding, CR and LF
 * skipped anywhere, unused trailing bits ignored, a dangling single character rejected.
 *
 * Node's decoder skips characters outside the alphabet and stops at "=", so any such character
 * shows up as a short result; "+" and "/" (which Node also accepts) are checked separately. This is
 * twice as fast as validating with a regular expression first, on the mapper's hot path.
 */
export function goDecodeSegment(segment: string, into?: Buffer): Buffer | undefined {
    const n = segment.length;
    if (n % 4 !== 1) {
        const expected = Math.floor((n * 3) / 4);
        // `into`: a scratch buffer the caller reuses (the result is a view of it, valid until its next use).
        const bytes = into && expected <= into.length ? into.subarray(0, into.write(segment, 0, "base64url")) : Buffer.from(segment, "base64url");
        if (bytes.length === expected) return segment.includes("+") || segment.includes("/") ? undefined : bytes;
    }
    // Something was skipped or the length is off: Go still accepts it if only CR/LF were in the way.
    if (!CR_LF.test(segment)) return undefined;
    const stripped = segment.replace(CR_LF_ALL, "");
    return stripped.length === n ? undefined : goDecodeSegment(stripped);
}

const CR_LF = /[\r\n]/;
const CR_LF_ALL = /[\r\n]/g;

/** Splits `header.payload.signature`; undefined unless there are exactly two dots (golang-jwt's splitToken). */
export function splitCompact(token: string): [string, string, string] | undefined {
    const a = token.indexOf(".");
    if (a < 0) return undefined;
    const b = token.indexOf(".", a + 1);
    if (b < 0 || token.indexOf(".", b + 1) >= 0) return undefined;
    return [token.slice(0, a), token.slice(a + 1, b), token.slice(b + 1)];
}

export type JsonObject = Record<string, unknown>;

/**
 * Prefilters for a number Go's float64 decoding overflows (JSON.parse makes it Infinity): an
 * exponent >= 100, or 309+ digits. Two simple patterns: an alternation of both scans ten times slower.
 */
const BIG_EXPONENT = /[eE]\+?0*[1-9]\d\d/;
const MANY_DIGITS = /\d{309}/;

function hasInfinity(value: unknown): boolean {
    if (typeof value === "number") return value === Infinity || value === -Infinity;
    if (value !== null && typeof value === "object") {
        if (Array.isArray(value)) {
            for (const v of value) if (hasInfinity(v)) return true;
        } else {
            for (const k in value) if (hasInfinity((value as JsonObject)[k])) return true;
        }
    }
    return false;
}

/** Index just past the JSON object starting at `text[start] === "{"`, or -1. */
function objectEnd(text: string, start: number): number {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (c === 0x5c) i++;
            else if (c === 0x22) inString = false;
            continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
            depth--;
            if (depth === 0) return i + 1;
        }
    }
    return -1;
}

export type GoJsonResult = { ok: true; value: JsonObject | null; trailing: boolean; escapes?: boolean } | { ok: false; reason: string };

/**
 * Decodes a JSON object as Go's encoding/json does into a `map[string]interface{}`:
 * - `strict` (json.Unmarshal, used for the header): the whole text must be one value.
 * - not strict (json.Decoder.Decode, used for the claims): the first value is read and anything
 *   after it is ignored.
 * `null` is accepted (Go leaves the map empty); any other non-object fails, as does a number that
 * overflows float64. Text is decoded as UTF-8 with a leading BOM kept (Go rejects it).
 */
export function goDecodeJsonObject(bytes: Buffer, strict: boolean): GoJsonResult {
    const text = bytes.toString("utf8");
    let value: unknown;
    let trailing = false;
    try {
        value = JSON.parse(text);
    } catch {
        if (strict) return { ok: false, reason: "is not valid JSON" };
        let start = 0;
        while (start < text.length && " \t\r\n".includes(text[start] ?? "")) start++;
        const end = text[start] === "{" ? objectEnd(text, start) : -1;
        if (end < 0) return { ok: false, reason: "is not valid JSON" };
        try {
            value = JSON.parse(text.slice(start, end));
        } catch {
            return { ok: false, reason: "is not valid JSON" };
        }
        trailing = true;
    }
    if (value === null) return { ok: true, value: null, trailing, escapes: false };
    if (typeof value !== "object" || Array.isArray(value)) return { ok: false, reason: `is a JSON ${Array.isArray(value) ? "array" : typeof value}, not an object` };
    if ((BIG_EXPONENT.test(text) || (text.length >= 309 && MANY_DIGITS.test(text))) && hasInfinity(value)) {
        return { ok: false, reason: "has a number too large for a 64-bit float" };
    }
    // Lone surrogates can only come from \u escapes (Buffer decoding never produces them).
    return { ok: true, value: value as JsonObject, trailing, escapes: text.includes("\\u") };
}

/** Signing methods golang-jwt v4 registers; any other `alg` is "unavailable" before the allow-list applies. */
export const GOLANG_JWT_METHODS: ReadonlySet<string> = new Set([
    "none",
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "EdDSA",
]);

/** Go's time.Unix(sec) + 62135596800 overflows int64 above this value (the largest float64 that does not). */
const GO_TIME_OVERFLOW = 9223371974719178240;

/**
 * A NumericDate as golang-jwt v4 compares it: truncated to whole seconds (floor, after Go normalises
 * a negative fraction), and a value so large that Go's int64 time arithmetic wraps lands in the
 * distant past.
 */
export function goNumericDate(value: number): number {
    return value > GO_TIME_OVERFLOW ? -Infinity : Math.floor(value);
}

export type TimeVerdict = "ok" | "failed" | "not-a-number";

/**
 * golang-jwt v4 MapClaims.VerifyExpiresAt / VerifyIssuedAt / VerifyNotBefore with `req = false`:
 * absent or exactly 0 passes; anything but a JSON number fails; no clock skew.
 */
export function goTimeClaim(kind: "exp" | "iat" | "nbf", value: unknown, nowSeconds: number): TimeVerdict {
    if (value === undefined) return "ok";
    if (typeof value !== "number") return "not-a-number";
    if (value === 0) return "ok";
    const t = goNumericDate(value);
    if (kind === "exp") return nowSeconds < t ? "ok" : "failed";
    return nowSeconds >= t ? "ok" : "failed";
}

/**
 * golang-jwt v4 MapClaims.VerifyAudience(cmp, true): `aud` as a string or an array of strings (one
 * non-string element fails the whole check); exact, case-sensitive comparison; an absent, empty or
 * all-empty audience fails.
 */
export function goVerifyAudience(aud: unknown, expected: string): boolean {
    let list: string[] = [];
    if (typeof aud === "string") list = [aud];
    else if (Array.isArray(aud)) {
        for (const a of aud) {
            if (typeof a !== "string") return false;
        }
        list = aud as string[];
    }
    if (list.length === 0 || list.join("") === "") return false;
    return list.includes(expected);
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/;

/** Go decodes a JSON string with an unpaired surrogate escape to U+FFFD; JSON.parse keeps the surrogate. */
export function goString(s: string): string {
    if (!LONE_SURROGATE.test(s)) return s;
    let out = "";
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
            const d = s.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
                out += s[i] + (s[i + 1] ?? "");
                i++;
                continue;
            }
        }
        out += c >= 0xd800 && c <= 0xdfff ? "\uFFFD" : s[i];
    }
    return out;
}
