import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigIssue } from "../../infra/config";
import { stackConfigIssues } from "../../infra/stack-config";
import { firewallRange } from "../../infra/database/firewall";
import { exampleStackRaw } from "../support/config";

/**
 * Network exposure: the database firewall never admits "every Azure service" (0.0.0.0) or a range
 * that wide, and a prod Key Vault (it holds the internode key, which is cluster admin) is never
 * reachable from anywhere; dev and ephemeral vaults may stay open, with a warning the plan shows.
 */

type Raw = Record<string, unknown>;
const section = (raw: Raw, key: string) => (raw[key] ?? {}) as Raw;

function issues(stack: "dev" | "prod" | "ephemeral", patch: (raw: Raw) => Raw, prefix: string): ConfigIssue[] {
    return stackConfigIssues(patch(exampleStackRaw(stack)), stack).filter((i) => i.path.startsWith(prefix));
}
const text = (list: ConfigIssue[]) => list.map((i) => `${i.severity ?? "error"} ${i.path}: ${i.message}`);

const flexible = (allowedIps: string[]) => (raw: Raw) => ({ ...raw, database: { kind: "flexible-server", allowedIps } });

describe("database firewall", () => {
    it("refuses 0.0.0.0, saying that Azure reads it as every Azure service of every tenant, and what to write instead", () => {
        assert.deepEqual(text(issues("dev", flexible(["0.0.0.0"]), "database")), [
            'error database.allowedIps[0]: "0.0.0.0" makes the firewall rule 0.0.0.0-0.0.0.0, which Azure reads as "allow public access from any Azure service": every Azure customer\'s services and VMs, not only yours, could connect: list the cluster\'s public egress IPs instead (its load balancer\'s outbound IPs or its NAT gateway\'s public IP or prefix), or set database.privateAccess',
        ]);
    });

    it("refuses ranges that wide: the whole internet, any range wider than a /24, private addresses the public firewall never sees", () => {
        assert.deepEqual(text(issues("dev", flexible(["0.0.0.0/0", "20.0.0.0/16", "10.1.0.0/16", "52.1.2.3/1"]), "database")), [
            'error database.allowedIps[0]: "0.0.0.0/0" admits every IPv4 address: list the cluster\'s public egress IPs instead (its load balancer\'s outbound IPs or its NAT gateway\'s public IP or prefix), or set database.privateAccess',
            'error database.allowedIps[1]: "20.0.0.0/16" admits 65536 addresses, far more than a cluster\'s egress (an Azure public IP prefix is at most a /28): list the cluster\'s public egress IPs instead (its load balancer\'s outbound IPs or its NAT gateway\'s public IP or prefix), or set database.privateAccess',
            'error database.allowedIps[2]: "10.1.0.0/16" is a private range, which a public firewall never sees (connections arrive from the cluster\'s public egress IP): list the cluster\'s public egress IPs instead (its load balancer\'s outbound IPs or its NAT gateway\'s public IP or prefix), or set database.privateAccess',
            'error database.allowedIps[3]: "52.1.2.3/1" is not a network address: the /1 network of 52.1.2.3 is 0.0.0.0/1; write that, or the address alone',
        ]);
    });

    it("accepts the egress addresses and prefixes of a cluster, and makes one rule per entry from its first to its last address", () => {
        assert.deepEqual(issues("dev", flexible(["203.0.113.10", "198.51.100.16/28"]), "database"), []);
        assert.deepEqual(firewallRange("203.0.113.10"), { startIpAddress: "203.0.113.10", endIpAddress: "203.0.113.10" });
        assert.deepEqual(firewallRange("198.51.100.16/28"), { startIpAddress: "198.51.100.16", endIpAddress: "198.51.100.31" });
        assert.deepEqual(firewallRange("198.51.100.0/24"), { startIpAddress: "198.51.100.0", endIpAddress: "198.51.100.255" });
    });

    it("says what is not an address at all", () => {
        assert.deepEqual(text(issues("dev", flexible(["300.1.1.1", "db.example.com"]), "database")), [
            'error database.allowedIps[0]: "300.1.1.1" is not an IPv4 address or CIDR range (e.g. 203.0.113.10 or 203.0.113.16/28)',
            'error database.allowedIps[1]: "db.example.com" is not an IPv4 address or CIDR range (e.g. 203.0.113.10 or 203.0.113.16/28)',
        ]);
    });
});

