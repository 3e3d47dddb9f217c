import { randomUUID } from "node:crypto";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Connection, isGrpcServiceError } from "@temporalio/client";
import type { TlsMaterial } from "./certificates";

/**
 * Calls on the live frontend whose outcome shows what its authorizer decided. Temporal runs the
 * claim mapper and authorizer in a gRPC interceptor before any handler, and reports every refusal as
 * PERMISSION_DENIED "Request unauthorized."; any other answer, NOT_FOUND included, means the call got
 * past the authorizer. So every probe is harmless: reads, or a write aimed at a workflow id that
 * does not exist (a fresh random id per run).
 */

export type Access = "read" | "write" | "admin";
export type Scope = "namespace" | "cluster";

export interface ProbeDefinition {
    name: string;
    /** Full gRPC method path, as the authorizer sees it. */
    api: string;
    /** As the server 1.31 authorizer classifies the method (temporal-api-access.json). */
    scope: Scope;
    access: Access;
    /** What the call does on a live server, and why that is harmless. */
    effect: string;
    call(connection: Connection, namespace: string, marker: string): Promise<unknown>;
}

const WORKFLOW_SERVICE = "/temporal.api.workflowservice.v1.WorkflowService";
const OPERATOR_SERVICE = "/temporal.api.operatorservice.v1.OperatorService";

export const PROBES: readonly ProbeDefinition[] = [
    {
        name: "DescribeNamespace",
        api: `${WORKFLOW_SERVICE}/DescribeNamespace`,
        scope: "namespace",
        access: "read",
        effect: "reads the namespace's settings",
        call: (c, namespace) => c.workflowService.describeNamespace({ namespace }),
    },
    {
        name: "DescribeWorkflowExecution",
        api: `${WORKFLOW_SERVICE}/DescribeWorkflowExecution`,
        scope: "namespace",
        access: "read",
        effect: "describes a workflow id that does not exist (NOT_FOUND when allowed)",
        call: (c, namespace, marker) => c.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: marker } }),
    },
    {
        name: "SignalWorkflowExecution",
        api: `${WORKFLOW_SERVICE}/SignalWorkflowExecution`,
        scope: "namespace",
        access: "write",
        effect: "signals a workflow id that does not exist (NOT_FOUND when allowed): nothing is written",
        call: (c, namespace, marker) =>
            c.workflowService.signalWorkflowExecution({
                namespace,
                workflowExecution: { workflowId: marker },
                signalName: "temporal-azure.verify-live",
                identity: "temporal-azure verify-live",
                requestId: randomUUID(),
            }),
    },
    {
        name: "ListNamespaces",
        api: `${WORKFLOW_SERVICE}/ListNamespaces`,
        scope: "cluster",
        access: "read",
        effect: "lists one namespace",
        call: (c) => c.workflowService.listNamespaces({ pageSize: 1 }),
    },
    {
        name: "ListClusters",
        api: `${OPERATOR_SERVICE}/ListClusters`,
        scope: "cluster",
        access: "admin",
        effect: "lists the cluster's replication peers (cluster admin, read only)",
        call: (c) => c.operatorService.listClusters({ pageSize: 1 }),
    },
];

export function selectProbes(names: string[] | undefined): ProbeDefinition[] {
    if (!names || names.length === 0) return [...PROBES];
    return names.map((name) => {
        const probe = PROBES.find((p) => p.name.toLowerCase() === name.toLowerCase());
        if (!probe) throw new Error(`unknown probe "${name}" (probes: ${PROBES.map((p) => p.name).join(", ")})`);
        return probe;
    });
}

export interface Prediction {
    decision: "allow" | "deny";
    reason: string;
}

/** What the frontend answered. "error": no verdict (the call did not reach the authorizer or timed out). */
export interface Observation {
    decision: "allow" | "deny" | "error";
    /** gRPC status name: OK, NOT_FOUND, PERMISSION_DENIED, ... */
    status: string;
    message: string;
}

export function statusName(code: number): string {
    return (GrpcStatus as unknown as Record<number, string>)[code] ?? `code ${code}`;
}

/** No verdict from these: the call never reached the server's handlers (or the network failed). */
const NO_VERDICT = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED, GrpcStatus.UNIMPLEMENTED, GrpcStatus.UNKNOWN]);

/** The message of every refusal of the server's authorization interceptor (authorization.RequestUnauthorized). */
export const REQUEST_UNAUTHORIZED = "Request unauthorized.";

