import { createServerPki } from "../../live/support/pki";
import type { PlannedStack } from "../../upstream/plan";
import { startTemporalServer, tlsFilesOf, type TemporalServer, type TlsFiles } from "../../upstream/server";
import { startUiServer, type TemporalUiServer } from "../../upstream/ui-server";
import { webContainer } from "../../upstream/web-deployment";
import { startBrowser, type TestBrowser } from "./browser";
import { entraDirectory, type EntraDirectory } from "./directory";
import { startLocalEntra, type LocalEntra } from "./entra-provider";
import { startFrontendTap, type FrontendTap } from "./frontend-tap";
import { startIngress, type Ingress } from "./ingress";

/**
 * A planned stack's sign-in path, everything real but the cluster around it: the local Entra ID
 * tenant (the planned registrations and assignments), the real Temporal server of the planned
 * release (its JWKS the tenant's), the real UI server with the web Deployment's environment and
 * Secrets, a tap that records what reaches the frontend, the Ingress's TLS termination, and a
 * headless Chromium that resolves the UI host to it. Started in dependency order, stopped in
 * reverse; `stop()` leaves no process and no file behind.
 */

export interface UiStack {
    plan: PlannedStack;
    directory: EntraDirectory;
    entra: LocalEntra;
    server: TemporalServer;
    tap: FrontendTap;
    ui: TemporalUiServer;
    ingress: Ingress;
    browser: TestBrowser;
    /** The UI's planned Secret (`web.additionalVolumes`), as mounted. */
    webTls: TlsFiles;
    stop(): Promise<void>;
}

function uiHostOf(plan: PlannedStack): string {
    const host = ((plan.values.web as { ingress?: { hosts?: string[] } } | undefined)?.ingress?.hosts ?? [])[0];
    if (!host) throw new Error("the release's web.ingress has no host");
    return host;
}

export async function startUiStack(plan: PlannedStack): Promise<UiStack> {
    const stops: (() => Promise<unknown>)[] = [];
    const stopAll = async () => {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        stops.length = 0;
    };
    try {
        const directory = entraDirectory(plan);
        const host = uiHostOf(plan);
        // One test CA and one certificate for the UI host (the Ingress) and 127.0.0.1 (the provider).
        const web = await createServerPki([host, "127.0.0.1"]);
        const entra = await startLocalEntra({ directory, tls: { certPem: web.server.certPem, keyPem: web.server.keyPem } });
        stops.push(() => entra.close());
        const server = await startTemporalServer(plan, { jwksUrl: entra.jwksUrl });
        stops.push(() => server.stop());
        // What the web Deployment mounts: the UI's client certificate, which the tap presents to the frontend.
        const mount = webContainer(plan.values, plan.release).mounts[0];
        const webTlsSecret = mount && plan.secrets[`${plan.release.namespace}/${mount.secretName}`];
        if (!webTlsSecret) throw new Error("the release mounts no Secret into the web Deployment");
        const webTls: TlsFiles = { ca: webTlsSecret["ca.crt"] ?? "", cert: webTlsSecret["tls.crt"] ?? "", key: webTlsSecret["tls.key"] ?? "" };
        const tap = await startFrontendTap({
            frontend: server.addresses.frontend,
            serverName: server.serverNames.frontend,
            frontendFiles: tlsFilesOf(server.volumeDir("frontend-tls")),
            clientFiles: webTls,
        });
        stops.push(() => tap.close());
        const ui = await startUiServer(plan, { frontendAddress: tap.address, providerOrigin: entra.origin, trustPem: web.ca.certPem });
        stops.push(() => ui.stop());
        const ingress = await startIngress({ host, backend: ui.url, tls: { certPem: web.server.certPem, keyPem: web.server.keyPem } });
        stops.push(() => ingress.close());
        const browser = await startBrowser({ hosts: { [host]: ingress.port }, trust: [web.server.certPem] });
        stops.push(() => browser.close());
        return { plan, directory, entra, server, tap, ui, ingress, browser, webTls, stop: stopAll };
    } catch (err) {
        await stopAll();
        throw err;
    }
}
