/**
 * The `Proxy` model (httpcore's `httpcore.Proxy`) and the pool's `proxy` option: which proxy a
 * request goes through, with which credentials, headers and TLS settings. Credentials are kept
 * out of every string form: `url`, `String(proxy)`, `JSON.stringify(proxy)`, reprs and errors.
 * @module
 */
import type { TlsOptions } from "../backends/base.js";
import { UnsupportedProtocol } from "../errors.js";
import { validateHeader } from "../h11/index.js";
import type { HeaderList } from "../h11/types.js";
import { type HeadersInit, normalizeHeaders } from "../headers.js";
import { describe, Origin } from "../url.js";
import { NoProxy } from "./no-proxy.js";
import { socksAuthField } from "./socks5.js";

/** The proxy URL schemes this package speaks. */
export type ProxyScheme = "http" | "https" | "socks5" | "socks5h";

const DEFAULT_PORTS: Record<ProxyScheme, number> = {
  http: 80,
  https: 443,
  socks5: 1080,
  socks5h: 1080,
};

/** Options of `new Proxy(url, options)`. */
export interface ProxyOptions {
  /**
   * `[username, password]`. HTTP(S) proxies get them as a `Proxy-Authorization: Basic …` header,
   * SOCKS5 proxies as RFC 1929 username/password authentication. Credentials in the URL
   * (`http://user:pass@host:3128`) are used when this is not given.
   */
  auth?: readonly [string, string] | null;
  /** Extra headers for the proxy (HTTP(S) proxies only): sent on forwarded requests and on CONNECT. */
  headers?: HeadersInit | null;
  /** TLS settings for the connection *to* an `https://` proxy (the pool's `ssl` is for targets). */
  ssl?: TlsOptions | null;
  /**
   * HTTP(S) proxies: send `http://` requests through a `CONNECT` tunnel too, instead of forwarding
   * them with an absolute-form request-target (default `false`). `https://`, `ws://` and
   * `wss://` requests always use a tunnel.
   */
  tunnelHttp?: boolean;
}

/** The pool's `proxy` option in object form. */
export interface ProxyConfig extends ProxyOptions {
  url: string | URL;
}

/** Picks the proxy for each target (see {@link Proxy.fromEnv}); `null` means "connect directly". */
export interface ProxySelector {
  /** Called with the target origin (`"https://example.com:443"`) when a connection is made. */
  forUrl(url: string): Proxy | null;
}

/** What the pool's `proxy` option accepts. */
export type ProxyInput = string | URL | ProxyConfig | Proxy | ProxySelector;

const OPTION_KEYS = new Set(["auth", "headers", "ssl", "tunnelHttp"]);
const encoder = new TextEncoder();

/** Base64 of the UTF-8 bytes of `text` (btoa alone only takes latin1). */
function base64Utf8(text: string): string {
  let binary = "";
  for (const b of encoder.encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function hasForbiddenChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new TypeError("The proxy URL has malformed percent-encoding in its credentials.");
  }
}

