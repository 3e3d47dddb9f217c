import { generateKeyPair, generateKeyPairSync, sign as cryptoSign, type JsonWebKey, type KeyObject } from "node:crypto";
import { promisify } from "node:util";

/**
 * Tokens of the differential test, described as data (a `TokenSpec`) so that a failing case can be
 * printed, minimized and kept in the corpus file, and rendered again with the keys of any run.
 */

/**
 * Bytes of a segment before base64url: a JSON value, JSON text as written, raw bytes in hex (for
 * invalid UTF-8), or text assembled from parts with repetitions (to keep huge cases short in the corpus).
 */
export type SegmentBytes = { json: unknown } | { text: string } | { hex: string } | { parts: Array<string | { repeat: string; times: number }> };

/** Changes to a segment's base64url text, made BEFORE signing (so the signature covers them). */
export type SegmentOp =
    | { op: "pad" } // append the "=" padding standard base64 would have
    | { op: "insert"; at: number; text: string } // insert text at index (negative: from the end)
    | { op: "std-alphabet" } // "-" and "_" written as "+" and "/"
    | { op: "trailing-bits" } // set the unused low bits of the last character
    | { op: "raw"; text: string }; // the segment is exactly this text

/** Changes to the signature, made after signing (the segment ops apply to its base64url text). */
export type SignatureOp =
    | { op: "flip"; byte: number; bit: number }
    | { op: "truncate"; bytes: number }
    | { op: "append"; hex: string }
    | { op: "der" } // ECDSA signature in ASN.1 DER instead of r||s
    | { op: "high-s" } // ECDSA s replaced by n - s (the other valid signature)
    | SegmentOp;

export interface TokenSpec {
    header: SegmentBytes;
    payload: SegmentBytes;
    /** The key that signs (a FidelityKeys name); "none": an empty signature. Default: the header's kid among the keys of its alg's type. */
    signer?: string;
    headerOps?: SegmentOp[];
    payloadOps?: SegmentOp[];
    signatureOps?: SignatureOp[];
    /** The authorization header; "{t}" is the token, "{h}" "{p}" "{s}" its segments. Default "Bearer {t}"; null: no header. */
    template?: string | null;
}

export interface FidelityKey {
    /** Name in specs (unique). */
    name: string;
    kid: string;
    kty: "RSA" | "EC" | "oct" | "OKP";
    privateKey?: KeyObject;
    publicJwk: JsonWebKey & { kid: string };
}

export type FidelityKeys = ReadonlyMap<string, FidelityKey>;

const generate = promisify(generateKeyPair);

/** RSA keys are generated on libuv's thread pool, in parallel. */
async function rsa(name: string, kid: string, bits: number, extra: Record<string, string> = {}): Promise<FidelityKey> {
    const { privateKey, publicKey } = await generate("rsa", { modulusLength: bits });
    return { name, kid, kty: "RSA", privateKey, publicJwk: { ...publicKey.export({ format: "jwk" }), kid, use: "sig", ...extra } };
}

function ec(name: string, kid: string, curve: "P-256" | "P-384"): FidelityKey {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
    return { name, kid, kty: "EC", privateKey, publicJwk: { ...publicKey.export({ format: "jwk" }), kid } };
}

/**
 * The keys of a run: what the JWKS serves (to the server's key provider and the validator alike).
 * Several kids are traps: one kid on an RSA and an EC key, kids named like Object.prototype members,
 * an empty kid, a P-384 key, a 1024-bit RSA key, a JWK whose "alg" is not RS256, and keys the
 * server ignores (symmetric, Ed25519).
 */
export async function makeKeys(): Promise<FidelityKeys> {
    const rsaKeys = await Promise.all([
        rsa("rsa-a", "rsa-a", 2048, { alg: "RS256" }),
        rsa("rsa-b", "rsa-b", 2048),
        rsa("shared-rsa", "shared", 2048),
        rsa("rsa-1024", "rsa-1024", 1024),
        rsa("rsa-alg512", "rsa-alg512", 2048, { alg: "RS512" }),
        rsa("ctor", "constructor", 2048),
    ]);
    const list: FidelityKey[] = [
        ...rsaKeys,
        ec("ec-a", "ec-a", "P-256"),
        ec("ec-b", "ec-b", "P-256"),
        ec("shared-ec", "shared", "P-256"),
        ec("ec-384", "ec-384", "P-384"),
        ec("proto", "__proto__", "P-256"),
        ec("empty", "", "P-256"),
        { name: "hmac", kid: "hmac", kty: "oct", publicJwk: { kty: "oct", kid: "hmac", k: Buffer.from("a shared secret nobody should use").toString("base64url") } },
    ];
    const ed = generateKeyPairSync("ed25519");
    list.push({ name: "ed", kid: "ed", kty: "OKP", privateKey: ed.privateKey, publicJwk: { ...ed.publicKey.export({ format: "jwk" }), kid: "ed" } });
    return new Map(list.map((k) => [k.name, k]));
}

export function jwksOf(keys: FidelityKeys): { keys: JsonWebKey[] } {
    return { keys: [...keys.values()].map((k) => k.publicJwk) };
}

