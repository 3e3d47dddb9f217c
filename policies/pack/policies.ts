import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { checkAuthorization, checkChartPinned, checkMutualTls, checkServerEnv, checkUiSso, findSecretMaterial } from "./checks/release";
import { checkServerTlsFiles, checkServerTlsKeys } from "./checks/server-config";
import { checkApiApplication, checkAssignmentRequired, checkCertificate, checkImplicitGrantOff, checkVault } from "./checks/azure";
import { tokenAdmission } from "./admission";

/**
 * The project's policies. Each is a plain object so that the offline plan and the tests can run
 * it without the engine; `index.ts` is the only place a PolicyPack is constructed.
 */

export const TYPES = {
    release: "kubernetes:helm.sh/v3:Release",
    configMap: "kubernetes:core/v1:ConfigMap",
    application: "azuread:index/application:Application",
    servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
    vault: "azure-native:keyvault:Vault",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;

type Check = (props: Record<string, unknown>, stackTags: ReadonlyMap<string, string>) => string[];

function resourcePolicy(name: string, description: string, types: string[], check: Check): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) => {
            if (!types.includes(args.type)) return;
            for (const message of check(args.props, args.stackTags)) reportViolation(message);
        },
    };
}

const isTemporalRelease = (props: Record<string, unknown>) => props.chart === "temporal";
const onRelease = (check: (values: unknown) => string[]): Check => (props) => (isTemporalRelease(props) ? check(props.values) : []);

/** The stack is ephemeral when tagged so, or when its resources say so (tag `temporal-azure:profile`). */
const isEphemeral = (props: Record<string, unknown>, stackTags: ReadonlyMap<string, string>) =>
    stackTags.get("temporal-azure:profile") === "ephemeral" || getTag(props, "temporal-azure:profile") === "ephemeral";
const getTag = (props: Record<string, unknown>, key: string) => (props.tags as Record<string, string> | undefined)?.[key];

export const resourcePolicies: ResourceValidationPolicy[] = [
    resourcePolicy("temporal-chart-pinned", "The Temporal chart, its repository and every image tag are pinned.", [TYPES.release], (p) =>
        isTemporalRelease(p) ? checkChartPinned(p) : [],
    ),
    resourcePolicy("temporal-mtls-required", "Internode and frontend mTLS with client auth, certificate reload, and a verified UI connection.", [TYPES.release], onRelease(checkMutualTls)),
    resourcePolicy(
        "temporal-jwt-authorization",
        "Default authorizer and claim mapper, the API's own key set (?appid=), the API audience, the roles claim, and the internal frontend for the system worker.",
        [TYPES.release],
        onRelease(checkAuthorization),
    ),
    resourcePolicy("temporal-server-env-read", "No TEMPORAL_* env var on the server that the server silently ignores.", [TYPES.release], onRelease(checkServerEnv)),
    resourcePolicy(
        "temporal-server-tls-read",
        "Every key of server.config.tls is one the server reads, and every TLS file lies on a volume the server mounts.",
        [TYPES.release],
        onRelease((values) => [...checkServerTlsKeys(values), ...checkServerTlsFiles(values)]),
    ),
    resourcePolicy("temporal-ui-sso", "The UI signs users in with the API scope, the registered callback, and its secret from a Secret.", [TYPES.release], onRelease(checkUiSso)),
    resourcePolicy("no-secret-material-in-plain-config", "No private key, password or client secret in Helm values or ConfigMaps.", [TYPES.release, TYPES.configMap], (p) =>
        p.values !== undefined ? findSecretMaterial(p.values) : findSecretMaterial(p.data, "data"),
    ),
    resourcePolicy("entra-api-registration", "The API registration is single tenant, issues v2 tokens, and its app roles are exact Temporal permissions.", [TYPES.application], (p) => [
        ...checkApiApplication(p),
        ...checkImplicitGrantOff(p),
    ]),
    resourcePolicy("entra-assignment-required", "Service principals require assignment, so unassigned callers get no token.", [TYPES.servicePrincipal], checkAssignmentRequired),
    resourcePolicy("key-vault-hardened", "Key Vault uses RBAC, soft delete, and purge protection unless the stack is ephemeral.", [TYPES.vault], (p, tags) => checkVault(p, isEphemeral(p, tags))),
    resourcePolicy("tls-certificate-usages", "Certificates carry explicit usages in the provider's vocabulary, and renew before they expire.", [TYPES.selfSignedCert, TYPES.locallySignedCert], checkCertificate),
];

export const stackPolicies: StackValidationPolicy[] = [tokenAdmission];

export const allPolicies = [...resourcePolicies, ...stackPolicies];
