import { z } from "zod";
import { Profile, uuid } from "./shared";
import { KeyVaultConfig, PkiConfig } from "./pki";
import { AccessConfig, IdentityConfig, WorkerConfig } from "./identity";
import { DatabaseConfig, KubernetesConfig, TemporalConfig } from "./platform";

export * from "./shared";
export * from "./pki";
export * from "./identity";
export * from "./platform";

/**
 * The stack configuration, as it is written in `stacks/Pulumi.<stack>.yaml` under the project's
 * namespace (`temporal-azure:<key>`). Every key is one section; each section is validated here, and
 * cross-section rules live in `validate.ts`. Messages name the fix: they are what a user reads at
 * preview time.
 */

export const AzureConfig = z.strictObject({
    /** Entra ID tenant that issues tokens and holds the app registrations. */
    tenantId: uuid("azure.tenantId"),
    /** Azure region of every regional resource. */
    location: z.string().regex(/^[a-z0-9]+$/, "azure.location must be an Azure region name such as westeurope"),
    /** Resource group to create (name derived from the stack when absent). */
    resourceGroupName: z.string().regex(/^[-\w._()]{1,90}$/, "azure.resourceGroupName must be 1-90 letters, digits, _ - . ( )").optional(),
});

// `prefault` (not `default`): an absent section is parsed from {}, so every field default applies.
export const StackConfig = z.strictObject({
    profile: Profile,
    azure: AzureConfig,
    keyVault: KeyVaultConfig.prefault({}),
    pki: PkiConfig,
    identity: IdentityConfig,
    access: AccessConfig,
    workers: z.array(WorkerConfig).default([]),
    kubernetes: KubernetesConfig,
    database: DatabaseConfig.prefault({}),
    temporal: TemporalConfig.prefault({}),
});
export type StackConfigInput = z.input<typeof StackConfig>;
export type StackConfig = z.infer<typeof StackConfig>;

/** Config keys read by the program (each a structured value under `temporal-azure:`). */
export const CONFIG_KEYS = Object.keys(StackConfig.shape) as Array<keyof StackConfig>;
