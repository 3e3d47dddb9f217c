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
 * Prefilters for the two limits of Go's encoding/json that JSON.parse does not have. A number
 * literal overflows float64 only with an exponent of three digits or more, or with 210+ digits
 * before it (e.g. "2" and 300 zeros and "e8"); nesting deeper than 10,000 levels needs more than
 * 20,000 characters. Only a text that passes a prefilter is scanned exactly (two simple patterns:
 * an alternation of both scans ten times slower).
 */
const BIG_EXPONENT = /[eE][+-]?0*[1-9]\d\d/;
const MANY_DIGITS = /\d{200}/;
/** Go's encoding/json maxNestingDepth. */
const GO_MAX_DEPTH = 10_000;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Scans JSON text outside its strings, as Go's scanner meets it: the deepest nesting, and whether a
 * number literal overflows float64 (strconv.ParseFloat fails with ErrRange where JSON.parse gives
 * Infinity). Every literal counts, even one a later duplicate key overwrites: Go fails the decode.
 */
function scanLimits(text: string, checkNumbers: boolean): { depth: number; overflow: boolean } {
    let depth = 0;
    let max = 0;
    let overflow = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x22) {
            for (i++; i < text.length; i++) {
                const d = text.charCodeAt(i);
                if (d === 0x5c) i++;
                else if (d === 0x22) break;
            }
        } else if (c === 0x7b || c === 0x5b) {
            if (++depth > max) max = depth;
        } else if (c === 0x7d || c === 0x5d) {
            depth--;
        } else if (checkNumbers && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
            NUMBER.lastIndex = i;
            const m = NUMBER.exec(text);
            if (m) {
                if (!Number.isFinite(Number(m[0]))) overflow = true;
                i += m[0].length - 1;
            }
        }
    }
    return { depth: max, overflow };
}

/**
 * UTF-8 decoding as Go's encoding/json does it inside strings: every byte that does not start a
 * valid sequence becomes one U+FFFD (utf8.DecodeRune's RuneError of width 1). Node's decoder (the
 * WHATWG one) replaces a maximal invalid subpart with ONE U+FFFD, so a truncated sequence such as
 * E2 82 gives one replacement character in JavaScript and two in Go: a different namespace key.
 * Written by hand because no decoder offers Go's replacement policy; valid input takes the fast path.
 * (Outside strings an invalid byte is a syntax error either way.)
 */
export function goUtf8(bytes: Buffer): string {
    // Node's decoder yields U+FFFD only for invalid input (or an encoded U+FFFD, which the slow path
    // decodes the same); the search is instant on the usual ASCII text (a one-byte string).
    const fast = bytes.toString("utf8");
    if (!fast.includes("\uFFFD")) return fast;
    let out = "";
    let run = 0;
    let i = 0;
    const cont = (at: number, lo = 0x80, hi = 0xbf): boolean => at < bytes.length && (bytes[at] as number) >= lo && (bytes[at] as number) <= hi;
    while (i < bytes.length) {
        const b = bytes[i] as number;
        let size = 0;
        if (b < 0x80) size = 1;
        else if (b >= 0xc2 && b <= 0xdf) size = cont(i + 1) ? 2 : 0;
        else if (b >= 0xe0 && b <= 0xef) size = cont(i + 1, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf) && cont(i + 2) ? 3 : 0;
        else if (b >= 0xf0 && b <= 0xf4) size = cont(i + 1, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf) && cont(i + 2) && cont(i + 3) ? 4 : 0;
        if (size === 0) {
            out += `${bytes.toString("utf8", run, i)}\uFFFD`;
            i++;
            run = i;
        } else i += size;
    }
    return out + bytes.toString("utf8", run, bytes.length);
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
    const text = goUtf8(bytes);
    let value: unknown;
    let trailing = false;
    // What Go's decoder reads: the whole text (strict), or its first value (the claims).
    let read = text;
    try {
        value = JSON.parse(text);
    } catch {
        if (strict) return { ok: false, reason: "is not valid JSON" };
        let start = 0;
        while (start < text.length && " \t\r\n".includes(text[start] ?? "")) start++;
        const end = text[start] === "{" ? objectEnd(text, start) : -1;
        if (end < 0) return { ok: false, reason: "is not valid JSON" };
        read = text.slice(start, end);
        try {
            value = JSON.parse(read);
        } catch {
            return { ok: false, reason: "is not valid JSON" };
        }
        trailing = true;
    }
    const numbers = BIG_EXPONENT.test(read) || (read.length >= 200 && MANY_DIGITS.test(read));
    if (numbers || read.length > 2 * GO_MAX_DEPTH) {
        const limits = scanLimits(read, numbers);
        if (limits.depth > GO_MAX_DEPTH) return { ok: false, reason: `nests ${limits.depth} levels deep, over Go's limit of ${GO_MAX_DEPTH}` };
        if (limits.overflow) return { ok: false, reason: "has a number too large for a 64-bit float" };
    }
    if (value === null) return { ok: true, value: null, trailing, escapes: false };
    if (typeof value !== "object" || Array.isArray(value)) return { ok: false, reason: `is a JSON ${Array.isArray(value) ? "array" : typeof value}, not an object` };
    // Lone surrogates can only come from \u escapes (decoding bytes never produces them).
    return { ok: true, value: value as JsonObject, trailing, escapes: read.includes("\\u") };
}

/** Go's unicode.IsSpace, which strings.TrimSpace trims: JavaScript's trim() differs (it trims U+FEFF, keeps U+0085). */
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g");

/** Go's strings.TrimSpace. */
export function goTrimSpace(s: string): string {
    return s.replace(GO_TRIM, "");
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