const vault = (keyVault: Raw) => (raw: Raw) => ({ ...raw, keyVault: { ...section(raw, "keyVault"), ...keyVault } });

describe("Key Vault network", () => {
    it("refuses a prod vault reachable from anywhere: public access with no rule", () => {
        assert.deepEqual(text(issues("prod", vault({ publicNetworkAccess: "Enabled", allowedIpRanges: [], allowedSubnetIds: [] }), "keyVault")), [
            "error keyVault.publicNetworkAccess: a prod vault must not be reachable from anywhere (it holds the internode private key, which is cluster admin): list the networks that run `pulumi up` and the external workers in keyVault.allowedIpRanges or keyVault.allowedSubnetIds (the firewall's default action becomes Deny), or set publicNetworkAccess: Disabled and reach the vault through a private endpoint (see docs/pki.md, \"Reaching a locked vault from CI\")",
        ]);
    });

    it("refuses prod rules that let anywhere in: 0.0.0.0/0, ranges wider than a /24, private ranges Key Vault does not take", () => {
        assert.deepEqual(text(issues("prod", vault({ allowedIpRanges: ["0.0.0.0/0", "20.0.0.0/12", "192.168.0.0/24", "203.0.113.7"] }), "keyVault")), [
            'error keyVault.allowedIpRanges[0]: "0.0.0.0/0" admits every IPv4 address, so the vault is reachable from anywhere: list the egress IPs of the machines that run `pulumi up` and of the external workers',
            'error keyVault.allowedIpRanges[1]: "20.0.0.0/12" admits 1048576 addresses: a prod vault admits the egress IPs of the machines that run `pulumi up` and of the external workers (a /24 at most)',
            'error keyVault.allowedIpRanges[2]: "192.168.0.0/24" is a private range, which Key Vault\'s firewall does not take (it sees public source addresses): allow the subnet in keyVault.allowedSubnetIds (a service endpoint), or reach the vault through a private endpoint',
        ]);
    });

    it("accepts a prod vault with explicit ranges, subnets, or no public access", () => {
        assert.deepEqual(issues("prod", vault({ allowedIpRanges: ["203.0.113.0/28"] }), "keyVault"), []);
        assert.deepEqual(issues("prod", vault({ allowedIpRanges: [], allowedSubnetIds: ["/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/runners"] }), "keyVault"), []);
        assert.deepEqual(issues("prod", vault({ publicNetworkAccess: "Disabled", allowedIpRanges: [] }), "keyVault"), []);
    });

    it("lets dev and ephemeral vaults stay open, with a warning", () => {
        for (const stack of ["dev", "ephemeral"] as const) {
            assert.deepEqual(text(issues(stack, vault({ publicNetworkAccess: "Enabled", allowedIpRanges: [] }), "keyVault")), [
                `warning keyVault.publicNetworkAccess: the vault is reachable from any address (it holds the internode private key, which is cluster admin); only Entra ID sign-in and RBAC stand in the way: acceptable for a ${stack} stack, but list keyVault.allowedIpRanges or allowedSubnetIds (a prod stack must)`,
            ]);
            assert.deepEqual(text(issues(stack, vault({ allowedIpRanges: ["0.0.0.0/0"] }), "keyVault")), [
                'warning keyVault.allowedIpRanges[0]: "0.0.0.0/0" admits every IPv4 address, so the vault is reachable from anywhere: list the egress IPs of the machines that run `pulumi up` and of the external workers',
            ]);
        }
    });

    it("the prod example locks its vault, and the dev example's open vault is a warning, not an error", () => {
        assert.deepEqual(stackConfigIssues(exampleStackRaw("prod"), "prod"), []);
        assert.deepEqual(
            stackConfigIssues(exampleStackRaw("dev"), "dev").map((i) => `${i.severity} ${i.path}`),
            ["warning keyVault.publicNetworkAccess"],
        );
    });
});
