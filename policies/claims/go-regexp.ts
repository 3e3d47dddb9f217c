/**
 * Compiles a Go RE2 pattern (the server's `permissionsRegex`) into a JavaScript RegExp that matches
 * the same strings. No library translates RE2 to ECMAScript, so this is written by hand, following
 * Go's regexp/syntax parser, and deliberately strict. Two kinds of refusal:
 *
 * - `invalid`: Go itself rejects the pattern (backreferences, lookaround, `\u`, nested repetition,
 *   repeat counts over 1000, unbalanced parentheses, ...). The server then logs a warning and falls
 *   back to splitting permissions at the first colon; callers that model the server do the same.
 * - `unsupported`: Go accepts the pattern but this translator cannot reproduce it faithfully (Unicode
 *   classes, POSIX classes, flags in the middle of the pattern, ungreedy mode). Guessing would make
 *   the validator disagree with the server, so it refuses and names the construct.
 *
 * Semantics carried over: the pattern is unanchored; `.` never matches `\n` unless `(?s)`; `\s` is
 * Go's ASCII `[\t\n\f\r ]`; `^`/`$` under `(?m)` see only `\n` as a line end; matching works on code
 * points (the `u` flag) as Go works on runes; `\` before any ASCII punctuation is a literal.
 */
export type GoRegexpErrorKind = "invalid" | "unsupported";

export class GoRegexpError extends Error {
    override readonly name = "GoRegexpError";

    constructor(
        message: string,
        /** "invalid": Go rejects the pattern too. "unsupported": Go accepts it, this validator cannot translate it. */
        readonly kind: GoRegexpErrorKind = "unsupported",
    ) {
        super(message);
    }
}

export interface TranslatedGoRegexp {
    /** ECMAScript source, to be used with `flags`. */
    source: string;
    flags: string;
    /** Names of the named capture groups, in order. */
    groupNames: string[];
}

const GO_REPEAT_MAX = 1000;
const GO_WHITESPACE = "\\t\\n\\f\\r ";

const invalid = (what: string): GoRegexpError =>
    new GoRegexpError(`permissionsRegex: ${what}; Go's regexp package rejects this pattern, so the server ignores it and splits permissions at the first colon`, "invalid");
const unsupported = (what: string): GoRegexpError =>
    new GoRegexpError(`permissionsRegex: ${what} is valid Go but this validator cannot reproduce it exactly; rewrite the pattern without it`, "unsupported");

const hex2 = (code: number): string => `\\x${code.toString(16).padStart(2, "0")}`;
const codePointEscape = (code: number): string => (code < 0x100 ? hex2(code) : `\\u{${code.toString(16)}}`);
const isAsciiPunct = (c: string): boolean => c.length === 1 && c.charCodeAt(0) < 0x80 && !/[0-9A-Za-z]/.test(c);

