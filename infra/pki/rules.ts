import type { ConfigIssue, ConfigRule, Severity } from "../config/issues";
import { isNonPublic, parseIpv4Range, WIDEST_PREFIX } from "../config/network";
import { DNS_NAME } from "../config/shared";
import { temporalServiceNames } from "../config/names";
import { ADMIN_CLIENT_NAME, caCommonName, caValidityHours, INTERNODE_CA_SUFFIX, UI_CLIENT_NAME } from "./profiles";
import { VAULT_NAME } from "./names";

/**
 * Cross-field config rules of the PKI, run at preview before any resource is registered. Each
 * message names what is wrong and the fix; `ConfigError` prefixes it with `temporal-azure:<path>`.
 */

/** Rotation overlaps two generations: the current CA and the next one. */
export const MAX_TRUSTED_CAS = 2;

/** X.509 upper bound of a common name or organization (RFC 5280 ub-common-name / ub-organization-name). */
const MAX_SUBJECT_ATTRIBUTE = 64;

/**
 * A leaf whose validity is not longer than the renewal window is reissued at every `pulumi up`.
 * Named at the validity: with the default window (720 hours) that is the field a user shortens.
 */
export const leafRenewalRule: ConfigRule = (cfg) => {
    const validityHours = cfg.pki.leafValidityDays * 24;
    if (cfg.pki.earlyRenewalHours < validityHours) return [];
    return [
        {
            path: "pki.leafValidityDays",
            message: `${cfg.pki.leafValidityDays} days (${validityHours} hours) is not longer than the renewal window (pki.earlyRenewalHours ${cfg.pki.earlyRenewalHours}), so every \`pulumi up\` would reissue every certificate: raise leafValidityDays above ${Math.floor(cfg.pki.earlyRenewalHours / 24)} days, or lower earlyRenewalHours (e.g. to a third of the validity, ${Math.floor(validityHours / 3)})`,
        },
    ];
};

export const caRules: ConfigRule = (cfg) => {
    const issues: ConfigIssue[] = [];
    cfg.pki.cas.forEach((ca, i) => {
        const validityHours = caValidityHours(ca.validityYears);
        if (ca.earlyRenewalDays * 24 >= validityHours) {
            issues.push({
                path: `pki.cas[${i}].earlyRenewalDays`,
                message: `${ca.earlyRenewalDays} days is not shorter than the CA's validity (validityYears ${ca.validityYears}), so every \`pulumi up\` would re-sign the CA: lower earlyRenewalDays or raise validityYears`,
            });
        }
        // The internode CA's common name is the longer one: it must fit too.
        const internodeName = caCommonName(ca, "internode");
        if (internodeName.length > MAX_SUBJECT_ATTRIBUTE) {
            const room = MAX_SUBJECT_ATTRIBUTE - (internodeName.length - ca.commonName.length);
            issues.push({
                path: `pki.cas[${i}].commonName`,
                message: `is ${ca.commonName.length} characters; the generation's internode CA is named "<commonName> ${INTERNODE_CA_SUFFIX}" and X.509 allows at most ${MAX_SUBJECT_ATTRIBUTE} characters in a common name: shorten it to ${room} or fewer`,
            });
        }
        if (ca.id.endsWith(`-${INTERNODE_CA_SUFFIX}`)) {
            issues.push({
                path: `pki.cas[${i}].id`,
                message: `"${ca.id}" ends in "-${INTERNODE_CA_SUFFIX}", which names the internode CA of a generation (pki-ca-<id>-${INTERNODE_CA_SUFFIX}): choose an id without that ending`,
            });
        }
        if (ca.organization !== undefined && ca.organization.length > MAX_SUBJECT_ATTRIBUTE) {
            issues.push({ path: `pki.cas[${i}].organization`, message: `is ${ca.organization.length} characters; X.509 allows at most ${MAX_SUBJECT_ATTRIBUTE} in an organization: shorten it` });
        }
    });
    if (cfg.pki.cas.length > MAX_TRUSTED_CAS) {
        issues.push({
            path: "pki.cas",
            message: `lists ${cfg.pki.cas.length} CAs but a rotation trusts at most ${MAX_TRUSTED_CAS} at once (the current and the next): finish the running rotation by removing the retired CA (the oldest) before adding another`,
        });
    }
    const issuerId = cfg.pki.issuer ?? cfg.pki.cas[0]?.id;
    const issuer = cfg.pki.cas.find((c) => c.id === issuerId);
    if (issuer !== undefined && cfg.pki.leafValidityDays * 24 > caValidityHours(issuer.validityYears)) {
        issues.push({
            path: "pki.leafValidityDays",
            message: `${cfg.pki.leafValidityDays} days is longer than the issuing CA "${issuer.id}" is valid (validityYears ${issuer.validityYears}): a leaf cannot outlive its CA; lower leafValidityDays`,
        });
    }
    return issues;
};

export const vaultNameRule: ConfigRule = (cfg) => {
    const name = cfg.keyVault.name;
    if (name === undefined) return [];
    if (cfg.profile === "ephemeral") {
        return [
            {
                path: "keyVault.name",
                message: `ephemeral stacks get a fresh vault name per deployment because a deleted vault's name stays reserved for its soft-delete retention: remove keyVault.name`,
            },
        ];
    }
    if (!VAULT_NAME.test(name)) {
        return [
            {
                path: "keyVault.name",
                message: `"${name}" is not a valid Key Vault name (3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit): fix it, or remove keyVault.name to derive one from the stack`,
            },
        ];
    }
    return [];
};

