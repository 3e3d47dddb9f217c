/**
 * Whether the keys the server trusts sign tokens for this API only. Server v1.31.2 checks no
 * audience on streams and Nexus HTTP calls, so the deployment points `keySourceURIs` at the API's
 * application-specific JWKS (`?appid=`) and gives the API a signing key of its own. That defence
 * holds only if Entra serves at that URL nothing of its shared, tenant-wide keys (which sign every
 * application's tokens in every tenant); nothing offline can know what Entra serves, so
 * `verify:live` asks it.
 */

export interface KeyIsolation {
    ok: boolean;
    /** One sentence: what was compared and what was found. */
    message: string;
    /** Key ids the server trusts (sorted). */
    trusted: string[];
    /** Of those, the ones Entra also serves in the tenant-wide set. */
    shared: string[];
}

/** Fetches a JWKS document; injectable for tests. */
export type JwksFetch = (url: string) => Promise<unknown>;

export const fetchJwks: JwksFetch = async (url) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return res.json();
};

/** The tenant-wide key set of an application JWKS URL (the same path without `?appid=`); undefined when the URL names no application. */
export function tenantWideJwksUrl(jwksUrl: string): string | undefined {
    let url: URL;
    try {
        url = new URL(jwksUrl);
    } catch {
        return undefined;
    }
    if (!url.searchParams.get("appid")) return undefined;
    url.searchParams.delete("appid");
    return url.toString();
}

/** A key's identity for comparison: its kid and its public material (a key re-published under another kid is still the same key). */
function keyIds(doc: unknown, url: string): { kids: string[]; material: Set<string> } {
    const keys = (doc as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error(`${url} is not a JWKS document (no "keys" array)`);
    const kids: string[] = [];
    const material = new Set<string>();
    for (const k of keys as Record<string, unknown>[]) {
        if (typeof k.kid === "string") kids.push(k.kid);
        const m = [k.n, k.e, k.x, k.y].filter((v) => typeof v === "string").join(".");
        if (m !== "") material.add(m);
    }
    return { kids: kids.sort(), material };
}

export async function checkKeyIsolation(jwksUrl: string, fetchDoc: JwksFetch = fetchJwks): Promise<KeyIsolation> {
    const tenantUrl = tenantWideJwksUrl(jwksUrl);
    if (tenantUrl === undefined) {
        return {
            ok: false,
            trusted: [],
            shared: [],
            message: `the server's JWKS ${jwksUrl} is not an application's own key set (no ?appid=): it trusts keys that sign other applications' tokens, and server 1.31.2 checks no audience on streams`,
        };
    }
    const [own, tenant] = await Promise.all([fetchDoc(jwksUrl), fetchDoc(tenantUrl)]);
    const trusted = keyIds(own, jwksUrl);
    const wide = keyIds(tenant, tenantUrl);
    const shared = trusted.kids.filter((k) => wide.kids.includes(k));
    const sameMaterial = [...trusted.material].some((m) => wide.material.has(m));
    if (trusted.kids.length === 0 && trusted.material.size === 0) {
        return { ok: false, trusted: [], shared: [], message: `${jwksUrl} serves no key: every token would be refused` };
    }
    if (shared.length > 0 || sameMaterial) {
        return {
            ok: false,
            trusted: trusted.kids,
            shared,
            message:
                `${jwksUrl} serves keys of the tenant-wide set ${tenantUrl} (${shared.join(", ") || "same key material"}): tokens minted for other applications verify, and on streams server 1.31.2 checks no audience. ` +
                "Give the API's service principal its token signing certificate (the identity component's api-signing-key) and check that Entra signs the API's tokens with it.",
        };
    }
    return { ok: true, trusted: trusted.kids, shared: [], message: `${jwksUrl} serves only keys of its own (${trusted.kids.join(", ")}), none of the tenant-wide set` };
}
