import { SYSTEM_SCOPE } from "../../policies/claims/roles";
import type { ConfigIssue, ConfigRule } from "./issues";

/**
 * Rules over the shape of the whole config that need no component's knowledge: ids and names that
 * must be unique, references between sections, sections that go together, and the prod profile's
 * fixed choices. Each component's own rules live in its folder (`infra/<component>/rules.ts`).
 */
export const structureRules: ConfigRule = (cfg) => {
    const issues: ConfigIssue[] = [];
    const caIds = cfg.pki.cas.map((c) => c.id);
    caIds.forEach((id, i) => {
        if (caIds.indexOf(id) !== i) issues.push({ path: `pki.cas[${i}].id`, message: `duplicate CA id "${id}": each CA generation needs its own id` });
    });
    if (cfg.pki.issuer !== undefined && !caIds.includes(cfg.pki.issuer)) {
        issues.push({ path: "pki.issuer", message: `"${cfg.pki.issuer}" is not the id of a CA in pki.cas (${caIds.join(", ")}): set it to one of them` });
    }

    const nsNames = cfg.access.namespaces.map((n) => n.name);
    nsNames.forEach((n, i) => {
        if (nsNames.indexOf(n) !== i) issues.push({ path: `access.namespaces[${i}].name`, message: `duplicate namespace "${n}"` });
        if (n === SYSTEM_SCOPE) issues.push({ path: `access.namespaces[${i}].name`, message: `"${SYSTEM_SCOPE}" is the cluster scope, not a namespace to create: remove it` });
    });

    const workerNames = cfg.workers.map((w) => w.name);
    cfg.workers.forEach((w, i) => {
        if (workerNames.indexOf(w.name) !== i) issues.push({ path: `workers[${i}].name`, message: `duplicate worker "${w.name}"` });
        if (!nsNames.includes(w.temporalNamespace)) {
            issues.push({ path: `workers[${i}].temporalNamespace`, message: `"${w.temporalNamespace}" is not declared in access.namespaces: declare it or fix the name` });
        }
        if (w.runsOn === "aks" && cfg.kubernetes.source !== "aks" && cfg.kubernetes.oidcIssuerUrl === undefined) {
            issues.push({
                path: `workers[${i}].runsOn`,
                message: `worker "${w.name}" runs on AKS but the cluster is not created by this stack: set kubernetes.oidcIssuerUrl to the cluster's OIDC issuer (az aks show --query oidcIssuerProfile.issuerUrl) or set runsOn: external`,
            });
        }
    });
    cfg.access.grants.forEach((g, i) => {
        if (g.worker !== undefined && !workerNames.includes(g.worker)) {
            issues.push({ path: `access.grants[${i}].worker`, message: `worker "${g.worker}" is not declared in workers: declare it (it needs a certificate and an identity) or fix the name` });
        }
    });

    if (cfg.profile === "prod" && cfg.keyVault.purgeProtection === false) {
        issues.push({ path: "keyVault.purgeProtection", message: "prod stacks keep purge protection on: remove the setting or use profile ephemeral" });
    }
    if (cfg.profile === "prod" && cfg.identity.allowLocalhostCallback) {
        issues.push({ path: "identity.allowLocalhostCallback", message: "prod stacks do not register a localhost redirect URI: set it to false" });
    }
    if (cfg.kubernetes.source === "aks" && cfg.kubernetes.aks === undefined) {
        issues.push({ path: "kubernetes.aks", message: "kubernetes.source is aks, so kubernetes.aks (kubernetesVersion, nodeVmSize, nodeCount) is required" });
    }
    if (cfg.kubernetes.source !== "aks" && cfg.kubernetes.aks !== undefined) {
        issues.push({ path: "kubernetes.aks", message: `kubernetes.aks is set but kubernetes.source is ${cfg.kubernetes.source}: set source to aks or remove the aks section` });
    }
    return issues;
};
