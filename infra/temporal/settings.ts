import type { Profile, ResolvedConfig } from "../config";

/**
 * The Temporal release's choices with every default made explicit. Pure: the program, the offline
 * plan and the tests resolve the same settings from the same config.
 */
export interface TemporalSettings {
    profile: Profile;
    numHistoryShards: number;
    /** Replicas of each server service (frontend, internal-frontend, history, matching, worker). */
    replicas: number;
    /** PodDisruptionBudget minAvailable per server service; 0 = no budget. */
    minAvailable: number;
    /** Replicas of the Web UI. */
    webReplicas: number;
    /** `server.config.tls.refreshInterval`: how often certificate files are re-read. */
    tlsRefreshInterval: string;
    /** `server.config.tls.expirationChecks`. */
    expirationChecks: { warningWindow: string; errorWindow: string; checkInterval: string };
    /** `server.config.authorization.jwtKeyProvider.refreshInterval`. */
    jwksRefreshInterval: string;
    logLevel: string;
    /** Whether the admin-tools Deployment runs (it mounts the internode key: cluster admin). */
    adminTools: boolean;
    uiIngressTlsSecretName: string;
    uiCertManagerClusterIssuer?: string;
    frontendExternalHost?: string;
}

export const DEFAULT_TLS_REFRESH_INTERVAL = "1m";
/**
 * The server fetches the JWKS at start and on this ticker only (never on an unknown `kid`), and
 * Entra rolls keys without notice: a short interval bounds how long a new key is refused. A fetch
 * every 5 minutes per pod is negligible load.
 */
export const DEFAULT_JWKS_REFRESH_INTERVAL = "5m";
export const DEFAULT_UI_INGRESS_TLS_SECRET = "temporal-web-ingress-tls";

/**
 * Expiration warnings relative to the PKI's renewal: a scheduled `pulumi up` reissues a leaf
 * `earlyRenewalHours` before it expires, so a certificate that is still in place at half that
 * window means renewal is not running (warning), and one week before expiry is an outage in the
 * making (error).
 */
export function expirationChecks(earlyRenewalHours: number): TemporalSettings["expirationChecks"] {
    const errorHours = Math.min(168, Math.max(1, Math.floor(earlyRenewalHours / 4)));
    const warningHours = Math.max(errorHours + 1, Math.floor(earlyRenewalHours / 2));
    return { warningWindow: `${warningHours}h`, errorWindow: `${errorHours}h`, checkInterval: "1h" };
}

export function resolveTemporalSettings(cfg: ResolvedConfig): TemporalSettings {
    const t = cfg.temporal;
    return {
        profile: cfg.profile,
        numHistoryShards: t.numHistoryShards,
        replicas: t.replicas,
        minAvailable: t.minAvailable,
        webReplicas: t.replicas > 1 ? 2 : 1,
        tlsRefreshInterval: t.tlsRefreshInterval ?? DEFAULT_TLS_REFRESH_INTERVAL,
        expirationChecks: expirationChecks(cfg.pki.earlyRenewalHours),
        jwksRefreshInterval: t.jwksRefreshInterval ?? DEFAULT_JWKS_REFRESH_INTERVAL,
        logLevel: t.logLevel ?? "info",
        adminTools: t.adminTools ?? cfg.profile !== "prod",
        uiIngressTlsSecretName: t.uiIngressTlsSecretName ?? DEFAULT_UI_INGRESS_TLS_SECRET,
        ...(t.uiCertManagerClusterIssuer !== undefined ? { uiCertManagerClusterIssuer: t.uiCertManagerClusterIssuer } : {}),
        ...(t.frontendExternalHost !== undefined ? { frontendExternalHost: t.frontendExternalHost } : {}),
    };
}
