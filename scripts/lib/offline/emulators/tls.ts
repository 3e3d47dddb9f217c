import type { Emulator } from "../engine";

/** Provider-side attributes of tls resources, computed locally for the offline plan and the tests. */
export const tlsEmulators: Record<string, Emulator> = {};
