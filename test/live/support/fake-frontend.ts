import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import * as proto from "@temporalio/proto";
import { authorize, createClaimMapper } from "../../../policies/claims";
import type { TestPki } from "./pki";

/**
 * A STAND-IN for Temporal's frontend, not the server: a grpc-js server on 127.0.0.1 with the same
 * transport (TLS, client certificate required) and the same gate (the claim mapper and authorizer
 * run before any handler and refuse with PERMISSION_DENIED "Request unauthorized."). The gate is
 * the bundled validator, configured the way the stack configures the server (profile "temporal":
 * the server's own mapper, which checks audience but not issuer). Handlers answer the probes like a
 * server with no such workflows: NOT_FOUND for describe/signal, minimal valid responses otherwise.
 *
 * The service definition is built by hand from @temporalio/proto's protobufjs reflection:
 * that package ships compiled reflection, not .proto files, so @grpc/proto-loader has nothing to
 * load; grpc-js needs only each method's path and (de)serializers, which the reflection provides.
 */

interface ReflectedType {
    encode(message: object): { finish(): Uint8Array };
    decode(bytes: Uint8Array): object;
    fromObject(value: object): object;
}
interface ReflectedMethod {
    name: string;
    requestStream?: boolean;
    responseStream?: boolean;
    resolve(): unknown;
    resolvedRequestType: ReflectedType | null;
    resolvedResponseType: ReflectedType | null;
}
interface ReflectedService {
    fullName: string;
    methodsArray: ReflectedMethod[];
}

const SERVICES = [
    proto.temporal.api.workflowservice.v1.WorkflowService as unknown as ReflectedService,
    proto.temporal.api.operatorservice.v1.OperatorService as unknown as ReflectedService,
];

function serviceDefinition(service: ReflectedService): grpc.ServiceDefinition {
    const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
    for (const method of service.methodsArray) {
        if (method.requestStream || method.responseStream) continue;
        method.resolve();
        const req = method.resolvedRequestType;
        const res = method.resolvedResponseType;
        if (!req || !res) continue;
        definition[method.name] = {
            path: `/${service.fullName.replace(/^\./, "")}/${method.name}`,
            requestStream: false,
            responseStream: false,
            requestSerialize: (m) => Buffer.from(req.encode(req.fromObject(m)).finish()),
            requestDeserialize: (b) => req.decode(b),
            responseSerialize: (m) => Buffer.from(res.encode(res.fromObject(m)).finish()),
            responseDeserialize: (b) => res.decode(b),
        };
    }
    return definition;
}

export interface FakeFrontendOptions {
    pki: TestPki;
    /** "authorizer": the server with `authorizer: default` and `claimMapper: default`. "allow-all": both empty. */
    mode: "authorizer" | "allow-all";
    jwksUrl: string;
    audience: string;
    /** Namespaces that exist on this "cluster". */
    namespaces: string[];
    /** The server's permissionsClaimName (the stack sets "roles"; the server's default is "permissions"). */
    permissionsClaimName?: string;
}

export interface RecordedCall {
    method: string;
    namespace: string;
    decision: "allow" | "deny";
    reason: string;
}

export interface FakeFrontend {
    address: string;
    calls: RecordedCall[];
    close(): Promise<void>;
}

type Reply = { response: object } | { error: Partial<grpc.StatusObject> };

function answer(method: string, request: Record<string, unknown>, namespaces: string[]): Reply {
    const namespace = typeof request.namespace === "string" ? request.namespace : "";
    const registered = (name: string) => ({ namespaceInfo: { name, state: 1, id: randomUUID() } });
    switch (method) {
        case "GetSystemInfo":
            return { response: { serverVersion: "1.31.2", capabilities: { signalAndQueryHeader: true } } };
        case "DescribeNamespace":
            return namespaces.includes(namespace) ? { response: registered(namespace) } : { error: { code: grpc.status.NOT_FOUND, details: `Namespace ${namespace} is not found.` } };
        case "ListNamespaces":
            return { response: { namespaces: namespaces.map(registered) } };
        case "ListClusters":
            return { response: { clusters: [{ clusterName: "active", historyShardCount: 4, isConnectionEnabled: true }] } };
        case "DescribeWorkflowExecution":
        case "SignalWorkflowExecution": {
            const execution = (request.execution ?? request.workflowExecution) as { workflowId?: string } | undefined;
            return { error: { code: grpc.status.NOT_FOUND, details: `workflow not found for ID: ${execution?.workflowId ?? ""}` } };
        }
        default:
            return { error: { code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented by the stand-in frontend` } };
    }
}

export async function startFakeFrontend(options: FakeFrontendOptions): Promise<FakeFrontend> {
    const mapper = createClaimMapper({ profile: "temporal", jwksUri: options.jwksUrl, audience: options.audience, permissionsClaimName: options.permissionsClaimName ?? "roles" });
    const calls: RecordedCall[] = [];

    async function gate(path: string, namespace: string, authorization: string | undefined): Promise<{ decision: "allow" | "deny"; reason: string }> {
        if (options.mode === "allow-all") return { decision: "allow", reason: "no authorizer configured" };
        // The mapper runs before the authorizer's health-check exemption: a token it rejects is refused
        // everywhere, GetSystemInfo included (as the real server does: test/server/authorization.test.ts).
        try {
            const claims = await mapper.getClaims(authorization === undefined ? {} : { authorization });
            return authorize(claims, { apiName: path, namespace });
        } catch (err) {
            return { decision: "deny", reason: `claim mapper: ${(err as Error).message}` };
        }
    }

    const server = new grpc.Server();
    for (const service of SERVICES) {
        const definition = serviceDefinition(service);
        const implementation: grpc.UntypedServiceImplementation = {};
        for (const [name, method] of Object.entries(definition)) {
            implementation[name] = ((call: grpc.ServerUnaryCall<Record<string, unknown>, object>, callback: grpc.sendUnaryData<object>) => {
                const namespace = typeof call.request.namespace === "string" ? call.request.namespace : "";
                const header = call.metadata.get("authorization")[0];
                void gate(method.path, namespace, typeof header === "string" ? header : header?.toString()).then(({ decision, reason }) => {
                    calls.push({ method: name, namespace, decision, reason });
                    if (decision === "deny") return callback({ code: grpc.status.PERMISSION_DENIED, details: "Request unauthorized." });
                    const reply = answer(name, call.request, options.namespaces);
                    if ("error" in reply) return callback(reply.error);
                    callback(null, reply.response);
                });
            }) as grpc.handleUnaryCall<Record<string, unknown>, object>;
        }
        server.addService(definition, implementation);
    }
    const credentials = grpc.ServerCredentials.createSsl(
        Buffer.from(options.pki.ca.certPem),
        [{ cert_chain: Buffer.from(options.pki.server.certPem), private_key: Buffer.from(options.pki.server.keyPem) }],
        true,
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", credentials, (err, p) => (err ? reject(err) : resolve(p))));
    return {
        address: `127.0.0.1:${port}`,
        calls,
        close: () =>
            new Promise<void>((resolve) => {
                server.tryShutdown(() => resolve());
                // Open client channels would hold tryShutdown; the tests close theirs, this is the backstop.
                setTimeout(() => server.forceShutdown(), 500).unref();
            }),
    };
}
