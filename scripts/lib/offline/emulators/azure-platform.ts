import { createHash, randomInt } from "node:crypto";
import { stringify } from "yaml";
import { DEFAULT_IDENTITY, stableGuid, type CallEmulator, type Emulator } from "../engine";
import { generatePrivateKey, selfSignedCertificate } from "./tls";

/**
 * The platform Azure computes for the Temporal stack: the AKS cluster (its OIDC issuer, API server
 * FQDN, outbound IP and the user kubeconfig `listClusterUserCredential` returns), the PostgreSQL
 * Flexible Server (its FQDN), and the generated database password. Where Azure refuses a request
 * the program could make (a Flexible Server version or HA mode it does not offer, an AKS cluster
 * without a DNS prefix), the emulator refuses it too, with Azure's error code.
 */

type Inputs = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Inputs => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Inputs) : {});
const hex = (seed: string, n: number) => createHash("sha256").update(seed).digest("hex").slice(0, n);

/** azure-native auto-names a resource without an explicit name as `<logical name><random suffix>`; stable here. */
const autoName = (logicalName: string) => `${logicalName}${hex(logicalName, 8)}`;
const rgId = (rg: string) => `/subscriptions/${DEFAULT_IDENTITY.subscriptionId}/resourceGroups/${rg}`;

function armError(code: string, message: string): Error {
    return new Error(`${code}: ${message}`);
}

/** A deterministic public address in Azure's 20.0.0.0/8 range. */
function publicIp(seed: string): string {
    const h = createHash("sha256").update(seed).digest();
    return `20.${h[0]! % 250}.${h[1]! % 250}.${(h[2]! % 250) + 1}`;
}

// ---------------------------------------------------------------------------------------------
// AKS

interface EmulatedCluster {
    name: string;
    resourceGroupName: string;
    fqdn: string;
    tenantId: string;
}
/** Clusters created in this run, so the credentials call returns a kubeconfig for the right server. */
const clusters = new Map<string, EmulatedCluster>();

const managedCluster: Emulator = ({ name, inputs }) => {
    const clusterName = str(inputs.resourceName) ?? autoName(name);
    const rg = str(inputs.resourceGroupName) ?? "";
    const location = str(inputs.location) ?? "westeurope";
    const dnsPrefix = str(inputs.dnsPrefix);
    if (dnsPrefix === undefined || !/^[a-zA-Z0-9][a-zA-Z0-9-]{0,52}[a-zA-Z0-9]$/.test(dnsPrefix)) {
        throw armError("InvalidDnsPrefix", `The DNS prefix '${String(dnsPrefix)}' is invalid: 1-54 letters, digits and hyphens, starting and ending with a letter or digit.`);
    }
    const aad = obj(inputs.aadProfile);
    const tenantId = str(aad.tenantID) ?? DEFAULT_IDENTITY.tenantId;
    const fqdn = `${dnsPrefix}-${hex(`${rg}/${clusterName}`, 8)}.hcp.${location}.azmk8s.io`;
    const nodeResourceGroup = str(inputs.nodeResourceGroup) ?? `MC_${rg}_${clusterName}_${location}`;
    const oidc = obj(inputs.oidcIssuerProfile);
    const networkProfile = obj(inputs.networkProfile);
    clusters.set(`${rg}/${clusterName}`, { name: clusterName, resourceGroupName: rg, fqdn, tenantId });
    return {
        id: `${rgId(rg)}/providers/Microsoft.ContainerService/managedClusters/${clusterName}`,
        name: clusterName,
        type: "Microsoft.ContainerService/ManagedClusters",
        provisioningState: "Succeeded",
        powerState: { code: "Running" },
        fqdn,
        azurePortalFQDN: `${dnsPrefix}-${hex(fqdn, 8)}.portal.hcp.${location}.azmk8s.io`,
        currentKubernetesVersion: str(inputs.kubernetesVersion),
        nodeResourceGroup,
        identity: { ...obj(inputs.identity), principalId: stableGuid(`aks-identity/${clusterName}`), tenantId },
        identityProfile: {
            kubeletidentity: {
                clientId: stableGuid(`aks-kubelet-client/${clusterName}`),
                objectId: stableGuid(`aks-kubelet-object/${clusterName}`),
                resourceId: `${rgId(nodeResourceGroup)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${clusterName}-agentpool`,
            },
        },
        oidcIssuerProfile: {
            enabled: oidc.enabled === true,
            // Only an enabled issuer has a URL; the shape is AKS's: https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/
            ...(oidc.enabled === true ? { issuerURL: `https://${location}.oic.prod-aks.azure.com/${tenantId}/${stableGuid(`oidc/${clusterName}`)}/` } : {}),
        },
        networkProfile: {
            ...networkProfile,
            podCidr: "10.244.0.0/16",
            serviceCidr: "10.0.0.0/16",
            dnsServiceIP: "10.0.0.10",
            loadBalancerProfile: {
                managedOutboundIPs: { count: 1 },
                effectiveOutboundIPs: [{ id: `${rgId(nodeResourceGroup)}/providers/Microsoft.Network/publicIPAddresses/${stableGuid(`outbound/${clusterName}`)}` }],
            },
        },
    };
};

