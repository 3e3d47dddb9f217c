import * as pulumi from "@pulumi/pulumi";
import type { KeyVaultCertificatePolicy } from "./profiles";

/**
 * Key Vault *certificate* objects (what `az keyvault certificate show`, the portal's Certificates
 * blade, near-expiry events and contacts, and the CSI driver's `cert` objects work with).
 *
 * ARM has no API for certificates, so azure-native has no such resource. The two routes:
 * - `@pulumi/azure` (classic) `keyvault.Certificate`: a second, very large Azure provider with its
 *   own authentication and its own Key Vault behaviours (it purges or recovers on its own feature
 *   flags), for one resource type; not installed here.
 * - a small dynamic provider over `@azure/keyvault-certificates` (`importCertificate`), authenticated
 *   like the az CLI through `DefaultAzureCredential`.
 * We take the second: one data-plane call with an exact, reviewable policy, the same credential
 * chain as the rest of the deployment, and logic in plain functions tested against a fake vault.
 *
 * The provider closure is serialized into the state, so it requires the Azure SDK inside its
 * functions and refers only to functions of this module. The PEM (private key included) is a
 * secret input and never an output: the state keeps its SHA-256 only, to detect new material.
 */

// ---------------------------------------------------------------------------------------------
// The slice of the Key Vault certificates client the provider uses (the SDK's CertificateClient
// satisfies it through `certificateClient` below; tests pass a fake vault).

export interface ImportedCertificate {
    /** Versionless certificate id, `https://<vault>.vault.azure.net/certificates/<name>`. */
    id?: string;
    secretId?: string;
    keyId?: string;
    properties: { id?: string; version?: string; x509Thumbprint?: Uint8Array; expiresOn?: Date };
}

export interface Poller {
    pollUntilDone(): Promise<unknown>;
}

export interface CertificateClientLike {
    importCertificate(name: string, certificateBytes: Uint8Array, options: { policy: KeyVaultCertificatePolicy; tags?: Record<string, string>; enabled?: boolean }): Promise<ImportedCertificate>;
    getDeletedCertificate(name: string): Promise<unknown>;
    beginRecoverDeletedCertificate(name: string): Promise<Poller>;
    beginDeleteCertificate(name: string): Promise<Poller>;
    setContacts(contacts: Array<{ email: string }>): Promise<unknown>;
    deleteContacts(): Promise<unknown>;
}

/** An error as the Azure SDK raises it (`RestError`). */
interface AzureError {
    statusCode?: number;
    code?: string;
    message?: string;
}

