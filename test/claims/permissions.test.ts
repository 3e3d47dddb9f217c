import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compilePermissionsPattern, foldPermissions, parsePermissions, type FindingCode } from "../../policies/claims/permissions";
import { compileGoRegexp, GoRegexpError } from "../../policies/claims/go-regexp";
import { Role, effectiveAccess, roleNames } from "../../policies/claims/roles";

const plain = (o: Record<string, number>): Record<string, number> => ({ ...o });
const codes = (permissions: unknown, opts = {}): FindingCode[] => parsePermissions(permissions, opts).findings.map((f) => f.code);

describe("parsePermissions: the server's colon split (reference §1)", () => {
    it("maps the four words to the role bits and ORs several entries of one namespace", () => {
        const p = parsePermissions(["default:read", "default:write", "default:worker", "ops:admin"]);
        assert.deepEqual(plain(p.namespaces), { default: 7, ops: 8 });
        assert.equal(p.system, 0);
        assert.equal(Role.Undefined, 0);
        assert.deepEqual([Role.Worker, Role.Reader, Role.Writer, Role.Admin], [1, 2, 4, 8]);
    });

    it("files temporal-system roles under system, exactly that string", () => {
        const p = parsePermissions(["temporal-system:admin", "temporal-system:read"]);
        assert.equal(p.system, 10);
        assert.deepEqual(plain(p.namespaces), {});
    });

    it("matches role words case-insensitively, as Go's strings.ToLower does (including İ → i)", () => {
        const p = parsePermissions(["a:READ", "b:Write", "c:WoRkEr", "d:adm\u0130n"]);
        assert.deepEqual(plain(p.namespaces), { a: 2, b: 4, c: 1, d: 8 });
        const notes = p.findings.filter((f) => f.code === "role-case");
        assert.equal(notes.length, 4);
        assert.match(notes[3]?.message ?? "", /looks like a spoof; write "admin"/);
    });

    it("keeps namespace case and files unknown words as role 0 (the entry still exists)", () => {
        const p = parsePermissions(["Payments:read", "payments:owner"]);
        assert.deepEqual(plain(p.namespaces), { Payments: 2, payments: 0 });
    });

    it("splits at the FIRST colon, trims nothing, and accepts an empty namespace", () => {
        const p = parsePermissions(["ns:read:x", " default:read", "default: read", ":read"]);
        assert.deepEqual(plain(p.namespaces), { ns: 0, " default": 2, default: 0, "": 2 });
    });

    it("skips non-strings and strings without a colon; ignores a claim that is missing or not an array", () => {
        assert.deepEqual(plain(parsePermissions([42, null, { ns: "read" }, "nocolon", "x:read"]).namespaces), { x: 2 });
        assert.deepEqual(codes(undefined), ["claim-missing"]);
        assert.deepEqual(codes("default:read"), ["claim-not-array"]);
        assert.deepEqual(codes(null), ["claim-not-array"]);
        assert.deepEqual(plain(parsePermissions({ default: "read" }).namespaces), {});
    });

    it("files a namespace called __proto__ like any other (no prototype pollution)", () => {
        const p = parsePermissions(["__proto__:admin", "constructor:read"]);
        assert.equal(p.namespaces["__proto__"], 8);
        assert.equal(p.namespaces["constructor"], 2);
        assert.equal(({} as Record<string, unknown>).admin, undefined);
    });
});

