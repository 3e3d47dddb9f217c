import { cloneValues, GoTemplate, type ServerService } from "./chart";
import { parseApplicationJwksUrl } from "../../policies/claims/entra";

/**
 * The ONLY differences between the server config chart 1.6.0 renders for a planned release and the
 * config the test server runs with. Everything else (TLS, authorization, services, persistence
 * layout, cluster metadata) is the chart's rendering, byte for byte in value. `unlistedChanges`
 * proves it: it diffs the two configs and returns every changed path no entry here accounts for
 * (the tests assert it is empty, and that every entry is used).
 */

type Values = Record<string, unknown>;

export interface Substitution {
    id: string;
    /** Config paths this substitution may change (dotted; `*` matches one segment; a path covers its whole subtree). */
    paths: string[];
    /** What the release has, what the test puts in its place, and why that changes nothing the tests check. */
    why: string;
    /** Applied only when the test asks for it (the rotation test's short reload interval). */
    testOnly?: boolean;
}

export const SUBSTITUTIONS: readonly Substitution[] = [
    {
        id: "mounts",
        paths: [
            "global.tls.*.server.certFile",
            "global.tls.*.server.keyFile",
            "global.tls.*.server.clientCaFiles.*",
            "global.tls.*.client.rootCaFiles.*",
            "global.tls.*.hostOverrides.*.certFile",
            "global.tls.*.hostOverrides.*.keyFile",
            "global.tls.*.hostOverrides.*.clientCaFiles.*",
            "global.tls.systemWorker.certFile",
            "global.tls.systemWorker.keyFile",
            "dynamicConfigClient.filepath",
        ],
        why:
            "each file path under a volume mount of the server Deployment (the Secrets of server.additionalVolumes, and the chart's dynamic-config ConfigMap) " +
            "becomes the same file under a temporary folder that holds the Secret's keys (tls.crt, tls.key, ca.crt) with the bytes the program planned, " +
            "written the way kubelet writes a Secret volume; a path no volume mounts is left as it is",
    },
    {
        id: "jwks",
        paths: ["global.authorization.jwtKeyProvider.keySourceURIs"],
        why:
            "the API's own JWKS URL (login.microsoftonline.com/<tenant>/discovery/v2.0/keys?appid=<api>, the only one the release may name) becomes the same " +
            "key set served on 127.0.0.1 by the test's Entra stand-in, whose API key signs the test's tokens for the API and whose shared key signs everyone else's",
    },
    {
        id: "database",
        paths: ["persistence.datastores.*.sql"],
        why:
            "each SQL store (PostgreSQL, password from the Secret) becomes a SQLite file in the temporary folder with the schema set up on first connection " +
            "(the sqlite plugin of the same server binary); store names, defaultStore, visibilityStore and numHistoryShards are the release's",
    },
    {
        id: "ports",
        paths: [
            "services.*.rpc.grpcPort",
            "services.*.rpc.httpPort",
            "services.*.rpc.membershipPort",
            "services.*.rpc.bindOnIP",
            "global.pprof.port",
            "global.metrics.prometheus.listenAddress",
            "clusterMetadata.clusterInformation.*.rpcAddress",
            "clusterMetadata.clusterInformation.*.httpAddress",
            "publicClient.hostPort",
        ],
        why: "every listener binds 127.0.0.1 on a free port instead of 0.0.0.0 on the chart's fixed ports, so test servers never collide or listen beyond loopback",
    },
    {
        id: "refreshInterval",
        paths: ["global.tls.refreshInterval"],
        why: "the rotation test shortens the certificate reload interval (the release's is minutes) so a renewal is observed within seconds",
        testOnly: true,
    },
];

/**
 * Differences of the process, not of the config file: the chart runs one pod per service, each with
 * `SERVICES`/`TEMPORAL_SERVICES` naming its service and `POD_IP` its address; the test runs the five
 * services in one process (the same binary and config file, `TEMPORAL_SERVICES` listing all) with
 * `POD_IP=127.0.0.1`. Internode traffic still goes over gRPC with internode mTLS between them.
 * grpc-go's own logger is raised to info (`logEnv`; its default is errors only): it logs the
 * server's side of a refused TLS handshake ("ServerHandshake(...) failed: tls: ...") only at info,
 * and the tests quote it. It changes what is logged, nothing else.
 */
export const PROCESS_DIFFERENCES = {
    POD_IP: "127.0.0.1",
    servicesInOneProcess: true,
    logEnv: { GRPC_GO_LOG_SEVERITY_LEVEL: "info" },
} as const;

export interface Ports {
    services: Partial<Record<ServerService, { grpcPort?: number; httpPort?: number; membershipPort: number }>>;
    pprof: number;
    metrics: number;
}

export interface SubstitutionContext {
    /** Mounted path prefix → the temporary folder standing in for it. */
    mountRoots: Record<string, string>;
    jwksUrl: string;
    /** SQLite database file of each store name. */
    databaseFiles: Record<string, string>;
    ports: Ports;
    /** Test-only (see `SUBSTITUTIONS`): a short `global.tls.refreshInterval`. */
    refreshInterval?: string;
}

const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

function mapStrings(v: unknown, fn: (s: string) => string): unknown {
    if (typeof v === "string") return fn(v);
    if (v instanceof GoTemplate) return v;
    if (Array.isArray(v)) return v.map((x) => mapStrings(x, fn));
    if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, fn)]));
    return v;
}

