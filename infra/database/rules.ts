import type { ConfigRule } from "../config/issues";
import { PROFILE_DEFAULTS } from "../config/profiles";

/** Cross-section config rules of the database, run at preview before any resource is registered. (Each firewall entry is checked by the schema.) */

const databaseRule: ConfigRule = (cfg) => {
    const db = cfg.database;
    const kind = db.kind ?? PROFILE_DEFAULTS[cfg.profile].databaseKind;
    const highAvailability = db.highAvailability ?? PROFILE_DEFAULTS[cfg.profile].databaseHighAvailability;
    if (kind === "in-cluster") {
        return (["privateAccess", "allowedIps", "backupRetentionDays"] as const)
            .filter((k) => db[k] !== undefined)
            .map((k) => ({ path: `database.${k}`, message: `applies to a Flexible Server, but database.kind is in-cluster: remove it or set database.kind: flexible-server` }));
    }
    const issues = [];
    if (db.privateAccess === undefined && (db.allowedIps ?? []).length === 0 && cfg.kubernetes.source !== "aks") {
        issues.push({
            path: "database.allowedIps",
            message:
                "a Flexible Server with public access admits only the cluster's egress IPs, and this stack does not create the cluster: list them here (e.g. the outbound IP of the cluster's load balancer or NAT gateway) or set database.privateAccess",
        });
    }
    if (db.privateAccess !== undefined && db.allowedIps !== undefined) {
        issues.push({ path: "database.allowedIps", message: "a Flexible Server with private access has no public firewall: remove allowedIps or privateAccess" });
    }
    if (highAvailability && db.skuTier === "Burstable") {
        issues.push({ path: "database.highAvailability", message: "Flexible Server high availability is not offered on the Burstable tier: set database.skuTier to GeneralPurpose or turn highAvailability off" });
    }
    return issues;
};

export const databaseRules: ConfigRule[] = [databaseRule];