function asAzureError(err: unknown): AzureError {
    return typeof err === "object" && err !== null ? (err as AzureError) : { message: String(err) };
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

export interface KeyVaultCertificateInputs {
    vaultUri: string;
    certificateName: string;
    /** Unencrypted PKCS#8 key + leaf + chain, PEM. Secret. */
    pem: string;
    policy: KeyVaultCertificatePolicy;
    tags?: Record<string, string>;
}

export interface KeyVaultCertificateOutputs {
    vaultUri: string;
    certificateName: string;
    policy: KeyVaultCertificatePolicy;
    tags?: Record<string, string>;
    /** SHA-256 of the imported PEM: a new value means new material, i.e. a new version. */
    pemSha256: string;
    version: string;
    certificateId: string;
    versionedCertificateId: string;
    /** The backing secret (key + chain as PEM): what consumers read. */
    secretId: string;
    versionedSecretId: string;
    keyId: string;
    /** SHA-1 thumbprint of the leaf, hex, as the portal shows it. */
    thumbprint: string;
    expiresOn?: string;
}

export interface RetryOptions {
    /** How long to keep retrying 403s while a fresh role assignment propagates (Azure RBAC takes minutes). */
    forbiddenRetryMs?: number;
    sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_FORBIDDEN_RETRY_MS = 5 * 60_000;

function sha256Hex(text: string): string {
    // Required here, not imported: this function is serialized with the provider.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    return createHash("sha256").update(text).digest("hex");
}

function isFirewallDenial(e: AzureError): boolean {
    return e.code === "ForbiddenByFirewall" || /not authorized and caller is not a trusted service|ForbiddenByFirewall/i.test(e.message ?? "");
}

/**
 * Runs a data-plane call, retrying 403s while the deployer's role assignment propagates, and
 * turning the errors users hit into messages that say what to do.
 */
export async function withVaultAccess<T>(what: string, vaultUri: string, call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = Date.now() + (options.forbiddenRetryMs ?? DEFAULT_FORBIDDEN_RETRY_MS);
    for (let attempt = 0; ; attempt++) {
        try {
            return await call();
        } catch (err) {
            const e = asAzureError(err);
            if (e.statusCode !== 403) throw err;
            if (isFirewallDenial(e)) {
                throw new Error(
                    `${what}: the vault ${vaultUri} refused this machine's address (Key Vault firewall). Add the address \`pulumi up\` runs from to temporal-azure:keyVault.allowedIpRanges, or run from a network allowed by keyVault.allowedSubnetIds / a private endpoint. (${e.message ?? ""})`,
                );
            }
            if (Date.now() >= deadline) {
                throw new Error(
                    `${what}: access denied by ${vaultUri} (${e.message ?? "403"}). The deploying principal needs the "Key Vault Certificates Officer" role on the vault; this stack assigns it, and Azure RBAC can take a few minutes to propagate: run \`pulumi up\` again.`,
                );
            }
            await sleep(Math.min(30_000, 2_000 * 2 ** attempt));
        }
    }
}

/** Key Vault's certificate id carries no trailing slash issues: build ids from the vault URI the way Key Vault prints them. */
function objectBase(vaultUri: string): string {
    return vaultUri.endsWith("/") ? vaultUri : `${vaultUri}/`;
}

/**
 * Imports the PEM as a new version of the certificate. A name still held by a soft-deleted
 * certificate (a previous `pulumi destroy`, or a delete in the portal) is recovered first, then
 * the new material imported over it.
 */
export async function importCertificateVersion(client: CertificateClientLike, inputs: KeyVaultCertificateInputs, options: RetryOptions = {}): Promise<KeyVaultCertificateOutputs> {
    const what = `importing certificate "${inputs.certificateName}"`;
    const doImport = () =>
        withVaultAccess(what, inputs.vaultUri, () =>
            client.importCertificate(inputs.certificateName, new TextEncoder().encode(inputs.pem), { policy: inputs.policy, enabled: true, ...(inputs.tags ? { tags: inputs.tags } : {}) }),
        options,
        );
    let imported: ImportedCertificate;
    try {
        imported = await doImport();
    } catch (err) {
        const e = asAzureError(err);
        if (e.statusCode !== 409) throw err;
        let deleted: boolean;
        try {
            await withVaultAccess(what, inputs.vaultUri, () => client.getDeletedCertificate(inputs.certificateName), options);
            deleted = true;
        } catch (lookup) {
            if (asAzureError(lookup).statusCode !== 404) throw lookup;
            deleted = false;
        }
        if (!deleted) throw new Error(`${what}: Key Vault refused the import with a conflict (${e.message ?? "409"}); retry \`pulumi up\` once the conflicting operation has finished.`);
        try {
            const poller = await withVaultAccess(what, inputs.vaultUri, () => client.beginRecoverDeletedCertificate(inputs.certificateName), options);
            await poller.pollUntilDone();
        } catch (recover) {
            throw new Error(
                `${what}: the name is held by a soft-deleted certificate that could not be recovered (${asAzureError(recover).message ?? String(recover)}). Recover it (az keyvault certificate recover --vault-name <vault> --name ${inputs.certificateName}) or, where purge protection is off, purge it (az keyvault certificate purge ...), then run \`pulumi up\` again.`,
            );
        }
        imported = await doImport();
    }
    const base = objectBase(inputs.vaultUri);
    const version = imported.properties.version ?? "";
    return {
        vaultUri: inputs.vaultUri,
        certificateName: inputs.certificateName,
        policy: inputs.policy,
        ...(inputs.tags ? { tags: inputs.tags } : {}),
        pemSha256: sha256Hex(inputs.pem),
        version,
        certificateId: `${base}certificates/${inputs.certificateName}`,
        versionedCertificateId: imported.properties.id ?? `${base}certificates/${inputs.certificateName}/${version}`,
        secretId: `${base}secrets/${inputs.certificateName}`,
        versionedSecretId: imported.secretId ?? `${base}secrets/${inputs.certificateName}/${version}`,
        keyId: imported.keyId ?? `${base}keys/${inputs.certificateName}/${version}`,
        thumbprint: imported.properties.x509Thumbprint ? Buffer.from(imported.properties.x509Thumbprint).toString("hex").toUpperCase() : "",
        ...(imported.properties.expiresOn ? { expiresOn: imported.properties.expiresOn.toISOString() } : {}),
    };
}

function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface CertificateDiff {
    changes: boolean;
    replaces: string[];
    stables: string[];
}

/** Another vault or another name is another object (replace); new material, policy or tags are a new version (update). */
export function diffCertificate(olds: KeyVaultCertificateOutputs, news: KeyVaultCertificateInputs): CertificateDiff {
    const replaces = (["vaultUri", "certificateName"] as const).filter((k) => olds[k] !== news[k]);
    const updated = olds.pemSha256 !== sha256Hex(news.pem) || !sameJson(olds.policy, news.policy) || !sameJson(olds.tags, news.tags);
    return { changes: replaces.length > 0 || updated, replaces: [...replaces], stables: replaces.length === 0 ? ["vaultUri", "certificateName", "certificateId", "secretId"] : [] };
}

/** Deletes the certificate (Key Vault keeps it soft-deleted for the vault's retention); an already absent one is fine. */
export async function deleteCertificate(client: CertificateClientLike, vaultUri: string, name: string, options: RetryOptions = {}): Promise<void> {
    try {
        const poller = await withVaultAccess(`deleting certificate "${name}"`, vaultUri, () => client.beginDeleteCertificate(name), options);
        await poller.pollUntilDone();
    } catch (err) {
        if (asAzureError(err).statusCode === 404) return;
        throw err;
    }
}

// ---------------------------------------------------------------------------------------------
// The dynamic providers

/** The real client: `CertificateClient` with the az-CLI-like credential chain, required at call time (closure serialization). */
function certificateClient(vaultUri: string): CertificateClientLike {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { CertificateClient } = require("@azure/keyvault-certificates") as typeof import("@azure/keyvault-certificates");
    const { DefaultAzureCredential } = require("@azure/identity") as typeof import("@azure/identity");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const client = new CertificateClient(vaultUri, new DefaultAzureCredential());
    return {
        importCertificate: (name, bytes, options) =>
            client.importCertificate(name, bytes, { ...options, policy: options.policy as unknown as import("@azure/keyvault-certificates").ImportCertificatePolicy }),
        getDeletedCertificate: (name) => client.getDeletedCertificate(name),
        beginRecoverDeletedCertificate: (name) => client.beginRecoverDeletedCertificate(name),
        beginDeleteCertificate: (name) => client.beginDeleteCertificate(name),
        setContacts: (contacts) => client.setContacts(contacts),
        deleteContacts: () => client.deleteContacts(),
    };
}

const certificateProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: KeyVaultCertificateInputs) {
        const outs = await importCertificateVersion(certificateClient(inputs.vaultUri), inputs);
        return { id: outs.certificateId, outs };
    },
    async diff(_id: string, olds: KeyVaultCertificateOutputs, news: KeyVaultCertificateInputs) {
        return diffCertificate(olds, news);
    },
    async update(_id: string, _olds: KeyVaultCertificateOutputs, news: KeyVaultCertificateInputs) {
        return { outs: await importCertificateVersion(certificateClient(news.vaultUri), news) };
    },
    async delete(_id: string, props: KeyVaultCertificateOutputs) {
        await deleteCertificate(certificateClient(props.vaultUri), props.vaultUri, props.certificateName);
    },
};

