/**
 * Names that the PKI (as SANs) and the Temporal release (as TLS server names and addresses) must
 * agree on. The chart names its services `<fullname>-<service>`; with a release name that contains
 * the chart name ("temporal"), fullname is the release name itself.
 */
export const RELEASE_NAME = "temporal";
export const FRONTEND_PORT = 7233;
export const INTERNAL_FRONTEND_PORT = 7236;

export interface TemporalServiceNames {
    releaseName: string;
    namespace: string;
    /** Every name a client may dial for the frontend: the SANs of the frontend certificate. */
    frontendDnsNames: string[];
    /** The name clients verify the frontend certificate against (`server.tls.frontend.serverName`). */
    frontendServerName: string;
    /** In-cluster gRPC address of the frontend. */
    frontendAddress: string;
    /** The name every Temporal service verifies internode certificates against; a SAN of the internode certificate. */
    internodeServerName: string;
    /** In-cluster address of the internal frontend (system worker, admin tools). */
    internalFrontendAddress: string;
}

export function temporalServiceNames(namespace: string, externalHost?: string, releaseName: string = RELEASE_NAME): TemporalServiceNames {
    const frontend = `${releaseName}-frontend`;
    const inCluster = [frontend, `${frontend}.${namespace}`, `${frontend}.${namespace}.svc`, `${frontend}.${namespace}.svc.cluster.local`];
    return {
        releaseName,
        namespace,
        frontendDnsNames: externalHost ? [...inCluster, externalHost] : inCluster,
        frontendServerName: `${frontend}.${namespace}.svc`,
        frontendAddress: `${frontend}.${namespace}.svc:${FRONTEND_PORT}`,
        internodeServerName: `${releaseName}-internode.${namespace}.svc`,
        internalFrontendAddress: `${releaseName}-internal-frontend.${namespace}.svc:${INTERNAL_FRONTEND_PORT}`,
    };
}
