import { createHash, X509Certificate } from "node:crypto";
import { DEFAULT_IDENTITY, revealSecrets, type CallEmulator, type Emulator } from "../engine";

/**
 * Azure Resource Manager, Key Vault and authorization, as far as the offline plan needs them: the
 * ids, names and URIs Azure computes, and the requests Azure refuses (an invalid vault name,
 * `enablePurgeProtection: false`, a role assignment whose name is not a GUID), refused here with
 * Azure's error codes so the plan fails where a real deployment would.
 */

type Inputs = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VAULT_NAME = /^(?=.{3,24}$)[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/;
const VAULT_OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** azure-native auto-names a resource without an explicit name as `<logical name><random suffix>`; stable here. */
function autoName(logicalName: string): string {
    return `${logicalName}${createHash("sha256").update(logicalName).digest("hex").slice(0, 8)}`;
}

function resourceGroupId(resourceGroupName: string): string {
    return `/subscriptions/${DEFAULT_IDENTITY.subscriptionId}/resourceGroups/${resourceGroupName}`;
}

export function vaultId(resourceGroupName: string, vaultName: string): string {
    return `${resourceGroupId(resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
}

export function vaultUri(vaultName: string): string {
    return `https://${vaultName}.vault.azure.net/`;
}

/** A Key Vault object version: 32 hex characters. */
function objectVersion(seed: string): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, 32);
}

function armError(code: string, message: string): Error {
    return new Error(`${code}: ${message}`);
}

const resourceGroup: Emulator = ({ name, inputs }) => {
    const rgName = str(inputs.resourceGroupName) ?? autoName(name);
    return { id: resourceGroupId(rgName), name: rgName, type: "Microsoft.Resources/resourceGroups", properties: { provisioningState: "Succeeded" } };
};

const vault: Emulator = ({ name, inputs }) => {
    const vaultName = str(inputs.vaultName) ?? autoName(name);
    if (!VAULT_NAME.test(vaultName)) {
        throw armError("VaultNameNotValid", `The vault name '${vaultName}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.`);
    }
    const properties = (inputs.properties ?? {}) as Inputs;
    if (properties.enablePurgeProtection === false) {
        throw armError("BadRequest", "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.");
    }
    const retention = properties.softDeleteRetentionInDays;
    if (typeof retention === "number" && (retention < 7 || retention > 90)) {
        throw armError("BadRequest", "The property \"softDeleteRetentionInDays\" must be between 7 and 90.");
    }
    const rg = str(inputs.resourceGroupName) ?? "";
    return {
        id: vaultId(rg, vaultName),
        name: vaultName,
        type: "Microsoft.KeyVault/vaults",
        properties: { ...properties, vaultUri: vaultUri(vaultName), provisioningState: "Succeeded" },
    };
};

const secret: Emulator = ({ name, inputs }) => {
    const vaultName = str(inputs.vaultName) ?? "";
    const secretName = str(inputs.secretName) ?? autoName(name);
    if (!VAULT_OBJECT_NAME.test(secretName)) throw armError("BadRequest", `The secret name '${secretName}' is invalid: 1-127 letters, digits and dashes.`);
    const properties = (inputs.properties ?? {}) as Inputs;
    const version = objectVersion(`${vaultName}/${secretName}/${String(properties.value ?? "")}`);
    const uri = `${vaultUri(vaultName)}secrets/${secretName}`;
    // ARM never returns a secret's value; drop it from the emulated state as Azure does.
    const { value: _value, ...shown } = properties;
    return {
        id: `${vaultId(str(inputs.resourceGroupName) ?? "", vaultName)}/secrets/${secretName}`,
        name: secretName,
        type: "Microsoft.KeyVault/vaults/secrets",
        properties: { ...shown, secretUri: uri, secretUriWithVersion: `${uri}/${version}` },
    };
};

const roleAssignment: Emulator = ({ inputs }) => {
    const name = str(inputs.roleAssignmentName);
    if (name === undefined || !GUID.test(name)) throw armError("InvalidRoleAssignmentId", `The role assignment ID '${String(name)}' is not valid. The role assignment ID must be a GUID.`);
    const principalId = str(inputs.principalId);
    if (principalId === undefined || !GUID.test(principalId)) throw armError("InvalidPrincipalId", `A valid principal ID must be provided for role assignment (got '${String(principalId)}').`);
    const roleDefinitionId = str(inputs.roleDefinitionId) ?? "";
    if (!/^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/i.test(roleDefinitionId)) {
        throw armError("InvalidRoleDefinitionId", `The role definition ID '${roleDefinitionId}' is not valid.`);
    }
    const scope = str(inputs.scope) ?? "";
    if (!/^\/(subscriptions|providers)\/[^/]+/i.test(scope)) throw armError("InvalidScope", `The scope '${scope}' is not a valid resource id.`);
    return {
        id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
        name,
        type: "Microsoft.Authorization/roleAssignments",
        principalType: str(inputs.principalType) ?? "ServicePrincipal",
        createdOn: "2026-01-01T00:00:00Z",
    };
};

