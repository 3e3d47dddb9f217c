import { X509Certificate } from "node:crypto";
import { envList, getPath } from "../../../policies/pack/checks/values";
import type { RecordedResource } from "../offline/engine";
import type { MaterialIndex } from "./material";
import { secretData, secretSourceOfFile, type Mount, type Volume } from "./tls-checks";

/**
 * The security wiring of a planned stack, as facts a reviewer compares between two plans: what the
 * server checks on a token (audience, JWKS, claim name), what each TLS listener and client checks
 * (client auth, server names, host verification, reload intervals), which CAs each trust bundle
 * holds, and which certificates exist with what. All of it is read from the resources the program
 * registered (the Helm release's values, the Secrets it mounts, the certificates), not from config.
 */

export interface TrustBundle {
    /** Where the bundle is: `Secret temporal/temporal-internode-tls ca.crt`, `Key Vault secret temporal-ca-bundle`. */
    where: string;
    /** The CAs it holds, each as `<resource> (CN=<common name>)`, in bundle order. */
    cas: string[];
}

export interface CertificateSummary {
    /** The certificate resource's logical name. */
    name: string;
    ca: boolean;
    commonName: string;
    /** The CA certificate resource that signs it, or `self-signed`. */
    issuer: string;
    dnsNames: string[];
    allowedUses: string[];
    validityPeriodHours: number;
    earlyRenewalHours: number;
    keyAlgorithm: string;
}