/** A user kubeconfig as AKS returns it with `format: exec`: kubelogin with device-code login, and the cluster's real CA certificate. */
const listManagedClusterUserCredentials: CallEmulator = async (inputs) => {
    const rg = str(inputs.resourceGroupName) ?? "";
    const name = str(inputs.resourceName) ?? "";
    const cluster = clusters.get(`${rg}/${name}`);
    if (!cluster) throw armError("ResourceNotFound", `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found.`);
    // AKS's cluster CA is RSA 4096. Nothing offline connects to the API server, so a P-256 key stands
    // in: the kubeconfig still carries a real CA certificate, made in a millisecond instead of a
    // large share of the plan's time.
    const key = generatePrivateKey("ECDSA", "P256");
    const ca = await selfSignedCertificate(key.privateKeyPem, {
        subject: { commonName: "ca" },
        isCaCertificate: true,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
        validityPeriodHours: 24 * 365 * 30,
    });
    const user = `clusterUser_${rg}_${name}`;
    const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: `https://${cluster.fqdn}:443`, "certificate-authority-data": Buffer.from(ca.certPem).toString("base64") } }],
        contexts: [{ name, context: { cluster: name, user } }],
        "current-context": name,
        preferences: {},
        users: [
            {
                name: user,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "kubelogin",
                        args: [
                            "get-token",
                            "--login",
                            "devicecode",
                            "--server-id",
                            "6dae42f8-4368-4678-94ff-3960e28e3630",
                            "--client-id",
                            "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
                            "--tenant-id",
                            cluster.tenantId,
                            "--environment",
                            "AzurePublicCloud",
                        ],
                        env: null,
                        installHint: "kubelogin is not installed which is required to connect to AAD enabled cluster.",
                        provideClusterInfo: false,
                        interactiveMode: "IfAvailable",
                    },
                },
            },
        ],
    };
    return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(stringify(kubeconfig)).toString("base64") }] };
};

const getPublicIPAddress: CallEmulator = (inputs) => {
    const rg = str(inputs.resourceGroupName) ?? "";
    const name = str(inputs.publicIpAddressName) ?? "";
    return {
        id: `${rgId(rg)}/providers/Microsoft.Network/publicIPAddresses/${name}`,
        name,
        ipAddress: publicIp(`${rg}/${name}`),
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
        sku: { name: "Standard", tier: "Regional" },
        provisioningState: "Succeeded",
    };
};

// ---------------------------------------------------------------------------------------------
// Azure Database for PostgreSQL Flexible Server

const FLEXIBLE_SERVER_NAME = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const FLEXIBLE_SERVER_VERSIONS = ["13", "14", "15", "16", "17", "18"];

const flexibleServer: Emulator = ({ name, inputs }) => {
    // Auto-names keep the logical name's case; Azure wants lower case, so the program's names are lower case.
    const serverName = str(inputs.serverName) ?? autoName(name);
    if (!FLEXIBLE_SERVER_NAME.test(serverName)) {
        throw armError("InvalidServerName", `Server name '${serverName}' is invalid: 3-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen.`);
    }
    const version = str(inputs.version);
    if (version !== undefined && !FLEXIBLE_SERVER_VERSIONS.includes(version)) {
        throw armError("InvalidParameterValue", `Invalid value given for parameter version: '${version}'. Specify a valid parameter value.`);
    }
    const sku = obj(inputs.sku);
    const ha = obj(inputs.highAvailability);
    if (ha.mode !== undefined && ha.mode !== "Disabled" && sku.tier === "Burstable") {
        throw armError("HANotSupportedForBurstableSkuWithMessage", "High availability is not supported for the Burstable pricing tier.");
    }
    const network = obj(inputs.network);
    if (network.delegatedSubnetResourceId !== undefined && network.privateDnsZoneArmResourceId === undefined) {
        throw armError("PrivateDnsZoneRequired", "A private DNS zone is required when the server is integrated into a virtual network.");
    }
    const rg = str(inputs.resourceGroupName) ?? "";
    // ARM never returns the administrator password.
    const { administratorLoginPassword: _password, ...shown } = inputs;
    return {
        ...shown,
        id: `${rgId(rg)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${serverName}`,
        name: serverName,
        type: "Microsoft.DBforPostgreSQL/flexibleServers",
        fullyQualifiedDomainName: `${serverName}.postgres.database.azure.com`,
        state: "Ready",
        minorVersion: "0",
        replicaCapacity: 5,
        network: { publicNetworkAccess: "Enabled", ...network },
        highAvailability: { mode: "Disabled", ...ha, ...(ha.mode !== undefined && ha.mode !== "Disabled" ? { state: "Healthy" } : {}) },
        systemData: { createdAt: "2026-01-01T00:00:00Z" },
        privateEndpointConnections: [],
        azureApiVersion: "2025-08-01",
    };
};

