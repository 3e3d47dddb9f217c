import { compileGoRegexp, GoRegexpError, type GoRegexp } from "./go-regexp";
import { ROLE_WORDS, Role, SYSTEM_SCOPE } from "./roles";

/**
 * Why an element of the permissions claim does not do what its author probably meant. The server
 * never reports any of these: it silently skips or mis-files the element.
 */
export type FindingCode =
    | "claim-missing"
    | "claim-not-array"
    | "not-a-string"
    | "no-colon"
    | "regex-no-match"
    | "regex-missing-groups"
    | "regex-invalid"
    | "legacy-system-scope"
    | "system-scope-case"
    | "unknown-role"
    | "role-case"
    | "whitespace"
    | "extra-colon"
    | "empty-namespace"
    | "worker-without-write";

export interface Finding {
    code: FindingCode;
    /** Index of the element in the claim array; absent for findings about the claim as a whole. */
    index?: number;
    /** The element as it appeared in the token. */
    value?: unknown;
    /** The namespace the finding is about, after parsing. */
    namespace?: string;
    /** "ignored": the element grants nothing. "misfiled": it grants something other than intended. "note": harmless but odd. */
    effect: "ignored" | "misfiled" | "note";
    message: string;
}

export interface ParsedPermissions {
    /** Roles on the cluster scope (`temporal-system`). */
    system: number;
    /** Roles per namespace, exactly as the server files them (an entry exists even with role 0). */
    namespaces: Record<string, number>;
    findings: Finding[];
}

export interface ParseOptions {
    /** The server's `permissionsRegex` (Go RE2, named groups `namespace` and `role`). */
    permissionsRegex?: string;
    /** Claim name used in messages (the server's `permissionsClaimName`). */
    claimName?: string;
}

const show = (v: unknown): string => JSON.stringify(v);

/**
 * Whether a finding is an error for a value an access map declares (the stack's rules and
 * `npm run claims -- check` agree on this): everything the server skips or mis-files, and a role
 * word not in lower case, which the server folds but Entra ID, comparing app role values exactly,
 * would make a second role. The other notes (a permissionsRegex the server ignores) are not errors
 * of the value.
 */
export function isAccessMapError(finding: Finding): boolean {
    return finding.effect !== "note" || finding.code === "role-case";
}

/**
 * Go's `strings.ToLower`, which the server applies to role words. It maps rune by rune with simple
 * case mapping; JavaScript's `toLowerCase` uses full mapping, which differs for one letter that can
 * fold into a role word: "İ" (U+0130) is "i" in Go but "i̇" in JavaScript.
 */
export function goToLower(s: string): string {
    return s.includes("\u0130") ? s.replace(/\u0130/g, "i").toLowerCase() : s.toLowerCase();
}

// Bound once: a bundler's export getters (tsx, esbuild) are not free on the mapper's hot path.
const { Reader, Writer, Worker, Admin, Undefined } = Role;
const SYSTEM = SYSTEM_SCOPE;

/** The server's role for a word (`read`, `write`, `worker`, `admin`, any case), else 0. */
export function roleForWord(word: string): number {
    // The usual spellings first: this runs for every element of every token.
    switch (word) {
        case "read":
            return Reader;
        case "write":
            return Writer;
        case "worker":
            return Worker;
        case "admin":
            return Admin;
    }
    return ROLE_WORDS[goToLower(word)] ?? Undefined;
}

/** The server's reading of its `permissionsRegex` setting, decided once per configuration. */
export interface PermissionsPattern {
    /** Set when the server uses the pattern; absent when it splits at the first colon. */
    regex?: GoRegexp;
    /** Submatch indexes of the groups named "namespace" and "role" (the last of each name). */
    namespaceIndex?: number;
    roleIndex?: number;
    /** Why the server ignores the configured pattern (it falls back to the colon split and logs a warning). */
    finding?: Finding;
}

/**
 * Compiles `permissionsRegex` the way the server does: a pattern Go rejects, or one without both
 * named groups `namespace` and `role`, is ignored with a warning and the colon split is used. Throws
 * GoRegexpError (kind "unsupported") for a valid Go pattern this validator cannot reproduce.
 */