/**
 * The Key Vault certificate dynamic resource (infra/pki/keyvault-certificate.ts): what a Key Vault
 * import returns (ids, version, the SHA-1 thumbprint of the leaf, its expiry), computed from the
 * real PEM the program imports.
 */
const keyVaultCertificate: Emulator = ({ inputs }) => {
    const uri = str(inputs.vaultUri) ?? "";
    const name = str(inputs.certificateName) ?? "";
    const pem = str(inputs.pem) ?? "";
    if (!VAULT_OBJECT_NAME.test(name)) throw new Error(`BadParameter: The certificate name '${name}' is invalid: 1-127 letters, digits and dashes.`);
    const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
    if (!/-----BEGIN PRIVATE KEY-----/.test(pem) || leafPem === undefined) {
        throw new Error("BadParameter: The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format with an unencrypted PKCS#8 private key.");
    }
    const leaf = new X509Certificate(leafPem);
    const pemSha256 = createHash("sha256").update(pem).digest("hex");
    const version = objectVersion(`${uri}/${name}/${pemSha256}`);
    const base = uri.endsWith("/") ? uri : `${uri}/`;
    return {
        pem: undefined,
        pemSha256,
        version,
        certificateId: `${base}certificates/${name}`,
        versionedCertificateId: `${base}certificates/${name}/${version}`,
        secretId: `${base}secrets/${name}`,
        versionedSecretId: `${base}secrets/${name}/${version}`,
        keyId: `${base}keys/${name}`,
        thumbprint: leaf.fingerprint.replace(/:/g, ""),
        expiresOn: new Date(leaf.validTo).toISOString(),
    };
};

const keyVaultCertificateContacts: Emulator = ({ inputs }) => {
    const base = str(inputs.vaultUri) ?? "";
    return { contactsId: `${base.endsWith("/") ? base : `${base}/`}certificates/contacts` };
};

/** `random.RandomId`: the ephemeral vault name's per-deployment suffix; deterministic here so plans are reproducible. */
const randomId: Emulator = ({ name, inputs }) => {
    const bytes = typeof inputs.byteLength === "number" ? inputs.byteLength : 8;
    const raw = createHash("sha256").update(`${name}/${JSON.stringify(inputs.keepers ?? {})}`).digest().subarray(0, bytes);
    const b64 = raw.toString("base64");
    return { hex: raw.toString("hex"), dec: BigInt(`0x${raw.toString("hex")}`).toString(10), b64Std: b64, b64Url: raw.toString("base64url"), id: raw.toString("base64url") };
};

/** Providers see secret inputs decrypted; the mock runtime hands them over wrapped. */
const revealing =
    (emulate: Emulator): Emulator =>
    (args) =>
        emulate({ ...args, inputs: revealSecrets(args.inputs) });

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const azureEmulators: Record<string, Emulator> = Object.fromEntries(
    Object.entries({
        "azure-native:resources:ResourceGroup": resourceGroup,
        "azure-native:keyvault:Vault": vault,
        "azure-native:keyvault:Secret": secret,
        "azure-native:authorization:RoleAssignment": roleAssignment,
        "pulumi-nodejs:dynamic/keyvault:Certificate": keyVaultCertificate,
        "pulumi-nodejs:dynamic/keyvault:CertificateContacts": keyVaultCertificateContacts,
        "random:index/randomId:RandomId": randomId,
    }).map(([type, emulate]) => [type, revealing(emulate)]),
);

/** What these emulators derive from the certificates and secrets they are given (new bytes every run). */
export const azureVolatile: Record<string, string[]> = {
    "azure-native:keyvault:Secret": ["properties.secretUriWithVersion"],
    "pulumi-nodejs:dynamic/keyvault:Certificate": ["pemSha256", "version", "versionedCertificateId", "versionedSecretId", "thumbprint", "expiresOn"],
};

/** Provider functions (invokes) answered locally. */
export const azureCalls: Record<string, CallEmulator> = {
    "azure-native:keyvault:getVault": (inputs) => {
        const name = str(inputs.vaultName) ?? "";
        return { id: vaultId(str(inputs.resourceGroupName) ?? "", name), name, properties: { vaultUri: vaultUri(name) } };
    },
};