describe("parsePermissions: a finding for every trap", () => {
    const cases: Array<[string, unknown[], FindingCode, "ignored" | "misfiled" | "note", RegExp]> = [
        ["legacy system: scope", ["system:admin"], "legacy-system-scope", "misfiled", /namespace literally named "system".*write "temporal-system:admin"/],
        ["unknown word", ["default:owner"], "unknown-role", "ignored", /unknown role word "owner"/],
        ["untrimmed whitespace (namespace)", [" default:read"], "whitespace", "misfiled", /filed under namespace " default".*write "default:read"/],
        ["untrimmed whitespace (word)", ["default: read"], "whitespace", "ignored", /word " read"/],
        ["case variant of temporal-system", ["Temporal-System:admin"], "system-scope-case", "misfiled", /namespace named "Temporal-System"/],
        ["extra colon", ["default:read:all"], "extra-colon", "ignored", /role word is "read:all"/],
        ["empty namespace", [":read"], "empty-namespace", "misfiled", /empty namespace/],
        ["non-string element", [7], "not-a-string", "ignored", /element 0 \(7\) is not a string/],
        ["worker without write", ["payments:worker"], "worker-without-write", "misfiled", /add "payments:write"/],
        ["no colon", ["payments"], "no-colon", "ignored", /has no colon/],
    ];
    for (const [name, input, code, effect, message] of cases) {
        it(name, () => {
            const f = parsePermissions(input).findings.find((x) => x.code === code);
            assert.ok(f, `no ${code} finding in ${JSON.stringify(parsePermissions(input).findings)}`);
            assert.equal(f.effect, effect);
            assert.match(f.message, message);
        });
    }

    it("reports worker-without-write on the cluster scope too, and not when write is there", () => {
        assert.deepEqual(codes(["temporal-system:worker"]), ["worker-without-write"]);
        assert.deepEqual(codes(["payments:worker", "payments:write"]), []);
        assert.deepEqual(codes(["payments:worker", "temporal-system:write"]), []);
    });

    it("reports nothing for clean values and names the element's index", () => {
        assert.deepEqual(codes(["payments:write", "temporal-system:read"]), []);
        assert.equal(parsePermissions(["ok:read", "bad:owner"]).findings[0]?.index, 1);
    });
});

