import { RE2JS, RE2JSException } from "re2js";

/**
 * The server's `permissionsRegex` is compiled by Go's regexp package (RE2 syntax, Perl flags,
 * leftmost-first, linear time). It is reproduced here with `re2js`, a maintained JavaScript port of
 * RE2/J, itself a port of Go's regexp: the same parser, the same Unicode classes and case folding,
 * the same submatch semantics, and linear-time matching (a hand translation to ECMAScript RegExp
 * backtracks: a pattern like `((?P<namespace>[a-z]+),)*(?P<role>\w+)` took minutes on one long
 * permission). The differential test holds it against Go's own regexp through the server's mapper.
 *
 * Two kinds of refusal:
 * - `invalid`: Go rejects the pattern too. The server then logs a warning and splits permissions
 *   at the first colon; callers that model the server do the same.
 * - `unsupported`: Go accepts the pattern but re2js reads it differently (found by the differential
 *   test against the server): refused, with the construct named, never approximated.
 */
export type GoRegexpErrorKind = "invalid" | "unsupported";

export class GoRegexpError extends Error {
    override readonly name = "GoRegexpError";

    constructor(
        message: string,
        /** "invalid": Go rejects the pattern too. "unsupported": Go accepts it, this validator cannot reproduce it. */
        readonly kind: GoRegexpErrorKind = "unsupported",
    ) {
        super(message);
    }
}

/** A compiled pattern and what the server reads from it. */
export interface GoRegexp {
    /** FindStringSubmatch: the submatches of the leftmost-first match ("" for a group that did not take part), or undefined. */
    findSubmatch(input: string): string[] | undefined;
    /** Index of each submatch name; for a name used twice, the LAST group, as the server's loop over SubexpNames keeps it. */
    readonly groupIndex: Readonly<Record<string, number>>;
    readonly groupCount: number;
}

/**
 * Constructs Go accepts that re2js reads differently, found against the server's regexp. Go 1.26's
 * regexp uses Unicode 15.0 tables, re2js newer ones: a character assigned since (U+1C89, a Cyrillic
 * letter of Unicode 16) is a letter to re2js and not to Go, and the case-folding orbits of such
 * characters differ. Unicode classes, and case folding of non-ASCII characters, are therefore
 * refused. What remains is independent of the Unicode version: literals, ASCII classes (\w, \d,
 * \s, \b and POSIX classes are ASCII in Go), "." and negated classes, and (?i) over ASCII (whose
 * fold orbits, K/k/U+212A and S/s/U+017F, have not changed).
 */
function unsupportedConstruct(pattern: string): string | undefined {
    let unicodeClass = false;
    let nonAscii = false;
    let foldCase = false;
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i] as string;
        if (c === "\\") {
            const next = pattern[i + 1] ?? "";
            if (next === "p" || next === "P") unicodeClass = true;
            if (next === "x") {
                const hex = /^x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(pattern.slice(i + 1));
                if (hex && parseInt(hex[1] ?? hex[2] ?? "0", 16) >= 0x80) nonAscii = true;
            }
            if (next >= "0" && next <= "7") {
                const octal = /^[0-7]{1,3}/.exec(pattern.slice(i + 1));
                if (octal && parseInt(octal[0], 8) >= 0x80) nonAscii = true;
            }
            i++;
        } else if (c.charCodeAt(0) >= 0x80) {
            nonAscii = true;
        } else if (c === "(" && pattern[i + 1] === "?") {
            const flags = /^\(\?([a-zA-Z]*)(?:-[a-zA-Z]*)?[:)]/.exec(pattern.slice(i));
            if (flags?.[1]?.includes("i")) foldCase = true;
        }
    }
    if (unicodeClass) return "a Unicode class (\\p or \\P): Go's regexp classifies characters by Unicode 15.0 and this validator's engine by a newer version (U+1C89 is a letter to one and not the other); use explicit ranges";
    if (foldCase && nonAscii) return "case folding (?i) with a non-ASCII character: Go's Unicode 15.0 folding and this validator's newer tables differ for characters added since; spell the cases out, or keep (?i) to ASCII";
    return undefined;
}

/** Compiles a Go RE2 pattern; throws GoRegexpError (see the module comment for the two kinds). */
export function compileGoRegexp(pattern: string): GoRegexp {
    let re: RE2JS;
    try {
        re = RE2JS.compile(pattern);
    } catch (err) {
        if (!(err instanceof RE2JSException)) throw err;
        if (/duplicate capture group name/.test(err.message)) {
            // Go accepts a name used twice (SubexpNames lists both); re2js refuses it.
            throw new GoRegexpError(`permissionsRegex uses a capture group name twice (${err.message}): Go accepts that and the server uses the last group of each name, which this validator cannot reproduce: give every group its own name`, "unsupported");
        }
        throw new GoRegexpError(`permissionsRegex is not valid Go RE2 syntax (${err.message}): the server logs a warning, ignores it and splits permissions at the first colon`, "invalid");
    }
    // Only a pattern Go accepts is refused as unsupported (one Go rejects is "invalid" above).
    const construct = unsupportedConstruct(pattern);
    if (construct) throw new GoRegexpError(`permissionsRegex uses ${construct}; this validator cannot reproduce Go's reading of it exactly, so it refuses the pattern rather than guess`, "unsupported");
    const groupCount = re.groupCount();
    const groupIndex: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [name, index] of Object.entries(re.namedGroups())) groupIndex[name] = index;
    return {
        groupIndex,
        groupCount,
        findSubmatch(input) {
            const m = re.matcher(input);
            if (!m.find()) return undefined;
            const out: string[] = [];
            for (let i = 0; i <= groupCount; i++) out.push(m.group(i) ?? "");
            return out;
        },
    };
}
