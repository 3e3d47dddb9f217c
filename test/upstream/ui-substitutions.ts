import { remapMountedPath } from "./substitutions";

/**
 * The ONLY differences between the environment the release gives the UI's container (chart 1.6.0's
 * `web` Deployment: its `env`, the `envFrom` Secret, the `temporalio/ui` image's own `ENV`) and
 * the environment the test's UI server runs with, plus what stands in for the cluster around it.
 * `unlistedEnvChanges` diffs the two environments and returns every variable no entry accounts for
 * (the tests assert it is empty, and that every entry is used).
 */

export interface UiSubstitution {
    id: string;
    /** Environment variables this substitution may change, add or remove. */
    env: string[];
    /** What the release has, what the test puts in its place, and why that changes nothing the tests check. */
    why: string;
}

/** The Entra ID origin of the release's provider and issuer URLs. */
export const ENTRA_ORIGIN = "https://login.microsoftonline.com";

export const UI_SUBSTITUTIONS: readonly UiSubstitution[] = [
    {
        id: "frontend",
        env: ["TEMPORAL_ADDRESS"],
        why:
            "the frontend Service's cluster name (<release>-frontend.<namespace>.svc:7233) becomes 127.0.0.1:<port> of a recording tap in front of the real " +
            "server's frontend; the tap presents the frontend's planned certificate, requires the client certificate the frontend requires, and forwards " +
            "each call unchanged, so TEMPORAL_TLS_SERVER_NAME and host verification are the release's",
    },
    {
        id: "provider",
        env: ["TEMPORAL_AUTH_PROVIDER_URL", "TEMPORAL_AUTH_ISSUER_URL"],
        why: `the origin ${ENTRA_ORIGIN} becomes the local OpenID provider's (https://127.0.0.1:<port>); the path, /<tenant>/v2.0, is the release's`,
    },
    {
        id: "mounts",
        env: ["TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"],
        why: "each path under the web Deployment's Secret mount becomes the same file under a temporary folder holding the planned Secret's bytes, written as kubelet writes a Secret volume",
    },
    {
        id: "port",
        env: ["TEMPORAL_UI_PORT"],
        why: "the container listens on 8080 (the image's config default, the chart's containerPort); the test's UI server listens on a free port, and only on 127.0.0.1 (config/base.yaml `host`, which the image's config never sets)",
    },
    {
        id: "trust",
        env: ["SSL_CERT_FILE"],
        why: "the image trusts the public CAs that sign login.microsoftonline.com; the test's UI server trusts the local provider's test CA instead (Go reads SSL_CERT_FILE)",
    },
    {
        id: "ingress",
        env: [],
        why:
            "the Ingress (web.ingress: the UI host, TLS from web.ingress.tls) becomes a TLS-terminating proxy on 127.0.0.1 with a test certificate for the " +
            "UI host, forwarding Host and X-Forwarded-* as ingress-nginx does; the browser resolves the UI host to it and trusts only that certificate, so " +
            "the callback URL (https://<ui host>/auth/sso/callback) is the release's, verbatim",
    },
];

/**
 * Differences of the process, not of the release: the image runs as user `temporal` in
 * /home/ui-server with its own PATH and HOME; the test runs the same binary and config file in a
 * temporary folder with the test process's PATH and that folder as HOME.
 */
export const UI_PROCESS_ENV = ["PATH", "HOME"] as const;

export interface UiSubstitutionContext {
    /** `127.0.0.1:<port>` the UI server dials for the frontend. */
    frontendAddress: string;
    /** The local provider's origin (`https://127.0.0.1:<port>`). */
    providerOrigin: string;
    /** Mount path → the folder standing in for it. */
    mountRoots: Record<string, string>;
    port: number;
    /** PEM file of the CA the UI server trusts for the provider. */
    trustFile: string;
}

/** Applies the substitutions to the release's environment of the UI container. */
export function substituteUiEnv(released: Record<string, string>, ctx: UiSubstitutionContext): Record<string, string> {
    const out = { ...released };
    out.TEMPORAL_ADDRESS = ctx.frontendAddress;
    for (const name of ["TEMPORAL_AUTH_PROVIDER_URL", "TEMPORAL_AUTH_ISSUER_URL"]) {
        const v = out[name];
        if (v === undefined || v === "") continue;
        if (!v.startsWith(`${ENTRA_ORIGIN}/`)) throw new Error(`${name}=${v} is not an Entra ID URL (${ENTRA_ORIGIN}/...): the test has no provider for it`);
        out[name] = `${ctx.providerOrigin}${v.slice(ENTRA_ORIGIN.length)}`;
    }
    for (const name of ["TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"]) {
        const v = out[name];
        if (v !== undefined && v !== "") out[name] = remapMountedPath(v, ctx.mountRoots);
    }
    out.TEMPORAL_UI_PORT = String(ctx.port);
    out.SSL_CERT_FILE = ctx.trustFile;
    return out;
}

/** Variables that differ between the two environments (changed, added or removed), sorted. */
export function changedEnv(a: Record<string, string>, b: Record<string, string>): string[] {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
}

/** Changed variables no substitution (and no process difference) accounts for. */
export function unlistedEnvChanges(released: Record<string, string>, running: Record<string, string>, list: readonly UiSubstitution[] = UI_SUBSTITUTIONS): string[] {
    const listed = new Set<string>([...list.flatMap((s) => s.env), ...UI_PROCESS_ENV]);
    return changedEnv(released, running).filter((k) => !listed.has(k));
}

/** The ids of the substitutions that account for at least one changed variable. */
export function usedUiSubstitutions(released: Record<string, string>, running: Record<string, string>, list: readonly UiSubstitution[] = UI_SUBSTITUTIONS): string[] {
    const changed = new Set(changedEnv(released, running));
    return list.filter((s) => s.env.some((e) => changed.has(e))).map((s) => s.id);
}
