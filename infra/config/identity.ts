import { z } from "zod";
import { dnsName, K8S_NAME, TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE_MAX_LENGTH } from "./shared";

/** Config of Entra ID: the UI, the access map and the worker identities (owned by infra/identity). */

export const IdentityConfig = z.strictObject({
    /** Host name of the Temporal Web UI (its ingress and the OIDC callback). */
    uiHost: dnsName("identity.uiHost"),
    /** Also register http://localhost:8080/auth/sso/callback (port-forwarded UI); refused for prod. */
    allowLocalhostCallback: z.boolean().default(false),
    /** The UI's client secret is replaced after this many days. */
    uiSecretRotationDays: z.number().int().min(1).max(730).default(90),
    /**
     * The API's application-specific token signing key is replaced after this many days (Entra
     * allows such a key at most three years; it stays valid 30 days past its rotation date).
     */
    tokenSigningKeyRotationDays: z
        .number()
        .int()
        .min(30, { error: "identity.tokenSigningKeyRotationDays: at least 30 days; every rotation makes clients fetch new tokens" })
        .max(1065, { error: "identity.tokenSigningKeyRotationDays: at most 1065 days: Entra ends a token signing certificate within three years and this key stays valid 30 days past its rotation date" })
        .default(365),
    /** Accept v1 tokens too (issuer sts.windows.net) in the validator. The API registration pins v2 either way. */
    acceptV1Tokens: z.boolean().default(false),
    /**
     * Grant tenant-wide consent for the UI's sign-in scopes (openid profile email offline_access on
     * Microsoft Graph), so users see no consent prompt. Needs a deployer allowed to grant delegated
     * permissions; turn off to have an administrator consent in the portal instead.
     */
    grantSignInConsent: z.boolean().default(true),
});
export type IdentityConfig = z.infer<typeof IdentityConfig>;

export const TemporalNamespaceConfig = z.strictObject({
    name: z
        .string()
        .max(TEMPORAL_NAMESPACE_MAX_LENGTH, {
            error: (iss) => `is ${String(iss.input).length} characters; Temporal stores a namespace's name in a VARCHAR(${TEMPORAL_NAMESPACE_MAX_LENGTH}) column of its database: use at most ${TEMPORAL_NAMESPACE_MAX_LENGTH}`,
        })
        .regex(TEMPORAL_NAMESPACE, "access.namespaces[].name must be letters, digits, '.', '_' or '-' (and not start with a symbol)"),
    /** Workflow retention, as Temporal writes durations (e.g. 72h, 7d). */
    retention: z.string().regex(/^\d+[hd]$/, "access.namespaces[].retention must look like 72h or 7d").default("3d"),
});

export const Grant = z
    .strictObject({
        /** An Entra group: object id (GUID) or display name. */
        group: z.string().min(1).optional(),
        /** An Entra user: user principal name. */
        user: z.string().regex(/^[^@\s]+@[^@\s]+$/, "access.grants[].user must be a user principal name like alice@contoso.com").optional(),
        /** A worker identity declared in `workers`. */
        worker: z.string().optional(),
        /** Temporal permissions: `<namespace>:<read|write|admin>` or `temporal-system:<read|write|admin>`. */
        permissions: z.array(z.string()).min(1, "access.grants[].permissions must list at least one permission"),
    })
    .refine((g) => [g.group, g.user, g.worker].filter((p) => p !== undefined).length === 1, {
        message: "access.grants[] must name exactly one principal: group, user or worker",
    });
export type Grant = z.infer<typeof Grant>;

export const AccessConfig = z.strictObject({
    /** Temporal namespaces this stack creates and grants on. */
    namespaces: z.array(TemporalNamespaceConfig).min(1, "access.namespaces must declare at least one Temporal namespace"),
    /** Who may do what: each grant gives one principal a list of permissions. */
    grants: z.array(Grant).default([]),
});
export type AccessConfig = z.infer<typeof AccessConfig>;

export const WorkerConfig = z.strictObject({
    /** Worker identity name; also its certificate and Kubernetes Secret name. */
    name: z.string().regex(K8S_NAME, "workers[].name must be a Kubernetes name (lower-case letters, digits, hyphens)"),
    /** Where it runs: on the stack's AKS cluster (workload identity, no secret) or elsewhere (app registration + certificate). */
    runsOn: z.enum(["aks", "external"]).default("aks"),
    /** Kubernetes namespace of the worker (its certificate Secret goes there). */
    kubernetesNamespace: z.string().regex(K8S_NAME, "workers[].kubernetesNamespace must be a Kubernetes namespace name"),
    /** Service account the worker pods run as (the federated credential's subject); defaults to the worker's name. */
    serviceAccount: z.string().regex(K8S_NAME, "workers[].serviceAccount must be a Kubernetes name").optional(),
    /** Temporal namespace the worker's connection profile points at. */
    temporalNamespace: z.string(),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;

