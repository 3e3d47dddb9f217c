import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { unwrap } from "../../scripts/lib/offline/engine";
import { selfSignedCertificate, generatePrivateKey } from "../../scripts/lib/offline/emulators/tls";
import { caProfile, clientProfile, frontendProfile, keySpec } from "../../infra/pki/profiles";
import { temporalServiceNames } from "../../infra/config/names";
import type { IssuedCertificate } from "../../infra/pki";
import { buildPki, mintFromProfile, stackRaw, stateOf, type BuiltPki, type Minted } from "./support";
import { handshake, type TlsClientSide, type TlsServerSide } from "./tls-harness";

/**
 * Certificates made by the real component on the offline engine (real keys, real X.509 from the
 * same profiles), used in real TLS handshakes on 127.0.0.1 the way Temporal uses them.
 */

interface Pem {
    key: string;
    chain: string;
    cert: string;
}

async function pemOf(c: IssuedCertificate): Promise<Pem> {
    return { key: await unwrap(c.privateKeyPem), chain: await unwrap(c.chainPem), cert: await unwrap(c.certPem) };
}

const server = (c: Pem | Minted, ca: string): TlsServerSide => ({ key: c.key, cert: c.chain, ca });
const client = (c: Pem | Minted | undefined, ca: string, servername: string): TlsClientSide => ({ ...(c ? { key: c.key, cert: c.chain } : {}), ca, servername });

const CA_2027 = { id: "2027", commonName: "Temporal dev CA 2027", organization: "Contoso Platform" };
const CA_2026 = { id: "2026", commonName: "Temporal dev CA 2026", organization: "Contoso Platform" };

/** A CA of another PKI, minted from the same CA profile. */
async function foreignCa(): Promise<{ certPem: string; privateKeyPem: string }> {
    const profile = caProfile({ id: "foreign", commonName: "Temporal dev CA 2026", organization: "Contoso Platform", keyAlgorithm: "ECDSA-P256", validityYears: 5, earlyRenewalDays: 90 });
    const spec = keySpec(profile.keyAlgorithm);
    const key = generatePrivateKey(spec.algorithm, spec.ecdsaCurve);
    const cert = await selfSignedCertificate(key.privateKeyPem, { subject: profile.subject, allowedUses: profile.allowedUses, isCaCertificate: true, validityPeriodHours: profile.validityPeriodHours, setSubjectKeyId: true });
    return { certPem: cert.certPem, privateKeyPem: key.privateKeyPem };
}

