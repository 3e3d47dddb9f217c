import { prng } from "../claims/support";
import type { SegmentBytes, SegmentOp, SignatureOp, TokenSpec } from "./tokens";

/**
 * The differential test's corpus generator: from a seed, tokens and calls that stress every rule the
 * server applies (the claim mapper's parsing and checks, the key lookup, the authorizer, the
 * interceptor), most of them validly signed so that the signature is not what decides.
 */

/** Auth settings of the server (and of the validator's mapper). */
export interface CaseSettings {
    audience?: string;
    permissionsClaimName?: string;
    permissionsRegex?: string;
}

export interface FidelityCase {
    /** The generator branch (for the corpus summary and to find a case again). */
    kind: string;
    spec: TokenSpec;
    settings: CaseSettings;
    /** Full method path. */
    method: string;
    namespace?: string;
}

export interface MethodInfo {
    api: string;
    call: "unary" | "stream" | "nexus";
}

/** The instant both sides judge time claims at (Unix seconds): fixed, so a seed replays exactly. */
export const NOW = 1_800_000_000;

/** A JSON value written as raw text (numbers Go and JavaScript may read differently) or raw bytes. */
class Raw {
    constructor(
        readonly text: string,
        readonly hex?: string,
    ) {}
}

/** JSON text of `value` with every Raw written as is; a Raw with bytes makes the result bytes. */
export function jsonBytes(value: unknown, options: { space?: string } = {}): SegmentBytes {
    const raws: Raw[] = [];
    const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof Raw ? `\u0000RAW${raws.push(v) - 1}\u0000` : v), options.space);
    if (raws.length === 0) return { text };
    const parts = text.split(/"\\u0000RAW(\d+)\\u0000"/);
    const chunks: Buffer[] = [];
    let bytes = false;
    parts.forEach((part, i) => {
        if (i % 2 === 0) return void chunks.push(Buffer.from(part, "utf8"));
        const raw = raws[Number(part)] as Raw;
        if (raw.hex !== undefined) bytes = true;
        chunks.push(raw.hex !== undefined ? Buffer.from(raw.hex, "hex") : Buffer.from(raw.text, "utf8"));
    });
    const all = Buffer.concat(chunks);
    return bytes ? { hex: all.toString("hex") } : { text: all.toString("utf8") };
}

