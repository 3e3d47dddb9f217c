import { BlockList, isIPv4 } from "node:net";
import { z } from "zod";

/**
 * IPv4 addresses and CIDR ranges as firewall rules take them (Key Vault's ipRules, the Flexible
 * Server's start/end rules). Node's `net` validates the address and answers membership; the
 * arithmetic of a range's first and last address is a few lines of bit work no library is needed for.
 */

export interface Ipv4Range {
    /** As written. */
    text: string;
    /** The address part, e.g. 198.51.100.16. */
    address: string;
    /** Prefix length: 32 for a single address. */
    prefix: number;
    /** First and last address, as unsigned 32-bit numbers. */
    first: number;
    last: number;
    /** How many addresses it admits. */
    size: number;
}

const toNumber = (address: string): number => address.split(".").reduce((n, part) => n * 256 + Number(part), 0);

export const formatIpv4 = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** `a.b.c.d` or `a.b.c.d/n`; undefined when it is neither. */
export function parseIpv4Range(text: string): Ipv4Range | undefined {
    const [address, length, ...rest] = text.split("/");
    if (address === undefined || rest.length > 0 || !isIPv4(address)) return undefined;
    if (length !== undefined && !/^(\d|[12]\d|3[0-2])$/.test(length)) return undefined;
    const prefix = length === undefined ? 32 : Number(length);
    const size = 2 ** (32 - prefix);
    const first = Math.floor(toNumber(address) / size) * size;
    return { text, address, prefix, first, last: first + size - 1, size };
}

/** Whether the address part is the range's network address (no host bits set). */
export const isNetworkAddress = (r: Ipv4Range): boolean => toNumber(r.address) === r.first;

/**
 * Addresses no public firewall ever sees as a source: RFC 1918 private networks, carrier-grade NAT
 * (RFC 6598), loopback, link-local and "this network" (RFC 1122).
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
    ["10.0.0.0", 8],
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["0.0.0.0", 8],
] as const) {
    NON_PUBLIC.addSubnet(network, prefix, "ipv4");
}

export const isNonPublic = (r: Ipv4Range): boolean => NON_PUBLIC.check(formatIpv4(r.first), "ipv4") && NON_PUBLIC.check(formatIpv4(r.last), "ipv4");

/** The widest range a firewall rule of this project takes outside the refusals: a /24 (256 addresses). */
export const WIDEST_PREFIX = 24;

/** A firewall entry: an IPv4 address or a CIDR range given by its network address. */
export const ipv4Range = () =>
    z.string().superRefine((value, ctx) => {
        const r = parseIpv4Range(value);
        if (r === undefined) {
            ctx.addIssue({ code: "custom", message: `"${value}" is not an IPv4 address or CIDR range (e.g. 203.0.113.10 or 203.0.113.16/28)` });
        } else if (!isNetworkAddress(r)) {
            ctx.addIssue({ code: "custom", message: `"${value}" is not a network address: the /${r.prefix} network of ${r.address} is ${formatIpv4(r.first)}/${r.prefix}; write that, or the address alone` });
        }
    });

/** The range of a value `ipv4Range()` accepted (undefined for one it refused). */
export function acceptedRange(value: string): Ipv4Range | undefined {
    const r = parseIpv4Range(value);
    return r !== undefined && isNetworkAddress(r) ? r : undefined;
}
