import { stringify } from "yaml";
import { readChartDefaults } from "../../infra/temporal/chart-keys";
import { getPath as at } from "../../policies/pack/checks/values";

/**
 * What chart `temporal` 1.6.0 (tag temporal-1.6.0) renders from a release's values, for the parts
 * that decide how the server runs: the server config file (`templates/server-configmap.yaml`), the
 * server containers' environment and mounts (`server-deployment.yaml`), the dynamic config
 * (`server-dynamicconfigmap.yaml`) and the namespace job (`server-namespace-job.yaml`). Written by
 * hand in TypeScript because the chart's source is not served by any registry the tests may use;
 * each function names the template it follows, and the comments quote the template logic it mirrors.
 */

type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's truthiness (`if`/`with`): false, 0, "", nil and empty maps and lists are false. */
function truthy(v: unknown): boolean {
    if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
    if (Array.isArray(v)) return v.length > 0;
    if (isMap(v)) return Object.keys(v).length > 0;
    return true;
}

/**
 * Helm's coalescing of user values over the chart's defaults: maps merge key by key, anything else
 * (lists included) replaces, and a user `null` deletes the default.
 */
export function coalesceValues(defaults: Values, values: Values): Values {
    const out: Values = { ...defaults };
    for (const [key, value] of Object.entries(values)) {
        if (value === null) delete out[key];
        else if (isMap(value) && isMap(out[key])) out[key] = coalesceValues(out[key], value);
        else out[key] = value;
    }
    return out;
}

/** A Go template action (`{{ ... }}`) the chart writes into the config for the SERVER to render at start. */
export class GoTemplate {
    constructor(readonly action: string) {}
}
const env = (name: string) => new GoTemplate(`env "${name}" | quote`);

/** A deep copy that keeps `GoTemplate` leaves (structuredClone would turn them into plain objects). */
export function cloneValues<T>(value: T): T {
    if (value instanceof GoTemplate) return value;
    if (Array.isArray(value)) return value.map(cloneValues) as T;
    if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneValues(v)])) as T;
    return value;
}

export interface Release {
    /** `.Release.Name`. */
    name: string;
    /** `.Release.Namespace`. */
    namespace: string;
}

/** `temporal.fullname`: the release name when it contains the chart name, else `<release>-temporal`. */
export function fullname(values: Values, release: Release): string {
    const override = at(values, "fullnameOverride");
    if (typeof override === "string" && override !== "") return override.slice(0, 63).replace(/-+$/, "");
    const nameOverride = at(values, "nameOverride");
    const name = typeof nameOverride === "string" && nameOverride !== "" ? nameOverride : "temporal";
    return (release.name.includes(name) ? release.name : `${release.name}-${name}`).slice(0, 63).replace(/-+$/, "");
}

/**
 * `temporal.persistence.filterConfig`: each store's `password` (when it has one or an
 * `existingSecret`) becomes `{{ env "TEMPORAL_<DEFAULT|VISIBILITY>_STORE_PASSWORD" | quote }}`, and
 * the chart's own keys (existingSecret, secretKey, createDatabase, manageSchema) are dropped.
 */
function filterPersistence(persistence: Values): Values {
    const copy = structuredClone(persistence);
    const datastores = isMap(copy.datastores) ? copy.datastores : {};
    for (const [name, store] of Object.entries(datastores)) {
        if (!isMap(store)) continue;
        for (const kind of ["sql", "cassandra", "elasticsearch"]) {
            const cfg = store[kind];
            if (!isMap(cfg)) continue;
            if ("password" in cfg || "existingSecret" in cfg) {
                if (name === copy.defaultStore) cfg.password = env("TEMPORAL_DEFAULT_STORE_PASSWORD");
                else if (name === copy.visibilityStore) cfg.password = env("TEMPORAL_VISIBILITY_STORE_PASSWORD");
                else if (name === (copy.secondaryVisibilityStore ?? "")) cfg.password = env("TEMPORAL_SECONDARY_VISIBILITY_STORE_PASSWORD");
                else delete cfg.password;
            }
            for (const k of ["existingSecret", "secretKey", "createDatabase", "manageSchema"]) delete cfg[k];
        }
    }
    return copy;
}

