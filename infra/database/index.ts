import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import type { DatabaseConnection } from "../temporal/values";
import { opaqueSecret } from "../temporal/manifests";
import { POSTGRES_PORT, postgresNetworkPolicy, postgresService, postgresStatefulSet, type InClusterPostgresInput, type PostgresMajorVersion } from "./postgres";
import { firewallRange } from "./firewall";

export { POSTGRES_IMAGES, type PostgresMajorVersion } from "./postgres";

export const DATABASE_NAMES = { default: "temporal", visibility: "temporal_visibility" } as const;
export const FLEXIBLE_SERVER_ADMIN = "temporaladmin";
const IN_CLUSTER_USER = "temporal";

/**
 * Server parameters of the Flexible Server, applied one after another (Azure refuses concurrent
 * parameter changes on one server). `btree_gin` is allow-listed because Temporal's SQL visibility
 * schema creates that extension.
 */
export const FLEXIBLE_SERVER_PARAMETERS = [
    { name: "azure.extensions", value: "BTREE_GIN" },
    { name: "require_secure_transport", value: "ON" },
    { name: "ssl_min_protocol_version", value: "TLSv1.2" },
] as const;

export interface FlexibleServerArgs {
    resourceGroupName: pulumi.Input<string>;
    location: string;
    skuName: string;
    skuTier: string;
    storageSizeGb: number;
    highAvailability: boolean;
    backupRetentionDays: number;
    /** Private access through a delegated subnet (public access off). */
    privateAccess?: { delegatedSubnetId: string; privateDnsZoneId: string };
    /** Public access: the only addresses the firewall admits (the cluster's egress IPs, or CIDR ranges of them). */
    allowedIps: pulumi.Input<string>[];
    tags?: Record<string, string>;
}

export interface TemporalDatabaseArgs {
    /** in-cluster: a StatefulSet in the release namespace; flexible-server: Azure Database for PostgreSQL. */
    kind: "in-cluster" | "flexible-server";
    /** Provider of the cluster the password Secret (and the in-cluster database) go to. */
    provider: k8s.Provider;
    /** Release namespace, as an output of the resource that created it. */
    namespace: pulumi.Input<string>;
    /** Release namespace name (host names are derived from it). */
    namespaceName: string;
    /** Helm release allowed to connect (NetworkPolicy of the in-cluster database). */
    releaseName: string;
    postgresVersion: PostgresMajorVersion;
    /** In-cluster volume. */
    inCluster: { volumeSize: string; storageClassName?: string };
    /** Required when kind is flexible-server. */
    flexibleServer?: FlexibleServerArgs;
}

/**
 * Temporal's persistence: PostgreSQL with a generated password kept in a Kubernetes Secret. Dev and
 * ephemeral stacks get an in-cluster StatefulSet (up in seconds, gone with the stack); long-lived
 * stacks get a Flexible Server with TLS required and network access limited to the cluster.
 */
export class TemporalDatabase extends pulumi.ComponentResource {
    /** How the chart connects (no password: it stays in the Secret). */
    readonly connection: pulumi.Output<DatabaseConnection>;
    /** Secret in the release namespace holding the password under `password`. */
    readonly passwordSecretName: string;
    /** The Flexible Server, when one is created. */
    readonly server?: dbforpostgresql.Server;

    constructor(name: string, args: TemporalDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("temporal-azure:database:TemporalDatabase", name, {}, opts);
        const k8sOpts = { parent: this, provider: args.provider };
        this.passwordSecretName = `${args.releaseName}-db`;

        // Alphanumeric: the password travels through DSNs and env vars where some symbols need escaping.
        const password = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, { parent: this });
        const passwordValue = pulumi.secret(password.result);
        const secretManifest = opaqueSecret(this.passwordSecretName, args.namespaceName, { password: passwordValue });
        const passwordSecret = new k8s.core.v1.Secret(
            `${name}-password`,
            { ...secretManifest, metadata: { ...secretManifest.metadata, namespace: args.namespace }, stringData: pulumi.secret(secretManifest.stringData) },
            k8sOpts,
        );

