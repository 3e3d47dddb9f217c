import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { runTokenAdmission } from "../../policies/pack/admission";
import { revealSecrets, type Emulator, type RecordedResource } from "../../scripts/lib/offline/engine";
import { isReadyForRenewal, tlsEmulators } from "../../scripts/lib/offline/emulators/tls";

/**
 * A planned stack, as the server harness needs it: the real program (`infra/index.ts`) run for an
 * example stack under the offline engine, reduced to the Helm release's values, the Kubernetes
 * Secrets the program creates (their bytes exactly as planned), the outputs, and the principals of
 * the access map with the app-role values Entra would put in their tokens.
 *
 * Successive plans of one stack behave like successive `pulumi up`s: given the previous plan
 * (`prior`), a TLS resource whose inputs did not change keeps its previous state (the same key, the
 * same certificate), as the provider does; a certificate inside its early-renewal window at
 * `renewAt` is reissued, as a scheduled `pulumi up` at that time would. That is what makes the
 * rotation tests real: step 2 of a CA rotation keeps step 1's CAs and reissues only the leaves.
 */

export interface PlanRequest {
    /** Example stack: stacks/Pulumi.<stack>.yaml. */
    stack: string;
    /** Stack config keys replaced (e.g. `{ "temporal-azure:pki": {...} }`). */
    config?: Record<string, unknown>;
    /** The previous plan of this stack, whose TLS state carries over. */
    prior?: PlannedStack;
    /** The time of this `pulumi up` for certificate renewal (ISO); default now. */
    renewAt?: string;
}

export interface Principal {
    /** `worker:<name>`, `user:<display name>`, `group:<display name or object id>`. */
    label: string;
    kind: "worker" | "user" | "group";
    objectId: string;
    /** A worker's client id (the `azp` of its app-only token). */
    clientId?: string;
    /** App-role values assigned on the API, as Entra puts them in `roles`. */
    roles: string[];
}

export interface PlannedStack {
    stack: string;
    release: { name: string; namespace: string };
    values: Record<string, unknown>;
    /** `<namespace>/<name>` → the Secret's data (stringData) exactly as planned. */
    secrets: Record<string, Record<string, string>>;
    outputs: Record<string, unknown>;
    /** The stack file's `temporal-azure:` values (with `config` applied). */
    raw: Record<string, unknown>;
    principals: Principal[];
    /** TLS resources (keys and certificates, secrets revealed): what a following plan carries over. */
    tlsState: Pick<RecordedResource, "type" | "name" | "inputs" | "state">[];
    /** Entra ID objects (`azuread:` resources, secrets revealed): app registrations, service principals, app-role assignments, the UI's client secret. */
    entra: Pick<RecordedResource, "type" | "name" | "inputs" | "state">[];
}

/** JSON with object keys sorted: equal inputs compare equal whatever their key order. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** The TLS emulators, keeping the previous update's state for unchanged inputs unless renewal is due at `renewAt`. */
export function priorStateEmulators(prior: PlannedStack["tlsState"], renewAt: Date = new Date()): Record<string, Emulator> {
    return Object.fromEntries(
        Object.entries(tlsEmulators).map(([type, emulate]): [string, Emulator] => [
            type,
            (args) => {
                const previous = prior.find((r) => r.type === type && r.name === args.name);
                const unchanged = previous !== undefined && canonical(previous.inputs) === canonical(revealSecrets(args.inputs as Record<string, unknown>));
                const validityEnd = previous?.state.validityEndTime;
                const due = typeof validityEnd === "string" && isReadyForRenewal(validityEnd, Number(previous?.state.earlyRenewalHours ?? 0), renewAt);
                return unchanged && !due ? structuredClone(previous.state) : emulate(args);
            },
        ]),
    );
}

