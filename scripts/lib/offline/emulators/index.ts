import type { Emulator } from "../engine";
import { tlsEmulators } from "./tls";
import { azureEmulators } from "./azure";
import { azureadEmulators } from "./azuread";
import { kubernetesEmulators } from "./kubernetes";

/** Every emulator the offline engine knows, by resource type token. */
export const ALL_EMULATORS: Record<string, Emulator> = {
    ...tlsEmulators,
    ...azureEmulators,
    ...azureadEmulators,
    ...kubernetesEmulators,
};
