import type { Profile, StackConfig } from "./schema";

/** What a profile decides when the stack config does not say. */
export interface ProfileDefaults {
    databaseKind: "in-cluster" | "flexible-server";
    purgeProtection: boolean;
    replicas: number;
    databaseHighAvailability: boolean;
    /** PodDisruptionBudget minAvailable per server service (0 = no budget). */
    minAvailable: number;
}

export const PROFILE_DEFAULTS: Readonly<Record<Profile, ProfileDefaults>> = {
    dev: { databaseKind: "in-cluster", purgeProtection: true, replicas: 1, databaseHighAvailability: false, minAvailable: 0 },
    prod: { databaseKind: "flexible-server", purgeProtection: true, replicas: 3, databaseHighAvailability: true, minAvailable: 2 },
    ephemeral: { databaseKind: "in-cluster", purgeProtection: false, replicas: 1, databaseHighAvailability: false, minAvailable: 0 },
};

/** Stack config with every profile-dependent choice made explicit. */
export interface ResolvedConfig extends StackConfig {
    stack: string;
    keyVault: StackConfig["keyVault"] & { purgeProtection: boolean };
    database: StackConfig["database"] & { kind: "in-cluster" | "flexible-server"; highAvailability: boolean };
    temporal: StackConfig["temporal"] & { replicas: number; minAvailable: number };
    pki: StackConfig["pki"] & { issuer: string };
}

export function applyProfileDefaults(cfg: StackConfig, stack: string): ResolvedConfig {
    const d = PROFILE_DEFAULTS[cfg.profile];
    const replicas = cfg.temporal.replicas ?? d.replicas;
    return {
        ...cfg,
        stack,
        keyVault: { ...cfg.keyVault, purgeProtection: cfg.keyVault.purgeProtection ?? d.purgeProtection },
        database: {
            ...cfg.database,
            kind: cfg.database.kind ?? d.databaseKind,
            highAvailability: cfg.database.highAvailability ?? d.databaseHighAvailability,
        },
        temporal: { ...cfg.temporal, replicas, minAvailable: Math.min(d.minAvailable, replicas - 1) },
        pki: { ...cfg.pki, issuer: cfg.pki.issuer ?? cfg.pki.cas[0]!.id },
    };
}
