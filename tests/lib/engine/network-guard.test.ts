import { describe, expect, it } from "vitest";
import { classifyAddress, guardHost, looksLikeIpv4Literal, type Resolver } from "@/lib/engine/network-guard";
import { IMAP_PORTS, SMTP_PORTS } from "@/lib/engine/settings";

const SMTP = { name: "SMTP", ports: SMTP_PORTS };
const IMAP = { name: "IMAP", ports: IMAP_PORTS };
const SERVICES = { smtp: SMTP, imap: IMAP };

const refusedAddresses: [string, string][] = [
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["169.254.169.254", "link-local"],
  ["169.254.0.1", "link-local"],
  ["100.64.0.1", "cgnat"],
  ["100.127.255.255", "cgnat"],
  ["192.0.0.8", "reserved"],
  ["192.0.2.10", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["198.18.0.1", "benchmark"],
  ["192.88.99.1", "6to4"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "reserved"],
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["::ffff:127.0.0.1", "ipv4-mapped"],
  ["::ffff:8.8.8.8", "ipv4-mapped"],
  ["::ffff:7f00:1", "ipv4-mapped"],
  ["::ffff:0:7f00:1", "ipv4-translated"],
  ["::ffff:0:a9fe:a9fe", "ipv4-translated"],
  ["::ffff:0:808:808", "ipv4-translated"],
  ["fd00:ec2::254", "metadata"],
  ["fd00:ec2::253", "unique-local"],
  ["::127.0.0.1", "reserved"],
  ["64:ff9b::7f00:1", "nat64"],
  ["64:ff9b:1::a00:1", "nat64"],
  ["2002:7f00:1::1", "6to4"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"],
  ["2001:db8::1", "documentation"],
  ["fc00::1", "unique-local"],
  ["fd12:3456:789a::1", "unique-local"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["fec0::1", "reserved"],
  ["ff02::1", "multicast"],
  ["100::1", "reserved"],
];

const publicAddresses = [
  "52.96.165.18",
  "40.99.10.34",
  "8.8.8.8",
  "1.1.1.1",
  "172.32.0.1",
  "100.128.0.1",
  "11.0.0.1",
  "2603:1036:3000::1",
  "2a01:111:f400::1",
  "2620:1ec:21::14",
];

describe("address classification", () => {
  it.each(refusedAddresses)("%s is %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each(publicAddresses)("%s is public", (address) => {
    expect(classifyAddress(address)).toBe("public");
  });

  it.each([
    "2130706433",
    "0x7f000001",
    "0x7f.1",
    "017700000001",
    "0177.0.0.1",
    "127.1",
    "127.0.1",
    "0",
    "0x7f.0x0.0x0.0x1",
  ])("%s is an IPv4 literal in another notation", (host) => {
    expect(looksLikeIpv4Literal(host)).toBe(true);
  });

  it.each(["smtp.office365.com", "outlook.office365.com", "1e100.net", "mail1.example.com", "0xdeadbeef.example.com"])(
    "%s is a name",
    (host) => {
      expect(looksLikeIpv4Literal(host)).toBe(false);
    },
  );
});

describe("guardHost", () => {
  const resolver =
    (answers: Record<string, string[]>): Resolver =>
    async (host) => {
      const found = answers[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
  const dns = resolver({
    "smtp.office365.com": ["52.96.165.18", "2603:1036:3000::1"],
    "rebind.example.com": ["52.96.165.18", "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "onprem.example.com": ["10.1.2.3"],
  });

  it("resolves a public host and returns the address to connect to", async () => {
    expect(await guardHost(SMTP, "smtp.office365.com", 587, [], dns)).toEqual({
      ok: true,
      address: "52.96.165.18",
      family: 4,
    });
  });

  it.each([
    ["rebind.example.com", "127.0.0.1 (loopback)"],
    ["metadata.example.com", "169.254.169.254 (link-local)"],
    ["onprem.example.com", "10.1.2.3 (private)"],
  ])("refuses %s when any answer is not public", async (host, detail) => {
    const result = await guardHost(SMTP, host, 587, [], dns);
    expect(result).toMatchObject({ ok: false, diagnosis: { code: "NETWORK_REFUSED_ADDRESS" } });
    expect(!result.ok && result.diagnosis.detail).toContain(detail);
  });

  it.each(["127.0.0.1", "[::1]", "2130706433", "0x7f.1", "::ffff:127.0.0.1", "169.254.169.254"])(
    "refuses the literal %s without asking DNS",
    async (host) => {
      let asked = false;
      const result = await guardHost(IMAP, host, 993, [], async () => {
        asked = true;
        return [];
      });
      expect(result.ok).toBe(false);
      expect(asked).toBe(false);
    },
  );

  it("allows exactly the allowlisted host:port", async () => {
    expect((await guardHost(SMTP, "onprem.example.com", 587, ["onprem.example.com:587"], dns)).ok).toBe(true);
    expect((await guardHost(SMTP, "onprem.example.com", 465, ["onprem.example.com:587"], dns)).ok).toBe(false);
    expect((await guardHost(SMTP, "127.0.0.1", 2525, ["127.0.0.1:2525"], dns)).ok).toBe(true);
  });

  it.each([
    ["smtp", 22],
    ["smtp", 80],
    ["smtp", 993],
    ["imap", 587],
    ["imap", 6379],
  ] as const)("refuses %s on port %i, which is not a mail port for it", async (protocol, port) => {
    expect(await guardHost(SERVICES[protocol], "smtp.office365.com", port, [], dns)).toMatchObject({
      ok: false,
      diagnosis: { code: "NETWORK_PORT_NOT_ALLOWED" },
    });
  });

  it("reports a name that does not resolve", async () => {
    expect(await guardHost(SMTP, "nope.example.com", 587, [], dns)).toMatchObject({
      ok: false,
      diagnosis: { code: "DNS_NOT_FOUND" },
    });
  });

  it.each([
    ["169.254.169.254", "link-local"],
    ["169.254.10.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fd00:ec2::254", "metadata"],
    ["::ffff:169.254.169.254", "ipv4-mapped"],
    ["::ffff:0:a9fe:a9fe", "ipv4-translated"],
  ])("refuses %s even when the host:port is allow-listed", async (address, kind) => {
    const resolver: Resolver = async () => [{ address, family: address.includes(":") ? 6 : 4 }];
    const result = await guardHost(SMTP, "onprem.example.com", 587, ["onprem.example.com:587"], resolver);
    expect(result).toMatchObject({ ok: false, diagnosis: { code: "NETWORK_REFUSED_ADDRESS" } });
    expect(!result.ok && result.diagnosis.detail).toContain(kind);
  });

  it("an allow-list entry still opens a private or loopback address", async () => {
    for (const address of ["10.1.2.3", "127.0.0.1", "fd12::1"]) {
      const resolver: Resolver = async () => [{ address, family: address.includes(":") ? 6 : 4 }];
      expect(await guardHost(SMTP, "onprem.example.com", 587, ["onprem.example.com:587"], resolver)).toMatchObject({
        ok: true,
        address,
      });
    }
  });
});
