import type { Emulator } from "../engine";

/** Provider-side attributes of azure resources, computed locally for the offline plan and the tests. */
export const azureEmulators: Record<string, Emulator> = {};
