import type { ResolvedConfig } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { keySpec, type CertificateProfile } from "../../infra/pki/profiles";
import { revealSecrets, setupOfflineEngine, settle, type Emulator, type OfflineEngine, type RecordedResource } from "../../scripts/lib/offline/engine";
import { ALL_CALLS, ALL_EMULATORS } from "../../scripts/lib/offline/emulators";
import { certificateRequest, generatePrivateKey, locallySignedCertificate } from "../../scripts/lib/offline/emulators/tls";
import { exampleStackRaw } from "../support/config";
import type { TemporalPki } from "../../infra/pki";

/** The dev example stack's raw config, with `patch` applied per section. */
export function stackRaw(patch: Record<string, unknown> = {}): Record<string, unknown> {
    const raw = exampleStackRaw("dev");
    const out: Record<string, unknown> = { ...raw };
    for (const [key, value] of Object.entries(patch)) {
        const base = raw[key];
        out[key] = typeof value === "object" && value !== null && !Array.isArray(value) && typeof base === "object" && base !== null ? { ...base, ...value } : value;
    }
    return out;
}

export const PROFILE_PATCH: Record<"dev" | "prod" | "ephemeral", Record<string, unknown>> = {
    dev: {},
    prod: { profile: "prod", identity: { allowLocalhostCallback: false }, keyVault: { allowedIpRanges: ["203.0.113.0/28"] } },
    ephemeral: { profile: "ephemeral", keyVault: { publicNetworkAccess: "Enabled", softDeleteRetentionDays: 7 } },
};

export interface BuiltPki {
    engine: OfflineEngine;
    pki: TemporalPki;
    cfg: ResolvedConfig;
}

/**
 * Builds the real component on the offline engine with the real emulators (tls, Azure), as the
 * offline plan does. `previous` carries state over from an earlier build: a resource whose inputs
 * did not change keeps its outputs, as Pulumi keeps it on `pulumi up` (so a CA key survives the
 * steps of a rotation while a leaf whose issuer changed is reissued).
 */
export async function buildPki(options: { stack?: string; raw?: Record<string, unknown>; previous?: RecordedResource[]; extraEmulators?: Record<string, Emulator> } = {}): Promise<BuiltPki> {
    const stack = options.stack ?? "dev";
    const cfg = parseStackConfig(options.raw ?? stackRaw(), stack);
    const emulators = options.previous ? withState(options.previous) : ALL_EMULATORS;
    const engine = setupOfflineEngine({ stack, emulators: { ...emulators, ...options.extraEmulators }, calls: ALL_CALLS });
    const { TemporalPki, temporalPkiArgs } = await import("../../infra/pki");
    const pki = new TemporalPki("pki", temporalPkiArgs(cfg, "rg-temporal"));
    await settle();
    return { engine, pki, cfg };
}

/** Emulators that keep a resource's previous outputs when its inputs are unchanged (a no-op `pulumi up`). */
export function withState(previous: RecordedResource[]): Record<string, Emulator> {
    const key = (inputs: unknown) => JSON.stringify(inputs);
    return Object.fromEntries(
        Object.entries(ALL_EMULATORS).map(([type, emulate]) => [
            type,
            ((args) => {
                const before = previous.find((r) => r.type === type && r.name === args.name);
                return before && key(before.inputs) === key(revealSecrets(args.inputs)) ? before.state : emulate(args);
            }) as Emulator,
        ]),
    );
}

/** The PEM state of one recorded resource. */
export function stateOf(engine: OfflineEngine, type: string, name: string, field: string): string {
    const value = engine.byName(type, name).state[field];
    if (typeof value !== "string") throw new Error(`${type} ${name} has no ${field}`);
    return value;
}

export interface Minted {
    key: string;
    cert: string;
    /** Leaf + issuer, as `tls.crt` holds it. */
    chain: string;
}

/**
 * Mints a certificate from a profile the way the component does (same emulator, same profile
 * data), optionally at another time: for expired certificates and foreign or retired CAs.
 */
export async function mintFromProfile(profile: CertificateProfile, issuer: { certPem: string; privateKeyPem: string }, now?: Date): Promise<Minted> {
    const spec = keySpec(profile.keyAlgorithm);
    const key = generatePrivateKey(spec.algorithm, spec.ecdsaCurve, spec.rsaBits);
    const csr = await certificateRequest(key.privateKeyPem, profile.subject, profile.dnsNames);
    const cert = await locallySignedCertificate(
        csr.certRequestPem,
        issuer.certPem,
        issuer.privateKeyPem,
        { allowedUses: profile.allowedUses, validityPeriodHours: profile.validityPeriodHours, earlyRenewalHours: profile.earlyRenewalHours, isCaCertificate: false },
        now,
    );
    return { key: key.privateKeyPemPkcs8, cert: cert.certPem, chain: `${cert.certPem}${issuer.certPem}` };
}
