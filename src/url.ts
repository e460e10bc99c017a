/**
 * Request URLs and origins. Parsing uses the platform's WHATWG `URL`, after rejecting control
 * characters it would silently strip (a CR/LF in a URL is an injection attempt, not a typo).
 * @module
 */
import { LocalProtocolError, UnsupportedProtocol } from "./errors.js";

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };

/** Scheme, host and port: what decides whether two requests can share a connection. */
export class Origin {
  /** `host` keeps IPv6 brackets (`[::1]`), so `String(origin)` is a valid URL origin. */
  constructor(
    readonly scheme: string,
    readonly host: string,
    readonly port: number,
  ) {}

  /** `"https://example.com:443"`: the port is always present, as in httpcore. */
  toString(): string {
    return `${this.scheme}://${this.host}:${this.port}`;
  }

  /** True if both name the same scheme, host and port. */
  equals(other: Origin): boolean {
    return this.scheme === other.scheme && this.host === other.host && this.port === other.port;
  }

  /** True for `https` and `wss`. */
  get isSecure(): boolean {
    return this.scheme === "https" || this.scheme === "wss";
  }

  /** The host as a socket API wants it: IPv6 literals without brackets. */
  get connectHost(): string {
    return this.host.startsWith("[") ? this.host.slice(1, -1) : this.host;
  }
}

/** A parsed request URL (immutable: parses are cached and shared). */
export interface RequestURL {
  /** Lower-case scheme without `:`. */
  scheme: string;
  /** `example.com`, `127.0.0.1` or `[::1]`. */
  host: string;
  /** The `Host` header value: host plus the port when it is not the scheme's default. */
  authority: string;
  origin: Origin;
  /** Path and query, the request-target in origin-form. */
  target: string;
  /** The URL as given, serialised. */
  href: string;
}

// C0 controls, DEL and space: WHATWG URL parsing strips or encodes these, hiding an injection.
function hasForbiddenChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Parses and checks a request URL.
 * @throws UnsupportedProtocol for a missing or unsupported scheme.
 * @throws LocalProtocolError for control characters or an unparseable URL.
 */
export function parseRequestUrl(input: string | URL): RequestURL {
  if (typeof input === "string") {
    const cached = cache.get(input);
    if (cached !== undefined) return cached;
    const parsed = parseUncached(input);
    // Requests tend to repeat a few URLs; WHATWG parsing is the costliest step of building one.
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(input, parsed);
    return parsed;
  }
  return parseUncached(input);
}

const CACHE_SIZE = 512;
const cache = new Map<string, RequestURL>();

function parseUncached(input: string | URL): RequestURL {
  let url: URL;
  if (typeof input === "string") {
    if (hasForbiddenChar(input)) {
      throw new LocalProtocolError(
        `Invalid request URL ${JSON.stringify(input)}: URLs may not contain control characters or spaces.`,
      );
    }
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(input)) {
      throw new UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.");
    }
    try {
      url = new URL(input);
    } catch {
      throw new LocalProtocolError(`Invalid request URL ${JSON.stringify(input)}.`);
    }
  } else if (input instanceof URL) {
    url = input;
  } else {
    throw new TypeError(`url must be a string or URL, but got ${describe(input)}.`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined) {
    throw new UnsupportedProtocol(`Request URL has an unsupported protocol '${scheme}://'.`);
  }
  if (url.hostname === "") {
    throw new LocalProtocolError(`Invalid request URL ${JSON.stringify(url.href)}: missing host.`);
  }
  const port = url.port === "" ? defaultPort : Number(url.port);
  return Object.freeze({
    scheme,
    host: url.hostname,
    authority: url.host,
    origin: new Origin(scheme, url.hostname, port),
    target: (url.pathname || "/") + url.search,
    href: url.href,
  });
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
