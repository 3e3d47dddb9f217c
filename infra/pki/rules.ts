import type { ConfigRule } from "../config/validate";

/** Cross-section config rules of this component, run at preview before any resource is registered. */
export const pkiRules: ConfigRule[] = [];