/** Keys in no JWKS, with the kids of real ones (tokens "from another issuer"). */
export async function foreignKeys(): Promise<FidelityKeys> {
    return new Map([
        ["foreign-rsa", await rsa("foreign-rsa", "rsa-a", 2048)],
        ["foreign-ec", ec("foreign-ec", "ec-a", "P-256")],
    ]);
}

function bytesOf(s: SegmentBytes): Buffer {
    if ("json" in s) return Buffer.from(JSON.stringify(s.json));
    if ("text" in s) return Buffer.from(s.text, "utf8");
    if ("parts" in s) return Buffer.from(s.parts.map((p) => (typeof p === "string" ? p : p.repeat.repeat(p.times))).join(""), "utf8");
    return Buffer.from(s.hex, "hex");
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function applySegment(seg: string, op: SegmentOp): string {
    switch (op.op) {
        case "pad":
            return seg + "=".repeat((4 - (seg.length % 4)) % 4);
        case "insert": {
            const at = op.at < 0 ? Math.max(0, seg.length + op.at + 1) : Math.min(seg.length, op.at);
            return seg.slice(0, at) + op.text + seg.slice(at);
        }
        case "std-alphabet":
            return seg.replace(/-/g, "+").replace(/_/g, "/");
        case "trailing-bits": {
            const rem = seg.length % 4;
            if (rem === 0 || seg.length === 0) return seg;
            const last = B64URL.indexOf(seg[seg.length - 1] ?? "A");
            const unused = rem === 2 ? 0b1111 : 0b11;
            return seg.slice(0, -1) + (B64URL[last | unused] ?? "A");
        }
        case "raw":
            return op.text;
    }
}

const P256_N = BigInt("0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");

function applySignature(sig: Buffer, op: SignatureOp, der: () => Buffer): Buffer | string {
    switch (op.op) {
        case "flip": {
            if (sig.length === 0) return sig;
            const out = Buffer.from(sig);
            const i = ((op.byte % out.length) + out.length) % out.length;
            out[i] = (out[i] ?? 0) ^ (1 << (op.bit & 7));
            return out;
        }
        case "truncate":
            return sig.subarray(0, Math.max(0, sig.length - op.bytes));
        case "append":
            return Buffer.concat([sig, Buffer.from(op.hex, "hex")]);
        case "der":
            return der();
        case "high-s": {
            if (sig.length !== 64) return sig;
            const s = BigInt(`0x${sig.subarray(32).toString("hex")}`);
            const high = (P256_N - s).toString(16).padStart(64, "0");
            return Buffer.concat([sig.subarray(0, 32), Buffer.from(high, "hex")]);
        }
        default:
            return applySegment(sig.toString("base64url"), op);
    }
}

/** The JWK type an alg selects, as the server's keyFunc does (golang-jwt's method types). */
function keyTypeFor(alg: unknown): "RSA" | "EC" | undefined {
    if (typeof alg !== "string") return undefined;
    if (/^(RS|PS)\d+$/.test(alg)) return "RSA";
    if (/^ES\d+$/.test(alg)) return "EC";
    return undefined;
}

function defaultSigner(spec: TokenSpec, keys: FidelityKeys): FidelityKey | undefined {
    if (!("json" in spec.header)) return keys.get("ec-a");
    const h = spec.header.json as { alg?: unknown; kid?: unknown } | null;
    const kty = keyTypeFor(h?.alg) ?? "EC";
    const kid = typeof h?.kid === "string" ? h.kid : undefined;
    return [...keys.values()].find((k) => k.kty === kty && k.kid === kid && k.privateKey) ?? [...keys.values()].find((k) => k.kty === kty && k.privateKey);
}

/** The `authorization` header value of a spec (undefined: no header), signed with `keys` (or `foreign`). */
export function renderAuthorization(spec: TokenSpec, keys: FidelityKeys, foreign?: FidelityKeys): string | undefined {
    let h = bytesOf(spec.header).toString("base64url");
    let p = bytesOf(spec.payload).toString("base64url");
    for (const op of spec.headerOps ?? []) h = applySegment(h, op);
    for (const op of spec.payloadOps ?? []) p = applySegment(p, op);
    const input = Buffer.from(`${h}.${p}`, "latin1");
    let s = "";
    if (spec.signer !== "none") {
        const key = spec.signer ? (keys.get(spec.signer) ?? foreign?.get(spec.signer)) : defaultSigner(spec, keys);
        if (!key?.privateKey) throw new Error(`no private key named ${JSON.stringify(spec.signer)}`);
        const pk = key.privateKey;
        let sig: Buffer;
        if (key.kty === "EC") sig = cryptoSign("sha256", input, { key: pk, dsaEncoding: "ieee-p1363" });
        else if (key.kty === "OKP") sig = cryptoSign(null, input, pk);
        else sig = cryptoSign("sha256", input, pk);
        let out: Buffer | string = sig;
        for (const op of spec.signatureOps ?? []) {
            out = applySignature(typeof out === "string" ? Buffer.from(out, "base64url") : out, op, () => cryptoSign("sha256", input, { key: pk, dsaEncoding: "der" }));
        }
        s = typeof out === "string" ? out : out.toString("base64url");
    }
    if (spec.template === null) return undefined;
    const template = spec.template ?? "Bearer {t}";
    return template.replace(/\{([thps])\}/g, (_, c: string) => (c === "t" ? `${h}.${p}.${s}` : c === "h" ? h : c === "p" ? p : s));
}