export interface KeyVaultCertificateArgs {
    /** `https://<vault>.vault.azure.net/`. */
    vaultUri: pulumi.Input<string>;
    /** Certificate object name (also its backing secret's and key's name). */
    certificateName: pulumi.Input<string>;
    /** Unencrypted PKCS#8 key + leaf + chain, PEM. Wrapped as a secret here whatever the caller passes. */
    pem: pulumi.Input<string>;
    /** Policy matching the certificate's profile (see `keyVaultCertificatePolicy`). */
    policy: pulumi.Input<KeyVaultCertificatePolicy>;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** A PEM bundle imported as a Key Vault certificate; each new PEM is a new version. Type `pulumi-nodejs:dynamic/keyvault:Certificate`. */
export class KeyVaultCertificate extends pulumi.dynamic.Resource {
    declare readonly certificateName: pulumi.Output<string>;
    declare readonly certificateId: pulumi.Output<string>;
    declare readonly versionedCertificateId: pulumi.Output<string>;
    declare readonly secretId: pulumi.Output<string>;
    declare readonly versionedSecretId: pulumi.Output<string>;
    declare readonly keyId: pulumi.Output<string>;
    declare readonly version: pulumi.Output<string>;
    declare readonly thumbprint: pulumi.Output<string>;
    declare readonly pemSha256: pulumi.Output<string>;