describe("parsePermissions: permissionsRegex (Go syntax)", () => {
    const goPattern = "(?P<role>[\\w-]+):(?P<namespace>[\\w-]+)";

    it("uses Go's (?P<name>) groups, unanchored, skipping what does not match", () => {
        const p = parsePermissions(["read:payments", "prefix write:orders suffix", "nope"], { permissionsRegex: goPattern });
        assert.deepEqual(plain(p.namespaces), { payments: 2, orders: 4 });
        assert.deepEqual(
            p.findings.map((f) => f.code),
            ["regex-no-match"],
        );
    });

    it("routes temporal-system to system and ORs, as in colon mode", () => {
        const p = parsePermissions(["admin:temporal-system", "read:temporal-system", "read:a", "write:a"], { permissionsRegex: goPattern });
        assert.equal(p.system, 10);
        assert.deepEqual(plain(p.namespaces), { a: 6 });
    });

    it("falls back to the colon split when a group is missing, as the server does", () => {
        const p = parsePermissions(["payments:read"], { permissionsRegex: "(?P<namespace>\\w+):(\\w+)" });
        assert.deepEqual(plain(p.namespaces), { payments: 2 });
        assert.deepEqual(
            p.findings.map((f) => f.code),
            ["regex-missing-groups"],
        );
    });

    it("falls back to the colon split when Go itself rejects the pattern", () => {
        const p = parsePermissions(["payments:read"], { permissionsRegex: "(?P<namespace>\\w+)(?=:)(?P<role>\\w+)" });
        assert.deepEqual(plain(p.namespaces), { payments: 2 });
        assert.equal(p.findings[0]?.code, "regex-invalid");
        assert.match(p.findings[0]?.message ?? "", /not valid Go RE2 syntax.*\(\?=.*splits permissions at the first colon/);
    });

    it("refuses a valid Go pattern it cannot reproduce instead of guessing", () => {
        // Go accepts a group name used twice (the server takes the last); re2js does not.
        assert.throws(() => parsePermissions(["x"], { permissionsRegex: "(?P<namespace>a)(?P<role>b)(?P<namespace>c)" }), (e: unknown) => e instanceof GoRegexpError && e.kind === "unsupported" && /last group of each name/.test(e.message));
    });

    it("gives an absent group as an empty string (Go's FindStringSubmatch)", () => {
        const p = parsePermissions(["read"], { permissionsRegex: "(?P<namespace>x)?(?P<role>read)" });
        assert.deepEqual(plain(p.namespaces), { "": 2 });
    });

    it("foldPermissions (the mapper's hot path) agrees with parsePermissions", () => {
        const inputs: unknown[][] = [
            ["a:read", "a:write", "temporal-system:admin", "b:owner", 3, "nocolon", " c:read", "d:WRITE"],
            ["read:x", "admin:temporal-system", "zzz"],
        ];
        for (const [i, input] of inputs.entries()) {
            const opts = i === 1 ? { permissionsRegex: goPattern } : {};
            const slow = parsePermissions(input, opts);
            const fast = foldPermissions(input, compilePermissionsPattern(opts.permissionsRegex));
            assert.deepEqual(plain(fast.namespaces), plain(slow.namespaces));
            assert.equal(fast.system, slow.system);
        }
    });
});

describe("go-regexp: Go's regexp through re2js (the differential test holds it against Go itself)", () => {
    const sub = (pattern: string, input: string): string[] | undefined => compileGoRegexp(pattern).findSubmatch(input);

    it("gives FindStringSubmatch: leftmost-first, unanchored, \"\" for a group that did not take part", () => {
        assert.deepEqual(sub("(?P<a>x)(?P<b>y)?", "zzx"), ["x", "x", ""]);
        assert.deepEqual(sub("(?<ns>\\w+):(?<role>\\w+)", "--ab:cd--"), ["ab:cd", "ab", "cd"], "Go 1.22+ also takes (?<name>)");
        assert.equal(sub("^a$", "a\n"), undefined, "$ without (?m) is the end of the text");
        assert.deepEqual(sub("(?i)k", "\u212a"), ["\u212a"], "(?i) folds like Go (Kelvin sign)");
        assert.deepEqual(compileGoRegexp("(?P<namespace>a)(?P<role>b)").groupIndex.role, 2);
    });

    it("keeps the last iteration of a repeated group, as Go does", () => {
        assert.deepEqual(sub("((?P<namespace>[a-z]+),)*(?P<role>\\w+)", "x,y,admin"), ["x,y,admin", "y,", "y", "admin"]);
    });

    it("matches in linear time (a backtracking translation took minutes on this)", () => {
        const started = Date.now();
        assert.deepEqual(sub("((?P<namespace>[a-z]+),)*(?P<role>\\w+):", `${"n".repeat(3000)}:`)?.[3], "n".repeat(3000));
        assert.equal(sub("((?P<namespace>[a-z]+),)*(?P<role>\\w+)!", "n".repeat(3000)), undefined);
        assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
    });

    it("refuses what depends on the Unicode version (Go 1.26: Unicode 15.0; re2js: newer)", () => {
        for (const p of ["(?P<namespace>\\pL+):(?P<role>\\w+)", "\\p{Greek}", "[\\PN]", "(?i)é", "(?i)\\x{212a}", "(?i:k)\\x{e9}"]) {
            assert.throws(() => compileGoRegexp(p), (e: unknown) => e instanceof GoRegexpError && e.kind === "unsupported", p);
        }
        // What does not depend on it: (?i) over ASCII, literal non-ASCII, an escaped backslash before "p".
        for (const p of ["(?i)[a-z]+", "é+:\\w", "\\\\p"]) assert.doesNotThrow(() => compileGoRegexp(p), p);
        assert.deepEqual(sub("(?i)k", "\u212a"), ["\u212a"]);
    });

    it("reports patterns Go rejects as invalid", () => {
        for (const p of ["(a)\\1", "(?=a)", "(?<!a)b", "(?P=x)", "a**", "a{1001}", "a{3,2}", "(a", "a)", "[a", "\\u0041", "\\e", "*a", "(?P<a-b>x)"]) {
            assert.throws(() => compileGoRegexp(p), (e: unknown) => e instanceof GoRegexpError && e.kind === "invalid", p);
        }
    });
});

describe("roles", () => {
    it("renders bitmasks and effective access by numeric comparison", () => {
        assert.equal(roleNames(0), "none");
        assert.equal(roleNames(7), "writer|reader|worker");
        assert.equal(effectiveAccess(7), "write");
        assert.equal(effectiveAccess(1), "none");
        assert.equal(effectiveAccess(9), "admin");
    });
});
