import { formatIpv4, parseIpv4Range } from "../config/network";

/** A Flexible Server firewall rule's bounds for one `database.allowedIps` entry: an address, or a CIDR range from its first to its last address. */
export function firewallRange(entry: string): { startIpAddress: string; endIpAddress: string } {
    const r = parseIpv4Range(entry);
    if (r === undefined) throw new Error(`firewallRange: "${entry}" is not an IPv4 address or CIDR range (the config check refuses it first)`);
    return { startIpAddress: formatIpv4(r.first), endIpAddress: formatIpv4(r.last) };
}
