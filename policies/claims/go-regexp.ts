/**
 * Compiles a Go RE2 pattern (the server's `permissionsRegex`) into a JavaScript RegExp that matches
 * the same strings for the subset a permissions pattern uses. No library translates RE2 to
 * ECMAScript, so this is written by hand and deliberately strict: what it cannot translate
 * faithfully it refuses, naming the construct, rather than guessing (a guess would make the
 * validator disagree with the server).
 */
export class GoRegexpError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "GoRegexpError";
    }
}

const FLAG_GROUP = /^\(\?([imsU]+)\)/;

export function compileGoRegexp(pattern: string): RegExp {
    let source = pattern;
    let flags = "";
    const leading = FLAG_GROUP.exec(source);
    if (leading) {
        const goFlags = leading[1] ?? "";
        if (goFlags.includes("U")) {
            throw new GoRegexpError(
                "permissionsRegex: the Go flag (?U) (ungreedy) has no JavaScript equivalent; write the pattern with explicit lazy quantifiers instead",
            );
        }
        // Go's i, m and s mean the same as JavaScript's.
        flags = [...new Set(goFlags.split(""))].join("");
        source = source.slice(leading[0].length);
    }
    const out: string[] = [];
    for (let i = 0; i < source.length; i++) {
        const c = source[i];
        if (c === "\\") {
            const next = source[i + 1];
            if (next === undefined) throw new GoRegexpError("permissionsRegex: trailing backslash");
            if (next === "A") { out.push("^"); i++; continue; }
            if (next === "z") { out.push("$(?![\\s\\S])"); i++; continue; }
            if (/[1-9]/.test(next)) {
                throw new GoRegexpError(`permissionsRegex: backreference \\${next} is not RE2 syntax; the server would refuse this pattern`);
            }
            if (next === "p" || next === "P") {
                throw new GoRegexpError("permissionsRegex: Unicode classes (\\p) are not supported by this validator; use explicit character classes");
            }
            out.push(c, next);
            i++;
            continue;
        }
        if (c === "(" && source[i + 1] === "?") {
            const rest = source.slice(i + 2);
            if (rest.startsWith("P<")) { out.push("(?<"); i += 3; continue; }
            if (rest.startsWith("<") && !rest.startsWith("<=") && !rest.startsWith("<!")) {
                // Go 1.22+ also accepts (?<name>...), the same as JavaScript.
                out.push("(?<"); i += 2; continue;
            }
            if (rest.startsWith(":")) { out.push("(?:"); i += 2; continue; }
            if (/^[=!]|^<[=!]/.test(rest)) {
                throw new GoRegexpError("permissionsRegex: lookaround assertions are not RE2 syntax; the server would refuse this pattern");
            }
            throw new GoRegexpError(
                `permissionsRegex: the group "(?${rest.slice(0, 4)}" (inline flags inside the pattern) is not supported; put flags at the very start, as (?i)`,
            );
        }
        if (c === "[" && source.startsWith("[[:", i)) {
            throw new GoRegexpError("permissionsRegex: POSIX classes like [[:alpha:]] are not supported by this validator; use explicit ranges");
        }
        out.push(c ?? "");
    }
    try {
        return new RegExp(out.join(""), flags);
    } catch (err) {
        throw new GoRegexpError(`permissionsRegex: invalid pattern: ${(err as Error).message}`);
    }
}
