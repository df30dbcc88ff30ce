/**
 * The address guard of HTTP tools (SSRF defence): whether the tools worker may call a URL that a
 * tenant wrote, checked when the tool is created or replaced and again before every request it
 * makes, each redirect's Location included.
 *
 * Allowed: `https:` URLs without credentials whose host is a DNS name or a public IP address.
 * Refused, with a reason naming the rule:
 * - any scheme but https (http only under the loopback exception below);
 * - `user:password@` in the URL;
 * - IPv4 literals in private, loopback, link-local, CGNAT, "this network", benchmark,
 *   documentation, multicast and reserved ranges (0/8, 10/8, 100.64/10, 127/8, 169.254/16,
 *   172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24,
 *   203.0.113/24, 224/4, 240/4). Decimal, hex and octal forms (`2130706433`, `0x7f.1`, `0177.0.0.1`)
 *   are normalised to dotted quads by the WHATWG URL parser first, so they meet the same rules;
 *   anything numeric-looking that is not a canonical dotted quad is refused outright;
 * - IPv6 literals: unspecified and loopback (::, ::1), IPv4-mapped (::ffff:0:0/96) and
 *   IPv4-compatible (::/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16), Teredo
 *   (2001::/32), documentation (2001:db8::/32), discard (100::/64), unique-local (fc00::/7),
 *   link-local (fe80::/10), site-local (fec0::/10), multicast (ff00::/8);
 * - names for this machine or a private network: localhost and *.localhost, single-label names
 *   (`metadata`, `intranet`), and *.internal (metadata.google.internal), *.local, *.localdomain,
 *   *.home.arpa, *.lan.
 *
 * Local-dev exception: with HTTP_TOOLS_LOOPBACK = "allow" (wrangler.jsonc's default env, used by
 * `pnpm dev` and the tests) `http:` and `https:` to exactly 127.0.0.1 and localhost are allowed,
 * nothing else of the loopback range; env.production sets "deny".
 *
 * The remaining gap: DNS names are not resolved here, so a public name whose records point at a
 * private address (`10.0.0.1.nip.io`, DNS rebinding) passes this guard. That is acceptable because
 * Cloudflare's egress from a Worker cannot reach private networks, and the metadata services
 * above exist only inside cloud VMs; a deployment elsewhere would need resolution-time checks.
 */

export type LoopbackPolicy = "allow" | "deny";

export type AddressVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const REFUSED_V4: ReadonlyArray<readonly [string, number, string]> = [
  ["0.0.0.0", 8, "a 'this network' address"],
  ["10.0.0.0", 8, "a private address"],
  ["100.64.0.0", 10, "a carrier-grade NAT address"],
  ["127.0.0.0", 8, "a loopback address"],
  ["169.254.0.0", 16, "a link-local (cloud metadata) address"],
  ["172.16.0.0", 12, "a private address"],
  ["192.0.0.0", 24, "an IETF protocol address"],
  ["192.0.2.0", 24, "a documentation address"],
  ["192.88.99.0", 24, "a 6to4 relay address"],
  ["192.168.0.0", 16, "a private address"],
  ["198.18.0.0", 15, "a benchmarking address"],
  ["198.51.100.0", 24, "a documentation address"],
  ["203.0.113.0", 24, "a documentation address"],
  ["224.0.0.0", 4, "a multicast address"],
  ["240.0.0.0", 4, "a reserved address"],
];

/** [prefix as 8 groups, prefix length, what it is] */
const REFUSED_V6: ReadonlyArray<readonly [number[], number, string]> = [
  [[0, 0, 0, 0, 0, 0xffff, 0, 0], 96, "an IPv4-mapped IPv6 address"],
  [[0, 0, 0, 0, 0, 0, 0, 0], 96, "an IPv4-compatible, loopback or unspecified IPv6 address"],
  [[0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, "a NAT64 address"],
  [[0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "a NAT64 address"],
  [[0x100, 0, 0, 0, 0, 0, 0, 0], 64, "a discard address"],
  [[0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "a Teredo address"],
  [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "a documentation address"],
  [[0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "a 6to4 address"],
  [[0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "a unique-local (private) address"],
  [[0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "a link-local address"],
  [[0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "a site-local address"],
  [[0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "a multicast address"],
];

const PRIVATE_SUFFIXES = ["localhost", "internal", "local", "localdomain", "home.arpa", "lan"];

const PUBLIC_ONLY = "HTTP tools may only call public https addresses";

/** Whether HTTP tools may call `raw` (a URL string or URL), and the parsed URL when they may. */
export function checkToolUrl(raw: string | URL, loopback: LoopbackPolicy): AddressVerdict {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    return { ok: false, reason: "is not a valid URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: `uses ${url.protocol.replace(/:$/, "")}; ${PUBLIC_ONLY}` };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "must not carry credentials (user:password@); use the tool's auth" };
  }
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (loopback === "allow" && (host === "127.0.0.1" || host === "localhost")) return { ok: true, url };

  const problem = hostProblem(host);
  if (problem) return { ok: false, reason: `host ${url.hostname} is ${problem}; ${PUBLIC_ONLY}` };
  if (url.protocol !== "https:") {
    return {
      ok: false,
      reason: `must use https (http is allowed only to 127.0.0.1 and localhost in local development)`,
    };
  }
  return { ok: true, url };
}

/** What makes `host` (lowercase, no trailing dot) unfit, or null when it may be called. */
function hostProblem(host: string): string | null {
  if (host === "") return "empty";
  if (host.startsWith("[")) {
    const groups = parseIpv6(host.slice(1, -1));
    if (!groups) return "not a valid IPv6 address";
    for (const [prefix, bits, what] of REFUSED_V6) if (inPrefix(groups, prefix, bits, 16)) return what;
    return null;
  }
  const labels = host.split(".");
  if (labels.every((label) => /^(0x[0-9a-f]*|[0-9]+)$/.test(label))) {
    const octets = parseDottedQuad(host);
    if (!octets) return "a numeric address that is not a canonical dotted-quad IPv4 address";
    for (const [base, bits, what] of REFUSED_V4) {
      if (inPrefix(octets, parseDottedQuad(base)!, bits, 8)) return `${what} (${base}/${bits})`;
    }
    return null;
  }
  if (labels.length === 1) return "a single-label name (not a public DNS name)";
  for (const suffix of PRIVATE_SUFFIXES) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return `a name for a local or private network (.${suffix})`;
  }
  return null;
}

/** The four octets of a canonical dotted quad (no leading zeros), or null. */
function parseDottedQuad(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    octets.push(value);
  }
  return octets;
}

/** The eight 16-bit groups of an IPv6 address (`::` compression and an IPv4 tail allowed), or null. */
export function parseIpv6(text: string): number[] | null {
  if (text === "" || /[^0-9a-f:.]/i.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const octets = parseDottedQuad(piece);
        if (!octets) return null;
        out.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        out.push(Number.parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Whether `address` (units of `unitBits` bits) starts with the first `bits` bits of `prefix`. */
function inPrefix(address: number[], prefix: number[], bits: number, unitBits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= unitBits) {
    const take = Math.min(bits, unitBits);
    const mask = ((1 << take) - 1) << (unitBits - take);
    if ((address[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}