function principalsOf(resources: RecordedResource[], outputs: Record<string, unknown>, admission: Awaited<ReturnType<typeof runTokenAdmission>>): Principal[] {
    const clientIdOf = new Map(resources.filter((r) => r.type === "azuread:index/servicePrincipal:ServicePrincipal").map((r) => [String(r.state.objectId), String(r.state.clientId)]));
    for (const r of resources.filter((x) => x.type === "azure-native:managedidentity:UserAssignedIdentity")) clientIdOf.set(String(r.state.principalId), String(r.state.clientId));
    const workerByClientId = new Map(Object.entries((outputs.workers ?? {}) as Record<string, { clientId: string }>).map(([name, w]) => [w.clientId, name]));
    return admission.principals.map((p): Principal => {
        if (p.principalType === "ServicePrincipal") {
            const clientId = clientIdOf.get(p.principalObjectId);
            const worker = clientId !== undefined ? workerByClientId.get(clientId) : undefined;
            if (worker === undefined || clientId === undefined) throw new Error(`service principal ${p.principalObjectId} has API roles but is no declared worker`);
            return { label: `worker:${worker}`, kind: "worker", objectId: p.principalObjectId, clientId, roles: p.roles };
        }
        const kind = p.principalType === "User" ? "user" : "group";
        return { label: `${kind}:${p.principalDisplayName || p.principalObjectId}`, kind, objectId: p.principalObjectId, roles: p.roles };
    });
}

/** Runs the plan in this process (the offline engine's mock runtime is global: once per process). */
async function planHere(request: PlanRequest): Promise<PlannedStack> {
    // Loaded on demand: test processes that only read a plan never load the Pulumi runtime.
    const { runProgram } = await import("../temporal/program");
    const emulators = request.prior ? priorStateEmulators(request.prior.tlsState, request.renewAt ? new Date(request.renewAt) : new Date()) : {};
    const run = await runProgram(request.stack, (c) => ({ ...c, ...request.config }), {}, emulators);
    const release = run.engine.byName("kubernetes:helm.sh/v3:Release", "temporal");
    const secrets: PlannedStack["secrets"] = {};
    for (const s of run.engine.ofType("kubernetes:core/v1:Secret")) {
        const meta = s.inputs.metadata as { name: string; namespace: string };
        secrets[`${meta.namespace}/${meta.name}`] = s.inputs.stringData as Record<string, string>;
    }
    const admission = await runTokenAdmission(run.engine.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, props: r.state })));
    return {
        stack: request.stack,
        release: { name: String(release.inputs.name), namespace: String(release.inputs.namespace) },
        values: run.values,
        secrets,
        outputs: run.outputs,
        raw: run.raw,
        principals: principalsOf(run.engine.resources, run.outputs, admission),
        tlsState: run.engine.resources.filter((r) => r.type.startsWith("tls:")).map(({ type, name, inputs, state }) => ({ type, name, inputs, state })),
        entra: run.engine.resources.filter((r) => r.type.startsWith("azuread:")).map(({ type, name, inputs, state }) => ({ type, name, inputs, state })),
    };
}

let plannedHere = false;
const ROOT = resolve(__dirname, "..", "..");

/**
 * Plans a stack: in this process the first time, in a child process after that (the mock runtime
 * is global). The request and the plan (private keys included) travel through a private temporary
 * folder that is removed afterwards.
 */
export async function planStack(request: PlanRequest): Promise<PlannedStack> {
    if (!plannedHere) {
        plannedHere = true;
        return planHere(request);
    }
    const dir = mkdtempSync(join(tmpdir(), "temporal-plan-"));
    try {
        const requestFile = join(dir, "request.json");
        const planFile = join(dir, "plan.json");
        writeFileSync(requestFile, JSON.stringify(request), { mode: 0o600 });
        await promisify(execFile)(process.execPath, ["--import", "tsx", __filename, requestFile, planFile], { cwd: ROOT, maxBuffer: 64 << 20 });
        return JSON.parse(readFileSync(planFile, "utf8")) as PlannedStack;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** A short fingerprint of a PEM (for messages; never the PEM itself). */
export function pemDigest(pem: string): string {
    return createHash("sha256").update(pem).digest("hex").slice(0, 12);
}

if (require.main === module) {
    const [requestFile, planFile] = process.argv.slice(2);
    if (!requestFile || !planFile) throw new Error("usage: plan.ts <request.json> <plan.json>");
    planHere(JSON.parse(readFileSync(requestFile, "utf8")) as PlanRequest).then(
        (plan) => {
            writeFileSync(planFile, JSON.stringify(plan), { mode: 0o600 });
            process.exit(0);
        },
        (err: unknown) => {
            process.stderr.write(`plan: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
            process.exit(1);
        },
    );
}
