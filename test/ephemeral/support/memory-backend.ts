import type { ConfigEntry, EngineOptions, EphemeralBackend, OutputEntry, StackListing, StateResource, UpSummary } from "../../../scripts/lib/ephemeral/backend";
import { toConfigMap } from "../../../scripts/lib/ephemeral/automation";

/**
 * An in-memory Pulumi backend for the lifecycle's tests: stacks with config, tags, outputs and
 * state, every call recorded in order, and failures injectable per operation. It behaves as the
 * CLI does where the lifecycle depends on it: operations on a missing stack fail with the CLI's
 * "no stack named" error, and a stack that still has resources cannot be removed.
 */

export interface MemoryStack {
    config: Record<string, ConfigEntry>;
    tags: Record<string, string>;
    outputs: Record<string, OutputEntry>;
    state: StateResource[];
    lastUpdate?: string;
    updateInProgress?: boolean;
}

export interface Deployment {
    outputs: Record<string, OutputEntry>;
    state: StateResource[];
}

/** An error shaped like the Automation API's CommandError. */
export function commandError(stderr: string, name = "CommandError"): Error {
    const err = new Error(`code: 255\n stdout: \n stderr: ${stderr}\n`);
    err.name = name;
    Object.assign(err, { commandResult: { stdout: "", stderr, code: 255 } });
    return err;
}

export class MemoryBackend implements EphemeralBackend {
    readonly calls: string[] = [];
    readonly stacks = new Map<string, MemoryStack>();
    /** Operation name → error thrown (once per call) instead of doing it. */
    readonly failures = new Map<string, Error>();
    /** What `up` deploys. */
    deployment: Deployment = { outputs: {}, state: [] };

    private record(op: string, stack?: string): void {
        this.calls.push(stack === undefined ? op : `${op} ${stack}`);
        const failure = this.failures.get(op);
        if (failure) throw failure;
    }

    private get(stack: string): MemoryStack {
        const s = this.stacks.get(stack);
        if (!s) throw commandError(`error: no stack named '${stack}' found`, "StackNotFoundError");
        return s;
    }

    /** Ops only (without stack names), for order assertions. */
    get ops(): string[] {
        return this.calls.map((c) => c.split(" ")[0]!);
    }

    async createOrSelect(stack: string): Promise<void> {
        this.record("createOrSelect", stack);
        if (!this.stacks.has(stack)) this.stacks.set(stack, { config: {}, tags: {}, outputs: {}, state: [] });
    }

    async exists(stack: string): Promise<boolean> {
        this.record("exists", stack);
        return this.stacks.has(stack);
    }

    async getConfig(stack: string): Promise<Record<string, ConfigEntry>> {
        this.record("getConfig", stack);
        return structuredClone(this.get(stack).config);
    }

    async setConfig(stack: string, config: Record<string, unknown>): Promise<void> {
        this.record("setConfig", stack);
        Object.assign(this.get(stack).config, toConfigMap(config));
    }

    async removeConfig(stack: string, keys: string[]): Promise<void> {
        this.record("removeConfig", stack);
        for (const k of keys) delete this.get(stack).config[k];
    }

    async setTags(stack: string, tags: Record<string, string>): Promise<void> {
        this.record("setTags", stack);
        Object.assign(this.get(stack).tags, tags);
    }

    async tags(stack: string): Promise<Record<string, string>> {
        this.record("tags", stack);
        return { ...this.get(stack).tags };
    }

    async up(stack: string, options: EngineOptions & { policyPacks: string[] }): Promise<UpSummary> {
        this.record("up", stack);
        const s = this.get(stack);
        options.onOutput(`Updating (${stack}) with policy packs ${options.policyPacks.join(", ")}\n`);
        const created = this.deployment.state.filter((r) => !s.state.some((x) => x.urn === r.urn)).length;
        s.outputs = structuredClone(this.deployment.outputs);
        s.state = structuredClone(this.deployment.state);
        return { result: "succeeded", changes: created > 0 ? { create: created } : { same: s.state.length } };
    }

    async outputs(stack: string): Promise<Record<string, OutputEntry>> {
        this.record("outputs", stack);
        return structuredClone(this.get(stack).outputs);
    }

    async state(stack: string): Promise<StateResource[]> {
        this.record("state", stack);
        return structuredClone(this.get(stack).state);
    }

    async destroy(stack: string, options: EngineOptions): Promise<UpSummary> {
        this.record("destroy", stack);
        const s = this.get(stack);
        options.onOutput(`Destroying (${stack})\n`);
        const n = s.state.length;
        s.state = [];
        s.outputs = {};
        return { result: "succeeded", changes: n > 0 ? { delete: n } : {} };
    }

    async remove(stack: string): Promise<void> {
        this.record("remove", stack);
        if (this.get(stack).state.length > 0) throw commandError(`error: '${stack}' still has resources; removal rejected`);
        this.stacks.delete(stack);
    }

    async list(): Promise<StackListing[]> {
        this.record("list");
        return [...this.stacks.entries()].map(([name, s]) => ({
            name,
            resourceCount: s.state.length,
            ...(s.lastUpdate !== undefined ? { lastUpdate: s.lastUpdate } : {}),
            ...(s.updateInProgress !== undefined ? { updateInProgress: s.updateInProgress } : {}),
        }));
    }
}