export function compilePermissionsPattern(permissionsRegex: string | undefined): PermissionsPattern {
    if (permissionsRegex === undefined || permissionsRegex === "") return {};
    let regex: GoRegexp;
    try {
        regex = compileGoRegexp(permissionsRegex);
    } catch (err) {
        if (err instanceof GoRegexpError && err.kind === "invalid") {
            return { finding: { code: "regex-invalid", effect: "note", message: err.message } };
        }
        throw err;
    }
    const namespaceIndex = regex.groupIndex.namespace;
    const roleIndex = regex.groupIndex.role;
    if (!namespaceIndex || !roleIndex) {
        return {
            finding: {
                code: "regex-missing-groups",
                effect: "note",
                message: 'permissionsRegex lacks the named groups "namespace" and "role": the server logs a warning and splits permissions at the first colon',
            },
        };
    }
    return { regex, namespaceIndex, roleIndex };
}

/** Files one role under a namespace. `namespaces` has no prototype, so "__proto__" is an ordinary key. */
function grant(namespaces: Record<string, number>, namespace: string, role: number): void {
    namespaces[namespace] = (namespaces[namespace] ?? 0) | role;
}

/** Splits one permission string as the server does; undefined when the server skips it. */
function split(element: string, pattern: PermissionsPattern): [namespace: string, word: string] | undefined {
    if (pattern.regex) {
        const m = pattern.regex.findSubmatch(element);
        if (!m) return undefined;
        return [m[pattern.namespaceIndex as number] ?? "", m[pattern.roleIndex as number] ?? ""];
    }
    const colon = element.indexOf(":");
    return colon < 0 ? undefined : [element.slice(0, colon), element.slice(colon + 1)];
}

/**
 * The server's extractPermissions without findings: the claim mapper's hot path. `claim` is the
 * raw claim value; anything but an array grants nothing.
 */
export function foldPermissions(claim: unknown, pattern: PermissionsPattern): { system: number; namespaces: Record<string, number> } {
    const namespaces = Object.create(null) as Record<string, number>;
    let system = 0;
    if (Array.isArray(claim)) {
        const regex = pattern.regex;
        for (const element of claim) {
            if (typeof element !== "string") continue;
            let namespace: string;
            let word: string;
            if (regex) {
                const parts = split(element, pattern);
                if (!parts) continue;
                [namespace, word] = parts;
            } else {
                // The colon split inline: this loop runs for every element of every token.
                const colon = element.indexOf(":");
                if (colon < 0) continue;
                namespace = element.slice(0, colon);
                word = element.slice(colon + 1);
            }
            const role = roleForWord(word);
            if (namespace === SYSTEM) system |= role;
            else namespaces[namespace] = (namespaces[namespace] ?? 0) | role;
        }
    }
    return { system, namespaces };
}

/**
 * Parses a permissions claim exactly as server 1.31's default JWT claim mapper does, and explains
 * every element that the server would skip or file somewhere unexpected. Throws GoRegexpError when
 * `permissionsRegex` is valid Go that this validator cannot reproduce.
 */
