import { setupOfflineEngine, type CallEmulator, type Emulator, type OfflineEngine, type OfflineEngineOptions } from "../engine";
import { tlsCalls, tlsEmulators, tlsVolatile } from "./tls";
import { azureCalls, azureEmulators, azureVolatile } from "./azure";
import { azurePlatformCalls, azurePlatformEmulators, azurePlatformVolatile } from "./azure-platform";
import { azureadCalls, azureadEmulators, azureadVolatile } from "./azuread";
import { kubernetesCalls, kubernetesEmulators } from "./kubernetes";

/** Every resource emulator the offline engine knows, by type token. */
export const ALL_EMULATORS: Record<string, Emulator> = {
    ...tlsEmulators,
    ...azureEmulators,
    ...azurePlatformEmulators,
    ...azureadEmulators,
    ...kubernetesEmulators,
};

/** Every provider function the offline engine answers, by token. */
export const ALL_CALLS: Record<string, CallEmulator> = {
    ...tlsCalls,
    ...azureCalls,
    ...azurePlatformCalls,
    ...azureadCalls,
    ...kubernetesCalls,
};

/** Per type, the computed attributes that differ between two runs of the same program (see `RecordedResource.volatilePaths`). */
export const ALL_VOLATILE: Record<string, string[]> = {
    ...tlsVolatile,
    ...azureVolatile,
    ...azurePlatformVolatile,
    ...azureadVolatile,
};

/** The offline engine with every emulator: what the offline plan and whole-program tests use. */
export function setupFullEngine(options: OfflineEngineOptions = {}): OfflineEngine {
    return setupOfflineEngine({ ...options, emulators: { ...ALL_EMULATORS, ...options.emulators }, calls: { ...ALL_CALLS, ...options.calls }, volatile: { ...ALL_VOLATILE, ...options.volatile } });
}
