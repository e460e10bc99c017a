/**
 * A sans-IO SOCKS5 client handshake (RFC 1928, username/password auth from RFC 1929): bytes in,
 * bytes out, no sockets and no timers. Error texts are httpcore's.
 *
 * ```ts
 * const handshake = new Socks5Handshake({ host: "example.com", port: 443 });
 * let out = handshake.start();
 * while (!handshake.done) {
 *   if (out.length > 0) await stream.write(out);
 *   out = handshake.receiveData(await stream.read(4096));  // throws ProxyError on a refusal
 * }
 * handshake.leftover;  // bytes after the reply: the start of the tunnelled stream
 * ```
 * @module
 */
import { ProxyError } from "../errors.js";
import { parseIPv4, parseIPv6 } from "./ip.js";

/** Authentication method names, as httpcore prints them. */
export const AUTH_METHODS: Readonly<Record<number, string>> = {
  0: "NO AUTHENTICATION REQUIRED",
  1: "GSSAPI",
  2: "USERNAME/PASSWORD",
  255: "NO ACCEPTABLE METHODS",
};

/** CONNECT reply codes (RFC 1928 §6), as httpcore prints them. */
export const REPLY_CODES: Readonly<Record<number, string>> = {
  0: "Succeeded",
  1: "General SOCKS server failure",
  2: "Connection not allowed by ruleset",
  3: "Network unreachable",
  4: "Host unreachable",
  5: "Connection refused",
  6: "TTL expired",
  7: "Command not supported",
  8: "Address type not supported",
};

const NO_AUTH = 0x00;
const USERNAME_PASSWORD = 0x02;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** Where the handshake is. */
export type Socks5State = "new" | "method" | "auth" | "reply" | "done";

/** What the handshake needs. */
export interface Socks5HandshakeOptions {
  /** The target: a host name (sent as a domain name), an IPv4 or an IPv6 literal (brackets allowed). */
  host: string;
  port: number;
  /** Username and password (RFC 1929); without them only "no authentication" is offered. */
  auth?: readonly [string, string] | null;
}

/** The address the proxy reported in its reply (`BND.ADDR`, `BND.PORT`). */
export interface Socks5BoundAddress {
  type: "ipv4" | "ipv6" | "domain";
  /** Dotted IPv4, full IPv6 (`0:0:0:0:0:0:0:1`) or the domain name. */
  host: string;
  port: number;
}

const encoder = new TextEncoder();

/** The bytes of one RFC 1929 field, checked to be 1–255 bytes long. */
export function socksAuthField(what: "username" | "password", value: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length < 1 || bytes.length > 255) {
    throw new TypeError(`The SOCKS5 ${what} must be 1 to 255 bytes long (RFC 1929).`);
  }
  return bytes;
}

/** The `ATYP DST.ADDR` part of a request for `host`. */
export function encodeSocksAddress(host: string): Uint8Array {
  const v4 = parseIPv4(host);
  if (v4 !== null) return Uint8Array.of(ATYP_IPV4, ...v4);
  const v6 = parseIPv6(host);
  if (v6 !== null) return Uint8Array.of(ATYP_IPV6, ...v6);
  const name = encoder.encode(host);
  if (name.length < 1 || name.length > 255) {
    throw new ProxyError(`A SOCKS5 domain name must be 1 to 255 bytes long, got ${name.length}.`);
  }
  for (const b of name) {
    if (b <= 0x20 || b >= 0x7f) {
      throw new ProxyError("A SOCKS5 domain name must be printable ASCII (use its punycode form).");
    }
  }
  return Uint8Array.of(ATYP_DOMAIN, name.length, ...name);
}

/** The client side of one SOCKS5 CONNECT handshake. */
export class Socks5Handshake {
  readonly #host: string;
  readonly #port: number;
  readonly #auth: readonly [Uint8Array, Uint8Array] | null;
  readonly #method: number;
  #state: Socks5State = "new";
  #buffer: Uint8Array = new Uint8Array(0);
  #leftover: Uint8Array = new Uint8Array(0);
  #bound: Socks5BoundAddress | null = null;
  readonly #address: Uint8Array;