/**
 * A proxy: `new Proxy("http://127.0.0.1:3128")`, `new Proxy("socks5://user:pass@127.0.0.1:1080")`,
 * `new Proxy("https://proxy.internal:3129", { auth: ["user", "pass"], ssl: { ca } })`.
 *
 * Import it as `{ Proxy as HTTPProxy }` if you need the global `Proxy` in the same module.
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: httpcore's public name; importers may alias it.
export class Proxy {
  /** The proxy URL without credentials or path: `http://127.0.0.1:3128`. */
  readonly url: string;
  readonly scheme: ProxyScheme;
  /** Scheme, host and port of the proxy (default ports: http 80, https 443, socks5 1080). */
  readonly origin: Origin;
  /** TLS settings for the connection to an `https://` proxy. */
  readonly ssl: TlsOptions | null;
  /** Send `http://` requests through CONNECT too (HTTP(S) proxies). */
  readonly tunnelHttp: boolean;
  readonly #auth: readonly [string, string] | null;
  readonly #headers: HeaderList;

  constructor(url: string | URL, options: ProxyOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Proxy options must be an object, but got ${describe(options)}.`);
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new TypeError(`Unknown Proxy option "${key}".`);
    }
    let parsed: URL;
    if (typeof url === "string") {
      if (hasForbiddenChar(url)) {
        throw new TypeError("The proxy URL may not contain control characters or spaces.");
      }
      if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url)) {
        throw new UnsupportedProtocol(
          "The proxy URL is missing a protocol: use http://, https://, socks5:// or socks5h://.",
        );
      }
      try {
        parsed = new URL(url);
      } catch {
        // The URL itself may hold credentials: never echo it.
        throw new TypeError("The proxy URL could not be parsed.");
      }
    } else if (url instanceof URL) {
      parsed = new URL(url.href);
    } else {
      throw new TypeError(`The proxy URL must be a string or URL, but got ${describe(url)}.`);
    }
    const scheme = parsed.protocol.slice(0, -1).toLowerCase();
    if (!(scheme in DEFAULT_PORTS)) {
      throw new UnsupportedProtocol(
        `Proxy URL has an unsupported protocol '${scheme}://': use http://, https://, socks5:// or socks5h://.`,
      );
    }
    this.scheme = scheme as ProxyScheme;
    if (parsed.hostname === "") throw new TypeError("The proxy URL has no host.");
    const port = parsed.port === "" ? DEFAULT_PORTS[this.scheme] : Number(parsed.port);
    this.origin = new Origin(this.scheme, parsed.hostname, port);
    this.url = String(this.origin);

    let auth: readonly [string, string] | null = null;
    if (options.auth != null) {
      const a = options.auth;
      if (
        !Array.isArray(a) ||
        a.length !== 2 ||
        typeof a[0] !== "string" ||
        typeof a[1] !== "string"
      ) {
        throw new TypeError("Proxy auth must be a [username, password] pair of strings.");
      }
      auth = [a[0], a[1]];
    } else if (parsed.username !== "" || parsed.password !== "") {
      auth = [decodeUserinfo(parsed.username), decodeUserinfo(parsed.password)];
    }
    this.#auth = auth;

    const isHttp = this.scheme === "http" || this.scheme === "https";
    const headers = normalizeHeaders(options.headers);
    for (const [name, value] of headers) validateHeader(name, value);
    if (!isHttp && headers.length > 0) {
      throw new TypeError(`Proxy headers apply to http:// and https:// proxies, not ${scheme}://.`);
    }
    if (auth !== null) {
      if (isHttp) {
        if (auth[0].includes(":")) {
          throw new TypeError("A proxy username for Basic authentication may not contain ':'.");
        }
        // Prepended, as httpcore does.
        headers.unshift(["Proxy-Authorization", `Basic ${base64Utf8(`${auth[0]}:${auth[1]}`)}`]);
      } else {
        socksAuthField("username", auth[0]);
        socksAuthField("password", auth[1]);
      }
    }
    this.#headers = headers;

    if (options.ssl != null && this.scheme !== "https") {
      throw new TypeError(
        `Proxy ssl settings apply to https:// proxies only, not ${scheme}:// (the pool's ssl option is for targets).`,
      );
    }
    this.ssl = options.ssl ?? null;
    const tunnelHttp = options.tunnelHttp ?? false;
    if (typeof tunnelHttp !== "boolean") throw new TypeError("tunnelHttp must be a boolean.");
    if (tunnelHttp && !isHttp) {
      throw new TypeError(`tunnelHttp applies to http:// and https:// proxies, not ${scheme}://.`);
    }
    this.tunnelHttp = tunnelHttp;
  }

  /** The credentials, or null. Never part of any string form of the proxy. */
  get auth(): readonly [string, string] | null {
    return this.#auth;
  }

  /** Headers sent to an HTTP(S) proxy, `Proxy-Authorization` first when there are credentials. */
  get headers(): HeaderList {
    return this.#headers.map(([n, v]) => [n, v]);
  }

  /** True for SOCKS5 proxies (`socks5://`, `socks5h://`). */
  get isSocks(): boolean {
    return this.scheme === "socks5" || this.scheme === "socks5h";
  }

  /**
   * Reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (lower-case names first) from
   * `env` (default: `process.env` where it exists). Pass the result as the pool's `proxy`, or ask
   * it with `forUrl(url)`. Values without a scheme (`127.0.0.1:3128`) mean `http://`.
   * Upper-case `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set (CGI, "httpoxy").
   * @throws {UnsupportedProtocol} a variable names a scheme other than http, https, socks5, socks5h
   */
  static fromEnv(env?: Record<string, string | undefined>): ProxyRoutes {
    return new ProxyRoutes(env ?? processEnv());
  }

  /** `<Proxy ['http://127.0.0.1:3128', auth]>` — never the credentials. */
  toString(): string {
    return `<Proxy ['${this.url}'${this.#auth === null ? "" : ", auth"}]>`;
  }

  toJSON(): { url: string; auth: boolean } {
    return { url: this.url, auth: this.#auth !== null };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function processEnv(): Record<string, string | undefined> {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env ?? {};
}

function envValue(
  env: Record<string, string | undefined>,
  name: string,
  upperAllowed = true,
): string | null {
  const lower = env[name.toLowerCase()];
  if (lower !== undefined && lower.trim() !== "") return lower.trim();
  if (!upperAllowed) return null;
  const upper = env[name.toUpperCase()];
  if (upper !== undefined && upper.trim() !== "") return upper.trim();
  return null;
}

function proxyFromEnv(value: string | null, variable: string): Proxy | null {
  if (value === null) return null;
  const url = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value) ? value : `http://${value}`;
  try {
    return new Proxy(url);
  } catch (error) {
    if (error instanceof UnsupportedProtocol) {
      throw new UnsupportedProtocol(`${variable}: ${error.message}`);
    }
    if (error instanceof TypeError) throw new TypeError(`${variable}: ${error.message}`);
    throw error;
  }
}

