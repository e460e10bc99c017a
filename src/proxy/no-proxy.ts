/**
 * `NO_PROXY` parsing and matching, without DNS. Entries are separated by commas or whitespace:
 *
 * - `*` alone: no request uses the proxy;
 * - a domain (`example.com`, `.example.com`, `*.example.com`): that name and every subdomain;
 * - an IP literal (`127.0.0.1`, `::1`, `[::1]`): that address, however it is spelled in the URL
 *   (`http://[0:0::1]/` matches `::1`; `::ffff:127.0.0.1` matches `127.0.0.1`);
 * - a CIDR block (`10.0.0.0/8`, `fd00::/8`): addresses inside it;
 * - any of those with `:port` (`example.com:8080`, `[::1]:8443`): only that port.
 *
 * Host names are compared case-insensitively without a trailing dot. Names are never resolved:
 * `localhost` does not match `127.0.0.1`.
 * @module
 */
import { parseIP, parseIPv6, prefixMatches, unmapIPv4 } from "./ip.js";

/** One parsed `NO_PROXY` entry. */
type Rule =
  | { kind: "all" }
  | { kind: "domain"; name: string; port: number | null }
  | { kind: "ip"; ip: Uint8Array; bits: number; port: number | null };

/** A parsed `NO_PROXY` list. */
export class NoProxy {
  readonly #rules: Rule[];

  constructor(value: string | null | undefined) {
    this.#rules = [];
    for (const entry of (value ?? "").split(/[\s,]+/)) {
      const rule = parseRule(entry.trim());
      if (rule !== null) this.#rules.push(rule);
    }
  }

  /** True if the list is empty. */
  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /**
   * True if a request to `host` (a URL host: a name, an IPv4 or a bracketed IPv6 literal) on
   * `port` should bypass the proxy.
   */
  matches(host: string, port: number): boolean {
    const name = normaliseName(host);
    const ip = canonicalIP(name);
    for (const rule of this.#rules) {
      if (rule.kind === "all") return true;
      if (rule.port !== null && rule.port !== port) continue;
      if (rule.kind === "domain") {
        if (ip === null && (name === rule.name || name.endsWith(`.${rule.name}`))) return true;
      } else if (ip !== null && prefixMatches(ip, rule.ip, rule.bits)) {
        return true;
      }
    }
    return false;
  }
}

function normaliseName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/** IP bytes, IPv4-mapped IPv6 addresses turned into IPv4; null for a name. */
function canonicalIP(text: string): Uint8Array | null {
  const ip = parseIP(text);
  if (ip === null) return null;
  return unmapIPv4(ip) ?? ip;
}

function parsePort(text: string): number | null | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseRule(entry: string): Rule | null {
  if (entry === "") return null;
  if (entry === "*") return { kind: "all" };
  let host = entry;
  let port: number | null = null;
  // `[v6]`, `[v6]:port`, `[v6]/bits`.
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?(\/[0-9]+)?$/.exec(entry);
  if (bracketed !== null) {
    host = `${bracketed[1]}${bracketed[3] ?? ""}`;
    if (bracketed[2] !== undefined) {
      const p = parsePort(bracketed[2]);
      if (p === undefined) return null;
      port = p;
    }
  } else if (parseIPv6(entry.split("/")[0] as string) === null) {
    // Not a bare IPv6 literal, so a last `:digits` is a port.
    const colon = entry.lastIndexOf(":");
    if (colon !== -1) {
      const p = parsePort(entry.slice(colon + 1));
      if (p === undefined) return null;
      port = p;
      host = entry.slice(0, colon);
    }
  }
  const slash = host.indexOf("/");
  if (slash !== -1) {
    const ip = canonicalIP(host.slice(0, slash));
    const bitsText = host.slice(slash + 1);
    if (ip === null || !/^[0-9]{1,3}$/.test(bitsText)) return null;
    let bits = Number(bitsText);
    const raw = parseIP(host.slice(0, slash));
    // `::ffff:10.0.0.0/104` is the IPv4 block 10.0.0.0/8.
    if (raw !== null && raw.length === 16 && ip.length === 4) bits -= 96;
    if (bits < 0 || bits > ip.length * 8) return null;
    return { kind: "ip", ip, bits, port };
  }
  const ip = canonicalIP(normaliseName(host));
  if (ip !== null) return { kind: "ip", ip, bits: ip.length * 8, port };
  let name = normaliseName(host);
  if (name.startsWith("*.")) name = name.slice(2);
  else if (name.startsWith(".")) name = name.slice(1);
  if (/[^ -~]/.test(name)) name = toAsciiHost(name);
  // Not something a URL host can equal (e.g. a stray `*` pattern): ignore it.
  if (name === "" || /[^a-z0-9._-]/.test(name)) return null;
  return { kind: "domain", name, port };
}

/** The punycode form of an internationalised name, as a URL host carries it. */
function toAsciiHost(name: string): string {
  try {
    return new URL(`http://${name}/`).hostname;
  } catch {
    return "";
  }
}
