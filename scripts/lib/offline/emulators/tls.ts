import type { CallEmulator, Emulator } from "../engine";

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const tlsEmulators: Record<string, Emulator> = {};

/** Provider functions (invokes) answered locally. */
export const tlsCalls: Record<string, CallEmulator> = {};
