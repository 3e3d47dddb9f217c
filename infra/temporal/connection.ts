import type { TemporalServiceNames } from "../config/names";

/**
 * A worker's ready connection profile: the environment the Temporal CLI and SDKs read (the
 * `TEMPORAL_*` names of Temporal's environment configuration), pointing at the certificate Secret
 * mounted where `WORKER_TLS_MOUNT` says.
 */

/** Where a worker mounts its certificate Secret (`tls.crt`, `tls.key`, `ca.crt`). */
export const WORKER_TLS_MOUNT = "/etc/temporal/tls";

export interface WorkerConnectionEnv {
    TEMPORAL_ADDRESS: string;
    TEMPORAL_NAMESPACE: string;
    TEMPORAL_TLS_CLIENT_CERT_PATH: string;
    TEMPORAL_TLS_CLIENT_KEY_PATH: string;
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: string;
    TEMPORAL_TLS_SERVER_NAME: string;
}

export interface WorkerConnectionInput {
    /** Where the worker runs: on the cluster (in-cluster address) or elsewhere (the external host, when there is one). */
    runsOn: "aks" | "external";
    temporalNamespace: string;
    serviceNames: TemporalServiceNames;
    /** The frontend's external host (TLS passthrough on 443), if exposed. */
    frontendExternalHost?: string;
}

/**
 * Workers on the cluster dial the frontend's Service and verify its in-cluster server name; workers
 * elsewhere dial the external host and verify that name (both are SANs of the frontend certificate).
 */
export function workerConnectionEnv(p: WorkerConnectionInput): WorkerConnectionEnv {
    const externalHost = p.runsOn === "external" ? p.frontendExternalHost : undefined;
    return {
        TEMPORAL_ADDRESS: externalHost !== undefined ? `${externalHost}:443` : p.serviceNames.frontendAddress,
        TEMPORAL_NAMESPACE: p.temporalNamespace,
        TEMPORAL_TLS_CLIENT_CERT_PATH: `${WORKER_TLS_MOUNT}/tls.crt`,
        TEMPORAL_TLS_CLIENT_KEY_PATH: `${WORKER_TLS_MOUNT}/tls.key`,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: `${WORKER_TLS_MOUNT}/ca.crt`,
        TEMPORAL_TLS_SERVER_NAME: externalHost ?? p.serviceNames.frontendServerName,
    };
}
