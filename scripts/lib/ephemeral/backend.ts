/**
 * The Pulumi operations the ephemeral lifecycle needs, keyed by stack name. `AutomationBackend`
 * (automation.ts) is the real one, over the Automation API's LocalWorkspace; the tests use an
 * in-memory one. Nothing else in scripts/lib/ephemeral talks to Pulumi.
 */

export interface ConfigEntry {
    value: string;
    secret: boolean;
}

export interface OutputEntry {
    value: unknown;
    secret: boolean;
}

/** One resource of the stack's state (`pulumi stack export`): what `down` needs to find the vault. */
export interface StateResource {
    type: string;
    urn: string;
    outputs: Record<string, unknown>;
}

export interface StackListing {
    name: string;
    lastUpdate?: string;
    updateInProgress?: boolean;
    resourceCount?: number;
}

export interface EngineOptions {
    /** Receives the engine's progress output as the CLI prints it. */
    onOutput: (text: string) => void;
}

export interface UpSummary {
    result: string;
    /** Operation → count, e.g. `{ create: 66 }`. */
    changes: Record<string, number>;
}

export interface EphemeralBackend {
    /** Creates the stack, or selects it when it exists (`LocalWorkspace.createOrSelectStack`). */
    createOrSelect(stack: string): Promise<void>;
    /** Selects the stack; false when the backend has no such stack. */
    exists(stack: string): Promise<boolean>;
    getConfig(stack: string): Promise<Record<string, ConfigEntry>>;
    /** Sets every key of `config` (full keys, plain values; objects stay structured). */
    setConfig(stack: string, config: Record<string, unknown>): Promise<void>;
    removeConfig(stack: string, keys: string[]): Promise<void>;
    setTags(stack: string, tags: Record<string, string>): Promise<void>;
    tags(stack: string): Promise<Record<string, string>>;
    up(stack: string, options: EngineOptions & { policyPacks: string[] }): Promise<UpSummary>;
    outputs(stack: string): Promise<Record<string, OutputEntry>>;
    state(stack: string): Promise<StateResource[]>;
    destroy(stack: string, options: EngineOptions): Promise<UpSummary>;
    /** Removes the stack, its history and its config file. */
    remove(stack: string): Promise<void>;
    /** The stacks of this project in the current backend. */
    list(): Promise<StackListing[]>;
}