const serverChildId = (inputs: Inputs, kind: string, name: string) =>
    `${rgId(str(inputs.resourceGroupName) ?? "")}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${str(inputs.serverName) ?? ""}/${kind}/${name}`;

/** Server parameters the program sets, with the values Azure accepts for them. */
const PARAMETER_VALUES: Record<string, RegExp> = {
    "azure.extensions": /^[A-Z0-9_]+(,[A-Z0-9_]+)*$/,
    require_secure_transport: /^(ON|OFF)$/i,
    ssl_min_protocol_version: /^TLSv1\.[23]$/,
};

const flexibleServerConfiguration: Emulator = ({ inputs }) => {
    const parameter = str(inputs.configurationName) ?? "";
    const value = str(inputs.value) ?? "";
    const allowed = PARAMETER_VALUES[parameter];
    if (allowed !== undefined && !allowed.test(value)) {
        throw armError("InvalidParameterValue", `Invalid value given for parameter ${parameter}: '${value}'. Specify a valid parameter value.`);
    }
    return { id: serverChildId(inputs, "configurations", parameter), name: parameter, value, source: str(inputs.source) ?? "user-override", isConfigPendingRestart: false, isDynamicConfig: true, isReadOnly: false };
};

const flexibleServerDatabase: Emulator = ({ inputs }) => ({ id: serverChildId(inputs, "databases", str(inputs.databaseName) ?? ""), name: str(inputs.databaseName), charset: str(inputs.charset) ?? "UTF8", collation: str(inputs.collation) ?? "en_US.utf8" });

const flexibleServerFirewallRule: Emulator = ({ inputs }) => {
    const start = str(inputs.startIpAddress) ?? "";
    const end = str(inputs.endIpAddress) ?? "";
    const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
    if (!ipv4.test(start) || !ipv4.test(end)) throw armError("InvalidParameterValue", `Firewall rule addresses must be IPv4 addresses (got '${start}'-'${end}').`);
    return { id: serverChildId(inputs, "firewallRules", str(inputs.firewallRuleName) ?? ""), name: str(inputs.firewallRuleName) };
};

// ---------------------------------------------------------------------------------------------
// random

const ALPHABETS = { lower: "abcdefghijklmnopqrstuvwxyz", upper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", numeric: "0123456789", special: "!@#$%&*()-_=+[]{}<>:?" };

/** `random.RandomPassword`: a fresh password from the allowed character classes, as the provider draws it. */
const randomPassword: Emulator = ({ inputs }) => {
    const length = typeof inputs.length === "number" ? inputs.length : 16;
    const special = inputs.special !== false ? (str(inputs.overrideSpecial) ?? ALPHABETS.special) : "";
    const alphabet = [inputs.lower !== false ? ALPHABETS.lower : "", inputs.upper !== false ? ALPHABETS.upper : "", inputs.numeric !== false ? ALPHABETS.numeric : "", special].join("");
    if (alphabet.length === 0) throw new Error("random_password: at least one character class must be enabled");
    const result = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
    return { result, bcryptHash: `$2a$10$${hex(result, 53)}` };
};

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const azurePlatformEmulators: Record<string, Emulator> = {
    "azure-native:containerservice:ManagedCluster": managedCluster,
    "azure-native:dbforpostgresql:Server": flexibleServer,
    "azure-native:dbforpostgresql:Configuration": flexibleServerConfiguration,
    "azure-native:dbforpostgresql:Database": flexibleServerDatabase,
    "azure-native:dbforpostgresql:FirewallRule": flexibleServerFirewallRule,
    "random:index/randomPassword:RandomPassword": randomPassword,
};

/** What these emulators draw at random, as the providers do. */
export const azurePlatformVolatile: Record<string, string[]> = {
    "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
};

/** Provider functions (invokes) answered locally. */
export const azurePlatformCalls: Record<string, CallEmulator> = {
    "azure-native:containerservice:listManagedClusterUserCredentials": listManagedClusterUserCredentials,
    "azure-native:network:getPublicIPAddress": getPublicIPAddress,
};
