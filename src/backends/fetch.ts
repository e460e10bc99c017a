/**
 * The fetch backend: for browsers (and anywhere with a global `fetch()`), where there are no
 * sockets. Instead of byte streams it supplies whole connections: request-level lanes per origin
 * ({@link AsyncFetchConnection}) that carry one request at a time through the platform `fetch()`.
 * The pool keeps its own semantics over them: `maxConnections` caps requests in flight, requests
 * queue FIFO with the pool timeout, and `.connections` shows the lanes.
 *
 * What the platform owns cannot be set here and is refused with {@link UnsupportedProtocol}
 * (at the first request of a lane): `uds`, `localAddress`, `socketOptions`, TLS settings
 * (`ssl.ca`, `cert`, `key`, `rejectUnauthorized: false`, `serverHostname`, `alpnProtocols`) and
 * forcing the HTTP version (`http1: false`).
 * @module
 */
import type { ConnectionFactory, ConnectionFactoryOptions } from "../connection/interfaces.js";
import { UnsupportedProtocol } from "../errors.js";
import type { Origin } from "../url.js";
import type {
  AsyncNetworkBackend,
  AsyncNetworkStream,
  ConnectTcpOptions,
  ConnectUnixOptions,
} from "./base.js";
import { AsyncFetchConnection, type FetchLaneSettings } from "./fetch/connection.js";

export {
  AsyncFetchConnection,
  type FetchCacheMode,
  type FetchCredentialsMode,
  type FetchInitExtension,
  type FetchLaneSettings,
  type FetchRedirectMode,
  type FetchResponseInfo,
  UNKNOWN_HTTP_VERSION,
} from "./fetch/connection.js";

/** Options of {@link AsyncFetchBackend}. */
export interface FetchBackendOptions {
  /** The `fetch` to call (default: the global `fetch`, looked up at each request). */
  fetch?: (request: globalThis.Request) => Promise<globalThis.Response>;
  /**
   * Send streamed request bodies (async iterables, `ReadableStream`s) as streaming uploads
   * (`duplex: "half"`) where the runtime supports them ({@link supportsRequestStreams}).
   * Default `false`: such bodies are read into memory and sent with a length, because Chromium
   * rejects streaming uploads over HTTP/1.1 (they need HTTP/2 or HTTP/3).
   */
  streamingUploads?: boolean;
  /**
   * Let the platform follow redirects when `pool.fetch()` asks for `redirect: "follow"`.
   * Default: true in browsers, where `redirect: "manual"` gives an opaque response without
   * `Location`; false elsewhere (Node.js, workerd), where `pool.fetch()` follows them itself.
   */
  platformRedirects?: boolean;
}

/** A network backend that sends requests through the platform's `fetch()`. */
export class AsyncFetchBackend implements AsyncNetworkBackend, ConnectionFactory {
  readonly #fetch: (request: globalThis.Request) => Promise<globalThis.Response>;
  /** True if streamed bodies go out as streams (asked for, and supported by the runtime). */
  readonly streamingUploads: boolean;
  /** True if `redirect: "follow"` from `pool.fetch()` is left to the platform. */
  readonly platformRedirects: boolean;

  constructor(options: FetchBackendOptions = {}) {
    if (options.fetch === undefined && typeof globalThis.fetch !== "function") {
      throw new TypeError("the fetch backend needs a global fetch() or a fetch option.");
    }
    // Looked up per call, so a fetch patched after the backend was made is still used.
    this.#fetch = options.fetch ?? ((request) => globalThis.fetch(request));
    this.streamingUploads = options.streamingUploads === true && supportsRequestStreams();
    this.platformRedirects = options.platformRedirects ?? isBrowserLike();
  }

  /** A new lane to `origin`; one that cannot honour a pool option fails its first request. */
  createConnection(origin: Origin, options: ConnectionFactoryOptions): AsyncFetchConnection {
    const settings: FetchLaneSettings = {
      fetch: this.#fetch,
      keepaliveExpiry: options.keepaliveExpiry,
      retries: options.retries ?? 0,
      streamingUploads: this.streamingUploads,
      platformRedirects: this.platformRedirects,
      unsupported: checkPoolOptions(options),
    };
    return new AsyncFetchConnection(origin, settings);
  }

  /** Always throws: the platform's `fetch()` owns the sockets. */
  async connectTcp(
    host: string,
    port: number,
    _opts?: ConnectTcpOptions,
  ): Promise<AsyncNetworkStream> {
    throw new UnsupportedProtocol(
      `the fetch backend cannot open a TCP connection to ${host}:${port}: it has no sockets, the platform's fetch() owns them`,
    );
  }

  /** Always throws: there are no unix sockets behind `fetch()`. */
  async connectUnixSocket(path: string, _opts?: ConnectUnixOptions): Promise<AsyncNetworkStream> {
    throw new UnsupportedProtocol(
      `the fetch backend cannot connect to the unix socket ${path}: it has no sockets, the platform's fetch() owns them`,
    );
  }

  /** Resolves after `seconds` seconds. */
  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds * 1000)));
  }

  /** `<AsyncFetchBackend>` */
  toString(): string {
    return "<AsyncFetchBackend>";
  }
}

/** The first pool option the fetch backend cannot honour, as the error to throw; else null. */
function checkPoolOptions(options: ConnectionFactoryOptions): UnsupportedProtocol | null {
  const refuse = (option: string, reason: string) =>
    new UnsupportedProtocol(`the fetch backend cannot honour the "${option}" option: ${reason}`);
  const sockets = "the platform's fetch() opens and owns the connections";
  if (options.uds != null) return refuse("uds", sockets);
  if (options.localAddress != null) return refuse("localAddress", sockets);
  if (options.socketOptions != null && options.socketOptions.length > 0) {
    return refuse("socketOptions", sockets);
  }
  if (options.http1 === false) {
    return refuse(
      "http1",
      "the platform's fetch() negotiates the HTTP version; it cannot be forced",
    );
  }
  const ssl = options.ssl;
  if (ssl != null) {
    const tls = "the platform's fetch() verifies TLS with its own trust store and settings";
    for (const key of ["ca", "cert", "key", "serverHostname", "alpnProtocols"] as const) {
      if (ssl[key] !== undefined) return refuse(`ssl.${key}`, tls);
    }
    if (ssl.rejectUnauthorized === false) return refuse("ssl.rejectUnauthorized", tls);
  }
  return null;
}

let streamsSupported: boolean | null = null;

/**
 * True if this runtime's `fetch()` accepts a `ReadableStream` request body (streaming upload),
 * detected as web.dev's "Streaming requests with the fetch API" does: a runtime that knows
 * `duplex` reads the option, and one that supports stream bodies does not turn the stream into
 * text (which would add a `Content-Type`). A runtime may still refuse a streaming upload per
 * request: Chromium does over HTTP/1.1.
 */
export function supportsRequestStreams(): boolean {
  if (streamsSupported !== null) return streamsSupported;
  let duplexAccessed = false;
  try {
    const hasContentType = new globalThis.Request("https://example.invalid/", {
      body: new ReadableStream(),
      method: "POST",
      get duplex() {
        duplexAccessed = true;
        return "half";
      },
    } as RequestInit).headers.has("Content-Type");
    streamsSupported = duplexAccessed && !hasContentType;
  } catch {
    streamsSupported = false;
  }
  return streamsSupported;
}

/** Browsers (pages and workers) hide redirects from `redirect: "manual"`. */
function isBrowserLike(): boolean {
  const g = globalThis as { document?: unknown; importScripts?: unknown };
  return typeof g.document === "object" || typeof g.importScripts === "function";
}