        if (args.kind === "in-cluster") {
            const input: InClusterPostgresInput = {
                name: `${args.releaseName}-postgres`,
                namespace: args.namespaceName,
                version: args.postgresVersion,
                user: IN_CLUSTER_USER,
                passwordSecretName: this.passwordSecretName,
                volumeSize: args.inCluster.volumeSize,
                releaseName: args.releaseName,
                ...(args.inCluster.storageClassName !== undefined ? { storageClassName: args.inCluster.storageClassName } : {}),
            };
            const inNamespace = <T extends { metadata: object }>(m: T) => ({ ...m, metadata: { ...m.metadata, namespace: args.namespace } });
            new k8s.networking.v1.NetworkPolicy(`${name}-postgres`, inNamespace(postgresNetworkPolicy(input)), k8sOpts);
            const service = new k8s.core.v1.Service(`${name}-postgres`, inNamespace(postgresService(input)), k8sOpts);
            const statefulSet = new k8s.apps.v1.StatefulSet(`${name}-postgres`, inNamespace(postgresStatefulSet(input)), { ...k8sOpts, dependsOn: [passwordSecret] });
            // Read through the resources so the chart is installed only once the database exists.
            this.connection = pulumi.all([service.metadata.name, statefulSet.metadata.name]).apply(([host]) => ({
                host: `${host}.${args.namespaceName}.svc`,
                port: POSTGRES_PORT,
                user: IN_CLUSTER_USER,
                passwordSecretName: this.passwordSecretName,
                passwordSecretKey: "password",
                databaseName: DATABASE_NAMES.default,
                visibilityDatabaseName: DATABASE_NAMES.visibility,
                createDatabase: true,
            }));
        } else {
            const fs = args.flexibleServer;
            if (fs === undefined) throw new Error("TemporalDatabase: kind flexible-server needs flexibleServer args");
            const server = new dbforpostgresql.Server(
                `${name}-server`,
                {
                    resourceGroupName: fs.resourceGroupName,
                    location: fs.location,
                    version: args.postgresVersion,
                    createMode: "Create",
                    sku: { name: fs.skuName, tier: fs.skuTier },
                    storage: { storageSizeGB: fs.storageSizeGb, autoGrow: "Enabled" },
                    backup: { backupRetentionDays: fs.backupRetentionDays, geoRedundantBackup: "Disabled" },
                    highAvailability: { mode: fs.highAvailability ? "ZoneRedundant" : "Disabled" },
                    authConfig: { passwordAuth: "Enabled", activeDirectoryAuth: "Disabled" },
                    administratorLogin: FLEXIBLE_SERVER_ADMIN,
                    administratorLoginPassword: passwordValue,
                    network: fs.privateAccess
                        ? { delegatedSubnetResourceId: fs.privateAccess.delegatedSubnetId, privateDnsZoneArmResourceId: fs.privateAccess.privateDnsZoneId, publicNetworkAccess: "Disabled" }
                        : { publicNetworkAccess: "Enabled" },
                    ...(fs.tags ? { tags: fs.tags } : {}),
                },
                { parent: this, additionalSecretOutputs: ["administratorLoginPassword"] },
            );
            this.server = server;

            let previous: pulumi.Resource = server;
            for (const p of FLEXIBLE_SERVER_PARAMETERS) {
                previous = new dbforpostgresql.Configuration(
                    `${name}-${p.name.replace(/[._]/g, "-")}`,
                    { resourceGroupName: fs.resourceGroupName, serverName: server.name, configurationName: p.name, value: p.value, source: "user-override" },
                    { parent: this, dependsOn: [previous] },
                );
            }
            const databases: dbforpostgresql.Database[] = [];
            for (const db of Object.values(DATABASE_NAMES)) {
                const database = new dbforpostgresql.Database(
                    `${name}-${db.replace(/_/g, "-")}`,
                    { resourceGroupName: fs.resourceGroupName, serverName: server.name, databaseName: db, charset: "UTF8", collation: "en_US.utf8" },
                    { parent: this, dependsOn: [previous] },
                );
                databases.push(database);
                previous = database;
            }
            const firewall = fs.privateAccess
                ? []
                : fs.allowedIps.map(
                      (ip, i) =>
                          new dbforpostgresql.FirewallRule(
                              `${name}-cluster-egress-${i}`,
                              {
                                  resourceGroupName: fs.resourceGroupName,
                                  serverName: server.name,
                                  firewallRuleName: `cluster-egress-${i}`,
                                  startIpAddress: pulumi.output(ip).apply((entry) => firewallRange(entry).startIpAddress),
                                  endIpAddress: pulumi.output(ip).apply((entry) => firewallRange(entry).endIpAddress),
                              },
                              { parent: this, dependsOn: [previous] },
                          ),
                  );
            const ready = pulumi.all([...databases.map((d) => d.id), ...firewall.map((f) => f.id)]);
            this.connection = pulumi.all([server.fullyQualifiedDomainName, ready]).apply(([fqdn]) => ({
                host: fqdn,
                port: POSTGRES_PORT,
                user: FLEXIBLE_SERVER_ADMIN,
                passwordSecretName: this.passwordSecretName,
                passwordSecretKey: "password",
                databaseName: DATABASE_NAMES.default,
                visibilityDatabaseName: DATABASE_NAMES.visibility,
                // Created above as Azure resources: the schema job only manages the schema.
                createDatabase: false,
                tlsServerName: fqdn,
            }));
        }

        this.registerOutputs({ connection: this.connection, passwordSecretName: this.passwordSecretName, server: this.server });
    }
}
