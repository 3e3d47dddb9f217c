import { parsePermissions } from "../../claims/permissions";
import { getPath } from "./values";

/** Checks over Entra ID, Key Vault and TLS resource inputs. Each returns fix-naming messages. */

const READ_WRITE_ADMIN = /^(read|write|admin|worker)$/;

/** An app role value must parse, as server 1.31 parses it, to exactly one scope and one role, with no trap. */
export function checkAppRoleValue(value: unknown): string[] {
    if (typeof value !== "string") return [`app role value ${JSON.stringify(value)} is not a string`];
    if (value.length > 120) return [`app role value "${value}" is longer than Entra's 120-character limit`];
    const parsed = parsePermissions([value]);
    const messages = parsed.findings.filter((f) => f.code !== "worker-without-write").map((f) => `app role value "${value}": ${f.message}`);
    const scopes = Object.keys(parsed.namespaces).length + (parsed.system ? 1 : 0);
    const word = value.slice(value.indexOf(":") + 1);
    if (messages.length === 0 && (scopes !== 1 || !READ_WRITE_ADMIN.test(word))) {
        messages.push(`app role value "${value}" must be <namespace>:<read|write|admin> or temporal-system:<read|write|admin>`);
    }
    return messages;
}

export function checkApiApplication(props: Record<string, unknown>): string[] {
    const out: string[] = [];
    const roles = getPath(props, "appRoles");
    if (!Array.isArray(roles) || roles.length === 0) return out; // not the API registration
    if (props.signInAudience !== "AzureADMyOrg") out.push(`signInAudience must be AzureADMyOrg (single tenant), got ${JSON.stringify(props.signInAudience)}`);
    if (getPath(props, "api.requestedAccessTokenVersion") !== 2) {
        out.push("api.requestedAccessTokenVersion must be 2: v1 tokens carry another issuer (sts.windows.net) and audience, which the stack's audience check rejects");
    }
    for (const role of roles as Array<Record<string, unknown>>) out.push(...checkAppRoleValue(role.value));
    return out;
}

export function checkImplicitGrantOff(props: Record<string, unknown>): string[] {
    const grant = getPath(props, "web.implicitGrant") as Record<string, unknown> | undefined;
    if (grant && (grant.accessTokenIssuanceEnabled === true || grant.idTokenIssuanceEnabled === true)) {
        return ["web.implicitGrant must be off: the UI is a confidential client using the authorization code flow"];
    }
    return [];
}

export function checkAssignmentRequired(props: Record<string, unknown>): string[] {
    return props.appRoleAssignmentRequired === true
        ? []
        : ["appRoleAssignmentRequired must be true: otherwise every user and app of the tenant can get a token (and sign in to the UI)"];
}

export function checkVault(props: Record<string, unknown>, ephemeral: boolean): string[] {
    const out: string[] = [];
    const p = (props.properties ?? {}) as Record<string, unknown>;
    if (p.enableRbacAuthorization !== true) out.push("properties.enableRbacAuthorization must be true (the SDK default is false: access policies)");
    if (p.enableSoftDelete === false) out.push("properties.enableSoftDelete must not be false");
    if (!ephemeral && p.enablePurgeProtection !== true) out.push("properties.enablePurgeProtection must be true on every stack that is not ephemeral");
    return out;
}

/** `@pulumi/tls` allowedUses vocabulary (snake_case; the typings' camelCase is rejected by the provider). */
export const TLS_ALLOWED_USES = new Set([
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "cert_signing",
    "crl_signing", "encipher_only", "decipher_only", "any_extended", "server_auth", "client_auth", "code_signing",
    "email_protection", "ipsec_end_system", "ipsec_tunnel", "ipsec_user", "timestamping", "ocsp_signing",
    "microsoft_server_gated_crypto", "netscape_server_gated_crypto", "microsoft_commercial_code_signing", "microsoft_kernel_code_signing",
]);

export function checkCertificate(props: Record<string, unknown>): string[] {
    const out: string[] = [];
    const uses = Array.isArray(props.allowedUses) ? (props.allowedUses as unknown[]) : [];
    if (uses.length === 0) out.push("allowedUses must be set: a certificate without usages is accepted for anything");
    for (const u of uses) if (typeof u !== "string" || !TLS_ALLOWED_USES.has(u)) out.push(`allowedUses value ${JSON.stringify(u)} is not in the provider's snake_case vocabulary (e.g. server_auth, client_auth, cert_signing)`);
    const isCa = props.isCaCertificate === true;
    if (isCa && !uses.includes("cert_signing")) out.push("a CA certificate needs cert_signing in allowedUses");
    if (!isCa && uses.includes("cert_signing")) out.push("an end-entity certificate must not have cert_signing");
    const validity = Number(props.validityPeriodHours);
    const early = Number(props.earlyRenewalHours ?? 0);
    if (Number.isFinite(validity) && early >= validity) out.push(`earlyRenewalHours (${early}) must be shorter than validityPeriodHours (${validity}), or the certificate is reissued on every update`);
    return out;
}
