import { createHash, X509Certificate } from "node:crypto";
import type { CertificateClientLike, ImportedCertificate } from "../../infra/pki/keyvault-certificate";
import type { KeyVaultCertificatePolicy } from "../../infra/pki/profiles";

/**
 * An in-memory Key Vault certificate store with the service's behaviours that matter to the
 * provider: every import is a new version, a delete is a soft delete, a soft-deleted name cannot
 * be reused (409) until recovered or purged, and RBAC may not have propagated yet (403).
 */

export class RestError extends Error {
    constructor(
        readonly statusCode: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
    }
}

interface StoredCertificate {
    versions: Array<{ version: string; pem: string; policy: KeyVaultCertificatePolicy; tags?: Record<string, string> }>;
}

export class FakeVault implements CertificateClientLike {
    readonly live = new Map<string, StoredCertificate>();
    readonly deleted = new Map<string, StoredCertificate>();
    contacts: string[] = [];
    /** Calls answered 403 before access is granted (a role assignment still propagating). */
    forbiddenCalls = 0;
    /** Answer every call with the firewall's 403. */
    firewall = false;
    /** Refuse recovering deleted certificates (as a principal without the recover permission). */
    refuseRecover = false;
    readonly calls: string[] = [];

    constructor(readonly uri = "https://kv-tmprl-dev-abc123.vault.azure.net/") {}

    private gate(call: string): void {
        this.calls.push(call);
        if (this.firewall) throw new RestError(403, "Forbidden", "Client address is not authorized and caller is not a trusted service.\r\nClient address: 198.51.100.7");
        if (this.forbiddenCalls > 0) {
            this.forbiddenCalls--;
            throw new RestError(403, "Forbidden", "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/certificates/import/action'");
        }
    }

    async importCertificate(name: string, bytes: Uint8Array, options: { policy: KeyVaultCertificatePolicy; tags?: Record<string, string> }): Promise<ImportedCertificate> {
        this.gate(`import ${name}`);
        if (this.deleted.has(name)) {
            throw new RestError(409, "Conflict", `Certificate ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the certificate can only be recovered or purged.`);
        }
        const pem = new TextDecoder().decode(bytes);
        if (options.policy.contentType !== "application/x-pem-file" || !pem.includes("-----BEGIN PRIVATE KEY-----")) {
            throw new RestError(400, "BadParameter", "The specified PEM X.509 certificate content is in an unexpected format.");
        }
        const leaf = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)![0]);
        const stored = this.live.get(name) ?? { versions: [] };
        const version = createHash("sha256").update(`${name}/${stored.versions.length}/${pem}`).digest("hex").slice(0, 32);
        stored.versions.push({ version, pem, policy: options.policy, ...(options.tags ? { tags: options.tags } : {}) });
        this.live.set(name, stored);
        return {
            id: `${this.uri}certificates/${name}/${version}`,
            secretId: `${this.uri}secrets/${name}/${version}`,
            keyId: `${this.uri}keys/${name}/${version}`,
            properties: { id: `${this.uri}certificates/${name}/${version}`, version, x509Thumbprint: Buffer.from(leaf.fingerprint.replace(/:/g, ""), "hex"), expiresOn: new Date(leaf.validTo) },
        };
    }

    async getDeletedCertificate(name: string): Promise<unknown> {
        this.gate(`getDeleted ${name}`);
        if (!this.deleted.has(name)) throw new RestError(404, "CertificateNotFound", `Deleted Certificate not found: ${name}`);
        return { name };
    }

    async beginRecoverDeletedCertificate(name: string) {
        this.gate(`recover ${name}`);
        if (this.refuseRecover) throw new RestError(403, "Forbidden", "Operation \"recover\" is not allowed by the caller's role assignments.");
        const cert = this.deleted.get(name);
        if (!cert) throw new RestError(404, "CertificateNotFound", `Deleted Certificate not found: ${name}`);
        return {
            pollUntilDone: async () => {
                this.deleted.delete(name);
                this.live.set(name, cert);
                return cert;
            },
        };
    }

    async beginDeleteCertificate(name: string) {
        this.gate(`delete ${name}`);
        const cert = this.live.get(name);
        if (!cert) throw new RestError(404, "CertificateNotFound", `A certificate with (name/id) ${name} was not found in this key vault.`);
        return {
            pollUntilDone: async () => {
                this.live.delete(name);
                this.deleted.set(name, cert);
                return cert;
            },
        };
    }

    async setContacts(contacts: Array<{ email: string }>): Promise<unknown> {
        this.gate("setContacts");
        this.contacts = contacts.map((c) => c.email);
        return contacts;
    }

    async deleteContacts(): Promise<unknown> {
        this.gate("deleteContacts");
        if (this.contacts.length === 0) throw new RestError(404, "ContactsNotFound", "Contacts not found");
        this.contacts = [];
        return undefined;
    }
}
