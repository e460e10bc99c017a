/**
 * IP literal parsing for SOCKS5 addresses and `NO_PROXY` matching. No DNS: a host name is never
 * resolved here.
 * @module
 */

/** The 4 bytes of an IPv4 literal in dotted-decimal form (`127.0.0.1`), or null. */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    // Decimal only, no leading zeros (`010` is octal to some parsers, decimal to others).
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

/**
 * The 16 bytes of an IPv6 literal (`::1`, `[::1]`, `2001:db8::1`, `::ffff:1.2.3.4`), or null.
 * A zone id (`fe80::1%eth0`) is not accepted.
 */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s.length < 2 || !s.includes(":")) return null;
  const out = new Uint8Array(16);
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : (halves[0] as string).split(":");
  const tail =
    halves.length === 2 ? (halves[1] === "" ? [] : (halves[1] as string).split(":")) : [];
  const groups: number[] = [];
  const parseGroups = (items: string[], allowV4Last: boolean): number[] | null => {
    const values: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as string;
      if (allowV4Last && i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (v4 === null) return null;
        values.push(((v4[0] as number) << 8) | (v4[1] as number));
        values.push(((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
      values.push(Number.parseInt(item, 16));
    }
    return values;
  };
  const headValues = parseGroups(head, halves.length === 1);
  const tailValues = parseGroups(tail, true);
  if (headValues === null || tailValues === null) return null;
  if (halves.length === 1) {
    if (headValues.length !== 8) return null;
    groups.push(...headValues);
  } else {
    const missing = 8 - headValues.length - tailValues.length;
    if (missing < 1) return null;
    groups.push(...headValues, ...new Array<number>(missing).fill(0), ...tailValues);
  }
  for (let i = 0; i < 8; i++) {
    const g = groups[i] as number;
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  return out;
}

/** IPv4 or IPv6 bytes of an IP literal, or null for a host name. */
export function parseIP(text: string): Uint8Array | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

/** True if the first `bits` bits of `a` and `b` (same length) are equal. */
export function prefixMatches(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (a[i] !== b[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[i] as number) & mask) === ((b[i] as number) & mask);
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else null. */
export function unmapIPv4(ip: Uint8Array): Uint8Array | null {
  if (ip.length !== 16) return null;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return null;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return null;
  return ip.subarray(12);
}
