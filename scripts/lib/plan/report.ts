import { join } from "node:path";
import type { AdmissionReport } from "../../../policies/pack/admission";
import type { TlsCheck } from "./tls-checks";
import type { CertificateSummary, Wiring } from "./wiring";

/**
 * The offline plan's report: what `--json` prints and `--out` writes (docs/plan.md describes every
 * field). Types only and the empty report, so the CLI can answer usage errors without loading the
 * program and its providers.
 */

/** The repository the plan runs in: its stacks/, its program, its git history. */
export const REPO_ROOT = join(__dirname, "..", "..", "..");

export interface PolicyViolation {
    policy: string;
    resource: string;
    message: string;
}

/** The version of the JSON report's shape; `--base` refuses a base whose report has another. */
export const REPORT_SCHEMA_VERSION = 1;

export interface PlannedResource {
    type: string;
    name: string;
    /** The inputs the program passed, keys sorted; secrets `[secret]`, values that differ between runs named by their source (see material.ts). */
    inputs: Record<string, unknown>;
    /** Per input path, the resources (`type::name`) whose computed values it holds. */
    dependencies: Record<string, string[]>;
}

export interface PlanError {
    /** `usage`: the plan could not start (no stack file); `program`: the program or a provider refused it. */
    stage: "usage" | "program";
    message: string;
}

export interface PlanReport {
    schemaVersion: number;
    stack: string;
    ok: boolean;
    /** What stopped the plan before its checks, when something did. */
    error?: PlanError;
    configErrors: string[];
    /** Config issues that let the stack go on (e.g. a Key Vault open to the network outside prod). */
    configWarnings: string[];
    /** Every resource the program registered (components excluded), sorted by type and name. */
    resources: PlannedResource[];
    /** Stack outputs: `null` when the stack has no value for one, `[secret]` for secret ones. */
    outputs: Record<string, unknown>;
    violations: PolicyViolation[];
    admission?: AdmissionReport;
    tls: TlsCheck[];
    tlsProblems: string[];
    /** Auth and TLS settings and trust bundles, as the resources carry them. */
    wiring?: Wiring;
    certificates: CertificateSummary[];
}

/** A report with nothing planned yet (every failure still produces one). */
export function emptyReport(stack: string): PlanReport {
    return { schemaVersion: REPORT_SCHEMA_VERSION, stack, ok: false, configErrors: [], configWarnings: [], resources: [], outputs: {}, violations: [], tls: [], tlsProblems: [], certificates: [] };
}