const ALLOW_INSTEAD = "list the egress IPs of the machines that run `pulumi up` and of the external workers";

/**
 * The vault holds the internode private key, which is cluster admin. A prod vault is never
 * reachable from anywhere: public access with a firewall rule (default action Deny), or no public
 * access at all (a private endpoint). Dev and ephemeral vaults may stay open, with a warning.
 */
export const vaultNetworkRule: ConfigRule = (cfg) => {
    const kv = cfg.keyVault;
    const prod = cfg.profile === "prod";
    const exposure: Severity = prod ? "error" : "warning";
    const issues: ConfigIssue[] = [];
    const hasRules = kv.allowedIpRanges.length > 0 || kv.allowedSubnetIds.length > 0;
    if (kv.publicNetworkAccess === "Disabled") {
        if (hasRules) {
            issues.push({
                path: "keyVault.publicNetworkAccess",
                message: "is Disabled, so keyVault.allowedIpRanges and keyVault.allowedSubnetIds have no effect: remove those rules, or set publicNetworkAccess to Enabled to let the firewall rules apply",
            });
        }
        return issues;
    }
    if (!hasRules) {
        issues.push(
            prod
                ? {
                      path: "keyVault.publicNetworkAccess",
                      message:
                          'a prod vault must not be reachable from anywhere (it holds the internode private key, which is cluster admin): list the networks that run `pulumi up` and the external workers in keyVault.allowedIpRanges or keyVault.allowedSubnetIds (the firewall\'s default action becomes Deny), or set publicNetworkAccess: Disabled and reach the vault through a private endpoint (see docs/pki.md, "Reaching a locked vault from CI")',
                  }
                : {
                      path: "keyVault.publicNetworkAccess",
                      severity: "warning",
                      message: `the vault is reachable from any address (it holds the internode private key, which is cluster admin); only Entra ID sign-in and RBAC stand in the way: acceptable for a ${cfg.profile} stack, but list keyVault.allowedIpRanges or allowedSubnetIds (a prod stack must)`,
                  },
        );
    }
    kv.allowedIpRanges.forEach((text, i) => {
        const r = parseIpv4Range(text);
        if (r === undefined) return; // refused by the schema
        const path = `keyVault.allowedIpRanges[${i}]`;
        if (r.prefix === 0) {
            issues.push({ path, severity: exposure, message: `"${text}" admits every IPv4 address, so the vault is reachable from anywhere: ${ALLOW_INSTEAD}` });
        } else if (isNonPublic(r)) {
            issues.push({
                path,
                message: `"${text}" is a private range, which Key Vault's firewall does not take (it sees public source addresses): allow the subnet in keyVault.allowedSubnetIds (a service endpoint), or reach the vault through a private endpoint`,
            });
        } else if (r.prefix < WIDEST_PREFIX) {
            issues.push({ path, severity: exposure, message: `"${text}" admits ${r.size} addresses: a ${prod ? "prod vault admits" : "vault should admit only"} the egress IPs of the machines that run \`pulumi up\` and of the external workers (a /${WIDEST_PREFIX} at most)` });
        }
    });
    return issues;
};

/** Every SAN the frontend and internode certificates will carry must be a DNS name a TLS client can match. */
export const sanRule: ConfigRule = (cfg) => {
    const issues: ConfigIssue[] = [];
    const names = temporalServiceNames(cfg.kubernetes.namespace, cfg.temporal.frontendExternalHost);
    const derived = [...names.frontendDnsNames.filter((n) => n !== cfg.temporal.frontendExternalHost), names.internodeServerName];
    for (const n of derived) {
        if (!DNS_NAME.test(n)) issues.push({ path: "kubernetes.namespace", message: `gives the certificate name "${n}", which is not a valid DNS name: choose a shorter namespace` });
    }
    const seen = new Set(names.frontendDnsNames);
    cfg.pki.extraFrontendDnsNames.forEach((n, i) => {
        if (seen.has(n)) issues.push({ path: `pki.extraFrontendDnsNames[${i}]`, message: `"${n}" is already a SAN of the frontend certificate: remove it` });
        seen.add(n);
    });
    return issues;
};

/** Every consumer gets its own client certificate; a worker cannot take the name of the UI's or the admin tools'. */
export const consumerRule: ConfigRule = (cfg) => {
    const reserved = [UI_CLIENT_NAME, ADMIN_CLIENT_NAME];
    return cfg.workers.flatMap((w, i) =>
        reserved.includes(w.name)
            ? [{ path: `workers[${i}].name`, message: `"${w.name}" is the consumer name of the ${w.name === UI_CLIENT_NAME ? "Web UI's" : "admin tools'"} client certificate, so this worker would get no certificate of its own: rename the worker` }]
            : [],
    );
};

/** Cross-section config rules of this component, run at preview before any resource is registered. */
export const pkiRules: ConfigRule[] = [leafRenewalRule, caRules, vaultNameRule, vaultNetworkRule, sanRule, consumerRule];
