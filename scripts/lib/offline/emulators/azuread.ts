import type { CallEmulator, Emulator } from "../engine";

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const azureadEmulators: Record<string, Emulator> = {};

/** Provider functions (invokes) answered locally. */
export const azureadCalls: Record<string, CallEmulator> = {};
