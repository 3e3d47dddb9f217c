import { compileGoRegexp } from "./go-regexp";
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
 * Parses a permissions claim exactly as server 1.31's default JWT claim mapper does, and explains
 * every element that the server would skip or file somewhere unexpected.
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

    let regex: RegExp | undefined;
    let regexHasGroups = false;
    if (options.permissionsRegex !== undefined && options.permissionsRegex !== "") {
        regex = compileGoRegexp(options.permissionsRegex);
        const names = namedGroups(options.permissionsRegex);
        regexHasGroups = names.has("namespace") && names.has("role");
        if (!regexHasGroups) {
            findings.push({
                code: "regex-missing-groups",
                effect: "note",
                message: "permissionsRegex lacks the named groups \"namespace\" and \"role\": the server falls back to splitting at the first colon",
            });
        }
    }

    permissions.forEach((element: unknown, index: number) => {
        if (typeof element !== "string") {
            findings.push({ code: "not-a-string", index, value: element, effect: "ignored", message: `element ${index} (${show(element)}) is not a string: skipped` });
            return;
        }
        let namespace: string;
        let word: string;
        if (regex && regexHasGroups) {
            const m = regex.exec(element);
            if (!m) {
                findings.push({ code: "regex-no-match", index, value: element, effect: "ignored", message: `${show(element)} does not match permissionsRegex: skipped` });
                return;
            }
            namespace = m.groups?.namespace ?? "";
            word = m.groups?.role ?? "";
        } else {
            const colon = element.indexOf(":");
            if (colon < 0) {
                findings.push({
                    code: "no-colon",
                    index,
                    value: element,
                    effect: "ignored",
                    message: `${show(element)} has no colon: skipped (write "<namespace>:<read|write|worker|admin>")`,
                });
                return;
            }
            namespace = element.slice(0, colon);
            word = element.slice(colon + 1);
        }
        const role = ROLE_WORDS[word.toLowerCase()] ?? Role.Undefined;
        if (namespace === SYSTEM_SCOPE) {
            result.system |= role;
        } else {
            result.namespaces[namespace] = (result.namespaces[namespace] ?? 0) | role;
        }
        explainElement(findings, element, index, namespace, word, role);
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

function explainElement(findings: Finding[], element: string, index: number, namespace: string, word: string, role: number): void {
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
    if (word.includes(":")) {
        findings.push({
            ...at,
            code: "extra-colon",
            effect: "ignored",
            message: `${show(element)} has more than one colon: the server splits at the first, so the role word is ${show(word)}, which is unknown`,
        });
    } else if (role === 0 && trimmedWord !== word && ROLE_WORDS[trimmedWord.toLowerCase()] !== undefined) {
        // Already reported as whitespace.
    } else if (role === 0) {
        findings.push({
            ...at,
            code: "unknown-role",
            effect: "ignored",
            message: `${show(element)} has the unknown role word ${show(word)}: it grants nothing (use read, write, worker or admin)`,
        });
    } else if (word !== word.toLowerCase()) {
        findings.push({ ...at, code: "role-case", effect: "note", message: `${show(element)}: role words are case-insensitive, so ${show(word)} works, but lower case is the convention` });
    }
}

/** Named groups of a Go or JavaScript pattern (`(?P<name>` or `(?<name>`). */
function namedGroups(pattern: string): Set<string> {
    const names = new Set<string>();
    for (const m of pattern.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)) {
        if (m[1]) names.add(m[1]);
    }
    return names;
}
