import type { LocalWorkspaceOptions, Stack, StackSummary, Workspace } from "@pulumi/pulumi/automation";
import { automationFailure } from "../live/stack-outputs";
import type { ConfigEntry, EngineOptions, EphemeralBackend, OutputEntry, StackListing, StateResource, UpSummary } from "./backend";

/**
 * The config as `pulumi config set-all --json` reads it (the shape `pulumi config --json` prints):
 * structured values as objects, so the stack's file reads like the template.
 */
export function toConfigJson(config: Record<string, unknown>): Record<string, { value: string; objectValue?: unknown; secret: false }> {
    const out: Record<string, { value: string; objectValue?: unknown; secret: false }> = {};
    for (const [key, value] of Object.entries(config)) {
        out[key] = value !== null && typeof value === "object" ? { value: JSON.stringify(value), objectValue: value, secret: false } : { value: String(value), secret: false };
    }
    return out;
}

/**
 * The config as plain `setAllConfig` values (any CLI version): structured values as JSON text with
 * `path: false`. The program parses them the same way (`infra/index.ts` JSON-parses every value).
 */
export function toConfigMap(config: Record<string, unknown>): Record<string, { value: string; secret: false }> {
    const out: Record<string, { value: string; secret: false }> = {};
    for (const [key, value] of Object.entries(config)) out[key] = { value: value !== null && typeof value === "object" ? JSON.stringify(value) : String(value), secret: false };
    return out;
}

/** The slice of a Stack this backend uses. */
export type AutomationStack = Pick<
    Stack,
    "getAllConfig" | "setAllConfig" | "setAllConfigJson" | "removeAllConfig" | "setTag" | "listTags" | "up" | "outputs" | "exportStack" | "destroy"
>;
export type AutomationWorkspace = Pick<Workspace, "listStacks" | "removeStack">;

/** The Automation API entry points, injectable so tests can stand in for the Pulumi CLI. */
export interface AutomationApi {
    createOrSelectStack(args: { stackName: string; workDir: string }, opts?: LocalWorkspaceOptions): Promise<AutomationStack>;
    selectStack(args: { stackName: string; workDir: string }, opts?: LocalWorkspaceOptions): Promise<AutomationStack>;
    createWorkspace(opts: LocalWorkspaceOptions): Promise<AutomationWorkspace>;
}

/** The real Automation API (LocalWorkspace: runs the Pulumi CLI found on PATH). */
export async function localAutomation(): Promise<AutomationApi> {
    // Loaded on demand: usage errors and the pure steps of `up` need neither the module nor the CLI.
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    return {
        createOrSelectStack: (args, opts) => LocalWorkspace.createOrSelectStack(args, opts),
        selectStack: (args, opts) => LocalWorkspace.selectStack(args, opts),
        createWorkspace: (opts) => LocalWorkspace.create(opts),
    };
}