/**
 * Proxies from the environment (what {@link Proxy.fromEnv} returns): `forUrl(url)` gives the
 * proxy for a URL, or null when it should be reached directly (no proxy for its scheme, or
 * `NO_PROXY` matches: `*`, domains and their subdomains, IPs in any spelling, CIDR blocks, each
 * optionally with `:port`).
 */
export class ProxyRoutes implements ProxySelector {
  /** The proxy for `http://` and `ws://` URLs. */
  readonly http: Proxy | null;
  /** The proxy for `https://` and `wss://` URLs. */
  readonly https: Proxy | null;
  readonly noProxy: NoProxy;

  constructor(env: Record<string, string | undefined>) {
    const cgi = env.REQUEST_METHOD !== undefined;
    const all = proxyFromEnv(envValue(env, "ALL_PROXY"), "ALL_PROXY");
    this.http = proxyFromEnv(envValue(env, "HTTP_PROXY", !cgi), "HTTP_PROXY") ?? all;
    this.https = proxyFromEnv(envValue(env, "HTTPS_PROXY"), "HTTPS_PROXY") ?? all;
    this.noProxy = new NoProxy(envValue(env, "NO_PROXY"));
  }

  /** The proxy for `url`, or null to connect directly. */
  forUrl(url: string | URL): Proxy | null {
    let parsed: URL;
    try {
      parsed = url instanceof URL ? url : new URL(url);
    } catch {
      return null;
    }
    const scheme = parsed.protocol.slice(0, -1).toLowerCase();
    const proxy =
      scheme === "http" || scheme === "ws"
        ? this.http
        : scheme === "https" || scheme === "wss"
          ? this.https
          : null;
    if (proxy === null) return null;
    const port =
      parsed.port !== "" ? Number(parsed.port) : scheme === "http" || scheme === "ws" ? 80 : 443;
    return this.noProxy.matches(parsed.hostname, port) ? null : proxy;
  }

  /** `<ProxyRoutes [http: 'http://127.0.0.1:3128', https: None, no_proxy: yes]>` — no credentials. */
  toString(): string {
    const show = (p: Proxy | null) => (p === null ? "None" : `'${p.url}'`);
    return `<ProxyRoutes [http: ${show(this.http)}, https: ${show(this.https)}, no_proxy: ${this.noProxy.empty ? "no" : "yes"}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Turns the pool's `proxy` option into a per-origin choice; `null` when no proxy is set. */
export function resolveProxyOption(
  input: ProxyInput | null | undefined,
): ((origin: Origin) => Proxy | null) | null {
  if (input == null) return null;
  if (input instanceof Proxy) return () => input;
  if (typeof input === "string" || input instanceof URL) {
    const proxy = new Proxy(input);
    return () => proxy;
  }
  if (typeof input === "object") {
    if (typeof (input as ProxySelector).forUrl === "function") {
      const selector = input as ProxySelector;
      return (origin) => {
        const proxy = selector.forUrl(String(origin));
        if (proxy !== null && !(proxy instanceof Proxy)) {
          throw new TypeError("proxy.forUrl() must return a Proxy or null.");
        }
        return proxy;
      };
    }
    if ("url" in input) {
      const { url, ...options } = input as ProxyConfig;
      const proxy = new Proxy(url, options);
      return () => proxy;
    }
  }
  throw new TypeError(
    `The proxy option must be a URL string, { url, auth?, headers?, ssl? }, a Proxy or an object with forUrl(url), but got ${describe(input)}.`,
  );
}
