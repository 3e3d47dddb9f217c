import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "../config/profiles";
import type { TemporalIdentityArgs } from "./index";

/** What the program wires in from other components (everything else comes from the stack config). */
export interface TemporalIdentityWiring {
    resourceGroupName: pulumi.Input<string>;
    keyVault: TemporalIdentityArgs["keyVault"];
    workerCertificatesPem: TemporalIdentityArgs["workerCertificatesPem"];
    oidcIssuerUrl?: pulumi.Input<string> | undefined;
}

/** TemporalIdentity's arguments from the resolved stack config and the program's wiring. */
export function temporalIdentityArgs(cfg: ResolvedConfig, wiring: TemporalIdentityWiring): TemporalIdentityArgs {
    const { oidcIssuerUrl, ...rest } = wiring;
    return {
        stack: cfg.stack,
        profile: cfg.profile,
        tenantId: cfg.azure.tenantId,
        location: cfg.azure.location,
        identity: cfg.identity,
        access: cfg.access,
        workers: cfg.workers,
        ...rest,
        ...(oidcIssuerUrl !== undefined ? { oidcIssuerUrl } : {}),
    };
}
