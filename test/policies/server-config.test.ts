import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkServerTlsFiles, checkServerTlsKeys } from "../../policies/pack/checks/server-config";

/** The policy that refuses `server.config.tls` values server 1.31.2 ignores or cannot read (see test/server/mistakes.test.ts for the server's side). */

const values = (tls: Record<string, unknown>, mounts: { name: string; mountPath: string }[] = [{ name: "frontend-tls", mountPath: "/etc/temporal/tls/frontend" }]) => ({
    server: {
        additionalVolumes: mounts.map((m) => ({ name: m.name, secret: { secretName: m.name } })),
        additionalVolumeMounts: mounts.map((m) => ({ ...m, readOnly: true })),
        config: { tls },
    },
});

describe("policy: server.config.tls keys", () => {
    it("accepts every key of the server's RootTLS, GroupTLS, ServerTLS, ClientTLS and WorkerTLS, under any host override or remote cluster name", () => {
        const server = { certFile: "a", keyFile: "b", clientCaFiles: ["c"], certData: "", keyData: "", clientCaData: [], requireClientAuth: true };
        const client = { serverName: "x", disableHostVerification: false, rootCaFiles: ["c"], rootCaData: [], forceTLS: false };
        const group = { server, client, hostOverrides: { "temporal.example.com": server } };
        const tls = {
            internode: group,
            frontend: group,
            systemWorker: { certFile: "a", keyFile: "b", certData: "", keyData: "", client },
            remoteClusters: { other: group },
            expirationChecks: { warningWindow: "1h", errorWindow: "1h", checkInterval: "1h" },
            refreshInterval: "1m",
        };
        assert.deepEqual(checkServerTlsKeys(values(tls)), []);
    });

    it("names every unknown key with its path, and the key it probably meant", () => {
        assert.deepEqual(
            checkServerTlsKeys(values({ frontend: { server: { requireClientauth: true }, clients: {} }, internode: { hostOverrides: { h: { keyfile: "x" } } }, refresh: "1m" })),
            [
                "values.server.config.tls.frontend.server.requireClientauth is not a key server 1.31.2 reads: it is silently ignored (did you mean requireClientAuth?)",
                "values.server.config.tls.frontend.clients is not a key server 1.31.2 reads: it is silently ignored (did you mean client?)",
                "values.server.config.tls.internode.hostOverrides.h.keyfile is not a key server 1.31.2 reads: it is silently ignored (did you mean keyFile?)",
                "values.server.config.tls.refresh is not a key server 1.31.2 reads: it is silently ignored (did you mean refreshInterval?)",
            ],
        );
    });
});

describe("policy: server.config.tls files lie on a mounted volume", () => {
    it("accepts files under a mount whose volume exists, and names each one that is not", () => {
        const tls = { frontend: { server: { certFile: "/etc/temporal/tls/frontend/tls.crt", keyFile: "/etc/temporal/tls/frontendx/tls.key", clientCaFiles: ["/etc/temporal/tls/frontend/ca.crt", "/other/ca.crt"] }, client: { rootCaFiles: ["/etc/temporal/tls/frontend/ca.crt"] } } };
        assert.deepEqual(
            checkServerTlsFiles(values(tls)).map((m) => m.split(" lies on")[0]),
            ['values.server.config.tls.frontend.server.keyFile "/etc/temporal/tls/frontendx/tls.key"', 'values.server.config.tls.frontend.server.clientCaFiles[1] "/other/ca.crt"'],
        );
    });

    it("a mount whose volume is not declared mounts nothing", () => {
        const v = values({ frontend: { server: { certFile: "/etc/temporal/tls/frontend/tls.crt" } } });
        v.server.additionalVolumes = [];
        assert.equal(checkServerTlsFiles(v).length, 1);
        assert.match(checkServerTlsFiles(v)[0]!, /server\.additionalVolumeMounts: none/);
    });
});