/** Translates without compiling; throws GoRegexpError. */
export function translateGoRegexp(pattern: string): TranslatedGoRegexp {
    let i = 0;
    let ignoreCase = false;
    let dotAll = false;
    let multiLine = false;
    // Go accepts any number of leading flag groups such as (?i) or (?is).
    for (let m = /^\(\?([a-zA-Z-]*)\)/.exec(pattern); m; m = /^\(\?([a-zA-Z-]*)\)/.exec(pattern.slice(i))) {
        const flags = m[1] ?? "";
        if (!/^[imsU]+$/.test(flags)) {
            if (/^[imsU]*-[imsU]+$/.test(flags)) throw unsupported(`the flag group "(?${flags})" (clearing flags)`);
            throw invalid(`"(?${flags})" is not a valid flag group`);
        }
        if (flags.includes("U")) throw unsupported("the ungreedy flag (?U)");
        ignoreCase ||= flags.includes("i");
        dotAll ||= flags.includes("s");
        multiLine ||= flags.includes("m");
        i += m[0].length;
    }

    const out: string[] = [];
    const names: string[] = [];
    let depth = 0;
    // Whether the previous item can take a repetition operator, and whether it already is one.
    let canRepeat = false;
    let afterRepeat = false;

    const atom = (js: string): void => {
        out.push(js);
        canRepeat = true;
        afterRepeat = false;
    };
    const repeat = (op: string, text: string): void => {
        if (afterRepeat) throw invalid(`nested repetition operator "${text}"`);
        if (!canRepeat) throw invalid(`missing argument to repetition operator "${text}"`);
        out.push(op);
        if (pattern[i + 1] === "?") {
            out.push("?");
            i++;
        }
        afterRepeat = true;
    };

    for (; i < pattern.length; i++) {
        const c = String.fromCodePoint(pattern.codePointAt(i) ?? 0);
        if (c.length === 2) {
            atom(c);
            i++;
            continue;
        }
        switch (c) {
            case "\\": {
                const [js, consumed, kind] = escape(pattern, i, false);
                i += consumed - 1;
                if (kind === "assertion") {
                    out.push(js);
                    canRepeat = true; // Go allows repeating empty-width items; JavaScript rejects some, reported when compiling.
                    afterRepeat = false;
                } else atom(js);
                break;
            }
            case "(": {
                const rest = pattern.slice(i + 1);
                let named = /^\?P?<([^>]*)>/.exec(rest);
                if (named && /^\?<[=!]/.test(rest)) named = null;
                if (named) {
                    const name = named[1] ?? "";
                    if (!/^[A-Za-z0-9_]+$/.test(name)) throw invalid(`invalid named capture group name "${name}"`);
                    if (/^[0-9]/.test(name)) throw unsupported(`a group name starting with a digit ("${name}")`);
                    if (names.includes(name)) throw invalid(`duplicate capture group name "${name}"`);
                    names.push(name);
                    out.push(`(?<${name}>`);
                    i += named[0].length;
                } else if (rest.startsWith("?:")) {
                    out.push("(?:");
                    i += 2;
                } else if (rest.startsWith("?P=") || /^\?<?[=!]/.test(rest)) {
                    throw invalid(rest.startsWith("?P=") ? "named backreferences (?P=name)" : "lookaround assertions");
                } else if (rest.startsWith("?")) {
                    const flags = /^\?([a-zA-Z-]*)[:)]/.exec(rest);
                    if (flags && /^[imsU]*(-[imsU]+)?$/.test(flags[1] ?? "") && (flags[1] ?? "") !== "") {
                        throw unsupported(`the flag group "(${flags[0]}" after the start of the pattern (put flags first, as (?i))`);
                    }
                    throw invalid(`"(${rest.slice(0, 3)}" is not valid Go group syntax`);
                } else {
                    out.push("(");
                }
                depth++;
                canRepeat = false;
                afterRepeat = false;
                break;
            }
            case ")":
                if (depth === 0) throw invalid('unexpected ")"');
                depth--;
                atom(")");
                break;
            case "|":
                out.push("|");
                canRepeat = false;
                afterRepeat = false;
                break;
            case "*":
            case "+":
            case "?":
                repeat(c, c);
                break;
            case "{": {
                const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
                if (!m) {
                    atom("\\{"); // Go treats a brace that does not start a repeat as a literal.
                    break;
                }
                const min = Number(m[1]);
                const max = m[2] === undefined ? min : m[3] === "" ? undefined : Number(m[3]);
                if (min > GO_REPEAT_MAX || (max !== undefined && (max > GO_REPEAT_MAX || max < min))) {
                    throw invalid(`invalid repeat count "${m[0]}" (Go allows at most ${GO_REPEAT_MAX}, minimum not above maximum)`);
                }
                const text = m[0];
                i += text.length - 1;
                repeat(text, text);
                break;
            }
            case "}":
                atom("\\}");
                break;
            case "]":
                atom("\\]");
                break;
            case "[": {
                const [js, consumed] = characterClass(pattern, i);
                i += consumed - 1;
                atom(js);
                break;
            }
            case ".":
                atom(dotAll ? "[\\s\\S]" : "[^\\n]");
                break;
            case "^":
                out.push(multiLine ? "(?<![^\\n])" : "^");
                canRepeat = true;
                afterRepeat = false;
                break;
            case "$":
                out.push(multiLine ? "(?![^\\n])" : "$");
                canRepeat = true;
                afterRepeat = false;
                break;
            default:
                atom(c === "/" ? "\\/" : c);
        }
    }
    if (depth > 0) throw invalid('missing closing ")"');
    return { source: out.join(""), flags: ignoreCase ? "iu" : "u", groupNames: names };
}