  constructor(options: Socks5HandshakeOptions) {
    const { host, port, auth } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError(`port must be an integer from 0 to 65535, but got ${String(port)}.`);
    }
    this.#host = host;
    this.#port = port;
    this.#auth =
      auth == null
        ? null
        : [socksAuthField("username", auth[0]), socksAuthField("password", auth[1])];
    this.#method = this.#auth === null ? NO_AUTH : USERNAME_PASSWORD;
    this.#address = encodeSocksAddress(host);
  }

  /** Where the handshake is. */
  get state(): Socks5State {
    return this.#state;
  }

  /** True once the proxy accepted the CONNECT: the stream now reaches the target. */
  get done(): boolean {
    return this.#state === "done";
  }

  /** Bytes received after the proxy's reply (the first bytes from the target), once done. */
  get leftover(): Uint8Array {
    return this.#leftover;
  }

  /** The proxy's `BND.ADDR`/`BND.PORT`, once done. */
  get boundAddress(): Socks5BoundAddress | null {
    return this.#bound;
  }

  /** The target as given. */
  get target(): string {
    return `${this.#host}:${this.#port}`;
  }

  /** The greeting: version 5 and the one method we offer (httpcore offers exactly one too). */
  start(): Uint8Array {
    if (this.#state !== "new") throw new Error("Socks5Handshake.start() called twice");
    this.#state = "method";
    return Uint8Array.of(5, 1, this.#method);
  }

  /**
   * Feeds bytes from the proxy; returns the bytes to send next (possibly none). An empty
   * `data` means the proxy closed the connection.
   * @throws {ProxyError} the proxy refused (auth method, credentials, reply code) or spoke nonsense
   */
  receiveData(data: Uint8Array): Uint8Array {
    if (this.#state === "new") throw new Error("Socks5Handshake.start() must be called first");
    if (this.#state === "done") {
      throw new Error("Socks5Handshake is done; read further bytes from the stream");
    }
    if (data.length === 0) {
      throw new ProxyError(
        `Proxy Server closed the connection during the SOCKS5 handshake (${this.#waitingFor()}).`,
      );
    }
    this.#append(data);
    const out: Uint8Array[] = [];
    for (;;) {
      const next = this.#step();
      if (next === null) break;
      out.push(next);
    }
    if (out.length === 1) return out[0] as Uint8Array;
    const joined = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
    let offset = 0;
    for (const b of out) {
      joined.set(b, offset);
      offset += b.length;
    }
    return joined;
  }

  #waitingFor(): string {
    switch (this.#state) {
      case "method":
        return "waiting for the method selection";
      case "auth":
        return "waiting for the username/password reply";
      default:
        return "waiting for the CONNECT reply";
    }
  }

  #append(data: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + data.length);
    joined.set(this.#buffer);
    joined.set(data, this.#buffer.length);
    this.#buffer = joined;
  }

  #consume(n: number): Uint8Array {
    const head = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return head;
  }

  /** One transition; returns bytes to send, or null when more input is needed. */
  #step(): Uint8Array | null {
    const b = this.#buffer;
    switch (this.#state) {
      case "method": {
        if (b.length < 2) return null;
        const [version, method] = this.#consume(2) as unknown as [number, number];
        if (version !== 5) {
          throw new ProxyError(
            `Proxy Server is not a SOCKS5 server (its reply starts with version ${version}).`,
          );
        }
        if (method !== this.#method) {
          const requested = AUTH_METHODS[this.#method] ?? "UNKNOWN";
          const responded = AUTH_METHODS[method] ?? "UNKNOWN";
          throw new ProxyError(`Requested ${requested} from proxy server, but got ${responded}.`);
        }
        if (method === USERNAME_PASSWORD) {
          const [user, pass] = this.#auth as readonly [Uint8Array, Uint8Array];
          this.#state = "auth";
          return Uint8Array.of(1, user.length, ...user, pass.length, ...pass);
        }
        this.#state = "reply";
        return this.#connectRequest();
      }
      case "auth": {
        if (b.length < 2) return null;
        const [, status] = this.#consume(2) as unknown as [number, number];
        // RFC 1929: VER is 1; some servers answer 5. Only STATUS matters.
        if (status !== 0) throw new ProxyError("Invalid username/password");
        this.#state = "reply";
        return this.#connectRequest();
      }
      case "reply": {
        if (b.length < 2) return null;
        if (b[0] !== 5) {
          throw new ProxyError(
            `Proxy Server sent an invalid SOCKS5 reply (version ${String(b[0])}).`,
          );
        }
        const code = b[1] as number;
        if (code !== 0) {
          throw new ProxyError(`Proxy Server could not connect: ${REPLY_CODES[code] ?? "UNKOWN"}.`);
        }
        if (b.length < 5) return null;
        const atyp = b[3];
        let addressLength: number;
        if (atyp === ATYP_IPV4) addressLength = 4;
        else if (atyp === ATYP_IPV6) addressLength = 16;
        else if (atyp === ATYP_DOMAIN) addressLength = 1 + (b[4] as number);
        else {
          throw new ProxyError(
            `Proxy Server sent an invalid SOCKS5 reply (address type ${String(atyp)}).`,
          );
        }
        const total = 4 + addressLength + 2;
        if (b.length < total) return null;
        const reply = this.#consume(total);
        const address = reply.subarray(4, 4 + addressLength);
        const port = ((reply[total - 2] as number) << 8) | (reply[total - 1] as number);
        this.#bound =
          atyp === ATYP_IPV4
            ? { type: "ipv4", host: Array.from(address).join("."), port }
            : atyp === ATYP_IPV6
              ? { type: "ipv6", host: formatIPv6(address), port }
              : {
                  type: "domain",
                  host: String.fromCharCode(...address.subarray(1)),
                  port,
                };
        this.#state = "done";
        this.#leftover = this.#buffer;
        this.#buffer = new Uint8Array(0);
        return null;
      }
      default:
        return null;
    }
  }

  #connectRequest(): Uint8Array {
    const port = this.#port;
    return Uint8Array.of(5, CMD_CONNECT, 0, ...this.#address, port >> 8, port & 0xff);
  }
}

function formatIPv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  }
  return groups.join(":");
}