const SERVICES = ["frontend", "internal-frontend", "history", "matching", "worker"] as const;
export type ServerService = (typeof SERVICES)[number];

/** `server.<service>.enabled`, the services the chart deploys (one Deployment each). */
export function enabledServices(merged: Values): ServerService[] {
    return SERVICES.filter((s) => at(merged, `server.${s}.enabled`) === true);
}

/**
 * `templates/server-configmap.yaml`, key `config_template.yaml`, as a tree: `GoTemplate` leaves
 * stand where the chart writes `{{ ... }}` for the server (`# enable-template`).
 */
export function serverConfig(merged: Values, release: Release): Values {
    const server = at(merged, "server") as Values;
    const config = (server.config ?? {}) as Values;
    const svc = (name: string, path: string) => at(server, `${name}.service.${path}`);

    const log: Values = { stdout: "logstdOut" in config ? config.logstdOut : true, level: String(config.logLevel) };
    if (truthy(config.logOutputFile)) log.outputFile = String(config.logOutputFile);
    if (truthy(config.logFormat)) log.format = String(config.logFormat);

    const metrics = (config.metrics ?? {}) as Values;
    const { tags, ...metricsRest } = metrics;
    const global: Values = {
        membership: { name: "temporal", maxJoinDuration: "30s", broadcastAddress: env("POD_IP") },
        pprof: { port: 7936 },
        metrics: { tags: { type: env("TEMPORAL_SERVICES"), ...(truthy(tags) ? (tags as Values) : {}) }, ...metricsRest },
    };
    // {{- with $server.config.tls }} tls: {{- toYaml . }}: verbatim.
    if (truthy(config.tls)) global.tls = structuredClone(config.tls);
    if (truthy(config.authorization)) global.authorization = structuredClone(config.authorization);

    const frontendPort = svc("frontend", "port");
    const services: Values = {
        frontend: { rpc: { grpcPort: frontendPort, httpPort: svc("frontend", "httpPort"), membershipPort: svc("frontend", "membershipPort"), bindOnIP: "0.0.0.0" } },
    };
    const internalFrontend = at(server, "internal-frontend") as Values | undefined;
    if (internalFrontend?.enabled === true) {
        services["internal-frontend"] = {
            rpc: { grpcPort: svc("internal-frontend", "port"), httpPort: svc("internal-frontend", "httpPort"), membershipPort: svc("internal-frontend", "membershipPort"), bindOnIP: "0.0.0.0" },
        };
    }
    services.history = { rpc: { grpcPort: svc("history", "port"), membershipPort: svc("history", "membershipPort"), bindOnIP: "0.0.0.0" } };
    services.matching = { rpc: { grpcPort: svc("matching", "port"), membershipPort: svc("matching", "membershipPort"), bindOnIP: "0.0.0.0" } };
    services.worker = { rpc: { membershipPort: svc("worker", "membershipPort"), bindOnIP: "0.0.0.0" } };

    const out: Values = {
        log,
        persistence: filterPersistence((config.persistence ?? {}) as Values),
        global,
        services,
        clusterMetadata: truthy(config.clusterMetadata)
            ? structuredClone(config.clusterMetadata)
            : {
                  enableGlobalNamespace: false,
                  failoverVersionIncrement: 10,
                  masterClusterName: "active",
                  currentClusterName: "active",
                  clusterInformation: {
                      active: {
                          enabled: true,
                          initialFailoverVersion: 1,
                          rpcName: "temporal-frontend",
                          rpcAddress: `127.0.0.1:${String(frontendPort)}`,
                          httpAddress: `127.0.0.1:${String(svc("frontend", "httpPort"))}`,
                      },
                  },
              },
        dcRedirectionPolicy: truthy(config.dcRedirectionPolicy) ? structuredClone(config.dcRedirectionPolicy) : { policy: "noop", toDC: "" },
        archival: truthy(server.archival) ? structuredClone(server.archival) : { status: "disabled" },
    };
    if (truthy(server.namespaceDefaults)) out.namespaceDefaults = structuredClone(server.namespaceDefaults);
    if (truthy(server.publicClientHostPort)) out.publicClient = { hostPort: String(server.publicClientHostPort) };
    else if (internalFrontend?.enabled !== true) out.publicClient = { hostPort: `${fullname(merged, release)}-frontend:${String(frontendPort)}` };
    out.dynamicConfigClient = { filepath: `${DYNAMIC_CONFIG_MOUNT}/dynamic_config.yaml`, pollInterval: "10s" };
    return out;
}

