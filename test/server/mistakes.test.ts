import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { checkTls } from "../../scripts/lib/live/tls-check";
import { planStack, type PlannedStack } from "../upstream/plan";
import { ServerExitedError, type TemporalServer } from "../upstream/server";
import { errorLines, material, planViolations, skip, startStackServer, type StackServer } from "./support";

/**
 * Values the real server refuses, or worse, silently ignores: each is refused by the offline plan
 * (the policy pack the plan runs) before anything is deployed. What the server does is asserted as
 * it is: a TLS file no volume mounts stops it at start; a `server.config.tls` key it does not know is
 * dropped without a word, and the server runs with the setting missing.
 */

type Values = Record<string, unknown>;
let plan: PlannedStack;

const tlsOf = (v: Values) => ((v.server as Values).config as Values).tls as Record<string, Record<string, Record<string, unknown>>>;
const mutate = (patch: (v: Values) => void) => (v: Values) => {
    patch(v);
    return v;
};
const ownPolicies = (violations: string[]) => violations.filter((v) => v.startsWith("temporal-server-tls-read: "));

async function frontendWithoutCertificate(server: TemporalServer, s: StackServer) {
    return checkTls({ address: server.addresses.frontend, serverName: server.serverNames.frontend, serverNameSource: "test", tls: material(s.files(`${plan.release.namespace}/temporal-web-tls`), "no certificate", false) });
}

describe("mistakes in the TLS values: the server's answer, and the plan's before it", { skip }, () => {
    before(async () => {
        plan = await planStack({ stack: "dev" });
    });

    it("the planned release passes every policy (the control)", () => {
        assert.deepEqual(planViolations(plan.values), []);
    });

    it("a TLS file no volume mounts: refused by the plan; the server exits at start", async () => {
        const values = mutate((v) => {
            tlsOf(v).frontend!.server!.certFile = "/etc/temporal/tls/frontend-next/tls.crt";
        });
        assert.deepEqual(ownPolicies(planViolations(values(structuredClone(plan.values)))), [
            'temporal-server-tls-read: values.server.config.tls.frontend.server.certFile "/etc/temporal/tls/frontend-next/tls.crt" lies on no volume the server mounts (server.additionalVolumeMounts: /etc/temporal/tls/internode, /etc/temporal/tls/frontend): the server cannot read it and exits at start; mount the Secret that holds it there, or point at a mounted path',
        ]);
        const err = await startStackServer(plan, { values, createNamespaces: false }).then(
            async (s) => {
                await s.stop();
                return undefined;
            },
            (e: unknown) => e,
        );
        assert.ok(err instanceof ServerExitedError, `the server started: ${String(err)}`);
        assert.equal(err.code, 1);
        const said = errorLines(err.logTail.split("\n"));
        assert.ok(said.some((l) => /^creating gRPC server options failed: .*open \/etc\/temporal\/tls\/frontend-next\/tls\.crt: no such file or directory/.test(l)), said.join("\n"));
        console.log(`unmounted TLS file: the server exits ${String(err.code)}: ${said.find((l) => l.startsWith("creating gRPC server options failed"))}`);
    });

    it("a misspelt key (requireClientAuthentication): refused by the plan; the server starts without it and its frontend accepts clients with no certificate", async () => {
        const values = mutate((v) => {
            const server = tlsOf(v).frontend!.server!;
            delete server.requireClientAuth;
            server.requireClientAuthentication = true;
        });
        assert.deepEqual(ownPolicies(planViolations(values(structuredClone(plan.values)))), [
            "temporal-server-tls-read: values.server.config.tls.frontend.server.requireClientAuthentication is not a key server 1.31.2 reads: it is silently ignored (did you mean requireClientAuth?)",
        ]);
        // The mTLS policy catches this one too (requireClientAuth is not true), from the other side.
        assert.ok(planViolations(values(structuredClone(plan.values))).some((v) => v.startsWith("temporal-mtls-required: values.server.config.tls.frontend.server.requireClientAuth must be true")));
        const s = await startStackServer(plan, { values, createNamespaces: false });
        try {
            const check = await frontendWithoutCertificate(s.server, s);
            assert.equal(check.ok, true, "the frontend required a client certificate after all");
            console.log("misspelt requireClientAuth: the server starts and its frontend completes TLS with a client that has no certificate");
        } finally {
            await s.stop();
        }
    });

    it("a key in the wrong case (clientCAFiles): refused by the plan; the server starts and its frontend refuses every client certificate", async () => {
        const values = mutate((v) => {
            const server = tlsOf(v).frontend!.server!;
            server.clientCAFiles = server.clientCaFiles;
            delete server.clientCaFiles;
        });
        assert.ok(
            ownPolicies(planViolations(values(structuredClone(plan.values)))).includes(
                "temporal-server-tls-read: values.server.config.tls.frontend.server.clientCAFiles is not a key server 1.31.2 reads: it is silently ignored (did you mean clientCaFiles?)",
            ),
        );
        const s = await startStackServer(plan, { values, createNamespaces: false, waitFor: ["internal-frontend"] });
        try {
            const mark = s.server.logMark();
            const worker = await checkTls({ address: s.server.addresses.frontend, serverName: s.server.serverNames.frontend, serverNameSource: "test", tls: material(s.files("payments/payments-worker"), "payments-worker") });
            await new Promise((r) => setTimeout(r, 150));
            assert.equal(worker.ok ? "accepted" : worker.kind, "client-certificate-rejected");
            const said = errorLines(s.server.logSince(mark));
            assert.ok(said.some((l) => /^handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority/.test(l)), said.join("\n"));
            console.log(`clientCAFiles: the server starts; the frontend refuses the payments worker: ${said[0]}`);
        } finally {
            await s.stop();
        }
    });
});
