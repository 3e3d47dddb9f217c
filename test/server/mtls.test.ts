import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { caProfile, clientProfile, keySpec } from "../../infra/pki/profiles";
import { checkTls, type TlsCheck } from "../../scripts/lib/live/tls-check";
import { generatePrivateKey, selfSignedCertificate } from "../../scripts/lib/offline/emulators/tls";
import { mintFromProfile } from "../pki/support";
import type { TlsFiles } from "../upstream/server";
import { errorLines, material, openConnection, skip, startStackServer, type StackServer } from "./support";

/**
 * Mutual TLS on every listener of the real server, with the planned Secrets: the frontend requires
 * a client certificate of the client-facing (or internode) CAs; the internode listeners (history,
 * matching) and the internal frontend accept only the internode certificate. Certificates that must
 * be refused are minted from the project's own PKI profiles with its TLS emulator: a worker's
 * certificate from an unrelated CA (same subject), and one from the stack's CA that has expired.
 */

interface Listener {
    name: string;
    address: string;
    serverName: string;
    /** A bundle that verifies this listener's certificate (public: the question is what the server accepts). */
    trust: string;
}

interface Observed {
    listener: string;
    client: string;
    check: TlsCheck;
    /** What the server logged at error level meanwhile. */
    serverSaid: string[];
}

let s: StackServer;
const observed: Observed[] = [];
const listeners: Record<"frontend" | "internalFrontend" | "history" | "matching", Listener> = {} as never;
const clients: Record<string, TlsFiles> = {};

async function attempt(listener: Listener, client: string, options: { withCertificate?: boolean; serverName?: string; trust?: string } = {}): Promise<Observed> {
    const withCertificate = options.withCertificate ?? true;
    const mark = s.server.logMark();
    const files = { ...clients[client]!, ca: options.trust ?? listener.trust };
    const check = await checkTls({ address: listener.address, serverName: options.serverName ?? listener.serverName, serverNameSource: "the test", tls: material(files, client, withCertificate) });
    // grpc-go logs its side of a refused handshake a moment after the alert.
    await new Promise((r) => setTimeout(r, 150));
    const o = { listener: listener.name, client: withCertificate ? client : "no certificate", check, serverSaid: errorLines(s.server.logSince(mark)) };
    observed.push(o);
    return o;
}

const kindOf = (o: Observed) => (o.check.ok ? "accepted" : o.check.kind);

