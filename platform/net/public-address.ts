// Where the platform may send a request a partner chose (webhook endpoints): the address policy,
// applied when the URL is registered and again at every send, and a `lookup` that makes the
// connection go to the very addresses the policy passed (so DNS cannot change them in between).
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A host name to every address it has; the dependency seam for tests (DNS rebinding). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }))),
    ),
  );

/**
 * The range of `address` as ipaddr.js names the IANA special-purpose registries ("unicast" is the
 * public Internet), an IPv4 address carried inside an IPv6 one judged as that IPv4 address:
 * IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64's
 * well-known prefix (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32, its server and its
 * client both). A host that is no IP address at all is "invalid".
 */
export function addressRange(address: string): string {
  if (!isIP(address)) return "invalid";
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return parsed.range();
  const ipv6 = parsed as ipaddr.IPv6;
  const range = ipv6.range();
  if (range === "loopback" || range === "unspecified") return range;
  const embedded = embeddedIPv4(ipv6, range);
  if (!embedded) return range;
  return embedded.map((ipv4) => ipv4.range()).find((inner) => inner !== "unicast") ?? "unicast";
}

function embeddedIPv4(ipv6: ipaddr.IPv6, range: string): ipaddr.IPv4[] | undefined {
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = ipv6.parts;
  const ipv4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const wellKnownNat64 = range === "rfc6052" && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0;
  const compatible = p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0;
  if (range === "ipv4Mapped" || range === "rfc6145" || wellKnownNat64 || compatible) return [ipv4(p6, p7)];
  if (range === "6to4") return [ipv4(p1, p2)];
  // Teredo: the server's address in the clear, the client's with every bit inverted.
  if (range === "teredo") return [ipv4(p2, p3), ipv4(~p6 & 0xffff, ~p7 & 0xffff)];
  // 64:ff9b:1::/48 (local-use NAT64, RFC 8215) stays "rfc6052": not globally reachable.
  return undefined;
}

export type DestinationCheck =
  | { ok: true; url: URL; hostname: string; addresses: ResolvedAddress[] }
  /** `reason` completes a sentence that starts with the URL: "`url` must be https". */
  | { ok: false; problem: "not-a-url" | "credentials" | "unresolvable" | "scheme" | "not-public"; reason: string };

/**
 * Whether a request may go to `raw`: an `https` URL without credentials whose host is, or resolves
 * only to, public ("unicast") addresses. A sandbox client may also reach loopback over `http` or
 * `https`, for local receivers, when every address of the host is loopback. On success, the
 * addresses that passed: connect to those (`pinnedLookup`), not to a fresh resolution.
 */
export async function checkDestination(raw: string, options: { sandbox: boolean; resolve?: Resolver }): Promise<DestinationCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: "not-a-url", reason: "is not an absolute URL" };
  }
  if (url.username || url.password) return { ok: false, problem: "credentials", reason: "must not carry credentials" };
  // WHATWG URL parsing already turns 0x7f.1, 2130706433 and 0177.0.0.1 into 127.0.0.1.
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const literal = isIP(hostname);
  let addresses: ResolvedAddress[];
  try {
    addresses = literal ? [{ address: hostname, family: literal === 6 ? 6 : 4 }] : await (options.resolve ?? systemResolver)(hostname);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) return { ok: false, problem: "unresolvable", reason: `has a host (${hostname}) that does not resolve` };
  const ranges = addresses.map(({ address }) => addressRange(address));
  const web = url.protocol === "https:" || url.protocol === "http:";
  if (options.sandbox && web && ranges.every((range) => range === "loopback")) return { ok: true, url, hostname, addresses };
  if (url.protocol !== "https:") return { ok: false, problem: "scheme", reason: "must be https" };
  const refused = ranges.find((range) => range !== "unicast");
  if (refused) {
    // A literal's range is the partner's own input; a name's addresses stay unsaid (they may be internal DNS).
    const reason = literal ? `must resolve to public addresses only (its address is ${refused})` : "must resolve to public addresses only";
    return { ok: false, problem: "not-public", reason };
  }
  return { ok: true, url, hostname, addresses };
}

/**
 * A `lookup` for net/tls/http that answers only with `addresses`, the ones checkDestination passed,
 * whatever DNS would say now. The name itself still goes into TLS SNI and the Host header.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const fitting: LookupAddress[] = addresses.filter((entry) => family === 0 || entry.family === family);
    const [first] = fitting;
    if (!first) {
      callback(Object.assign(new Error(`No checked address of family ${family}`), { code: "ENOTFOUND" }), "", 0);
      return;
    }
    if (options.all) callback(null, fitting);
    else callback(null, first.address, first.family);
  };
}