/** Where `server-deployment.yaml` mounts the config file and the dynamic config. */
export const CONFIG_FILE_PATH = "/etc/temporal/config/config_template.yaml";
export const DYNAMIC_CONFIG_MOUNT = "/etc/temporal/dynamic_config";

/** `templates/server-dynamicconfigmap.yaml`, key `dynamic_config.yaml`: `server.dynamicConfig` as YAML, or empty. */
export function dynamicConfigText(merged: Values): string {
    const dc = at(merged, "server.dynamicConfig");
    return truthy(dc) ? stringify(dc) : "";
}

/** The config tree as the file the ConfigMap holds: `# enable-template`, then YAML with the `{{ ... }}` actions restored. */
export function configTemplateText(config: Values): string {
    const actions: string[] = [];
    const mark = (v: unknown): unknown => {
        if (v instanceof GoTemplate) {
            actions.push(v.action);
            return `GO_TEMPLATE_ACTION_${actions.length - 1}`;
        }
        if (Array.isArray(v)) return v.map(mark);
        if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x)]));
        return v;
    };
    const text = stringify(mark(config), { lineWidth: 0 });
    return `# enable-template\n${text.replace(/(["']?)GO_TEMPLATE_ACTION_(\d+)\1/g, (_m, _q, i: string) => `{{ ${actions[Number(i)]} }}`)}`;
}

export interface SecretRef {
    /** The Secret's name (in the release namespace). */
    secretName: string;
    key: string;
}

/** An environment variable of a container: a literal or a Secret key. */
export type ContainerEnv = Record<string, string | SecretRef>;

export interface SecretMount {
    /** The volume's name. */
    volume: string;
    mountPath: string;
    secretName: string;
}

/** `additionalVolumes` + `additionalVolumeMounts` of a component, resolved to the Secrets they mount (ConfigMap and other volumes are not followed). */
export function secretMounts(merged: Values, component: "server" | "admintools" | "web"): SecretMount[] {
    const volumes = (at(merged, `${component}.additionalVolumes`) ?? []) as { name: string; secret?: { secretName?: string } }[];
    const mounts = (at(merged, `${component}.additionalVolumeMounts`) ?? []) as { name: string; mountPath: string }[];
    return mounts.flatMap((m) => {
        const secretName = volumes.find((v) => v.name === m.name)?.secret?.secretName;
        return secretName ? [{ volume: m.name, mountPath: m.mountPath, secretName }] : [];
    });
}

function passwordEnv(merged: Values, storeKey: "defaultStore" | "visibilityStore"): SecretRef | string {
    const name = at(merged, `server.config.persistence.${storeKey}`);
    const sql = at(merged, `server.config.persistence.datastores.${String(name)}.sql`) as Values | undefined;
    // temporal.password-env: the store's existingSecret (key secretKey, default "password"), else the chart's own Secret.
    if (sql && typeof sql.existingSecret === "string") return { secretName: sql.existingSecret, key: typeof sql.secretKey === "string" ? sql.secretKey : "password" };
    return typeof sql?.password === "string" ? sql.password : "";
}