export function parsePermissions(permissions: unknown, options: ParseOptions = {}): ParsedPermissions {
    const claimName = options.claimName ?? "permissions";
    const result: ParsedPermissions = { system: 0, namespaces: Object.create(null) as Record<string, number>, findings: [] };
    const findings = result.findings;
    if (permissions === undefined) {
        findings.push({
            code: "claim-missing",
            effect: "ignored",
            message: `the token has no "${claimName}" claim, so it grants no roles (Entra ID omits "roles" when the caller has no app role assigned)`,
        });
        return result;
    }
    if (!Array.isArray(permissions)) {
        findings.push({
            code: "claim-not-array",
            value: permissions,
            effect: "ignored",
            message: `the "${claimName}" claim is ${permissions === null ? "null" : typeof permissions}, not an array: the server ignores it silently and grants no roles`,
        });
        return result;
    }

    const pattern = compilePermissionsPattern(options.permissionsRegex);
    if (pattern.finding) findings.push(pattern.finding);
    const regex = pattern.regex;

    permissions.forEach((element: unknown, index: number) => {
        if (typeof element !== "string") {
            findings.push({ code: "not-a-string", index, value: element, effect: "ignored", message: `element ${index} (${show(element)}) is not a string: skipped` });
            return;
        }
        const parts = split(element, pattern);
        if (!parts) {
            if (regex) {
                findings.push({ code: "regex-no-match", index, value: element, effect: "ignored", message: `${show(element)} does not match permissionsRegex: skipped` });
            } else {
                findings.push({
                    code: "no-colon",
                    index,
                    value: element,
                    effect: "ignored",
                    message: `${show(element)} has no colon: skipped (write "<namespace>:<read|write|worker|admin>")`,
                });
            }
            return;
        }
        const [namespace, word] = parts;
        const role = roleForWord(word);
        if (namespace === SYSTEM_SCOPE) {
            result.system |= role;
        } else {
            grant(result.namespaces, namespace, role);
        }
        explainElement(findings, element, index, namespace, word, role, regex !== undefined);
    });

    const perScope: Array<[string | undefined, number]> = [[undefined, result.system], ...Object.entries(result.namespaces)];
    for (const [ns, bits] of perScope) {
        const effective = bits | (ns === undefined ? 0 : result.system);
        if (bits & Role.Worker && effective < Role.Writer) {
            const where = ns === undefined ? SYSTEM_SCOPE : ns;
            findings.push({
                code: "worker-without-write",
                namespace: where,
                effect: "misfiled",
                message: `"${where}:worker" without write grants nothing a worker can use: polling and completing tasks need Writer, so add "${where}:write"`,
            });
        }
    }
    return result;
}

function explainElement(findings: Finding[], element: string, index: number, namespace: string, word: string, role: number, regexMode: boolean): void {
    const at = { index, value: element, namespace };
    const trimmedNs = namespace.trim();
    const trimmedWord = word.trim();
    if (namespace !== trimmedNs || word !== trimmedWord) {
        findings.push({
            ...at,
            code: "whitespace",
            effect: role === 0 ? "ignored" : "misfiled",
            message: `${show(element)} has whitespace the server keeps: it is filed under namespace ${show(namespace)} with word ${show(word)}; write ${show(`${trimmedNs}:${trimmedWord}`)}`,
        });
    }
    if (namespace === "system") {
        findings.push({
            ...at,
            code: "legacy-system-scope",
            effect: "misfiled",
            message: `${show(element)} uses the legacy "system" scope: since server 1.21 it means a namespace literally named "system", not the cluster; write "${SYSTEM_SCOPE}:${trimmedWord.toLowerCase() || "admin"}"`,
        });
    } else if (namespace !== SYSTEM_SCOPE && trimmedNs.toLowerCase() === SYSTEM_SCOPE) {
        findings.push({
            ...at,
            code: "system-scope-case",
            effect: "misfiled",
            message: `${show(element)} is not the cluster scope: the server matches "${SYSTEM_SCOPE}" exactly, so this is a namespace named ${show(namespace)}`,
        });
    }
    if (namespace === "") {
        findings.push({ ...at, code: "empty-namespace", effect: "misfiled", message: `${show(element)} has an empty namespace: the server files it under namespace "", which no request names` });
    }
    if (word.includes(":") && !regexMode) {
        findings.push({
            ...at,
            code: "extra-colon",
            effect: "ignored",
            message: `${show(element)} has more than one colon: the server splits at the first, so the role word is ${show(word)}, which is unknown`,
        });
    } else if (role === 0 && trimmedWord !== word && roleForWord(trimmedWord) !== Role.Undefined) {
        // Already reported as whitespace.
    } else if (role === 0) {
        findings.push({
            ...at,
            code: "unknown-role",
            effect: "ignored",
            message: `${show(element)} has the unknown role word ${show(word)}: it grants nothing (use read, write, worker or admin)`,
        });
    } else if (/[^\x00-\x7f]/.test(word)) {
        findings.push({
            ...at,
            code: "role-case",
            effect: "note",
            message: `${show(element)}: the server folds the non-ASCII letters of ${show(word)} to ${show(goToLower(word))} (Go's simple case mapping), so it works, but it looks like a spoof; write ${show(goToLower(word))}`,
        });
    } else if (word !== word.toLowerCase()) {
        findings.push({ ...at, code: "role-case", effect: "note", message: `${show(element)}: role words are case-insensitive, so ${show(word)} works, but lower case is the convention` });
    }
}