/** Maps a call's outcome to the authorizer's decision. */
export function classifyOutcome(outcome: { ok: true } | { ok: false; error: unknown }): Observation {
    if (outcome.ok) return { decision: "allow", status: "OK", message: "" };
    const err = outcome.error;
    if (!isGrpcServiceError(err)) return { decision: "error", status: "CLIENT_ERROR", message: err instanceof Error ? err.message : String(err) };
    const status = statusName(err.code);
    const message = err.details || err.message;
    // UNAUTHENTICATED is not what the stock server sends, but a gateway in front of it might.
    if (err.code === GrpcStatus.PERMISSION_DENIED || err.code === GrpcStatus.UNAUTHENTICATED) return { decision: "deny", status, message };
    // On streams the server's refusal arrives as UNKNOWN: its stream interceptor chain has no error
    // interceptor to turn the PermissionDenied into its gRPC status (seen on server 1.31.2).
    if (err.code === GrpcStatus.UNKNOWN && message === REQUEST_UNAUTHORIZED) return { decision: "deny", status, message };
    if (NO_VERDICT.has(err.code)) return { decision: "error", status, message };
    return { decision: "allow", status, message };
}

export interface ProbeResult {
    name: string;
    api: string;
    scope: Scope;
    access: Access;
    /** Namespace in the request ("" for cluster-scope calls, which name none). */
    namespace: string;
    predicted: Prediction;
    observed: Observation;
    /** The frontend decided what the validator predicted. */
    match: boolean;
    /** What the principal needs from this call (workers need read and write on their namespace). */
    expected?: "allow";
    note?: string;
}

export interface ProbeTarget {
    address: string;
    serverName: string;
    tls: TlsMaterial;
    token: string;
    namespace: string;
}

export interface ProbeOptions {
    probes: readonly ProbeDefinition[];
    predict(apiName: string, namespace: string): Prediction;
    expect?(probe: ProbeDefinition): "allow" | undefined;
    /** Per call and for connecting; default 10 s. */
    timeoutMs?: number;
}

/**
 * The options `@temporalio/client` gets, as a worker with this profile connects. The token is not
 * among them: `connect` calls GetSystemInfo, and the server refuses even that when its claim mapper
 * rejects the token (wrong audience, expired), so the connection is made without it and each probe
 * carries it (`tokenMetadata`).
 */
export function connectionOptions(target: ProbeTarget, timeoutMs: number) {
    return {
        address: target.address,
        tls: {
            serverNameOverride: target.serverName,
            serverRootCACertificate: target.tls.serverRootCa,
            ...(target.tls.clientCertPair ? { clientCertPair: target.tls.clientCertPair } : {}),
        },
        connectTimeout: timeoutMs,
        // No client-side retries: one call, one observation (the default interceptor retries UNAVAILABLE).
        interceptors: [],
    };
}

/** The header each probe carries. */
export function tokenMetadata(token: string): { authorization: string } {
    return { authorization: `Bearer ${token}` };
}

/** Connects with the real client over mTLS and runs each probe once. Throws only if it cannot connect. */
export async function runProbes(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult[]> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    // Connect runs GetSystemInfo (without the token): it proves transport, not access.
    const connection = await Connection.connect(connectionOptions(target, timeoutMs));
    const marker = `temporal-azure-verify-live-${randomUUID()}`;
    const results: ProbeResult[] = [];
    try {
        for (const probe of options.probes) {
            const namespace = probe.scope === "namespace" ? target.namespace : "";
            const predicted = options.predict(probe.api, namespace);
            let outcome: { ok: true } | { ok: false; error: unknown };
            try {
                await connection.withMetadata(tokenMetadata(target.token), () => connection.withDeadline(Date.now() + timeoutMs, () => probe.call(connection, target.namespace, marker)));
                outcome = { ok: true };
            } catch (error) {
                outcome = { ok: false, error };
            }
            const observed = classifyOutcome(outcome);
            const result: ProbeResult = {
                name: probe.name,
                api: probe.api,
                scope: probe.scope,
                access: probe.access,
                namespace,
                predicted,
                observed,
                match: observed.decision === predicted.decision,
            };
            const expected = options.expect?.(probe);
            if (expected) result.expected = expected;
            if (observed.status === "NOT_FOUND" && /namespace/i.test(observed.message) && probe.scope === "namespace") {
                result.note = `namespace "${namespace}" does not exist on this cluster; the authorizer ran first (the server checks namespaces after it), so the call was still allowed`;
            }
            results.push(result);
        }
    } finally {
        await connection.close();
    }
    return results;
}
