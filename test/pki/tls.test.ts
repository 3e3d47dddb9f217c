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

describe("real TLS with the PKI's certificates (one generation: a client-facing and an internode CA)", () => {
    let built: BuiltPki;
    /** `ca.crt` of the UI and the workers (client-facing CAs). */
    let bundle: string;
    /** `ca.crt` of the internode Secret: internode servers, the internal frontend and whoever dials them. */
    let internodeBundle: string;
    /** `ca.crt` of the frontend Secret: whom the frontend accepts as clients. */
    let frontendBundle: string;
    let frontend: Pem, internode: Pem, ui: Pem, worker: Pem, admin: Pem;
    let issuer: { certPem: string; privateKeyPem: string };
    const names = temporalServiceNames("temporal");

    before(async () => {
        built = await buildPki();
        const { pki, engine } = built;
        bundle = await unwrap(pki.trustBundlePem);
        internodeBundle = await unwrap(pki.internodeTrustBundlePem);
        frontendBundle = await unwrap(pki.frontendClientTrustBundlePem);
        [frontend, internode, ui, worker, admin] = (await Promise.all([pki.frontend, pki.internode, pki.clients["temporal-ui"]!, pki.clients["payments-worker"]!, pki.clients["temporal-admin"]!].map(pemOf))) as [Pem, Pem, Pem, Pem, Pem];
        issuer = { certPem: await unwrap(pki.caCertificates["2026"]!), privateKeyPem: stateOf(engine, "tls:index/privateKey:PrivateKey", "pki-ca-2026-key", "privateKeyPem") };
    });

    describe("accepted", () => {
        it("the Web UI's client certificate at the frontend, client auth required", async () => {
            const r = await handshake(server(frontend, frontendBundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual(r, { accepted: true, clientCommonName: "temporal-ui" });
        });

        it("a worker's and the admin tools' client certificates at the frontend", async () => {
            assert.deepEqual(await handshake(server(frontend, frontendBundle), client(worker, bundle, built.pki.frontendServerName)), { accepted: true, clientCommonName: "payments-worker" });
            assert.deepEqual(await handshake(server(frontend, frontendBundle), client(admin, bundle, built.pki.frontendServerName)), { accepted: true, clientCommonName: "temporal-admin" });
        });

        it("every name a client dials for the frontend (each SAN)", async () => {
            assert.deepEqual(built.pki.frontend.dnsNames, names.frontendDnsNames);
            for (const name of built.pki.frontend.dnsNames) {
                const r = await handshake(server(frontend, frontendBundle), client(ui, bundle, name));
                assert.equal(r.accepted, true, `${name}: ${JSON.stringify(r)}`);
            }
        });

        it("the internode certificate as server AND as client between two services (internode bundle on both sides)", async () => {
            const r = await handshake(server(internode, internodeBundle), client(internode, internodeBundle, built.pki.internodeServerName));
            assert.deepEqual(r, { accepted: true, clientCommonName: names.internodeServerName });
        });

        it("the internode certificate as client at the frontend (Temporal's own services), verifying the frontend with the frontend's bundle", async () => {
            const r = await handshake(server(frontend, frontendBundle), client(internode, frontendBundle, built.pki.frontendServerName));
            assert.deepEqual(r, { accepted: true, clientCommonName: names.internodeServerName });
        });
    });

    describe("refused by the internode servers (the internal frontend would make the caller cluster admin)", () => {
        // The client trusts the internode CA, so the server's certificate verifies and only the
        // SERVER's client-certificate decision is tested.
        for (const [who, pick] of [
            ["a worker's", () => worker],
            ["the Web UI's", () => ui],
            ["the admin tools'", () => admin],
        ] as const) {
            it(`${who} client certificate: its chain ends in the client-facing CA, which the internode servers do not trust`, async () => {
                const r = await handshake(server(internode, internodeBundle), client(pick(), internodeBundle, built.pki.internodeServerName));
                assert.deepEqual(r, { accepted: false, serverError: "SELF_SIGNED_CERT_IN_CHAIN" });
                // Presenting the leaf alone changes the reason, not the answer.
                const leafOnly = await handshake(server(internode, internodeBundle), { ...client(pick(), internodeBundle, built.pki.internodeServerName), cert: pick().cert });
                assert.deepEqual(leafOnly, { accepted: false, serverError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
            });
        }

        it("while the same client certificates are accepted at the frontend, and the bundles are disjoint", async () => {
            assert.equal((await handshake(server(frontend, frontendBundle), client(worker, bundle, built.pki.frontendServerName))).accepted, true);
            const certs = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((c) => new X509Certificate(c).fingerprint256);
            assert.deepEqual(certs(internodeBundle).filter((f) => certs(bundle).includes(f)), []);
            assert.deepEqual(certs(frontendBundle), [...certs(bundle), ...certs(internodeBundle)]);
        });
    });

    describe("rejected", () => {
        it("no client certificate: the TLS layer refuses the handshake", async () => {
            const r = await handshake(server(frontend, frontendBundle), client(undefined, bundle, built.pki.frontendServerName), { strictServer: true });
            assert.equal(r.accepted, false);
            assert.equal(r.serverError, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
            assert.equal(r.clientError, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
        });

        it("a client certificate from a foreign CA (same profile, same CA subject, other key)", async () => {
            const foreign = await foreignCa();
            const forged = await mintFromProfile(clientProfile({ name: "temporal-ui", kind: "ui" }, built.cfg.pki, "Contoso Platform"), foreign);
            const withChain = await handshake(server(frontend, frontendBundle), client(forged, bundle, built.pki.frontendServerName));
            assert.deepEqual([withChain.accepted, withChain.serverError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
            const leafOnly = await handshake(server(frontend, frontendBundle), { ...client(forged, bundle, built.pki.frontendServerName), cert: forged.cert });
            assert.deepEqual([leafOnly.accepted, leafOnly.serverError], [false, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
        });

        it("a frontend certificate from a foreign CA: the client refuses the server", async () => {
            const foreign = await foreignCa();
            const forged = await mintFromProfile(frontendProfile(names, built.cfg.pki), foreign);
            const r = await handshake(server(forged, bundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual([r.accepted, r.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        });

        it("a server name that is not in the SANs", async () => {
            const r = await handshake(server(frontend, frontendBundle), client(ui, bundle, "temporal-frontend.other-namespace.svc"));
            assert.deepEqual([r.accepted, r.clientError], [false, "ERR_TLS_CERT_ALTNAME_INVALID"]);
            // The internode certificate does not answer for the frontend's name either, even to a
            // client whose roots hold the internode CA (Temporal's services dialing the frontend).
            const swapped = await handshake(server(internode, internodeBundle), client(ui, frontendBundle, built.pki.frontendServerName));
            assert.deepEqual([swapped.accepted, swapped.clientError], [false, "ERR_TLS_CERT_ALTNAME_INVALID"]);
        });

        it("an expired certificate, as client and as server", async () => {
            const longAgo = new Date(Date.now() - (built.cfg.pki.leafValidityDays + 10) * 86_400_000);
            const expiredUi = await mintFromProfile(clientProfile({ name: "temporal-ui", kind: "ui" }, built.cfg.pki, "Contoso Platform"), issuer, longAgo);
            assert.ok(new Date(new X509Certificate(expiredUi.cert).validTo) < new Date());
            const asClient = await handshake(server(frontend, frontendBundle), client(expiredUi, bundle, built.pki.frontendServerName));
            assert.deepEqual([asClient.accepted, asClient.serverError], [false, "CERT_HAS_EXPIRED"]);
            const expiredFrontend = await mintFromProfile(frontendProfile(names, built.cfg.pki), issuer, longAgo);
            const asServer = await handshake(server(expiredFrontend, frontendBundle), client(ui, bundle, built.pki.frontendServerName));
            assert.deepEqual([asServer.accepted, asServer.clientError], [false, "CERT_HAS_EXPIRED"]);
        });

        it("a client-only certificate used as a server (unsupported purpose)", async () => {
            const r = await handshake(server(ui, bundle), client(worker, bundle, "temporal-ui"));
            assert.deepEqual([r.accepted, r.clientError], [false, "INVALID_PURPOSE"]);
        });

        it("a server-only certificate used as a client (unsupported purpose)", async () => {
            const r = await handshake(server(frontend, frontendBundle), client(frontend, bundle, built.pki.frontendServerName));
            assert.deepEqual([r.accepted, r.serverError], [false, "INVALID_PURPOSE"]);
        });
    });
});

describe("real TLS through a CA rotation (state carried between the three `pulumi up`s)", () => {
    const steps: BuiltPki[] = [];
    const pem: Array<{ bundle: string; internodeBundle: string; frontendBundle: string; frontend: Pem; ui: Pem; worker: Pem; internode: Pem }> = [];
    const servername = temporalServiceNames("temporal").frontendServerName;
    const internodeName = temporalServiceNames("temporal").internodeServerName;

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
                internodeBundle: await unwrap(built.pki.internodeTrustBundlePem),
                frontendBundle: await unwrap(built.pki.frontendClientTrustBundlePem),
                frontend: await pemOf(built.pki.frontend),
                ui: await pemOf(built.pki.clients["temporal-ui"]!),
                worker: await pemOf(built.pki.clients["payments-worker"]!),
                internode: await pemOf(built.pki.internode),
            });
        }
    });

    const issuerCn = (certPem: string) => new X509Certificate(certPem).issuer.split("\n").find((l) => l.startsWith("CN="));
    const bundleCns = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((c) => new X509Certificate(c).subject.split("\n").find((l) => l.startsWith("CN=")));

    it("step 1 adds the next generation's two CAs to their bundles and changes nothing else", () => {
        assert.deepEqual(bundleCns(pem[0]!.bundle), ["CN=Temporal dev CA 2026"]);
        assert.deepEqual(bundleCns(pem[0]!.internodeBundle), ["CN=Temporal dev CA 2026 internode"]);
        assert.deepEqual(bundleCns(pem[1]!.bundle), ["CN=Temporal dev CA 2026", "CN=Temporal dev CA 2027"]);
        assert.deepEqual(bundleCns(pem[1]!.internodeBundle), ["CN=Temporal dev CA 2026 internode", "CN=Temporal dev CA 2027 internode"]);
        assert.deepEqual(bundleCns(pem[1]!.frontendBundle), [...bundleCns(pem[1]!.bundle), ...bundleCns(pem[1]!.internodeBundle)]);
        for (const leaf of ["frontend", "ui", "internode"] as const) assert.equal(pem[1]![leaf].cert, pem[0]![leaf].cert, `${leaf} is not reissued in step 1`);
    });

    it("step 2 reissues every leaf from the next generation (internode from its internode CA), keeping the keys and the bundles", () => {
        assert.equal(issuerCn(pem[1]!.frontend.cert), "CN=Temporal dev CA 2026");
        assert.equal(issuerCn(pem[1]!.internode.cert), "CN=Temporal dev CA 2026 internode");
        for (const leaf of ["frontend", "ui", "worker", "internode"] as const) {
            assert.notEqual(pem[2]![leaf].cert, pem[1]![leaf].cert, `${leaf} reissued`);
            assert.equal(issuerCn(pem[2]![leaf].cert), leaf === "internode" ? "CN=Temporal dev CA 2027 internode" : "CN=Temporal dev CA 2027");
            assert.equal(pem[2]![leaf].key, pem[1]![leaf].key);
        }
        for (const bundle of ["bundle", "internodeBundle", "frontendBundle"] as const) assert.equal(pem[2]![bundle], pem[1]![bundle], bundle);
    });

    it("accepted: a leaf from the next generation while both are trusted, in both directions and between services", async () => {
        const [old, next] = [pem[1]!, pem[2]!];
        assert.deepEqual(await handshake(server(next.frontend, next.frontendBundle), client(old.ui, next.bundle, servername)), { accepted: true, clientCommonName: "temporal-ui" });
        assert.deepEqual(await handshake(server(old.frontend, next.frontendBundle), client(next.ui, next.bundle, servername)), { accepted: true, clientCommonName: "temporal-ui" });
        for (const [srv, cli] of [[old, next], [next, old]] as const) {
            assert.deepEqual(await handshake(server(srv.internode, next.internodeBundle), client(cli.internode, next.internodeBundle, internodeName)), { accepted: true, clientCommonName: internodeName });
            assert.deepEqual(await handshake(server(next.frontend, next.frontendBundle), client(cli.internode, next.frontendBundle, servername)), { accepted: true, clientCommonName: internodeName });
        }
    });

    it("refused throughout: no generation's client certificate passes an internode server trusting both internode CAs", async () => {
        const bothTrusted = pem[2]!.internodeBundle;
        for (const generation of [pem[1]!, pem[2]!]) {
            for (const leaf of ["ui", "worker"] as const) {
                const r = await handshake(server(pem[2]!.internode, bothTrusted), client(generation[leaf], bothTrusted, internodeName));
                assert.deepEqual(r, { accepted: false, serverError: "SELF_SIGNED_CERT_IN_CHAIN" }, `${leaf} from ${issuerCn(generation[leaf].cert)}`);
            }
        }
    });

    it("why step 1 must have reached every pod first: a pod trusting only the old CAs refuses a leaf from the next", async () => {
        const r = await handshake(server(pem[2]!.frontend, pem[0]!.frontendBundle), client(pem[0]!.ui, pem[0]!.bundle, servername));
        assert.deepEqual([r.accepted, r.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        const internode = await handshake(server(pem[2]!.internode, pem[0]!.internodeBundle), client(pem[0]!.internode, pem[0]!.internodeBundle, internodeName));
        assert.deepEqual([internode.accepted, internode.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
    });

    it("step 3 retires the old generation: each bundle holds only the new CAs, leaves stay, both old CAs' resources are gone", () => {
        assert.deepEqual(bundleCns(pem[3]!.bundle), ["CN=Temporal dev CA 2027"]);
        assert.deepEqual(bundleCns(pem[3]!.internodeBundle), ["CN=Temporal dev CA 2027 internode"]);
        assert.deepEqual(bundleCns(pem[3]!.frontendBundle), ["CN=Temporal dev CA 2027", "CN=Temporal dev CA 2027 internode"]);
        assert.equal(pem[3]!.frontend.cert, pem[2]!.frontend.cert);
        assert.equal(pem[3]!.internode.cert, pem[2]!.internode.cert);
        assert.deepEqual(
            steps[3]!.engine.resources.filter((r) => r.name.includes("2026")).map((r) => r.name),
            [],
        );
        assert.deepEqual(
            steps[2]!.engine.resources.filter((r) => r.name.includes("2026")).map((r) => r.name).sort(),
            ["pki-ca-2026", "pki-ca-2026-internode", "pki-ca-2026-internode-key", "pki-ca-2026-key"],
        );
    });

    it("rejected: a leaf from the retired generation, as client and as server, in both hierarchies", async () => {
        const [retired, now] = [pem[1]!, pem[3]!];
        const asClient = await handshake(server(now.frontend, now.frontendBundle), client(retired.ui, now.bundle, servername));
        assert.deepEqual([asClient.accepted, asClient.serverError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        const asServer = await handshake(server(retired.frontend, now.frontendBundle), client(now.ui, now.bundle, servername));
        assert.deepEqual([asServer.accepted, asServer.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        const internodeAsClient = await handshake(server(now.internode, now.internodeBundle), client(retired.internode, now.internodeBundle, internodeName));
        assert.deepEqual([internodeAsClient.accepted, internodeAsClient.serverError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
        const internodeAsServer = await handshake(server(retired.internode, now.internodeBundle), client(now.internode, now.internodeBundle, internodeName));
        assert.deepEqual([internodeAsServer.accepted, internodeAsServer.clientError], [false, "SELF_SIGNED_CERT_IN_CHAIN"]);
    });
});
