import { describe, expect, it } from "vitest";
import { checkToolUrl, parseIpv6 } from "../src/address-guard";

const refused = (url: string, policy: "allow" | "deny" = "deny") => {
  const verdict = checkToolUrl(url, policy);
  return verdict.ok ? null : verdict.reason;
};

describe("the address guard", () => {
  it("allows public https URLs, by name or public address", () => {
    for (const url of [
      "https://api.example.com/v1/weather?city=Oslo",
      "https://example.com:8443/x",
      "https://8.8.8.8/dns",
      "https://[2606:4700:4700::1111]/",
      "https://sub.domain.example.org./trailing-dot",
    ]) {
      expect(refused(url), url).toBeNull();
    }
  });

  it("refuses every scheme but https, and URLs with credentials", () => {
    expect(refused("http://api.example.com/")).toMatch(/must use https/);
    expect(refused("ftp://api.example.com/")).toMatch(/uses ftp/);
    expect(refused("file:///etc/passwd")).toMatch(/uses file/);
    expect(refused("https://user:pass@api.example.com/")).toMatch(/credentials/);
    expect(refused("https://user@api.example.com/")).toMatch(/credentials/);
    expect(refused("not a url")).toMatch(/not a valid URL/);
  });

  it("refuses private, loopback, link-local, CGNAT and 'this network' IPv4 addresses", () => {
    const cases: Array<[string, RegExp]> = [
      ["https://10.0.0.8/x", /private address \(10\.0\.0\.0\/8\)/],
      ["https://172.16.0.1/", /172\.16\.0\.0\/12/],
      ["https://172.31.255.255/", /172\.16\.0\.0\/12/],
      ["https://192.168.1.1/", /192\.168\.0\.0\/16/],
      ["https://127.0.0.1/", /loopback/],
      ["https://127.1.2.3/", /loopback/],
      ["https://169.254.169.254/latest/meta-data", /link-local/],
      ["https://100.64.0.1/", /carrier-grade NAT/],
      ["https://100.100.100.200/", /carrier-grade NAT/],
      ["https://0.0.0.0/", /this network/],
      ["https://224.0.0.1/", /multicast/],
      ["https://255.255.255.255/", /reserved/],
    ];
    for (const [url, reason] of cases) expect(refused(url), url).toMatch(reason);
    // Neighbours of the ranges are public.
    expect(refused("https://172.32.0.1/")).toBeNull();
    expect(refused("https://100.128.0.1/")).toBeNull();
    expect(refused("https://11.0.0.1/")).toBeNull();
  });

  it("refuses decimal, hex and octal spellings of private IPv4 addresses", () => {
    for (const url of [
      "https://2130706433/", // 127.0.0.1
      "https://0x7f000001/",
      "https://0x7f.1/",
      "https://0177.0.0.1/",
      "https://017700000001/",
      "https://127.1/",
      "https://0xa9.0xfe.0xa9.0xfe/", // 169.254.169.254
      "https://2852039166/", // 169.254.169.254
      "https://012.0.0.1/", // 10.0.0.1
    ]) {
      expect(refused(url), url).toMatch(/loopback|link-local|private/);
    }
  });

  it("refuses loopback, private, link-local, mapped and embedding IPv6 addresses", () => {
    for (const url of [
      "https://[::1]/",
      "https://[::]/",
      "https://[fc00::1]/",
      "https://[fd12:3456::1]/",
      "https://[fe80::1]/",
      "https://[febf::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:169.254.169.254]/",
      "https://[::ffff:7f00:1]/",
      "https://[::127.0.0.1]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://[2002:a9fe:a9fe::1]/",
      "https://[ff02::1]/",
    ]) {
      expect(refused(url), url).not.toBeNull();
    }
    expect(refused("https://[::ffff:127.0.0.1]/")).toMatch(/IPv4-mapped/);
  });

  it("refuses names for this machine, metadata services and private networks", () => {
    for (const url of [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://metadata/computeMetadata/v1/",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://anything.internal/",
      "https://printer.local/",
      "https://router.home.arpa/",
      "https://intranet/",
    ]) {
      expect(refused(url), url).not.toBeNull();
    }
  });

  it("under the local-dev exception allows http(s) to exactly 127.0.0.1 and localhost", () => {
    for (const url of [
      "http://127.0.0.1:8080/echo",
      "https://127.0.0.1/",
      "http://localhost:3000/",
      "https://localhost/",
    ]) {
      expect(refused(url, "allow"), url).toBeNull();
      expect(refused(url, "deny"), url).not.toBeNull();
    }
    for (const url of [
      "http://127.0.0.2/",
      "http://[::1]/",
      "http://api.localhost/",
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.1/",
      "http://api.example.com/",
      "http://user:pw@127.0.0.1/",
    ]) {
      expect(refused(url, "allow"), url).not.toBeNull();
    }
  });

  it("parses IPv6 text into groups", () => {
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("2001:db8::8:800:200c:417a")).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
    expect(parseIpv6("::ffff:10.1.2.3")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("1::2::3")).toBeNull();
    expect(parseIpv6("1:2:3")).toBeNull();
    expect(parseIpv6("12345::")).toBeNull();
  });
});
