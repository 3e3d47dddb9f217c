// First: before @pulumi/pulumi loads (see the module).
import "./defer-code-paths";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { revealSecrets } from "./secrets";

/**
 * The offline engine: Pulumi's documented mock runtime (`pulumi.runtime.setMocks`) with local
 * emulators that compute what the providers would (ids, derived attributes, real TLS material),
 * and a record of every resource the program registers. The offline plan and the tests both run
 * the real program on it; nothing here talks to Azure or Kubernetes.
 */

export interface RecordedResource {
    type: string;
    name: string;
    /** Inputs as the program passed them, secret values revealed (what the provider would receive). */
    inputs: Record<string, unknown>;
    /** Inputs as the mock runtime handed them over: secret values still in Pulumi's secret envelope. */
    rawInputs: Record<string, unknown>;
    /** Dotted paths of the inputs that were Pulumi secrets (e.g. `stringData`, `properties.value`). */
    secretPaths: string[];
    /**
     * Per top-level input, the resources (`type::name`) its value came from: the property
     * dependencies the Pulumi SDK computed and sent with the registration, as the engine receives them.
     */
    propertyDependencies: Record<string, string[]>;
    /** Inputs plus what the emulator computed, secrets revealed. */
    state: Record<string, unknown>;
    /**
     * Dotted paths of `state` whose values are random by nature or tied to the clock (keys,
     * certificates, generated passwords, validity windows): they differ between two runs of the same
     * program, so a report a reviewer diffs names their source instead of printing them.
     */
    volatilePaths: string[];
    id: string;
    custom: boolean;
    provider?: string;
}

