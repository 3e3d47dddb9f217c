import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { temporalServiceNames } from "../../../infra/config/names";
import type { StackOutputs } from "../../../scripts/lib/live/stack-outputs";
import { startFakeEntra, type FakeEntra } from "./entra";
import { startFakeFrontend, type FakeFrontend } from "./fake-frontend";
import { createTestPki, type TestPki } from "./pki";

/**
 * A deployed stack, locally: the names the stack's PKI and Helm release agree on
 * (`temporalServiceNames`), a CA with the frontend's and a worker's certificates written to files
 * as the worker's Secret would mount them, a token issuer with its JWKS on 127.0.0.1, and two
 * stand-in frontends: one with the authorizer on, one with it off (the misconfiguration to catch).
 */
export const WORKER = "payments-worker";
export const NAMESPACE = "payments";

export interface LocalStack {
    names: ReturnType<typeof temporalServiceNames>;
    pki: TestPki;
    entra: FakeEntra;
    workerClientId: string;
    dir: string;
    files: { ca: string; cert: string; key: string };
    secured: FakeFrontend;
    open: FakeFrontend;
    /** The outputs a stack whose frontend is `frontend` exports. */
    outputs(frontend: FakeFrontend): StackOutputs;
    /** Writes them as `pulumi stack output --json` would; returns the path. */
    writeOutputs(frontend: FakeFrontend): string;
    close(): Promise<void>;
}

export async function startLocalStack(): Promise<LocalStack> {
    const names = temporalServiceNames("temporal");
    const pki = await createTestPki(names.frontendDnsNames, WORKER);
    const entra = await startFakeEntra();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-live-"));
    const files = { ca: path.join(dir, "ca.crt"), cert: path.join(dir, "tls.crt"), key: path.join(dir, "tls.key") };
    fs.writeFileSync(files.ca, pki.ca.certPem);
    fs.writeFileSync(files.cert, pki.client.certPem);
    fs.writeFileSync(files.key, pki.client.keyPem, { mode: 0o600 });
    const common = { pki, jwksUrl: entra.jwksUrl, audience: entra.apiClientId, namespaces: [NAMESPACE, "orders"] };
    const secured = await startFakeFrontend({ ...common, mode: "authorizer" });
    const open = await startFakeFrontend({ ...common, mode: "allow-all" });
    const workerClientId = randomUUID();

    const outputs = (frontend: FakeFrontend): StackOutputs => ({
        frontendAddress: frontend.address,
        frontendServerName: names.frontendServerName,
        tenantId: entra.tenantId,
        apiClientId: entra.apiClientId,
        apiScope: `api://${entra.apiClientId}/default`,
        jwksUrl: entra.jwksUrl,
        keyVaultUri: "https://kv-temporal-test.vault.azure.net/",
        workers: {
            [WORKER]: {
                env: {
                    TEMPORAL_ADDRESS: frontend.address,
                    TEMPORAL_NAMESPACE: NAMESPACE,
                    TEMPORAL_TLS_CLIENT_CERT_PATH: files.cert,
                    TEMPORAL_TLS_CLIENT_KEY_PATH: files.key,
                    TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca,
                    TEMPORAL_TLS_SERVER_NAME: names.frontendServerName,
                },
                tokenScope: `api://${entra.apiClientId}/.default`,
                clientId: workerClientId,
            },
        },
    });
    return {
        names,
        pki,
        entra,
        workerClientId,
        dir,
        files,
        secured,
        open,
        outputs,
        writeOutputs: (frontend) => {
            const file = path.join(dir, `outputs-${frontend === secured ? "secured" : "open"}.json`);
            fs.writeFileSync(file, JSON.stringify(outputs(frontend), null, 2));
            return file;
        },
        close: async () => {
            await Promise.all([secured.close(), open.close(), entra.close()]);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