    constructor(name: string, args: KeyVaultCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            certificateProvider,
            name,
            {
                ...keyVaultCertificateInputs(args),
                pemSha256: undefined,
                version: undefined,
                certificateId: undefined,
                versionedCertificateId: undefined,
                secretId: undefined,
                versionedSecretId: undefined,
                keyId: undefined,
                thumbprint: undefined,
                expiresOn: undefined,
            },
            { ...opts, additionalSecretOutputs: ["pem"] },
            "keyvault",
            "Certificate",
        );
    }
}

/** The resource's inputs, the PEM made secret: a pure function so tests can check secretness directly. */
export function keyVaultCertificateInputs(args: KeyVaultCertificateArgs): Record<string, pulumi.Input<unknown>> {
    return { vaultUri: args.vaultUri, certificateName: args.certificateName, pem: pulumi.secret(args.pem), policy: args.policy, tags: args.tags };
}

// ---------------------------------------------------------------------------------------------
// Certificate contacts (vault-wide): who Key Vault emails about certificates near expiry.

export interface CertificateContactsInputs {
    vaultUri: string;
    emails: string[];
}

export async function applyContacts(client: CertificateClientLike, inputs: CertificateContactsInputs, options: RetryOptions = {}): Promise<void> {
    await withVaultAccess("setting certificate contacts", inputs.vaultUri, () => client.setContacts(inputs.emails.map((email) => ({ email }))), options);
}

export async function removeContacts(client: CertificateClientLike, vaultUri: string, options: RetryOptions = {}): Promise<void> {
    try {
        await withVaultAccess("deleting certificate contacts", vaultUri, () => client.deleteContacts(), options);
    } catch (err) {
        if (asAzureError(err).statusCode !== 404) throw err;
    }
}

const contactsProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: CertificateContactsInputs) {
        await applyContacts(certificateClient(inputs.vaultUri), inputs);
        return { id: `${objectBase(inputs.vaultUri)}certificates/contacts`, outs: inputs };
    },
    async diff(_id: string, olds: CertificateContactsInputs, news: CertificateContactsInputs) {
        const replaces = olds.vaultUri !== news.vaultUri ? ["vaultUri"] : [];
        return { changes: replaces.length > 0 || !sameJson(olds.emails, news.emails), replaces };
    },
    async update(_id: string, _olds: CertificateContactsInputs, news: CertificateContactsInputs) {
        await applyContacts(certificateClient(news.vaultUri), news);
        return { outs: news };
    },
    async delete(_id: string, props: CertificateContactsInputs) {
        await removeContacts(certificateClient(props.vaultUri), props.vaultUri);
    },
};

export interface KeyVaultCertificateContactsArgs {
    vaultUri: pulumi.Input<string>;
    emails: pulumi.Input<pulumi.Input<string>[]>;
}

/** The vault's certificate contacts. Type `pulumi-nodejs:dynamic/keyvault:CertificateContacts`. */
export class KeyVaultCertificateContacts extends pulumi.dynamic.Resource {
    constructor(name: string, args: KeyVaultCertificateContactsArgs, opts?: pulumi.CustomResourceOptions) {
        super(contactsProvider, name, { vaultUri: args.vaultUri, emails: args.emails }, opts, "keyvault", "CertificateContacts");
    }
}