describe("mTLS on the real server, with the planned Secrets", { skip }, () => {
    before(async () => {
        s = await startStackServer("dev");
        const ns = s.plan.release.namespace;
        clients.ui = s.files(`${ns}/temporal-web-tls`);
        clients.internode = s.files(`${ns}/temporal-internode-tls`);
        const internodeTrust = clients.internode.ca;
        listeners.frontend = { name: "frontend", address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, trust: s.files(`${ns}/temporal-frontend-tls`).ca };
        listeners.internalFrontend = { name: "internal-frontend", address: s.server.addresses.internalFrontend!, serverName: s.server.serverNames.internode, trust: internodeTrust };
        listeners.history = { name: "history (internode)", address: s.server.addresses.history, serverName: s.server.serverNames.internode, trust: internodeTrust };
        listeners.matching = { name: "matching (internode)", address: s.server.addresses.matching, serverName: s.server.serverNames.internode, trust: internodeTrust };
        for (const w of s.plan.raw.workers as { name: string; kubernetesNamespace: string }[]) clients[`worker:${w.name}`] = s.files(`${w.kubernetesNamespace}/${w.name}`);

        // The payments worker's profile, signed by a CA of another PKI with the very same subject.
        const pkiRaw = s.plan.raw.pki as { cas: { commonName: string; organization?: string }[]; leafValidityDays: number; earlyRenewalHours: number };
        const ca = { id: "other", commonName: pkiRaw.cas[0]!.commonName, organization: pkiRaw.cas[0]!.organization, keyAlgorithm: "ECDSA-P256" as const, validityYears: 5, earlyRenewalDays: 90 };
        const strangerProfile = caProfile(ca);
        const spec = keySpec(strangerProfile.keyAlgorithm);
        const strangerKey = generatePrivateKey(spec.algorithm, spec.ecdsaCurve, spec.rsaBits);
        const strangerCa = await selfSignedCertificate(strangerKey.privateKeyPem, { ...strangerProfile, setSubjectKeyId: true });
        const settings = { leafKeyAlgorithm: "ECDSA-P256" as const, leafValidityDays: pkiRaw.leafValidityDays, earlyRenewalHours: pkiRaw.earlyRenewalHours };
        const workerProfile = clientProfile({ name: "payments-worker", kind: "worker" }, settings, ca.organization);
        const stranger = await mintFromProfile(workerProfile, { certPem: strangerCa.certPem, privateKeyPem: strangerKey.privateKeyPem });
        clients["payments-worker from an unrelated CA"] = { ca: clients["worker:payments-worker"]!.ca, cert: stranger.chain, key: stranger.key };

        // The stack's own client CA (its key from the plan's TLS state), issuing a certificate that expired yesterday.
        const issuerPem = clients["worker:payments-worker"]!.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)![1]!;
        const caCert = s.plan.tlsState.find((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert" && new X509Certificate(String(r.state.certPem)).fingerprint256 === new X509Certificate(issuerPem).fingerprint256);
        assert.ok(caCert, "the worker's issuing CA is in the plan");
        const caKey = s.plan.tlsState.find((r) => r.type === "tls:index/privateKey:PrivateKey" && r.state.privateKeyPem === caCert.inputs.privateKeyPem);
        assert.ok(caKey, "the CA's key is in the plan");
        const expired = await mintFromProfile(workerProfile, { certPem: String(caCert.state.certPem), privateKeyPem: String(caKey.state.privateKeyPem) }, new Date(Date.now() - (settings.leafValidityDays + 1) * 86400_000));
        clients["payments-worker, expired, from the stack's CA"] = { ca: clients["worker:payments-worker"]!.ca, cert: expired.chain, key: expired.key };
    });
    after(async () => {
        if (s) {
            const clientSaid = (o: Observed) => (o.check.ok ? "" : /\[(ERR_[A-Z0-9_]+)\]|answered (ERR_[A-Z0-9_]+)/.exec(o.check.message)?.slice(1).find(Boolean) ?? o.check.kind);
            const lines = observed.map((o) => `${o.listener.padEnd(21)} ${o.client.padEnd(46)} ${kindOf(o).padEnd(28)} ${o.check.ok ? "" : `client: ${clientSaid(o)}`}${o.serverSaid.length ? ` | server: ${o.serverSaid.join("; ")}` : ""}`);
            console.log(`TLS handshakes with Temporal server ${s.server.version}:\n${lines.join("\n")}`);
            await s.stop();
        }
    });

    it("accepts the UI's and every worker's certificate on the frontend, and they reach GetSystemInfo", async () => {
        for (const client of ["ui", ...Object.keys(clients).filter((c) => c.startsWith("worker:"))]) {
            const o = await attempt(listeners.frontend, client);
            assert.equal(kindOf(o), "accepted", `${client}: ${JSON.stringify(o.check)}`);
            const connection = await openConnection({ address: listeners.frontend.address, serverName: listeners.frontend.serverName, files: clients[client]! });
            try {
                assert.equal((await connection.workflowService.getSystemInfo({})).serverVersion, "1.31.2");
            } finally {
                await connection.close();
            }
        }
        assert.ok(Object.keys(clients).filter((c) => c.startsWith("worker:")).length >= 2);
    });

    it("accepts the internode certificate on every listener (the services' own connections)", async () => {
        for (const l of Object.values(listeners)) assert.equal(kindOf(await attempt(l, "internode")), "accepted", l.name);
    });

    it("refuses a connection without a client certificate on the frontend, the internal frontend and the internode listeners", async () => {
        for (const l of Object.values(listeners)) {
            const o = await attempt(l, l.name === "frontend" ? "ui" : "internode", { withCertificate: false });
            assert.equal(kindOf(o), "client-certificate-required", `${l.name}: ${JSON.stringify(o.check)}`);
            assert.deepEqual(o.serverSaid, ["handshake failed: tls: client didn't provide a certificate"], l.name);
        }
    });

    it("refuses the UI's and the workers' certificates on the internal frontend and the internode listeners (the internal frontend makes its callers system admin)", async () => {
        for (const l of [listeners.internalFrontend, listeners.history, listeners.matching]) {
            for (const client of ["ui", ...Object.keys(clients).filter((c) => c.startsWith("worker:"))]) {
                const o = await attempt(l, client);
                assert.equal(kindOf(o), "client-certificate-rejected", `${client} on ${l.name}: ${JSON.stringify(o.check)}`);
                assert.deepEqual(o.serverSaid, ["handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"], `${client} on ${l.name}`);
            }
        }
    });

    it("refuses on the frontend a worker's certificate from an unrelated CA (same subject) and an expired one from the stack's CA", async () => {
        const unrelated = await attempt(listeners.frontend, "payments-worker from an unrelated CA");
        assert.equal(kindOf(unrelated), "client-certificate-rejected", JSON.stringify(unrelated.check));
        // Same subject as the stack's CA: Go tries it and says why it is not the issuer.
        assert.equal(unrelated.serverSaid.length, 1);
        assert.match(unrelated.serverSaid[0]!, /^handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority \(possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "Temporal dev CA 2026"\)$/);
        const expired = await attempt(listeners.frontend, "payments-worker, expired, from the stack's CA");
        assert.equal(kindOf(expired), "client-certificate-rejected", JSON.stringify(expired.check));
        assert.equal(expired.serverSaid.length, 1);
        assert.match(expired.serverSaid[0]!, /^handshake failed: tls: failed to verify certificate: x509: certificate has expired or is not yet valid/);
    });

    it("a client refuses the server when the name it verifies is not on the certificate", async () => {
        // Each client with its own Secret's trust bundle, as it runs.
        const asInternode = await attempt(listeners.frontend, "ui", { serverName: s.server.serverNames.internode, trust: clients.ui!.ca });
        assert.equal(kindOf(asInternode), "server-name");
        const asFrontend = await attempt(listeners.internalFrontend, "internode", { serverName: s.server.serverNames.frontend, trust: clients.internode!.ca });
        assert.equal(kindOf(asFrontend), "server-name");
        const otherNamespace = await attempt(listeners.frontend, "worker:payments-worker", { serverName: "temporal-frontend.other.svc", trust: clients["worker:payments-worker"]!.ca });
        assert.equal(kindOf(otherNamespace), "server-name");
        // Refused by the client: the server only hears the client's alert.
        for (const o of [asInternode, asFrontend, otherNamespace]) assert.ok(o.serverSaid.every((l) => /remote error|EOF|reset/.test(l)), o.serverSaid.join("; "));
    });
});
