import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Ranges a webhook must never reach unless deliberately allowed: loopback, private, link-local
 * (with the 169.254.169.254 cloud metadata address), CGNAT (with Alibaba's 100.100.100.200),
 * multicast, unspecified/"this network", reserved and documentation ranges, IPv6 ULA (with AWS's
 * fd00:ec2::254), IPv4-compatible ::a.b.c.d, NAT64 and 6to4 (both can embed a private IPv4 address).
 */
const BLOCKED_V4 = [
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
  "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
  "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
];
const BLOCKED_V6 = [
  "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16",
  "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
];

export class SsrfError extends Error {
  override name = "SsrfError";
  readonly code = "ESSRF";
}

/**
 * What to set to reach a refused address on purpose (a receiver on this machine or network), named
 * in every refusal so that whoever meets one knows the switch.
 */
export function allowCidrsHint(address: string): string {
  const bare = unmapIpv4(address.replace(/^\[|\]$/g, "").toLowerCase());
  const cidr = isIP(bare) === 6 ? `${bare}/128` : bare.startsWith("127.") ? "127.0.0.0/8" : `${bare}/32`;
  return `to deliver there deliberately, add its range to KEFU_DELIVERY_ALLOW_CIDRS (e.g. KEFU_DELIVERY_ALLOW_CIDRS=${cidr})`;
}

export interface SsrfGuard {
  /** Why the address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined;
  /** A `lookup` for net/tls/undici that resolves, drops refused addresses, and fails when none is left. */
  lookup: LookupFunction;
  /** Resolves a URL's host and throws {@link SsrfError} when any address is refused (used when a subscription is saved). */
  checkUrl(url: URL): Promise<void>;
}

export interface SsrfGuardOptions {
  /** CIDRs opened deliberately (`KEFU_DELIVERY_ALLOW_CIDRS`). */
  allowCidrs: readonly string[];
  /** Injectable resolver. @defaultValue node:dns lookup */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export function createSsrfGuard({ allowCidrs, resolve = resolveAll }: SsrfGuardOptions): SsrfGuard {
  const blocked = toBlockList([...BLOCKED_V4, ...BLOCKED_V6]);
  const allowed = toBlockList(allowCidrs);

  const refusal = (raw: string): string | undefined => {
    const address = unmapIpv4(raw.replace(/^\[|\]$/g, "").toLowerCase());
    const family = isIP(address);
    if (family === 0) return `${raw} is not an IP address`;
    const type = family === 4 ? "ipv4" : "ipv6";
    if (allowed.check(address, type)) return undefined;
    if (blocked.check(address, type)) return `${raw} is a loopback, private, link-local, CGNAT, multicast, reserved or metadata address`;
    return undefined;
  };

  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const usable = addresses.filter((entry) => refusal(entry.address) === undefined);
        if (usable.length === 0) {
          const first = addresses[0]?.address;
          const hint = first === undefined ? "" : `; ${allowCidrsHint(first)}`;
          const error = new SsrfError(`refusing to connect to ${hostname}: ${addresses.map((a) => a.address).join(", ") || "no address"} is not allowed${hint}`);
          callback(error, "", 0);
          return;
        }
        const wanted = options.family === 4 || options.family === 6 ? usable.filter((a) => a.family === options.family) : usable;
        if (options.all) {
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
          return;
        }
        const first = (wanted[0] ?? usable[0]) as LookupAddress;
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };

  const checkUrl = async (url: URL): Promise<void> => {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    // WHATWG URL parsing already turned decimal, octal and hex IPv4 forms into dotted quads.
    const addresses = isIP(host) ? [host] : (await resolve(host)).map((a) => a.address);
    if (addresses.length === 0) throw new SsrfError(`${host} does not resolve`);
    for (const address of addresses) {
      const why = refusal(address);
      if (why) throw new SsrfError(`refusing ${url.origin}: ${why}; ${allowCidrsHint(address)}`);
    }
  };

  return { refusal, lookup, checkUrl };
}

/** `::ffff:7f00:1` and `::ffff:127.0.0.1` → `127.0.0.1`, so the IPv4 rules apply to mapped addresses. */
export function unmapIpv4(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1]) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return address;
}

function toBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = "", bits = ""] = cidr.split("/");
    const type = isIP(network) === 6 ? "ipv6" : "ipv4";
    list.addSubnet(network, Number(bits), type);
  }
  return list;
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((done, fail) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? fail(error) : done(addresses)));
  });
}
