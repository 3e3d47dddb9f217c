import type { Profile } from "../config";

/** Requests and limits of one container, in Kubernetes quantities. */
export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export const SERVER_SERVICES = ["frontend", "internal-frontend", "history", "matching", "worker"] as const;
export type ServerService = (typeof SERVER_SERVICES)[number];

export interface Sizing {
    server: Record<ServerService, Resources>;
    web: Resources;
    adminTools: Resources;
    /** The schema and namespace jobs (admin-tools image). */
    jobs: Resources;
}

const r = (reqCpu: string, reqMem: string, limCpu: string, limMem: string): Resources => ({
    requests: { cpu: reqCpu, memory: reqMem },
    limits: { cpu: limCpu, memory: limMem },
});

/**
 * Small enough for a developer cluster, with limits that stop one runaway service from starving
 * the node; memory limits sit well above requests because history caches grow with load.
 */
const SMALL: Sizing = {
    server: {
        frontend: r("100m", "256Mi", "1", "1Gi"),
        "internal-frontend": r("50m", "128Mi", "500m", "512Mi"),
        history: r("200m", "512Mi", "2", "2Gi"),
        matching: r("100m", "256Mi", "1", "1Gi"),
        worker: r("50m", "128Mi", "500m", "512Mi"),
    },
    web: r("50m", "128Mi", "500m", "256Mi"),
    adminTools: r("10m", "64Mi", "500m", "256Mi"),
    jobs: r("50m", "64Mi", "1", "256Mi"),
};

/** Production: history holds the shard caches and does most of the work, so it gets the most. */
const PROD: Sizing = {
    server: {
        frontend: r("500m", "512Mi", "2", "2Gi"),
        "internal-frontend": r("200m", "256Mi", "1", "1Gi"),
        history: r("1", "2Gi", "4", "6Gi"),
        matching: r("500m", "1Gi", "2", "2Gi"),
        worker: r("200m", "256Mi", "1", "1Gi"),
    },
    web: r("100m", "256Mi", "1", "512Mi"),
    adminTools: r("10m", "64Mi", "500m", "256Mi"),
    jobs: r("100m", "128Mi", "1", "512Mi"),
};

export function sizingFor(profile: Profile): Sizing {
    return profile === "prod" ? PROD : SMALL;
}
