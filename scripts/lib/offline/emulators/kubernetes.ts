import type { Emulator } from "../engine";

/** Provider-side attributes of kubernetes resources, computed locally for the offline plan and the tests. */
export const kubernetesEmulators: Record<string, Emulator> = {};
