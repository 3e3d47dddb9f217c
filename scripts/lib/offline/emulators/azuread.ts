import type { Emulator } from "../engine";

/** Provider-side attributes of azuread resources, computed locally for the offline plan and the tests. */
export const azureadEmulators: Record<string, Emulator> = {};