function failureText(err: unknown): string {
    const stderr = (err as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "";
    return `${err instanceof Error ? err.message : String(err)}\n${stderr}`;
}

/** A CLI older than `pulumi config set-all --json` (added in 2025) rejects the flag. */
export function cliLacksJsonConfig(err: unknown): boolean {
    return /unknown flag: --json/.test(failureText(err));
}

export function isStackNotFound(err: unknown): boolean {
    return (err as Error | undefined)?.name === "StackNotFoundError" || /no stack named .*found/i.test(failureText(err));
}

export interface AutomationFailure {
    /** The Pulumi CLI or its login is missing: the job's environment, not the stack (exit 3). */
    setup: boolean;
    message: string;
}

export const INSTALL_PULUMI =
    "install it (curl -fsSL https://get.pulumi.com | sh; macOS: brew install pulumi/tap/pulumi; Windows: winget install pulumi; see https://www.pulumi.com/docs/install/), then log in to your backend (pulumi login)";

/** What went wrong in a Pulumi operation, in one line, without the CLI's noise. */
export function describeAutomationFailure(err: unknown): AutomationFailure {
    const text = failureText(err);
    if (/ENOENT/.test(text) && /pulumi/.test(text)) return { setup: true, message: `the Pulumi CLI (pulumi) is not installed or not on PATH: ${INSTALL_PULUMI}` };
    if ((err as Error | undefined)?.name === "ConcurrentUpdateError" || /\[409\] Conflict|currently (being )?updat|locked by/i.test(text)) {
        return { setup: false, message: `another update of the stack is running (${automationFailure(err)}): wait for it, or cancel it with pulumi cancel` };
    }
    // With an empty stderr the first line is the CommandError's "code: 255": the engine's own words were streamed already.
    const raw = automationFailure(err);
    const code = /^code: (-?\d+)/.exec(raw);
    const line = code ? `the Pulumi CLI failed (exit ${code[1]}); its output is above` : raw;
    if (/PULUMI_ACCESS_TOKEN|pulumi login|not logged in|PULUMI_CONFIG_PASSPHRASE|passphrase must be set/i.test(text)) return { setup: true, message: line };
    return { setup: false, message: line };
}

export interface AutomationBackendOptions {
    /** The Pulumi project (Pulumi.yaml): this repository's root. */
    workDir: string;
    /** Secrets provider of new stacks (e.g. azurekeyvault://...); the backend's default when absent. */
    secretsProvider?: string;
    /** Defaults to the real LocalWorkspace. */
    automation?: AutomationApi;
}

/** `EphemeralBackend` over the Automation API: every call runs the Pulumi CLI in `workDir`. */
export class AutomationBackend implements EphemeralBackend {
    private api?: AutomationApi;
    private workspace?: AutomationWorkspace;
    private readonly stacks = new Map<string, AutomationStack>();

    constructor(private readonly options: AutomationBackendOptions) {}

    private async automation(): Promise<AutomationApi> {
        this.api ??= this.options.automation ?? (await localAutomation());
        return this.api;
    }

    private workspaceOptions(): LocalWorkspaceOptions {
        return this.options.secretsProvider !== undefined ? { secretsProvider: this.options.secretsProvider } : {};
    }

    private async ws(): Promise<AutomationWorkspace> {
        this.workspace ??= await (await this.automation()).createWorkspace({ workDir: this.options.workDir, ...this.workspaceOptions() });
        return this.workspace;
    }

    private async stack(name: string): Promise<AutomationStack> {
        const selected = this.stacks.get(name);
        if (selected) return selected;
        const stack = await (await this.automation()).selectStack({ stackName: name, workDir: this.options.workDir }, this.workspaceOptions());
        this.stacks.set(name, stack);
        return stack;
    }

    async createOrSelect(name: string): Promise<void> {
        const stack = await (await this.automation()).createOrSelectStack({ stackName: name, workDir: this.options.workDir }, this.workspaceOptions());
        this.stacks.set(name, stack);
    }

    async exists(name: string): Promise<boolean> {
        try {
            await this.stack(name);
            return true;
        } catch (err) {
            if (isStackNotFound(err)) return false;
            throw err;
        }
    }

    async getConfig(name: string): Promise<Record<string, ConfigEntry>> {
        const all = await (await this.stack(name)).getAllConfig();
        return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, { value: v.value, secret: v.secret === true }]));
    }

    async setConfig(name: string, config: Record<string, unknown>): Promise<void> {
        const stack = await this.stack(name);
        try {
            await stack.setAllConfigJson(JSON.stringify(toConfigJson(config)));
        } catch (err) {
            if (!cliLacksJsonConfig(err)) throw err;
            await stack.setAllConfig(toConfigMap(config), false);
        }
    }

    async removeConfig(name: string, keys: string[]): Promise<void> {
        if (keys.length > 0) await (await this.stack(name)).removeAllConfig(keys, false);
    }

    async setTags(name: string, tags: Record<string, string>): Promise<void> {
        const stack = await this.stack(name);
        for (const [key, value] of Object.entries(tags)) await stack.setTag(key, value);
    }

    async tags(name: string): Promise<Record<string, string>> {
        return { ...(await (await this.stack(name)).listTags()) };
    }

    async up(name: string, options: EngineOptions & { policyPacks: string[] }): Promise<UpSummary> {
        const result = await (await this.stack(name)).up({ policyPacks: options.policyPacks, onOutput: options.onOutput, color: "never" });
        return { result: result.summary.result, changes: { ...(result.summary.resourceChanges ?? {}) } as Record<string, number> };
    }

    async outputs(name: string): Promise<Record<string, OutputEntry>> {
        return { ...(await (await this.stack(name)).outputs()) };
    }

    async state(name: string): Promise<StateResource[]> {
        const exported = await (await this.stack(name)).exportStack();
        const resources = ((exported.deployment as { resources?: unknown[] } | undefined)?.resources ?? []) as Array<Record<string, unknown>>;
        return resources.map((r) => ({ type: String(r.type), urn: String(r.urn), outputs: (r.outputs ?? {}) as Record<string, unknown> }));
    }

    async destroy(name: string, options: EngineOptions): Promise<UpSummary> {
        const result = await (await this.stack(name)).destroy({ onOutput: options.onOutput, color: "never" });
        return { result: result.summary.result, changes: { ...(result.summary.resourceChanges ?? {}) } as Record<string, number> };
    }

    async remove(name: string): Promise<void> {
        await (await this.ws()).removeStack(name);
        this.stacks.delete(name);
    }

    async list(): Promise<StackListing[]> {
        const stacks: StackSummary[] = await (await this.ws()).listStacks();
        return stacks.map((s) => ({
            name: s.name,
            ...(s.lastUpdate !== undefined ? { lastUpdate: s.lastUpdate } : {}),
            ...(s.updateInProgress !== undefined ? { updateInProgress: s.updateInProgress } : {}),
            ...(s.resourceCount !== undefined ? { resourceCount: s.resourceCount } : {}),
        }));
    }
}
