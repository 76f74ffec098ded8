import "server-only";
import { lookup } from "node:dns/promises";
import net from "node:net";
import { type Diagnosis, diagnose } from "./diagnoses";

export type GuardResult = { ok: true; address: string; family: 4 | 6 } | { ok: false; diagnosis: Diagnosis };

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** What is being connected to: its name in messages and the ports it may use without an allow-list entry. */
export type GuardedService = { name: string; ports: readonly number[] };

/**
 * Resolves a server and decides whether Navigator Mail may connect to it. The caller must connect
 * to the returned address (not the name again) so a second DNS answer cannot point elsewhere.
 */
export async function guardHost(
  service: GuardedService,
  host: string,
  port: number,
  allowlist: readonly string[],
  resolve: Resolver = systemResolver,
): Promise<GuardResult> {
  const name = host.trim().toLowerCase().replace(/\.$/, "");
  const allowed = allowlist.includes(`${name}:${port}`) || allowlist.includes(`[${name}]:${port}`);
  if (!allowed && !service.ports.includes(port)) {
    return { ok: false, diagnosis: diagnose("NETWORK_PORT_NOT_ALLOWED", `${service.name} port ${port}`) };
  }
  if (!net.isIP(stripBrackets(name)) && looksLikeIpv4Literal(name)) {
    return {
      ok: false,
      diagnosis: diagnose("NETWORK_REFUSED_ADDRESS", `${name} is an IPv4 address in an unusual notation`),
    };
  }
  let addresses: { address: string; family: number }[];
  try {
    addresses = net.isIP(stripBrackets(name))
      ? [{ address: stripBrackets(name), family: net.isIP(stripBrackets(name)) }]
      : await resolve(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "DNS";
    return { ok: false, diagnosis: diagnose("DNS_NOT_FOUND", `${code} ${name}`) };
  }
  if (addresses.length === 0) return { ok: false, diagnosis: diagnose("DNS_NOT_FOUND", `no address for ${name}`) };
  // Every answer must be acceptable: one private address among public ones is enough to refuse. An
  // operator's allow-list entry opens private ranges, never link-local or cloud-metadata addresses.
  const refused = addresses.find((a) => {
    const kind = classifyAddress(a.address);
    return kind !== "public" && (!allowed || NEVER_ALLOWED.has(kind));
  });
  if (refused) {
    return {
      ok: false,
      diagnosis: diagnose(
        "NETWORK_REFUSED_ADDRESS",
        `${name} resolves to ${refused.address} (${classifyAddress(refused.address)})`,
      ),
    };
  }
  const first = addresses[0]!;
  return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
}

export type AddressClass =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "cgnat"
  | "unique-local"
  | "multicast"
  | "reserved"
  | "ipv4-mapped"
  | "ipv4-translated"
  | "metadata"
  | "nat64"
  | "6to4"
  | "teredo"
  | "documentation"
  | "benchmark"
  | "invalid";

const V4_RANGES: [string, number, AddressClass][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "cgnat"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmark"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

const V6_RANGES: [string, number, AddressClass][] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["::ffff:0:0", 96, "ipv4-mapped"],
  ["::ffff:0:0:0", 96, "ipv4-translated"],
  ["::", 96, "reserved"], // IPv4-compatible (deprecated)
  ["64:ff9b::", 96, "nat64"],
  ["64:ff9b:1::", 48, "nat64"],
  ["100::", 64, "reserved"],
  ["2001::", 32, "teredo"],
  ["2001:db8::", 32, "documentation"],
  ["2002::", 16, "6to4"],
  ["fd00:ec2::254", 128, "metadata"],
  ["fc00::", 7, "unique-local"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "reserved"],
  ["ff00::", 8, "multicast"],
];

/** Reachable through no allow-list entry: instance metadata and link-local services, also when wrapped in IPv6. */
const NEVER_ALLOWED = new Set<AddressClass>(["link-local", "metadata", "ipv4-mapped", "ipv4-translated"]);

export function classifyAddress(input: string): AddressClass {
  const address = stripBrackets(input).split("%")[0]!;
  const version = net.isIP(address);
  if (version === 4) {
    const value = ipv4ToBigInt(address);
    for (const [base, bits, kind] of V4_RANGES) if (inRange(value, ipv4ToBigInt(base), bits, 32)) return kind;
    return "public";
  }
  if (version === 6) {
    const value = ipv6ToBigInt(address);
    for (const [base, bits, kind] of V6_RANGES) if (inRange(value, ipv6ToBigInt(base), bits, 128)) return kind;
    return "public";
  }
  return "invalid";
}

/** 2130706433, 0x7f.1, 017700000001, 127.1: forms that resolvers read as IPv4 but are not dotted decimal. */
export function looksLikeIpv4Literal(host: string): boolean {
  const parts = host.split(".");
  if (parts.length > 4) return false;
  return parts.every((part) => /^(0x[0-9a-f]*|0[0-7]*|[1-9]\d*)$/i.test(part));
}

function inRange(value: bigint, base: bigint, bits: number, width: number): boolean {
  const shift = BigInt(width - bits);
  return value >> shift === base >> shift;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address.toLowerCase();
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    text = text.replace(v4[1]!, `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`);
  }
  const [head, tail] = text.split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const missing = 8 - headParts.length - tailParts.length;
  const groups = tail === undefined ? headParts : [...headParts, ...Array(missing).fill("0"), ...tailParts];
  return groups.reduce((acc, group) => (acc << 16n) + BigInt(parseInt(group || "0", 16)), 0n);
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