describe("real TLS with the PKI's certificates (one CA)", () => {
    let built: BuiltPki;
    let bundle: string;
    let frontend: Pem, internode: Pem, ui: Pem, worker: Pem, admin: Pem;
    let issuer: { certPem: string; privateKeyPem: string };
    const names = temporalServiceNames("temporal");

    before(async () => {
        built = await buildPki();
        const { pki, engine } = built;
        bundle = await unwrap(pki.trustBundlePem);
        [frontend, internode, ui, worker, admin] = (await Promise.all([pki.frontend, pki.internode, pki.clients["temporal-ui"]!, pki.clients["payments-worker"]!, pki.clients["temporal-admin"]!].map(pemOf))) as [Pem, Pem, Pem, Pem, Pem];
        issuer = { certPem: await unwrap(pki.caCertificates["2026"]!), privateKeyPem: stateOf(engine, "tls:index/privateKey:PrivateKey", "pki-ca-2026-key", "privateKeyPem") };
    });

    describe("accepted", () => {
        it("the Web UI's client certificate at the frontend, client auth required", async () => {
            const r = await handshake(server(frontend, bundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual(r, { accepted: true, clientCommonName: "temporal-ui" });
        });

        it("a worker's and the admin tools' client certificates at the frontend", async () => {
            assert.deepEqual(await handshake(server(frontend, bundle), client(worker, bundle, built.pki.frontendServerName)), { accepted: true, clientCommonName: "payments-worker" });
            assert.deepEqual(await handshake(server(frontend, bundle), client(admin, bundle, built.pki.frontendServerName)), { accepted: true, clientCommonName: "temporal-admin" });
        });

        it("every name a client dials for the frontend (each SAN)", async () => {
            assert.deepEqual(built.pki.frontend.dnsNames, names.frontendDnsNames);
            for (const name of built.pki.frontend.dnsNames) {
                const r = await handshake(server(frontend, bundle), client(ui, bundle, name));
                assert.equal(r.accepted, true, `${name}: ${JSON.stringify(r)}`);
            }
        });

        it("the internode certificate as server AND as client between two services", async () => {
            const r = await handshake(server(internode, bundle), client(internode, bundle, built.pki.internodeServerName));
            assert.deepEqual(r, { accepted: true, clientCommonName: names.internodeServerName });
        });
    });

    describe("rejected", () => {
        it("no client certificate: the TLS layer refuses the handshake", async () => {
            const r = await handshake(server(frontend, bundle), client(undefined, bundle, built.pki.frontendServerName), { strictServer: true });
            assert.equal(r.accepted, false);
            assert.equal(r.serverError, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
            assert.equal(r.clientError, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
        });

        it("a client certificate from a foreign CA (same profile, same CA subject, other key)", async () => {
            const foreign = await foreignCa();
            const forged = await mintFromProfile(clientProfile({ name: "temporal-ui", kind: "ui" }, built.cfg.pki, "Contoso Platform"), foreign);
            const withChain = await handshake(server(frontend, bundle), client(forged, bundle, built.pki.frontendServerName));
            assert.deepEqual([withChain.accepted, withChain.serverError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
            const leafOnly = await handshake(server(frontend, bundle), { ...client(forged, bundle, built.pki.frontendServerName), cert: forged.cert });
            assert.deepEqual([leafOnly.accepted, leafOnly.serverError], [false, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
        });

        it("a frontend certificate from a foreign CA: the client refuses the server", async () => {
            const foreign = await foreignCa();
            const forged = await mintFromProfile(frontendProfile(names, built.cfg.pki), foreign);
            const r = await handshake(server(forged, bundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual([r.accepted, r.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        });

        it("a server name that is not in the SANs", async () => {
            const r = await handshake(server(frontend, bundle), client(ui, bundle, "temporal-frontend.other-namespace.svc"));
            assert.deepEqual([r.accepted, r.clientError], [false, "ERR_TLS_CERT_ALTNAME_INVALID"]);
            // The internode certificate does not answer for the frontend's name either.
            const swapped = await handshake(server(internode, bundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual([swapped.accepted, swapped.clientError], [false, "ERR_TLS_CERT_ALTNAME_INVALID"]);
        });

        it("an expired certificate, as client and as server", async () => {
            const longAgo = new Date(Date.now() - (built.cfg.pki.leafValidityDays + 10) * 86_400_000);
            const expiredUi = await mintFromProfile(clientProfile({ name: "temporal-ui", kind: "ui" }, built.cfg.pki, "Contoso Platform"), issuer, longAgo);
            assert.ok(new Date(new X509Certificate(expiredUi.cert).validTo) < new Date());
            const asClient = await handshake(server(frontend, bundle), client(expiredUi, bundle, built.pki.frontendServerName));
            assert.deepEqual([asClient.accepted, asClient.serverError], [false, "CERT_HAS_EXPIRED"]);
            const expiredFrontend = await mintFromProfile(frontendProfile(names, built.cfg.pki), issuer, longAgo);
            const asServer = await handshake(server(expiredFrontend, bundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual([asServer.accepted, asServer.clientError], [false, "CERT_HAS_EXPIRED"]);
        });

        it("a client-only certificate used as a server (unsupported purpose)", async () => {
            const r = await handshake(server(ui, bundle), client(worker, bundle, "temporal-ui"));
            assert.deepEqual([r.accepted, r.clientError], [false, "INVALID_PURPOSE"]);
        });

        it("a server-only certificate used as a client (unsupported purpose)", async () => {
            const r = await handshake(server(internode, bundle), client(frontend, bundle, built.pki.internodeServerName));
            assert.deepEqual([r.accepted, r.serverError], [false, "INVALID_PURPOSE"]);
        });
    });
});

describe("real TLS through a CA rotation (state carried between the three `pulumi up`s)", () => {
    const steps: BuiltPki[] = [];
    const pem: Array<{ bundle: string; frontend: Pem; ui: Pem; internode: Pem }> = [];
    const servername = temporalServiceNames("temporal").frontendServerName;

    before(async () => {
        const configs = [
            { cas: [CA_2026] }, // before: one CA
            { cas: [CA_2026, CA_2027] }, // step 1: add the next CA, trust both
            { cas: [CA_2026, CA_2027], issuer: "2027" }, // step 2: reissue leaves from it
            { cas: [CA_2027] }, // step 3: retire the old one
        ];
        for (const pki of configs) {
            const built = await buildPki({ raw: stackRaw({ pki }), ...(steps.length > 0 ? { previous: steps[steps.length - 1]!.engine.resources } : {}) });
            steps.push(built);
            pem.push({
                bundle: await unwrap(built.pki.trustBundlePem),
                frontend: await pemOf(built.pki.frontend),
                ui: await pemOf(built.pki.clients["temporal-ui"]!),
                internode: await pemOf(built.pki.internode),
            });
        }
    });

    const issuerCn = (certPem: string) => new X509Certificate(certPem).issuer.split("\n").find((l) => l.startsWith("CN="));
    const bundleCns = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((c) => new X509Certificate(c).subject.split("\n").find((l) => l.startsWith("CN=")));

    it("step 1 adds the next CA to the trust bundle and changes nothing else", () => {
        assert.deepEqual(bundleCns(pem[0]!.bundle), ["CN=Temporal dev CA 2026"]);
        assert.deepEqual(bundleCns(pem[1]!.bundle), ["CN=Temporal dev CA 2026", "CN=Temporal dev CA 2027"]);
        assert.equal(pem[1]!.frontend.cert, pem[0]!.frontend.cert, "leaves are not reissued in step 1");
        assert.equal(pem[1]!.ui.cert, pem[0]!.ui.cert);
    });

    it("step 2 reissues every leaf from the next CA, keeping the keys and the bundle", () => {
        assert.equal(issuerCn(pem[1]!.frontend.cert), "CN=Temporal dev CA 2026");
        for (const leaf of ["frontend", "ui", "internode"] as const) {
            assert.notEqual(pem[2]![leaf].cert, pem[1]![leaf].cert, `${leaf} reissued`);
            assert.equal(issuerCn(pem[2]![leaf].cert), "CN=Temporal dev CA 2027");
            assert.equal(pem[2]![leaf].key, pem[1]![leaf].key);
        }
        assert.equal(pem[2]!.bundle, pem[1]!.bundle);
    });

    it("accepted: a leaf from the next CA while both CAs are trusted, in both directions and between services", async () => {
        const [old, next] = [pem[1]!, pem[2]!];
        const bothTrusted = next.bundle;
        assert.deepEqual(await handshake(server(next.frontend, bothTrusted), client(old.ui, bothTrusted, servername)), { accepted: true, clientCommonName: "temporal-ui" });
        assert.deepEqual(await handshake(server(old.frontend, bothTrusted), client(next.ui, bothTrusted, servername)), { accepted: true, clientCommonName: "temporal-ui" });
        const internodeName = steps[2]!.pki.internodeServerName;
        assert.equal((await handshake(server(old.internode, bothTrusted), client(next.internode, bothTrusted, internodeName))).accepted, true);
    });

    it("why step 1 must have reached every pod first: a pod trusting only the old CA refuses a leaf from the next", async () => {
        const r = await handshake(server(pem[2]!.frontend, pem[0]!.bundle), client(pem[0]!.ui, pem[0]!.bundle, servername));
        assert.deepEqual([r.accepted, r.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
    });

    it("step 3 retires the old CA: the bundle holds only the new one, leaves stay, its resources are gone", () => {
        assert.deepEqual(bundleCns(pem[3]!.bundle), ["CN=Temporal dev CA 2027"]);
        assert.equal(pem[3]!.frontend.cert, pem[2]!.frontend.cert);
        assert.deepEqual(
            steps[3]!.engine.resources.filter((r) => r.name.includes("2026")).map((r) => r.name),
            [],
        );
    });

    it("rejected: a leaf from the retired CA, as client and as server", async () => {
        const [retired, now] = [pem[1]!, pem[3]!];
        const asClient = await handshake(server(now.frontend, now.bundle), client(retired.ui, now.bundle, servername));
        assert.deepEqual([asClient.accepted, asClient.serverError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        const asServer = await handshake(server(retired.frontend, now.bundle), client(now.ui, now.bundle, servername));
        assert.deepEqual([asServer.accepted, asServer.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
    });
});
