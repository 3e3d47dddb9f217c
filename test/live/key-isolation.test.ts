import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkKeyIsolation, tenantWideJwksUrl } from "../../scripts/lib/live/key-isolation";
import { startFakeEntra } from "./support/entra";

/**
 * verify:live's check that the server's key set holds only the API's own keys: Entra's shared keys
 * sign every application's tokens in every tenant, and on streams server 1.31.2 checks no audience.
 */
describe("key isolation: the server's JWKS against the tenant-wide key set", () => {
    it("passes when the API's tokens are signed with a key of its own, served only at ?appid=", async () => {
        const entra = await startFakeEntra();
        try {
            const r = await checkKeyIsolation(entra.jwksUrl);
            assert.equal(r.ok, true, r.message);
            assert.deepEqual(r.trusted, [entra.kids.app]);
            assert.deepEqual(r.shared, []);
            assert.match(r.message, /serves only keys of its own/);
        } finally {
            await entra.close();
        }
    });

    it("fails, naming the shared key, when the API has no key of its own (?appid= serves the shared keys)", async () => {
        const entra = await startFakeEntra({ appSigningKey: false });
        try {
            const r = await checkKeyIsolation(entra.jwksUrl);
            assert.equal(r.ok, false);
            assert.deepEqual(r.shared, [entra.kids.shared]);
            assert.match(r.message, /serves keys of the tenant-wide set .*tokens minted for other applications verify/);
            assert.match(r.message, /token signing certificate/);
        } finally {
            await entra.close();
        }
    });

    it("fails without fetching for a URL that names no application, and for a key set with no key", async () => {
        const tenantWide = await checkKeyIsolation("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys", () => {
            throw new Error("must not fetch");
        });
        assert.equal(tenantWide.ok, false);
        assert.match(tenantWide.message, /not an application's own key set \(no \?appid=\)/);
        const empty = await checkKeyIsolation("https://login.microsoftonline.com/t/discovery/v2.0/keys?appid=a", async () => ({ keys: [] }));
        assert.equal(empty.ok, false);
        assert.match(empty.message, /serves no key/);
    });

    it("compares key material too: the shared key under another kid is still the shared key", async () => {
        const key = { kty: "RSA", n: "abc", e: "AQAB" };
        const r = await checkKeyIsolation("https://login.microsoftonline.com/t/discovery/v2.0/keys?appid=a", async (url) =>
            url.includes("appid") ? { keys: [{ ...key, kid: "renamed" }] } : { keys: [{ ...key, kid: "original" }] },
        );
        assert.equal(r.ok, false);
        assert.match(r.message, /same key material/);
    });

    it("derives the tenant-wide URL by dropping ?appid=", () => {
        assert.equal(
            tenantWideJwksUrl("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys?appid=620043f4-9628-4fa5-a3f1-8ffd3e9ad10b"),
            "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys",
        );
        assert.equal(tenantWideJwksUrl("https://login.microsoftonline.com/t/discovery/v2.0/keys"), undefined);
        assert.equal(tenantWideJwksUrl("not a url"), undefined);
    });
});