const NAMESPACES = ["payments", "orders", "default", "Payments", "payments-prod", "a.b", "ns_1", "system", "temporal-system", "Temporal-System", "TEMPORAL-SYSTEM", "", " payments", "payments ", "ödeme", "支払い", "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
const WORDS = ["read", "write", "worker", "admin", "Read", "WRITE", "Admin", "WoRkEr", "ADMİN", "wr\u0130te", "wor\u212Aer", "reader", "writer", "administrator", "", " read", "read ", "read\t", "read:x", "admin:", ":admin", "constructor", "toString", "__proto__", "valueOf", "ｒｅａｄ", "rea\u0064", "READ\u0307", "ı", "İ"];
/** Pieces of adversarial permission strings: separators, whitespace Go and JavaScript classify differently, case-folding traps, look-alikes. */
const PIECES = [
    "payments",
    "temporal-system",
    "system",
    ":",
    "::",
    " ",
    "\t",
    "\n",
    "\r",
    "\u00a0",
    "\u0085",
    "\ufeff",
    "\u2028",
    "\u200b",
    "\u3000",
    "read",
    "write",
    "worker",
    "admin",
    "ADMIN",
    "İ",
    "ı",
    "\u212A",
    "ſ",
    "ß",
    "é",
    "e\u0301",
    "😀",
    "\ud83d\ude00",
    "\u0000",
    "\u001f",
    "\u007f",
    "\\",
    '"',
    "/",
    "constructor",
    "__proto__",
    "toString",
    "hasOwnProperty",
    "ａｄｍｉｎ",
    "Ω",
    "ǅ",
    "ΣΑΣ",
    // Assigned after Unicode 15.0 (Go 1.26's tables): U+1C89 and U+A7CB are Unicode 16 letters with case pairs.
    "\u1c89",
    "\u1c8a",
    "\ua7cb",
    "\u{105c0}",
    "\u2ffc",
];

export class Gen {
    readonly rnd: () => number;

    constructor(seed: number) {
        this.rnd = prng(seed);
    }

    int(min: number, max: number): number {
        return min + Math.floor(this.rnd() * (max - min + 1));
    }

    chance(p: number): boolean {
        return this.rnd() < p;
    }

    pick<T>(list: readonly T[]): T {
        return list[Math.floor(this.rnd() * list.length)] as T;
    }

    weighted<T>(entries: ReadonlyArray<readonly [number, T]>): T {
        const total = entries.reduce((s, [w]) => s + w, 0);
        let r = this.rnd() * total;
        for (const [w, v] of entries) {
            r -= w;
            if (r < 0) return v;
        }
        return (entries[entries.length - 1] as readonly [number, T])[1];
    }

    permission(): unknown {
        return this.weighted<() => unknown>([
            [40, () => `${this.pick(NAMESPACES)}:${this.pick(WORDS)}`],
            [25, () => Array.from({ length: this.int(1, 5) }, () => this.pick(PIECES)).join("")],
            [8, () => `${this.pick(NAMESPACES)}${this.pick([":", "::", ": ", " :"])}${this.pick(WORDS)}${this.pick(["", ":x", ":admin", " "])}`],
            [4, () => `${"n".repeat(this.int(100, 3000))}:${this.pick(WORDS)}`],
            [3, () => `payments:${"a".repeat(this.int(100, 2000))}`],
            [3, () => this.pick(["payments", "admin", "", ":", "temporal-system", "read"])],
            [5, () => this.pick<unknown>([1, 0, -1, 1.5, null, true, false, {}, [], ["payments:read"], { payments: "read" }])],
            [2, () => `${this.pick(NAMESPACES)}:\ud800${this.pick(WORDS)}`], // a lone surrogate (escaped in JSON as \ud800)
        ])();
    }

    permissions(): unknown[] {
        const out: unknown[] = [];
        const n = this.weighted([
            [10, 0],
            [40, this.int(1, 3)],
            [35, this.int(4, 10)],
            [10, this.int(11, 40)],
            [5, this.int(41, 200)],
        ]);
        for (let i = 0; i < n; i++) {
            const p = this.permission();
            out.push(p);
            if (this.chance(0.15)) out.push(p); // duplicates OR together
        }
        return out;
    }
}

export const FULL = {
    workflow: "/temporal.api.workflowservice.v1.WorkflowService/",
    operator: "/temporal.api.operatorservice.v1.OperatorService/",
    admin: "/temporal.server.api.adminservice.v1.AdminService/",
    nexus: "/temporal.api.nexusservice.v1.NexusService/",
} as const;

/** Paths the frontend does not serve, or serves without a table entry. */
export const UNKNOWN_METHODS = [
    `${FULL.workflow}NoSuchMethod`,
    `${FULL.workflow}`,
    `${FULL.workflow}startWorkflowExecution`,
    `${FULL.workflow}x/StartWorkflowExecution`,
    `${FULL.admin}NoSuchAdminMethod`,
    `${FULL.operator}ListClusters/`,
    `${FULL.nexus}NoSuchNexusCall`,
    "/temporal.api.workflowservice.v2.WorkflowService/StartWorkflowExecution",
    "/grpc.health.v1.Health/List",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    `${FULL.workflow}CountNexusOperationExecutions`,
    "",
    "/",
];

const ALGS_OTHER = ["RS384", "RS512", "ES384", "ES512", "PS256", "HS256", "none", "EdDSA", "rs256", "Rs256", "es256", "RS256 ", " ES256", "constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "", "RSA", "ES256K"];
const KIDS = ["rsa-a", "ec-a", "shared", "ec-384", "rsa-1024", "rsa-alg512", "__proto__", "constructor", "", "hmac", "ed", "unknown", "RSA-A", "rsa-a ", "toString"];

const b = (s: string): string => Buffer.from(s, "utf8").toString("hex");

/** Invalid and unusual UTF-8 inside a JSON string: truncated sequences, stray continuation bytes, overlong forms, encoded surrogates, bytes never valid. */
const INVALID_UTF8 = ["e282", "e2", "c3", "80", "bf", "c080", "c1bf", "eda080", "edbfbf", "f4908080", "f8888080", "ff", "fe", "f09f98", "f09f", "e28241", "c328", "a0a1", "e282ac80", "f09f9880"];

export interface GenerateOptions {
    seed: number;
    count: number;
    /** Every served method and the table's, with how the frontend receives it. */
    methods: readonly MethodInfo[];
}

const GOOD_AUDIENCE = "temporal-api";

/**
 * Generates `count` cases. The first ones sweep every method (each at least three times: no token,
 * a system admin, a namespace writer); the rest are drawn from the branches below.
 */
export function generateCases(options: GenerateOptions): FidelityCase[] {
    const g = new Gen(options.seed);
    const cases: FidelityCase[] = [];
    const methods = options.methods;
    const served = methods.map((m) => m.api);
    const anyMethod = (): string => (g.chance(0.85) ? g.pick(served) : g.pick(UNKNOWN_METHODS));
    const commonMethod = (): string =>
        g.chance(0.7)
            ? g.pick([`${FULL.workflow}StartWorkflowExecution`, `${FULL.workflow}DescribeNamespace`, `${FULL.workflow}UpdateNamespace`, `${FULL.workflow}ListNamespaces`, `${FULL.operator}ListClusters`, `${FULL.admin}StreamWorkflowReplicationMessages`, `${FULL.workflow}GetSystemInfo`, "/grpc.health.v1.Health/Check", `${FULL.nexus}DispatchByNamespaceAndTaskQueue`])
            : anyMethod();

    const header = (alg: "RS256" | "ES256", extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg, kid: alg === "RS256" ? g.pick(["rsa-a", "rsa-a", "rsa-b", "shared", "constructor"]) : g.pick(["ec-a", "ec-a", "ec-b", "shared", "__proto__", ""]), typ: "JWT", ...extra });
    // RS256 signing costs twenty times ES256's here: 15% of the tokens keep the test fast.
    const alg = (): "RS256" | "ES256" => (g.chance(0.15) ? "RS256" : "ES256");
    const basePayload = (perms: unknown, claimName = "permissions"): Record<string, unknown> => ({
        sub: g.pick(["worker-1", "user@example.com", "0b9c3e3e-2d6a-4b1d-9b2a-6c1f2f0e0a11", "", "ü-subject", "👤"]),
        aud: GOOD_AUDIENCE,
        iss: "https://issuer.example.com",
        iat: NOW - 60,
        nbf: NOW - 60,
        exp: NOW + 3600,
        [claimName]: perms,
    });
    const settings = (claimName?: string): CaseSettings => ({
        ...(g.chance(0.7) ? { audience: GOOD_AUDIENCE } : {}),
        ...(claimName && claimName !== "permissions" ? { permissionsClaimName: claimName } : {}),
    });
    const nsFrom = (perms: unknown): string => {
        const strings = Array.isArray(perms) ? perms.filter((p): p is string => typeof p === "string") : [];
        if (strings.length && g.chance(0.7)) {
            const p = g.pick(strings);
            return p.includes(":") ? p.slice(0, p.indexOf(":")) : p;
        }
        return g.pick(NAMESPACES);
    };
    const push = (kind: string, spec: TokenSpec, s: CaseSettings, method: string, namespace?: string): void => {
        cases.push({ kind, spec, settings: s, method, ...(namespace !== undefined ? { namespace } : {}) });
    };
    const simple = (a = alg()): TokenSpec => ({ header: { json: header(a) }, payload: { json: basePayload(g.permissions()) } });

    // Every method: no token, a system admin, a namespace writer (plus an admin of it).
    for (const m of [...methods.map((x) => x.api), ...UNKNOWN_METHODS]) {
        push("methods", { ...simple("ES256"), template: null }, { audience: GOOD_AUDIENCE }, m, "payments");
        push("methods", { header: { json: header("ES256") }, payload: { json: basePayload(["temporal-system:admin"]) } }, { audience: GOOD_AUDIENCE }, m, "payments");
        push("methods", { header: { json: header("RS256") }, payload: { json: basePayload(["payments:write", "orders:admin"]) } }, { audience: GOOD_AUDIENCE }, m, g.pick(["payments", "orders", "other"]));
    }

    const branches: ReadonlyArray<readonly [number, (kind: string) => void]> = [
        [30, (k) => perms(k)],
        [8, (k) => claimShapes(k)],
        [8, (k) => times(k)],
        [8, (k) => audiences(k)],
        [10, (k) => headers(k)],
        [12, (k) => payloadTexts(k)],
        [7, (k) => encodings(k)],
        [5, (k) => signatures(k)],
        [4, (k) => authorizations(k)],
        [6, (k) => regexes(k)],
        [0.4, (k) => sizes(k)],
    ];
    const names = ["perms", "claim-shapes", "times", "audiences", "headers", "payload-text", "encodings", "signatures", "authorization", "regex", "sizes"];
    while (cases.length < options.count) {
        const i = g.weighted(branches.map(([w], idx) => [w, idx] as const));
        (branches[i] as readonly [number, (kind: string) => void])[1](names[i] as string);
    }
    return cases.slice(0, options.count);

    function perms(kind: string): void {
        const p = g.permissions();
        const claimName = g.weighted([
            [85, "permissions"],
            [10, "roles"],
            [5, g.pick(["constructor", "__proto__", "toString", "sub", "perm:issions", "ロール", "Permissions"])],
        ]);
        push(kind, { header: { json: header(alg()) }, payload: { json: basePayload(p, claimName) } }, settings(claimName), commonMethod(), nsFrom(p));
    }

    function claimShapes(kind: string): void {
        const payload = basePayload(g.permissions());
        const what = g.int(0, 3);
        if (what === 0) payload.sub = g.pick<unknown>([undefined, null, 42, true, [], {}, ["a"], "x".repeat(5000), "\ud800"]);
        if (what === 1) payload.permissions = g.pick<unknown>([undefined, null, "payments:read", 7, {}, { 0: "payments:read", length: 1 }, [[]], true]);
        if (what === 2) {
            payload.roles = g.permissions();
            if (g.chance(0.5)) delete payload.permissions;
        }
        if (what === 3) Object.assign(payload, { [g.pick(["__proto__", "constructor", "toString", "hasOwnProperty"])]: g.pick<unknown>([{ permissions: ["payments:admin"] }, "x", 1, null, ["temporal-system:admin"]]) });
        const claimName = g.pick([undefined, "roles", "__proto__", "constructor", "permissions"]);
        push(kind, { header: { json: header(alg()) }, payload: { json: payload } }, settings(claimName), commonMethod(), nsFrom(payload.permissions));
    }

    function times(kind: string): void {
        const values: unknown[] = [
            NOW + 3600,
            NOW + 1,
            NOW,
            NOW - 1,
            NOW + 0.5,
            NOW - 0.5,
            NOW + 0.999999,
            NOW - 0.000001,
            0,
            -0,
            -1,
            -0.5,
            1,
            1e20,
            9.2e18,
            9.3e18,
            9223371974719178240,
            9223371974719179000,
            -9.3e18,
            1e308,
            -1e308,
            Number.MAX_SAFE_INTEGER,
            String(NOW + 3600),
            null,
            true,
            [],
            {},
            new Raw(`${NOW + 3600}.0`),
            new Raw(`${(NOW + 3600) / 1000}e3`),
            new Raw(`${NOW}E0`),
            new Raw("1e400"),
            new Raw("-1e400"),
            new Raw("1e-400"),
            new Raw("-0"),
            new Raw("0e99999999"),
            new Raw(`${NOW - 1}.99999999999999999999`),
            new Raw(`${NOW}.00000000000000000001`),
            new Raw("1" + "0".repeat(400)),
            new Raw("0.0" + "0".repeat(400) + "1"),
            new Raw("2" + "0".repeat(300) + "e8"),
            new Raw("17976931348623157" + "0".repeat(292)),
            new Raw("17976931348623159" + "0".repeat(292)),
            new Raw("1.7976931348623158e308"),
            new Raw("1.7976931348623159e308"),
            new Raw("4.9e-324"),
        ];
        const payload = basePayload(["payments:write", "temporal-system:read"]);
        for (const claim of ["exp", "iat", "nbf"] as const) {
            if (g.chance(0.45)) {
                const v = g.pick(values);
                if (v === undefined) delete payload[claim];
                else payload[claim] = v;
            } else if (g.chance(0.2)) delete payload[claim];
        }
        push(kind, { header: { json: header(alg()) }, payload: jsonBytes(payload) }, { audience: GOOD_AUDIENCE }, commonMethod(), "payments");
    }

    function audiences(kind: string): void {
        const payload = basePayload(g.chance(0.5) ? ["temporal-system:admin"] : ["payments:write"]);
        payload.aud = g.pick<unknown>([GOOD_AUDIENCE, [GOOD_AUDIENCE], ["other", GOOD_AUDIENCE], [], [""], ["", GOOD_AUDIENCE], "", "other-app", ["other-app"], 42, null, [GOOD_AUDIENCE, 1], { aud: GOOD_AUDIENCE }, "TEMPORAL-API", `${GOOD_AUDIENCE} `, undefined, [["temporal-api"]], [null]]);
        if (payload.aud === undefined) delete payload.aud;
        const audience = g.pick<string | undefined>([GOOD_AUDIENCE, GOOD_AUDIENCE, undefined, "", " ", "\t\n", "\u0085", "\ufeff", "\u00a0", "\u2028", "\u3000", "\u200b", "\u180e", `${GOOD_AUDIENCE} `, ` ${GOOD_AUDIENCE}`, "other-app", "\u0085temporal-api"]);
        const method = g.chance(0.4) ? `${FULL.admin}StreamWorkflowReplicationMessages` : g.chance(0.3) ? g.pick([`${FULL.nexus}DispatchByNamespaceAndTaskQueue`, `${FULL.nexus}CompleteNexusOperation`, `${FULL.nexus}DispatchNexusTask`]) : commonMethod();
        push(kind, { header: { json: header(alg()) }, payload: { json: payload } }, audience === undefined ? {} : { audience }, method, g.pick(["payments", "orders", ""]));
    }

    function headers(kind: string): void {
        const a = alg();
        const h: Record<string, unknown> = header(a);
        const what = g.int(0, 6);
        let signer: string | undefined;
        if (what === 0) {
            h.alg = g.pick<unknown>([...ALGS_OTHER, null, 256, ["RS256"], { alg: "RS256" }, undefined]);
            if (h.alg === undefined) delete h.alg;
            signer = g.pick(["rsa-a", "ec-a", "hmac-none", "ed"]);
            if (signer === "hmac-none") signer = "none";
        }
        if (what === 1) {
            h.kid = g.pick<unknown>([...KIDS, null, 1, ["rsa-a"], {}, undefined, true]);
            if (h.kid === undefined) delete h.kid;
            signer = typeof h.kid === "string" && ["rsa-a", "ec-a", "shared", "ec-384", "rsa-1024", "rsa-alg512", "__proto__", "constructor", ""].includes(h.kid) ? undefined : a === "RS256" ? "rsa-a" : "ec-a";
        }
        if (what === 2) Object.assign(h, g.pick<Record<string, unknown>>([{ crit: ["exp"] }, { crit: "x" }, { typ: "at+jwt" }, { typ: 5 }, { nonce: "abc" }, { x5t: "abc" }, { jku: "https://evil.example/keys" }, { jwk: { kty: "EC" } }, { b64: false, crit: ["b64"] }, { zip: "DEF" }, { cty: "JWT" }]));
        if (what === 3) {
            // The kid of a key of the other type, or a key the alg cannot use.
            h.kid = g.pick(["rsa-a", "ec-a", "ec-384", "rsa-1024", "shared", "hmac", "ed"]);
            signer = g.pick(["rsa-a", "ec-a", "ec-384", "rsa-1024", "shared-rsa", "shared-ec"]);
        }
        let headerBytes: SegmentBytes = { json: h };
        if (what === 4) {
            const j = JSON.stringify(h);
            headerBytes = g.pick<SegmentBytes>([
                { text: ` ${j} ` },
                { text: `${j}\n` },
                { text: `\ufeff${j}` },
                { text: `${j} {}` },
                { text: `${j}x` },
                { text: j.replace("{", '{"alg":"none",') },
                { text: j.replace("}", `,"alg":"${a === "RS256" ? "ES256" : "RS256"}"}`) },
                { text: j.replace("}", ',"kid":"unknown"}') },
                { text: "null" },
                { text: "[]" },
                { text: '"RS256"' },
                { text: "{}" },
                { text: j.replace('"alg"', '"al\\u0067"') },
                { text: j.replace('"kid"', '"KID"') },
                { text: j.replace("}", ',"big":1e400}') },
                { text: j.replace("}", `,"deep":${"[".repeat(50)}${"]".repeat(50)}}`) },
                { hex: Buffer.concat([Buffer.from(j.slice(0, -1)), Buffer.from(',"x":"'), Buffer.from(g.pick(INVALID_UTF8), "hex"), Buffer.from('"}')]).toString("hex") },
                { hex: Buffer.concat([Buffer.from(j), Buffer.from(g.pick(INVALID_UTF8), "hex")]).toString("hex") },
            ]);
            signer = a === "RS256" ? "rsa-a" : "ec-a";
        }
        if (what === 5) {
            // Deep nesting in the header, around Go's limit of 10,000 levels.
            const depth = g.pick([9999, 10000, 10001, 10002, 20000]);
            const j = JSON.stringify(h);
            headerBytes = { text: `${j.slice(0, -1)},"n":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}` };
            signer = a === "RS256" ? "rsa-a" : "ec-a";
        }
        if (what === 6) {
            headerBytes = { text: JSON.stringify(h, null, g.pick(["  ", "\t", "\n"])) };
            signer = a === "RS256" ? "rsa-a" : "ec-a";
        }
        const p = g.permissions();
        push(kind, { header: headerBytes, payload: { json: basePayload(p) }, ...(signer !== undefined ? { signer } : {}) }, settings(), commonMethod(), nsFrom(p));
    }

    /** A JSON string literal whose bytes hold an invalid UTF-8 sequence between `before` and `after`. */
    function badString(before: string, after: string): Raw {
        const q = (t: string): string => JSON.stringify(t).slice(1, -1);
        const bytes = Buffer.concat([Buffer.from(`"${q(before)}`), Buffer.from(g.pick(INVALID_UTF8), "hex"), Buffer.from(`${q(after)}"`)]);
        return new Raw("", bytes.toString("hex"));
    }

    function payloadTexts(kind: string): void {
        const a = alg();
        const p = ["payments:write", "temporal-system:read"];
        const j = JSON.stringify(basePayload(p));
        const body = j.slice(1, -1);
        const bad = (): string => g.pick(INVALID_UTF8);
        const payload = g.pick<() => SegmentBytes>([
            () => ({ text: `{${body},"sub":"second"}` }),
            () => ({ text: `{"sub":1,${body}}` }),
            () => ({ text: `{${body},"permissions":["temporal-system:admin"]}` }),
            () => ({ text: `{${body},"permissions":null}` }),
            () => ({ text: `{${body},"exp":${NOW - 10}}` }),
            () => ({ text: `{${body},"exp":1e400,"exp":${NOW + 10}}` }),
            () => ({ text: `{${body},"x":1e400}` }),
            () => ({ text: `{${body},"x":[-1e400]}` }),
            () => ({ text: `{${body},"x":{"y":2${"0".repeat(300)}e8}}` }),
            () => ({ text: `{${body},"x":1${"0".repeat(g.int(300, 320))}}` }),
            () => ({ text: `{${body},"x":0.${"0".repeat(400)}1e400}` }),
            () => ({ text: `{${body},"x":1e-99999}` }),
            () => ({ text: `{${body},"x":123456789e${g.int(290, 310)}}` }),
            () => ({ text: `{${body}} trailing` }),
            () => ({ text: `{${body}}{"sub":"x"}` }),
            () => ({ text: `{${body}}]` }),
            () => ({ text: `  \n{${body}}\n` }),
            () => ({ text: `{${body}` }),
            () => ({ text: `{${body},}` }),
            () => ({ text: `{${body}}\u0000` }),
            () => ({ text: `\ufeff{${body}}` }),
            () => ({ text: `{${body},"x":"\\ud800"}` }),
            () => ({ text: `{${body},"sub":"\\udc00x\\ud83d"}` }),
            () => ({ text: j.replace('"permissions":[', '"permissions":["pay\\ud800ments:read","\\ud83d\\ude00:admin",') }),
            () => ({ text: j.replace('"permissions":[', '"permissions":["payments\\u003aadmin","orders\\u003Aread","\\u0074emporal-system:admin",') }),
            () => ({ text: j.replace('"permissions"', '"permi\\u0073sions"') }),
            () => ({ text: j.replace('"permissions"', '"Permissions"') }),
            () => ({ text: `{${body},"x":"\\x41"}` }),
            () => ({ text: `{${body},"x":"a\tb"}` }),
            () => ({ text: `{${body},"x":"\u007f"}` }),
            () => ({ text: `{${body},"x":01}` }),
            () => ({ text: `{${body},"x":+1}` }),
            () => ({ text: `{${body},"x":.5}` }),
            () => ({ text: `{${body},"x":1.}` }),
            () => ({ text: `{${body},"x":NaN}` }),
            () => ({ text: `{${body},"x":tru}` }),
            () => ({ text: `{${body},"x":-}` }),
            () => ({ text: "null" }),
            () => ({ text: "[]" }),
            () => ({ text: `[{${body}}]` }),
            () => ({ text: '"x"' }),
            () => ({ text: "" }),
            () => ({ text: `{${body},"x":"${"\\u0041".repeat(g.int(1, 50))}"}` }),
            () => jsonBytes(basePayload(["payments:read", badString("pay", "ments:write"), badString("", ":admin"), badString("temporal-system:", "")])),
            () => jsonBytes(basePayload([badString(g.pick(["payments", "", "a", "temporal-system"]), g.pick([":write", "s:admin", ":read", ""])), badString("payments", ":write")])),
            () => jsonBytes(basePayload([badString("payments:wr", "ite"), badString("payments:", "admin"), `${g.pick(NAMESPACES)}:read`])),
            () => jsonBytes({ ...basePayload(["payments:write"]), sub: badString("w", "orker") }),
            () => jsonBytes({ ...basePayload(["payments:write"]), aud: badString("temporal", "-api") }),
            () => jsonBytes({ ...basePayload([badString("\u00e9", ":write"), badString("支払", "い:admin")]) }),
            () => ({ hex: b(`{${body},"x":"`) + bad() + b('"}') }),
            () => ({ hex: b(`{${body},"`) + bad() + b('":1}') }),
            () => ({ hex: b(`{${body}}`) + bad() }),
            () => ({ hex: b(`{${body},"x":1`) + bad() + b("}") }),
            () => {
                // Deep nesting in the claims, around Go's limit of 10,000 levels, in the first value or after it.
                const depth = g.pick([9999, 10000, 10001, 10002, 15000]);
                const nest = `${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}`;
                return g.chance(0.8) ? { text: `{${body},"deep":${nest}}` } : { text: `{${body}} ${nest}` };
            },
            () => {
                const depth = g.pick([9999, 10000, 10001]);
                return { text: `{${body},"deep":${'{"a":'.repeat(depth - 1)}1${"}".repeat(depth - 1)}}` };
            },
        ])();
        push(kind, { header: { json: header(a) }, payload }, { audience: GOOD_AUDIENCE }, commonMethod(), g.pick(["payments", "temporal-system", "orders"]));
    }

    function encodings(kind: string): void {
        const a = alg();
        const segOps = (): SegmentOp[] => {
            const op = g.pick<() => SegmentOp>([
                () => ({ op: "pad" }),
                () => ({ op: "insert", at: g.int(-1, 40), text: g.pick(["\n", "\r", "\r\n", " ", "\t", "=", "+", "/", ".", "*", "é", "\u0000", "\n\n\n", "A", "AA", "AAA", "AAAA"]) }),
                () => ({ op: "std-alphabet" }),
                () => ({ op: "trailing-bits" }),
                () => ({ op: "raw", text: g.pick(["", "e30", "e30=", "bnVsbA", "W10", "IiI", "eyJ9", "eyJ"]) }),
            ]);
            return Array.from({ length: g.int(1, 2) }, () => op());
        };
        const where = g.int(0, 2);
        const p = g.permissions();
        const spec: TokenSpec = { header: { json: header(a) }, payload: { json: basePayload(p) } };
        if (where === 0) spec.headerOps = segOps();
        if (where === 1) spec.payloadOps = segOps();
        if (where === 2) spec.signatureOps = segOps() as SignatureOp[];
        push(kind, spec, settings(), commonMethod(), nsFrom(p));
    }

    function signatures(kind: string): void {
        const a = alg();
        const ops = g.pick<SignatureOp[]>([
            [{ op: "flip", byte: g.int(0, 300), bit: g.int(0, 7) }],
            [{ op: "flip", byte: -1, bit: 0 }],
            [{ op: "truncate", bytes: g.int(1, 3) }],
            [{ op: "append", hex: g.pick(["00", "0000", "ff"]) }],
            [{ op: "der" }],
            [{ op: "high-s" }],
            [{ op: "raw", text: "" }],
            [{ op: "truncate", bytes: 1000 }],
        ]);
        const spec: TokenSpec = { header: { json: header(a) }, payload: { json: basePayload(["payments:write"]) }, signatureOps: ops };
        if (g.chance(0.2)) spec.signer = g.pick(["rsa-b", "ec-b", "foreign-rsa", "foreign-ec", "rsa-1024", "ec-384", "none"]);
        push(kind, spec, settings(), commonMethod(), "payments");
    }

    function authorizations(kind: string): void {
        const template = g.pick<string | null>([
            "Bearer {t}",
            "bearer {t}",
            "BEARER {t}",
            "BeArEr {t}",
            "Bearer  {t}",
            " Bearer {t}",
            "Bearer {t} ",
            "Bearer {t}\n",
            "Bearer\t{t}",
            "Bearer",
            "Bearer ",
            "{t}",
            "Bearer Bearer {t}",
            "Bearer bearer {t}",
            "Basic {t}",
            "Token {t}",
            "Bearer\u00a0{t}",
            "Beare\u0280 {t}",
            "Bearer {h}.{p}",
            "Bearer {h}.{p}.{s}.",
            "Bearer {h}..{s}",
            "Bearer .{p}.{s}",
            "Bearer {h}.{p}.{s}.{s}",
            "Bearer {h}.{p}.",
            "Bearer \"{t}\"",
            "Bearer <{t}>",
            "",
            " ",
            null,
        ]);
        push(kind, { header: { json: header(alg()) }, payload: { json: basePayload(["payments:admin", "temporal-system:read"]) }, template }, settings(), commonMethod(), "payments");
    }

    /** A random pattern with both named groups, from pieces whose Go meaning ranges from plain to version-dependent. */
    function randomRegex(): string {
        const atoms = ["\\w", "\\d", "\\s", "\\S", "\\W", ".", "[a-z]", "[^:]", "[A-Z0-9_-]", "[[:alpha:]]", "[[:^digit:]]", "a", "s", "k", "-", "\\.", ":", " ", "é", "\\x{212a}", "[ks]", "\\pL", "\\p{Greek}", "\\PN", "\\b", "\\B", "\\Qa.b\\E", "(?:ab|a)", "(?i:k)"];
        const quantifiers = ["", "", "", "*", "+", "?", "{1,3}", "*?", "+?", "??", "{2}", "{0,}"];
        const seq = (): string => Array.from({ length: g.int(1, 3) }, () => `${g.pick(atoms)}${g.pick(quantifiers)}`).join(g.chance(0.1) ? "|" : "");
        const ns = `(?P<namespace>${seq()})`;
        const role = `(?P<role>${seq()})`;
        const sep = g.pick([":", ":", "@", "\\.", "", "\\s*:\\s*", "[:/]"]);
        const body = g.chance(0.2) ? `${role}${sep}${ns}` : `${ns}${sep}${role}`;
        const group = g.chance(0.15) ? `(?:${body})+` : body;
        return `${g.pick(["", "", "(?i)", "(?s)", "(?m)", "(?U)", "(?is)"])}${g.pick(["", "^", "\\A"])}${group}${g.pick(["", "$", "\\z"])}`;
    }

    function regexes(kind: string): void {
        const regex = g.chance(0.5) ? randomRegex() : g.pick([
            "(?P<namespace>[\\w-]+):(?P<role>\\w+)",
            "^(?P<namespace>[^:]+):(?P<role>[^:]+)$",
            "(?P<role>\\w+)@(?P<namespace>[\\w.-]+)",
            "(?P<namespace>\\w+)\\.(?P<role>\\w+)",
            "(?:(?P<namespace>[a-z]+):)+(?P<role>\\w+)",
            "((?P<namespace>[a-z]+),)*(?P<role>\\w+)",
            "(?i)(?P<namespace>PAYMENTS|orders):(?P<role>READ|WRITE|ADMIN)",
            "(?P<namespace>\\b\\w+\\b):(?P<role>\\w+)",
            "(?P<namespace>\\pL+):(?P<role>\\pL+)",
            "(?P<namespace>[[:alpha:]-]+):(?P<role>[[:alpha:]]+)",
            "(?U)(?P<namespace>.+):(?P<role>.+)",
            "(?P<namespace>.+?):(?P<role>.*)",
            "(?P<namespace>.*):(?P<role>.*)",
            "(?s)(?P<namespace>.*):(?P<role>.*)",
            "(?m)^(?P<namespace>\\w+):(?P<role>\\w+)$",
            "(?P<namespace>[^:]*)(?::(?P<role>\\w+))?",
            "(?P<namespace>\\S+)\\s*:\\s*(?P<role>\\S+)",
            "(?P<role>a|ad|admin)(?P<namespace>.*)",
            "(?P<namespace>\\w+):(?P<role>\\w+)|(?P<x>\\w+)",
            "(?P<namespace>\\w+):(?i:(?P<role>read|write))",
            "(?P<namespace>\\w+)\\Q:\\E(?P<role>\\w+)",
            "(?P<namespace>[\\x{0400}-\\x{04FF}\\w]+):(?P<role>\\w+)",
            "(?P<namespace>\\w+):(?P<role>\\w+)(?=x)",
            "(?P<namespace>\\w+):(?P<role>\\w+)\\1",
            "(?P<namespace>\\w+):(?P<role>\\w+",
            "(?<namespace>\\w+):(?<role>\\w+)",
            "(?P<ns>\\w+):(?P<role>\\w+)",
            "(?P<namespace>\\w+):(?P<namespace>\\w+)",
            "(?P<namespace>[^:]+):(?P<role>[^:]+)\\z",
            "\\A(?P<namespace>[^:]+):(?P<role>[^:]+)",
            "(?P<namespace>\\w{1,3}):(?P<role>\\w+)",
            "(?P<namespace>[ſK]+):(?P<role>\\w+)",
            "(?i)(?P<namespace>ſ|k):(?P<role>\\w+)",
            "(?P<namespace>\\d+):(?P<role>\\D+)",
            "(?P<namespace>.):(?P<role>.+)",
            "(?P<namespace>(?:\\w+\\s?)+):(?P<role>\\w+)",
            "(?i)\\b(?P<namespace>[ks]|é):(?P<role>\\w+)",
            "(?P<namespace>(a|a)*)b(?P<role>\\w*)",
        ]);
        const p = [...g.permissions(), ...Array.from({ length: g.int(1, 4) }, () => g.pick(["payments:read", "PAYMENTS:WRITE", "read@payments", "payments.write", "a:b:write", "x,y,admin", "admin", "ſ:read", "K:read", "k:read", "платежи:read", "1:read", "p:read", "pay ments : read", "payments:readx", "payments:read\nfoo:admin", "é:admin", "\u212a:admin", "\u017f:read", `${"n".repeat(g.int(20, 60))} read`, `${"a".repeat(g.int(20, 60))}`, "a.b:ab", "ss:kk", "é:s", "αβ:read", "\u1c89:admin", "\u1c8a:read", "\ua7cb:write"]))];
        const spec: TokenSpec = { header: { json: header(alg()) }, payload: { json: basePayload(p) } };
        push(kind, spec, { ...settings(), permissionsRegex: regex }, commonMethod(), nsFrom(p));
    }

    function sizes(kind: string): void {
        const n = g.pick([1500, 3000, 6000, 12000]);
        const p = Array.from({ length: n }, (_, i) => `ns-${i}:${g.pick(["read", "write"])}`);
        p.push("payments:write");
        const spec: TokenSpec = { header: { json: header(alg()) }, payload: { json: basePayload(p) } };
        push(kind, spec, settings(), commonMethod(), g.pick(["payments", `ns-${g.int(0, n)}`]));
    }
}
