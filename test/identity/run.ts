import * as pulumi from "@pulumi/pulumi";
import { setupOfflineEngine, unwrap, type OfflineEngine } from "../../scripts/lib/offline/engine";
import { azureadCalls, azureadEmulators } from "../../scripts/lib/offline/emulators/azuread";
import type { TemporalIdentity, TemporalIdentityArgs } from "../../infra/identity";
// Pure (registers nothing), so importing it before the engine is set up is safe.
import { temporalIdentityArgs } from "../../infra/identity/args";
import type { ResolvedConfig } from "../../infra/config";
import { sampleConfig } from "./fixtures";

/** What the component passed to one child: its inputs as given (Outputs, secrets intact) and its options. */
export interface Registration {
    type: string;
    name: string;
    props: Record<string, unknown>;
    opts: pulumi.ResourceOptions;
}

export interface IdentityRun {
    engine: OfflineEngine;
    identity: TemporalIdentity;
    cfg: ResolvedConfig;
    args: TemporalIdentityArgs;
    registrations: Registration[];
}

export function identityArgs(cfg: ResolvedConfig, workerCertificatesPem: Record<string, string>): TemporalIdentityArgs {
    const rg = `rg-temporal-${cfg.stack}`;
    return temporalIdentityArgs(cfg, {
        resourceGroupName: rg,
        keyVault: { name: `kv-temporal-${cfg.stack}`, id: `/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/kv-temporal-${cfg.stack}` },
        workerCertificatesPem,
        oidcIssuerUrl: cfg.kubernetes.oidcIssuerUrl,
    });
}

/**
 * Builds TemporalIdentity for the sample stack on the offline engine (azuread emulators only) and
 * waits until every child it constructed has been registered. The engine is process-wide: call once
 * per test file.
 */
export async function runSampleIdentity(options: { stack?: string; certificatePem: string; componentName?: string; cfg?: ResolvedConfig }): Promise<IdentityRun> {
    const stack = options.stack ?? "dev";
    const engine = setupOfflineEngine({ stack, emulators: azureadEmulators, calls: azureadCalls });
    const { TemporalIdentity } = await import("../../infra/identity");
    const cfg = options.cfg ?? sampleConfig(stack);
    const args = identityArgs(cfg, { "payments-worker": options.certificatePem });
    const registrations: Registration[] = [];
    const identity = new TemporalIdentity(options.componentName ?? "temporal", args, {
        // SDK-side transformations see every child's inputs and options, also under mocks.
        transformations: [
            (t) => {
                registrations.push({ type: t.type, name: t.name, props: t.props as Record<string, unknown>, opts: t.opts });
                return undefined;
            },
        ],
    });
    await unwrap(pulumi.all([identity.apiScope, identity.uiScopesString, identity.uiClientSecret]));
    await registered(engine, registrations);
    return { engine, identity, cfg, args, registrations };
}

/** Waits until every constructed child has reached the engine (their inputs may resolve late). */
export async function registered(engine: OfflineEngine, registrations: Registration[]): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
        const missing = registrations.filter((r) => !engine.resources.some((e) => e.type === r.type && e.name === r.name));
        if (missing.length === 0) return;
        if (Date.now() > deadline) throw new Error(`not registered: ${missing.map((m) => `${m.type} ${m.name}`).join(", ")}`);
        await new Promise((r) => setTimeout(r, 5));
    }
}

const TIME_FIELDS = new Set(["rfc3339", "rotationRfc3339", "startDate", "endDate", "expires", "year", "month", "day", "hour", "minute", "second", "unix"]);

/** Every registered resource with its id and state, minus the emulated clock's fields. */
export function digest(engine: OfflineEngine): unknown[] {
    return engine.resources.map((r) =>
        JSON.parse(JSON.stringify({ type: r.type, name: r.name, id: r.id, state: r.state }, (k, v: unknown) => (TIME_FIELDS.has(k) ? undefined : v))),
    );
}