/** Computes provider-side attributes for one resource type from its inputs; a string `id` becomes the resource id. */
export type Emulator = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | Promise<Record<string, unknown>>;
/** Answers one provider function (invoke). */
export type CallEmulator = (inputs: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface OfflineEngineOptions {
    project?: string;
    stack?: string;
    /** Stack config as `<project>:<key>` → value (structured values as objects). */
    config?: Record<string, unknown>;
    /** Keys of `config` that are secret. */
    secretKeys?: string[];
    emulators?: Record<string, Emulator>;
    calls?: Record<string, CallEmulator>;
    /** Per resource type: the attributes its emulator computes that are random by nature or tied to the clock. */
    volatile?: Record<string, string[]>;
    /** When the emulated deployment happens (certificates' validity, rotation schedules); default: now, to the second. */
    now?: Date;
    /** Azure identity the emulated deployment runs as. */
    tenantId?: string;
    subscriptionId?: string;
    deployerObjectId?: string;
}

/** A request a provider refused (the emulator threw): the resource was not created. */
export interface EmulatorError {
    type: string;
    name: string;
    message: string;
}

export interface OfflineEngine {
    resources: RecordedResource[];
    /** Every registration the emulators refused, in the order they happened. */
    errors: EmulatorError[];
    /** Resources of one type token, in registration order. */
    ofType(type: string): RecordedResource[];
    /** The one resource of a type whose logical name matches. */
    byName(type: string, name: string | RegExp): RecordedResource;
}

export { isSecretEnvelope, revealSecrets, SECRET_SIG, SECRET_SIG_KEY } from "./secrets";

/** A stable fake GUID derived from a seed, so ids do not change between runs. */
export function stableGuid(seed: string): string {
    const h = createHash("sha256").update(seed).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

let runClock: Date | undefined;

/** A time as the providers write it: RFC 3339 in UTC, whole seconds. */
export function rfc3339(d: Date): string {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The time the emulated deployment happens: one instant per run (set by `setupOfflineEngine`, to
 * the second, as certificates store it), so every emulator that reads the clock agrees. Real TLS
 * handshakes verify the certificates at the real time, so the default is now.
 */
export function emulatedNow(): Date {
    runClock ??= new Date(Math.floor(Date.now() / 1000) * 1000);
    return new Date(runClock.getTime());
}

/** The paths under `value` (dotted, as `secretPaths`) that `paths` names and that hold a non-empty value. */
function presentPaths(value: Record<string, unknown>, paths: string[]): string[] {
    return paths.filter((p) => {
        const v = p.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), value);
        return v !== undefined && v !== null && v !== "";
    });
}

export const DEFAULT_IDENTITY = {
    tenantId: "11111111-2222-3333-4444-555555555555",
    subscriptionId: "00000000-1111-2222-3333-444444444444",
    deployerObjectId: "11111111-2222-3333-4444-555555555555",
};

export function setupOfflineEngine(options: OfflineEngineOptions = {}): OfflineEngine {
    const project = options.project ?? "temporal-azure";
    const stack = options.stack ?? "test";
    const identity = { ...DEFAULT_IDENTITY, ...options };
    const resources: RecordedResource[] = [];
    const errors: EmulatorError[] = [];
    const emulators = options.emulators ?? {};
    const volatile = options.volatile ?? {};
    runClock = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
    const calls: Record<string, CallEmulator> = {
        "azure-native:authorization:getClientConfig": () => ({
            clientId: stableGuid("deployer-client"),
            objectId: identity.deployerObjectId,
            subscriptionId: identity.subscriptionId,
            tenantId: identity.tenantId,
        }),
        "azuread:index/getClientConfig:getClientConfig": () => ({
            clientId: stableGuid("deployer-client"),
            objectId: identity.deployerObjectId,
            tenantId: identity.tenantId,
        }),
        ...options.calls,
    };

    if (options.config) {
        const all: Record<string, string> = {};
        for (const [k, v] of Object.entries(options.config)) all[k] = typeof v === "string" ? v : JSON.stringify(v);
        pulumi.runtime.setAllConfig(all, options.secretKeys ?? []);
    }

    const propertyDependencies = new Map<string, Record<string, string[]>>();
    void pulumi.runtime.setMocks(
        {
            async newResource(args) {
                const emulate = emulators[args.type];
                let computed: Record<string, unknown> = {};
                try {
                    computed = emulate ? await emulate(args) : {};
                } catch (err) {
                    errors.push({ type: args.type, name: args.name, message: err instanceof Error ? err.message : String(err) });
                    throw err;
                }
                // An emulator may set the provider's own id format (e.g. `/applications/<objectId>`).
                const id = args.id || (args.custom ? (typeof computed.id === "string" && computed.id !== "" ? computed.id : stableGuid(`${args.type}/${args.name}`)) : "");
                const state = { ...args.inputs, ...computed };
                const secretPaths: string[] = [];
                const inputs = revealSecrets(args.inputs as Record<string, unknown>, secretPaths);
                resources.push({
                    type: args.type,
                    name: args.name,
                    inputs,
                    rawInputs: args.inputs as Record<string, unknown>,
                    secretPaths,
                    propertyDependencies: propertyDependencies.get(`${args.type}::${args.name}`) ?? {},
                    state: revealSecrets(state),
                    volatilePaths: presentPaths(computed, volatile[args.type] ?? []),
                    id,
                    custom: args.custom ?? false,
                    ...(args.provider ? { provider: args.provider } : {}),
                });
                return { id: args.custom ? id : undefined, state };
            },
            async call(args) {
                const answer = calls[args.token];
                if (!answer) throw new Error(`offline engine: no emulator for the function ${args.token}; add one to the engine's calls`);
                return answer(args.inputs as Record<string, unknown>);
            },
        },
        project,
        stack,
        false,
    );

    recordPropertyDependencies(propertyDependencies);

    return {
        resources,
        errors,
        ofType: (type) => resources.filter((r) => r.type === type),
        byName(type, name) {
            const found = resources.filter((r) => r.type === type && (typeof name === "string" ? r.name === name : name.test(r.name)));
            if (found.length !== 1) {
                throw new Error(`expected one ${type} named ${String(name)}, found ${found.length}: ${resources.filter((r) => r.type === type).map((r) => r.name).join(", ")}`);
            }
            return found[0]!;
        },
    };
}

/** `type::name` of a resource URN (`urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>`). */
export function resourceOfUrn(urn: string): string {
    const [, , qualifiedType = "", ...name] = urn.split("::");
    return `${qualifiedType.split("$").pop()}::${name.join("::")}`;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}

/**
 * The mock runtime hands the emulators a resource's inputs but not the dependencies the SDK sent
 * with them; they are read off the registration request on its way to the mock monitor.
 */
function recordPropertyDependencies(into: Map<string, Record<string, string[]>>): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource?: (req: RegisterRequest, callback: unknown) => unknown } | undefined;
    const register = monitor?.registerResource?.bind(monitor);
    if (!monitor || !register) throw new Error("offline engine: the mock monitor has no registerResource (a newer @pulumi/pulumi?): property dependencies cannot be recorded");
    monitor.registerResource = (req, callback) => {
        const deps: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((d, key) => {
            deps[key] = [...new Set(d.getUrnsList().map(resourceOfUrn))].sort();
        });
        into.set(`${req.getType()}::${req.getName()}`, deps);
        return register(req, callback);
    };
}

/** Resolves an output's value (the engine runs with preview off, so every value is known). */
export function unwrap<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => { resolve(v as T); return v; }));
}

/** True when the output is marked secret. */
export function isSecret(output: pulumi.Output<unknown> | pulumi.Input<unknown>): Promise<boolean> {
    return pulumi.isSecret(pulumi.output(output));
}

/**
 * Waits until every registration the program started has been answered, including resources
 * registered from inside `apply` callbacks: the wait Pulumi's language host makes before it exits
 * (`waitForRPCs`, exported by the runtime but not in its type declarations).
 */
export async function settleProgram(): Promise<void> {
    const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    if (typeof runtime.waitForRPCs !== "function") throw new Error("@pulumi/pulumi no longer exports runtime.waitForRPCs: the offline engine cannot tell when the program is done");
    await runtime.waitForRPCs();
}

/** Waits until the mock runtime has processed every pending registration. */
export async function settle(): Promise<void> {
    await new Promise((r) => setTimeout(r, 0));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