export interface Wiring {
    /** Setting → value, e.g. `server authorization.audience`, `frontend listener requireClientAuth`. */
    settings: Record<string, string | number | boolean | string[]>;
    trustBundles: TrustBundle[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function commonName(cert: X509Certificate): string {
    return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject.replace(/\n/g, ", ");
}

/** The CAs of a PEM bundle, named by the certificate resource each comes from. */
function casOf(bundle: string, index: MaterialIndex): string[] {
    return (bundle.match(PEM_CERTIFICATE) ?? []).map((pem) => {
        const label = index.name(pem).labels[0];
        const source = label ? /^\$\{(.+)\.certPem\}$/.exec(label)?.[1] : undefined;
        let cn = "unreadable certificate";
        try {
            cn = `CN=${commonName(new X509Certificate(pem))}`;
        } catch {
            // reported as unreadable: the TLS checks fail on it too
        }
        return `${source ?? "unknown source"} (${cn})`;
    });
}

const CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521", secp224r1: "P-224" };

function keyAlgorithm(cert: X509Certificate): string {
    const key = cert.publicKey;
    if (key.asymmetricKeyType === "ec") return `ECDSA ${CURVES[key.asymmetricKeyDetails?.namedCurve ?? ""] ?? key.asymmetricKeyDetails?.namedCurve ?? ""}`;
    if (key.asymmetricKeyType === "rsa") return `RSA ${key.asymmetricKeyDetails?.modulusLength ?? ""}`;
    return key.asymmetricKeyType ?? "";
}

const metadata = (r: RecordedResource) => (r.inputs.metadata ?? {}) as { name?: string; namespace?: string };

export function trustBundles(resources: readonly RecordedResource[], index: MaterialIndex): TrustBundle[] {
    const out: TrustBundle[] = [];
    for (const r of resources) {
        if (r.type === "kubernetes:core/v1:Secret") {
            const ca = secretData(resources, metadata(r).name ?? "", metadata(r).namespace)?.["ca.crt"];
            if (ca !== undefined) out.push({ where: `Secret ${metadata(r).namespace ?? "default"}/${metadata(r).name ?? r.name} ca.crt`, cas: casOf(ca, index) });
        } else if (r.type === "azure-native:keyvault:Secret") {
            const value = getPath(r.inputs, "properties.value");
            if (typeof value === "string" && value.trim() !== "" && value.replace(PEM_CERTIFICATE, "").trim() === "") {
                out.push({ where: `Key Vault secret ${String(r.inputs.secretName ?? r.name)}`, cas: casOf(value, index) });
            }
        }
    }
    return out.sort((a, b) => (a.where < b.where ? -1 : 1));
}

export function certificates(resources: readonly RecordedResource[], index: MaterialIndex): CertificateSummary[] {
    const out: CertificateSummary[] = [];
    for (const r of resources) {
        const selfSigned = r.type === "tls:index/selfSignedCert:SelfSignedCert";
        if (!selfSigned && r.type !== "tls:index/locallySignedCert:LocallySignedCert") continue;
        let cert: X509Certificate | undefined;
        try {
            cert = new X509Certificate(String(r.state.certPem ?? ""));
        } catch {
            cert = undefined;
        }
        const issuerLabel = selfSigned ? undefined : index.name(String(r.inputs.caCertPem ?? "")).labels[0];
        out.push({
            name: r.name,
            ca: r.inputs.isCaCertificate === true,
            commonName: cert ? commonName(cert) : "",
            issuer: selfSigned ? "self-signed" : (/^\$\{(.+)\.certPem\}$/.exec(issuerLabel ?? "")?.[1] ?? "unknown"),
            dnsNames: (cert?.subjectAltName ?? "")
                .split(", ")
                .filter((n) => n.startsWith("DNS:"))
                .map((n) => n.slice(4)),
            allowedUses: Array.isArray(r.inputs.allowedUses) ? (r.inputs.allowedUses as string[]) : [],
            validityPeriodHours: Number(r.inputs.validityPeriodHours ?? 0),
            earlyRenewalHours: Number(r.inputs.earlyRenewalHours ?? 0),
            keyAlgorithm: cert ? keyAlgorithm(cert) : "",
        });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The settings of the Temporal release and the Entra registrations that decide who gets in. */
export function wiring(resources: readonly RecordedResource[], index: MaterialIndex): Wiring {
    const settings: Wiring["settings"] = {};
    const set = (key: string, value: unknown) => {
        if (value === undefined || value === null) return;
        settings[key] = Array.isArray(value) ? value.map(String) : typeof value === "object" ? JSON.stringify(value) : (value as string | number | boolean);
    };
    const release = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "temporal");
    if (release) {
        const values = release.inputs.values;
        const ns = release.inputs.namespace as string | undefined;
        const files = (component: "server" | "web" | "admintools", list: unknown): string[] | undefined => {
            const volumes = (getPath(values, `${component}.additionalVolumes`) ?? []) as Volume[];
            const mounts = (getPath(values, `${component}.additionalVolumeMounts`) ?? []) as Mount[];
            const paths = (Array.isArray(list) ? list : [list]).filter((f): f is string => typeof f === "string" && f !== "");
            if (paths.length === 0) return undefined;
            return paths.flatMap((file) => {
                const src = secretSourceOfFile(file, volumes, mounts);
                const pem = src ? secretData(resources, src.secretName, ns)?.[src.key] : undefined;
                return pem === undefined ? [`${file}: not mounted from a Secret of the stack`] : casOf(pem, index);
            });
        };
        const auth = (getPath(values, "server.config.authorization") ?? {}) as Record<string, unknown>;
        set("server authorization.audience", auth.audience);
        set("server authorization.jwtKeyProvider.keySourceURIs", getPath(auth, "jwtKeyProvider.keySourceURIs"));
        set("server authorization.jwtKeyProvider.refreshInterval", getPath(auth, "jwtKeyProvider.refreshInterval"));
        set("server authorization.permissionsClaimName", auth.permissionsClaimName);
        set("server authorization.permissionsRegex", auth.permissionsRegex);
        set("server authorization.authorizer", auth.authorizer);
        set("server authorization.claimMapper", auth.claimMapper);
        set("server internal-frontend.enabled", getPath(values, "server.internal-frontend.enabled"));
        const tls = getPath(values, "server.config.tls");
        set("server tls.refreshInterval", getPath(tls, "refreshInterval"));
        set("server tls.expirationChecks", getPath(tls, "expirationChecks"));
        for (const section of ["internode", "frontend"] as const) {
            set(`${section} listener requireClientAuth`, getPath(tls, `${section}.server.requireClientAuth`));
            set(`${section} listener trusts (clientCaFiles)`, files("server", getPath(tls, `${section}.server.clientCaFiles`)));
            set(`${section} client serverName`, getPath(tls, `${section}.client.serverName`));
            set(`${section} client disableHostVerification`, getPath(tls, `${section}.client.disableHostVerification`) ?? false);
            set(`${section} client trusts (rootCaFiles)`, files("server", getPath(tls, `${section}.client.rootCaFiles`)));
        }
        const env = (component: string, name: string) => envList(values, `${component}.additionalEnv`).find((e) => e.name === name)?.value;
        for (const name of ["TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION", "TEMPORAL_AUTH_ENABLED", "TEMPORAL_AUTH_ISSUER_URL", "TEMPORAL_AUTH_CLIENT_ID", "TEMPORAL_AUTH_SCOPES", "TEMPORAL_AUTH_CALLBACK_URL", "TEMPORAL_AUTH_USE_ID_TOKEN_AS_BEARER"]) {
            set(`web ${name}`, env("web", name));
        }
        set("web trusts (TEMPORAL_TLS_CA)", files("web", env("web", "TEMPORAL_TLS_CA")));
        set("admintools TEMPORAL_TLS_SERVER_NAME", env("admintools", "TEMPORAL_TLS_SERVER_NAME"));
        set("admintools trusts (TEMPORAL_TLS_SERVER_CA_CERT_PATH)", files("admintools", env("admintools", "TEMPORAL_TLS_SERVER_CA_CERT_PATH")));
        const annotations = (getPath(values, "server.frontend.ingress.annotations") ?? {}) as Record<string, unknown>;
        if (getPath(values, "server.frontend.ingress.enabled") === true) {
            set("frontend ingress hosts", getPath(values, "server.frontend.ingress.hosts"));
            set("frontend ingress ssl-passthrough", annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] ?? "not set");
        }
    }
    for (const app of resources.filter((r) => r.type === "azuread:index/application:Application")) {
        set(`Entra app ${app.name} signInAudience`, app.inputs.signInAudience);
        set(`Entra app ${app.name} requestedAccessTokenVersion`, getPath(app.inputs, "api.requestedAccessTokenVersion"));
    }
    for (const sp of resources.filter((r) => r.type === "azuread:index/servicePrincipal:ServicePrincipal")) {
        set(`Entra service principal ${sp.name} appRoleAssignmentRequired`, sp.inputs.appRoleAssignmentRequired ?? false);
    }
    // In the order a reviewer reads them (token, listeners, clients, Entra), which the code above fixes.
    return { settings, trustBundles: trustBundles(resources, index) };
}
