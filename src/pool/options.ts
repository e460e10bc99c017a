/**
 * The pool's constructor options, checked up front so a typo fails loudly, not silently.
 * @module
 */
import type { AsyncNetworkBackend, SocketOption, TlsOptions } from "../backends/base.js";
import { DEFAULT_MAX_HEADER_SIZE } from "../h11/index.js";
import { type Proxy as HTTPProxy, type ProxyInput, resolveProxyOption } from "../proxy/proxy.js";
import { describe, type Origin } from "../url.js";

/** Options of `new AsyncConnectionPool()`; times are in seconds. */
export interface PoolOptions {
  /** TLS settings for `https` origins; the backend checks what it can honour. */
  ssl?: TlsOptions | null;
  /**
   * Send requests through a proxy: a URL (`"http://user:pass@127.0.0.1:3128"`,
   * `"socks5://127.0.0.1:1080"`), `{ url, auth?, headers?, ssl?, tunnelHttp? }`, a `Proxy`, or an
   * object with `forUrl(url)` choosing per target (`Proxy.fromEnv()`). `ssl` stays the TLS
   * settings for targets; `proxy.ssl` is for TLS to an `https://` proxy.
   */
  proxy?: ProxyInput | null;
  /** Most connections open at once (default 10); `null` = unlimited. Extra requests queue FIFO. */
  maxConnections?: number | null;
  /** Most idle connections kept (default unlimited, capped at `maxConnections`). */
  maxKeepaliveConnections?: number | null;
  /** Seconds an idle connection may live; `null` = no expiry. */
  keepaliveExpiry?: number | null;
  /** Speak HTTP/1.1 (default true). */
  http1?: boolean;
  /**
   * Speak HTTP/2 (default false): offered by ALPN over TLS (`h2`, falling back to HTTP/1.1 when
   * the server does not pick it), or by prior knowledge (h2c) when `http1` is false. One HTTP/2
   * connection per origin carries up to min(server limit, 100) requests at once.
   */
  http2?: boolean;
  /** Retries of connection establishment (ConnectError/ConnectTimeout), with exponential backoff. */
  retries?: number;
  localAddress?: string | null;
  /** Connect every origin through this unix socket. */
  uds?: string | null;
  socketOptions?: SocketOption[] | null;
  /** The network backend; default: the one for this runtime (from the package's export conditions). */
  networkBackend?: AsyncNetworkBackend | null;
  /**
   * Upper bound on a response head in bytes (default 64 KiB); for HTTP/2 the bound on the decoded
   * header list, announced as SETTINGS_MAX_HEADER_LIST_SIZE.
   */
  maxHeaderSize?: number;
}

/** Options after defaults and checks. */
export interface ResolvedPoolOptions {
  ssl: TlsOptions | null;
  /** The proxy for a target origin (null: connect directly); null when no proxy is configured. */
  proxy: ((origin: Origin) => HTTPProxy | null) | null;
  maxConnections: number;
  maxKeepaliveConnections: number;
  keepaliveExpiry: number | null;
  http1: boolean;
  http2: boolean;
  retries: number;
  localAddress: string | null;
  uds: string | null;
  socketOptions: SocketOption[] | null;
  maxHeaderSize: number;
}

const KNOWN = new Set([
  "ssl",
  "proxy",
  "maxConnections",
  "maxKeepaliveConnections",
  "keepaliveExpiry",
  "http1",
  "http2",
  "retries",
  "localAddress",
  "uds",
  "socketOptions",
  "networkBackend",
  "maxHeaderSize",
]);

/** Applies defaults and validates every option. */
export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `AsyncConnectionPool options must be an object, but got ${describe(options)}.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new TypeError(`Unknown AsyncConnectionPool option "${key}".`);
  }
  const proxy = resolveProxyOption(options.proxy);
  const maxConnections = limit("maxConnections", options.maxConnections, 10, 1);
  const maxKeepalive = limit("maxKeepaliveConnections", options.maxKeepaliveConnections, null, 0);
  const http1 = flag("http1", options.http1, true);
  const http2 = flag("http2", options.http2, false);
  if (!http1 && !http2) throw new TypeError("At least one of http1 and http2 must be enabled.");
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new TypeError(`retries must be a non-negative integer, but got ${String(retries)}.`);
  }
  const keepaliveExpiry = options.keepaliveExpiry ?? null;
  if (keepaliveExpiry !== null && !(typeof keepaliveExpiry === "number" && keepaliveExpiry >= 0)) {
    throw new TypeError(
      `keepaliveExpiry must be a number of seconds >= 0 or null, but got ${String(keepaliveExpiry)}.`,
    );
  }
  const maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
  if (!Number.isInteger(maxHeaderSize) || maxHeaderSize < 1024) {
    throw new TypeError(
      `maxHeaderSize must be an integer >= 1024, but got ${String(maxHeaderSize)}.`,
    );
  }
  if (options.socketOptions != null && !Array.isArray(options.socketOptions)) {
    throw new TypeError("socketOptions must be an array of socket options.");
  }
  return {
    ssl: options.ssl ?? null,
    proxy,
    maxConnections,
    maxKeepaliveConnections: Math.min(maxConnections, maxKeepalive),
    keepaliveExpiry,
    http1,
    http2,
    retries,
    localAddress: options.localAddress ?? null,
    uds: options.uds ?? null,
    socketOptions: options.socketOptions ?? null,
    maxHeaderSize,
  };
}

function limit(
  name: string,
  value: number | null | undefined,
  fallback: number | null,
  min: number,
): number {
  const v = value === undefined ? fallback : value;
  if (v === null) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(v) || v < min) {
    throw new TypeError(`${name} must be an integer >= ${min} or null, but got ${String(v)}.`);
  }
  return v;
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean.`);
  return value;
}