/** The env of a server container (`server-deployment.yaml`), for `service`; `POD_IP` is the pod's address, given by Kubernetes. */
export function serverContainerEnv(merged: Values, service: ServerService): ContainerEnv {
    const out: ContainerEnv = {
        SERVICES: service,
        TEMPORAL_SERVICES: service,
        TEMPORAL_SERVER_CONFIG_FILE_PATH: CONFIG_FILE_PATH,
        TEMPORAL_DEFAULT_STORE_PASSWORD: passwordEnv(merged, "defaultStore"),
        TEMPORAL_VISIBILITY_STORE_PASSWORD: passwordEnv(merged, "visibilityStore"),
    };
    if (at(merged, "server.internal-frontend.enabled") === true) out.USE_INTERNAL_FRONTEND = "1";
    if (truthy(at(merged, "server.versionCheckDisabled"))) out.TEMPORAL_VERSION_CHECK_DISABLED = "1";
    const extra = (truthy(at(merged, `server.${service}.additionalEnv`)) ? at(merged, `server.${service}.additionalEnv`) : at(merged, "server.additionalEnv")) as { name: string; value?: unknown }[] | undefined;
    for (const e of extra ?? []) if (e.value !== undefined) out[e.name] = String(e.value);
    return out;
}

export interface NamespaceJob {
    /** `server.config.namespaces.namespace`, in order: one init container each. */
    namespaces: { name: string; retention?: string }[];
    /** The shell command each init container runs. */
    commands: string[];
    /** `TEMPORAL_ADDRESS` then `admintools.additionalEnv`. */
    env: Record<string, string>;
    /** `admintools.additionalVolumeMounts` (with `admintools.additionalVolumes`). */
    mounts: SecretMount[];
}

/** `templates/server-namespace-job.yaml`: rendered only when `server.config.namespaces.create`. */
export function namespaceJob(merged: Values, release: Release): NamespaceJob | undefined {
    if (!truthy(at(merged, "server.config.namespaces.create"))) return undefined;
    const namespaces = (at(merged, "server.config.namespaces.namespace") ?? []) as { name: string; retention?: string }[];
    const full = fullname(merged, release);
    let address: string;
    if (at(merged, "server.internal-frontend.enabled") === true) address = `${full}-internal-frontend.${release.namespace}.svc:${String(at(merged, "server.internal-frontend.service.port"))}`;
    else if (at(merged, "server.frontend.ingress.enabled") === true) address = String((at(merged, "server.frontend.ingress.hosts") as unknown[])[0]);
    else address = `${full}-frontend.${release.namespace}.svc:${String(at(merged, "server.frontend.service.port"))}`;
    const env: Record<string, string> = { TEMPORAL_ADDRESS: address };
    for (const e of (at(merged, "admintools.additionalEnv") ?? []) as { name: string; value?: unknown }[]) if (e.value !== undefined) env[e.name] = String(e.value);
    return {
        namespaces,
        commands: namespaces.map(
            (n) => `temporal operator namespace describe -n ${n.name} || temporal operator namespace create -n ${n.name}${n.retention !== undefined ? ` --retention ${n.retention}` : ""}`,
        ),
        env,
        mounts: secretMounts(merged, "admintools"),
    };
}

/** Everything the chart renders for the server from one release's values. */
export interface ChartRendering {
    release: Release;
    /** The values after coalescing over the chart's defaults. */
    merged: Values;
    services: ServerService[];
    config: Values;
    dynamicConfig: string;
    serverMounts: SecretMount[];
    namespaceJob?: NamespaceJob;
}

export function renderChart(values: Values, release: Release, defaults: Values = readChartDefaults()): ChartRendering {
    const merged = coalesceValues(defaults, values);
    const job = namespaceJob(merged, release);
    return {
        release,
        merged,
        services: enabledServices(merged),
        config: serverConfig(merged, release),
        dynamicConfig: dynamicConfigText(merged),
        serverMounts: secretMounts(merged, "server"),
        ...(job ? { namespaceJob: job } : {}),
    };
}