/** A mounted path under its stand-in folder; a path no mount covers is returned unchanged. */
export function remapMountedPath(path: string, mountRoots: Record<string, string>): string {
    const mount = Object.keys(mountRoots)
        .filter((m) => path.startsWith(`${m}/`))
        .sort((a, b) => b.length - a.length)[0];
    return mount === undefined ? path : `${mountRoots[mount]}${path.slice(mount.length)}`;
}

/** The SQLite store the `database` substitution puts in place of a SQL store (as the server's development-sqlite-file config sets it up). */
export function sqliteStore(file: string): Values {
    return {
        pluginName: "sqlite",
        databaseName: file,
        connectAddr: "localhost",
        connectProtocol: "tcp",
        connectAttributes: { cache: "private", setup: true, journal_mode: "wal", synchronous: 2 },
        maxConns: 1,
        maxIdleConns: 1,
        maxConnLifetime: "1h",
    };
}

/** Applies every substitution (the test-only one when `refreshInterval` is given) to a rendered config. */
export function substitute(config: Values, ctx: SubstitutionContext): Values {
    const out = cloneValues(config);
    const global = out.global as Values;

    // mounts
    if (isMap(global.tls)) global.tls = mapStrings(global.tls, (s) => remapMountedPath(s, ctx.mountRoots));
    const dcc = out.dynamicConfigClient as Values | undefined;
    if (dcc && typeof dcc.filepath === "string") dcc.filepath = remapMountedPath(dcc.filepath, ctx.mountRoots);

    // jwks
    const provider = (global.authorization as Values | undefined)?.jwtKeyProvider as Values | undefined;
    if (provider) {
        const planned = provider.keySourceURIs;
        const app = Array.isArray(planned) && planned.length === 1 && typeof planned[0] === "string" ? parseApplicationJwksUrl(planned[0]) : undefined;
        if (!app) throw new Error(`the jwks substitution replaces exactly one application JWKS URL (…/discovery/v2.0/keys?appid=<api>); the release names ${JSON.stringify(planned)}`);
        provider.keySourceURIs = [ctx.jwksUrl];
    }

    // database
    const datastores = ((out.persistence as Values).datastores ?? {}) as Values;
    for (const [name, store] of Object.entries(datastores)) {
        if (isMap(store) && isMap(store.sql)) {
            const file = ctx.databaseFiles[name];
            if (file === undefined) throw new Error(`no SQLite file for store "${name}"`);
            store.sql = sqliteStore(file);
        }
    }

    // ports
    for (const [name, svc] of Object.entries(out.services as Values)) {
        const rpc = (svc as Values).rpc as Values;
        const p = ctx.ports.services[name as ServerService];
        if (!p) throw new Error(`no ports for service ${name}`);
        rpc.bindOnIP = "127.0.0.1";
        rpc.membershipPort = p.membershipPort;
        if ("grpcPort" in rpc) rpc.grpcPort = p.grpcPort;
        if ("httpPort" in rpc) rpc.httpPort = p.httpPort;
    }
    (global.pprof as Values).port = ctx.ports.pprof;
    const prometheus = (global.metrics as Values | undefined)?.prometheus as Values | undefined;
    if (prometheus && "listenAddress" in prometheus) prometheus.listenAddress = `127.0.0.1:${ctx.ports.metrics}`;
    const frontend = ctx.ports.services.frontend;
    for (const info of Object.values(((out.clusterMetadata as Values).clusterInformation ?? {}) as Values)) {
        if (!isMap(info) || !frontend) continue;
        info.rpcAddress = `127.0.0.1:${frontend.grpcPort}`;
        info.httpAddress = `127.0.0.1:${frontend.httpPort}`;
    }

    // Only without the internal frontend does the chart render publicClient (the frontend Service's name).
    const publicClient = out.publicClient as Values | undefined;
    if (publicClient && typeof publicClient.hostPort === "string" && frontend) publicClient.hostPort = `127.0.0.1:${frontend.grpcPort}`;

    // refreshInterval (test-only)
    if (ctx.refreshInterval !== undefined && isMap(global.tls)) global.tls.refreshInterval = ctx.refreshInterval;
    return out;
}

/** Dotted paths of every leaf that differs between two configs (lists compared element by element). */
export function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    if (a instanceof GoTemplate || b instanceof GoTemplate) return a instanceof GoTemplate && b instanceof GoTemplate && a.action === b.action ? [] : [prefix];
    if (isMap(a) && isMap(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => changedPaths(x, b[i], `${prefix}.${i}`));
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

function covers(pattern: string, path: string): boolean {
    const p = pattern.split(".");
    const s = path.split(".");
    for (let i = 0; i < p.length; i++) {
        if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
    }
    // A pattern naming a subtree covers everything below it.
    return true;
}

/** The substitution ids that account for `path`. */
export function substitutionsFor(path: string, list: readonly Substitution[] = SUBSTITUTIONS): string[] {
    return list.filter((s) => s.paths.some((p) => covers(p, path))).map((s) => s.id);
}

/** Changed paths between the chart's rendering and the config the server runs with that no substitution accounts for. */
export function unlistedChanges(rendered: Values, running: Values, list: readonly Substitution[] = SUBSTITUTIONS): string[] {
    return changedPaths(rendered, running).filter((p) => substitutionsFor(p, list).length === 0);
}
