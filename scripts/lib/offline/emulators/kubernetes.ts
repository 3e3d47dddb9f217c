import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { stableGuid, type CallEmulator, type Emulator } from "../engine";

/**
 * The Kubernetes API server and Helm as far as the offline plan needs them: object metadata the API
 * server fills in (uid, resourceVersion, the namespace of namespaced objects), a Secret's `data`
 * from its `stringData`, a Service's cluster IP, a StatefulSet's readiness, and the status of a Helm
 * release. Where the API server refuses an object the program could create (a name that is not a
 * DNS label, a `kubernetes.io/tls` Secret without `tls.crt`/`tls.key`), the emulator refuses it too,
 * with the API server's wording.
 */

type Inputs = Record<string, unknown>;
/** Mock inputs keep secret values wrapped (`{ <sig>: <secret sig>, value }`); the API server sees the value. */
const plain = (v: unknown): unknown => pulumi.runtime.unwrapRpcSecret(v);
const obj = (v: unknown): Inputs => {
    const p = plain(v);
    return typeof p === "object" && p !== null && !Array.isArray(p) ? (p as Inputs) : {};
};
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function invalid(kind: string, name: string, detail: string): Error {
    return new Error(`${kind} "${name}" is invalid: ${detail}`);
}

/** Pulumi auto-names objects without `metadata.name` as `<logical name>-<8 random characters>`; stable here. */
const autoName = (logicalName: string) => `${logicalName}-${createHash("sha256").update(logicalName).digest("hex").slice(0, 8)}`;

function withMetadata(kind: string, namespaced: boolean, nameRule: RegExp): Emulator {
    return ({ name, inputs }) => {
        const metadata = obj(inputs.metadata);
        const objectName = str(metadata.name) ?? autoName(name);
        if (!nameRule.test(objectName)) throw invalid(kind, objectName, `metadata.name: Invalid value: "${objectName}": a lowercase RFC 1123 ${nameRule === DNS_LABEL ? "label" : "subdomain"} is required`);
        const namespace = str(metadata.namespace) ?? "default";
        if (namespaced && !DNS_LABEL.test(namespace)) throw invalid(kind, objectName, `metadata.namespace: Invalid value: "${namespace}"`);
        return {
            metadata: {
                ...metadata,
                name: objectName,
                ...(namespaced ? { namespace } : {}),
                uid: stableGuid(`k8s/${kind}/${namespaced ? `${namespace}/` : ""}${objectName}`),
                resourceVersion: "1",
                generation: 1,
                creationTimestamp: "2026-01-01T00:00:00Z",
            },
        };
    };
}

const namespace: Emulator = async (args) => ({ ...(await withMetadata("Namespace", false, DNS_LABEL)(args)), status: { phase: "Active" } });

const secret: Emulator = async (args) => {
    const state = await withMetadata("Secret", true, DNS_SUBDOMAIN)(args);
    const stringData = obj(args.inputs.stringData);
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(args.inputs.data))) if (typeof plain(v) === "string") data[k] = plain(v) as string;
    for (const [k, v] of Object.entries(stringData)) if (typeof plain(v) === "string") data[k] = Buffer.from(plain(v) as string).toString("base64");
    const type = str(args.inputs.type) ?? "Opaque";
    const name = str(obj(state.metadata).name) ?? "";
    if (type === "kubernetes.io/tls") {
        for (const key of ["tls.crt", "tls.key"]) if (!(key in data)) throw invalid("Secret", name, `data[${key}]: Required value`);
    }
    // The API server stores stringData into data and never returns stringData (the SDK marks `data` secret).
    return { ...state, type, data, stringData: undefined };
};

const service: Emulator = async (args) => {
    const state = await withMetadata("Service", true, DNS_LABEL)(args);
    const spec = obj(args.inputs.spec);
    const name = str(obj(state.metadata).name) ?? "";
    const h = createHash("sha256").update(name).digest();
    return { ...state, spec: { ...spec, clusterIP: `10.0.${h[0]! % 255}.${(h[1]! % 253) + 1}`, type: str(spec.type) ?? "ClusterIP" }, status: { loadBalancer: {} } };
};

const statefulSet: Emulator = async (args) => {
    const state = await withMetadata("StatefulSet", true, DNS_SUBDOMAIN)(args);
    const replicas = typeof obj(args.inputs.spec).replicas === "number" ? (obj(args.inputs.spec).replicas as number) : 1;
    return { ...state, status: { replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 } };
};

/** `helm.v3.Release`: what `helm install` reports for a successful release. */
const helmRelease: Emulator = ({ name, inputs }) => {
    const releaseName = str(inputs.name) ?? autoName(name);
    if (!DNS_LABEL.test(releaseName) || releaseName.length > 53) throw new Error(`release name "${releaseName}": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ and the length must not be longer than 53`);
    const chart = str(inputs.chart) ?? "";
    const version = str(inputs.version);
    if (version === undefined) throw new Error(`chart "${chart}": no version given; a release without one installs whatever the repository's latest is`);
    return {
        name: releaseName,
        status: { name: releaseName, namespace: str(inputs.namespace) ?? "default", chart, version, revision: 1, status: "deployed" },
    };
};

/** Provider-side attributes of these resources, computed locally for the offline plan and the tests. */
export const kubernetesEmulators: Record<string, Emulator> = {
    "kubernetes:core/v1:Namespace": namespace,
    "kubernetes:core/v1:Secret": secret,
    "kubernetes:core/v1:ServiceAccount": withMetadata("ServiceAccount", true, DNS_SUBDOMAIN),
    "kubernetes:core/v1:Service": service,
    "kubernetes:apps/v1:StatefulSet": statefulSet,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": withMetadata("NetworkPolicy", true, DNS_SUBDOMAIN),
    "kubernetes:helm.sh/v3:Release": helmRelease,
};

/** Provider functions (invokes) answered locally. */
export const kubernetesCalls: Record<string, CallEmulator> = {};