/** One escape at `pattern[at] === "\\"`: [javascript, characters consumed, kind]. */
function escape(pattern: string, at: number, inClass: boolean): [string, number, "atom" | "assertion"] {
    const next = pattern[at + 1];
    if (next === undefined) throw invalid("trailing backslash at end of expression");
    if (next >= "0" && next <= "9") {
        // Go: \0 and \1-\7 followed by an octal digit start an octal escape of up to three digits;
        // a lone \1-\9 would be a backreference, which RE2 does not have.
        const octal = /^[0-7]{1,3}/.exec(pattern.slice(at + 1))?.[0] ?? "";
        if (next !== "0" && octal.length < 2) throw invalid(`invalid escape sequence "\\${next}" (backreferences are not RE2 syntax)`);
        return [hex2(parseInt(octal, 8)), 1 + octal.length, "atom"];
    }
    switch (next) {
        case "x": {
            const braced = /^\{([0-9A-Fa-f]+)\}/.exec(pattern.slice(at + 2));
            if (braced) {
                const code = parseInt(braced[1] ?? "", 16);
                if (code > 0x10ffff) throw invalid(`invalid escape sequence "\\x${braced[0]}"`);
                return [codePointEscape(code), 2 + braced[0].length, "atom"];
            }
            const two = /^[0-9A-Fa-f]{2}/.exec(pattern.slice(at + 2));
            if (!two) throw invalid('invalid escape sequence "\\x" (write \\xHH or \\x{HHHH})');
            return [hex2(parseInt(two[0], 16)), 4, "atom"];
        }
        case "a":
            return ["\\x07", 2, "atom"];
        case "f":
        case "t":
        case "n":
        case "r":
        case "v":
        case "d":
        case "D":
        case "w":
        case "W":
            return [`\\${next}`, 2, "atom"];
        case "s":
            return [inClass ? GO_WHITESPACE : `[${GO_WHITESPACE}]`, 2, "atom"];
        case "S":
            if (inClass) throw unsupported("\\S inside a character class");
            return [`[^${GO_WHITESPACE}]`, 2, "atom"];
        case "p":
        case "P":
            throw unsupported("a Unicode class (\\p or \\P)");
        case "C":
            throw unsupported("\\C (any byte)");
    }
    if (!inClass) {
        switch (next) {
            case "A":
                return ["^", 2, "assertion"];
            case "z":
                return ["$", 2, "assertion"];
            case "b":
            case "B":
                return [`\\${next}`, 2, "assertion"];
            case "Q": {
                const end = pattern.indexOf("\\E", at + 2);
                const literal = pattern.slice(at + 2, end < 0 ? undefined : end);
                const js = [...literal].map((ch) => (isAsciiPunct(ch) ? hex2(ch.charCodeAt(0)) : ch)).join("");
                // A quoted run is a sequence of literals: as in Go, a following repetition applies to its last one.
                return [js, (end < 0 ? pattern.length : end + 2) - at, literal === "" ? "assertion" : "atom"];
            }
        }
    }
    if (isAsciiPunct(next)) {
        // Go: an escaped ASCII character that is not a letter or digit is always itself.
        return [hex2(next.charCodeAt(0)), 2, "atom"];
    }
    throw invalid(`invalid escape sequence "\\${next}"`);
}

/** A character class starting at `pattern[at] === "["`: [javascript, characters consumed]. */
function characterClass(pattern: string, at: number): [string, number] {
    const out: string[] = ["["];
    let i = at + 1;
    if (pattern[i] === "^") {
        out.push("^");
        i++;
    }
    // Go: a "]" right after "[" or "[^" is a literal.
    if (pattern[i] === "]") {
        out.push("\\]");
        i++;
    }
    for (; i < pattern.length; i++) {
        const c = pattern[i] ?? "";
        if (c === "]") {
            out.push("]");
            return [out.join(""), i - at + 1];
        }
        if (c === "[") {
            if (pattern[i + 1] === ":") throw unsupported("a POSIX class such as [[:alpha:]]");
            out.push("\\[");
            continue;
        }
        if (c === "\\") {
            const [js, consumed] = escape(pattern, i, true);
            out.push(js);
            i += consumed - 1;
            continue;
        }
        out.push(c);
    }
    throw invalid('missing closing "]"');
}

/** Compiles a Go RE2 pattern; throws GoRegexpError (see the module comment for the two kinds). */
export function compileGoRegexp(pattern: string): RegExp {
    const { source, flags } = translateGoRegexp(pattern);
    try {
        return new RegExp(source, flags);
    } catch (err) {
        throw new GoRegexpError(
            `permissionsRegex: this validator could not compile its translation of the pattern (${(err as Error).message}); Go may reject it too: simplify the pattern`,
            "unsupported",
        );
    }
}
