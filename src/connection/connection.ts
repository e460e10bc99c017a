/**
 * `AsyncHTTPConnection`: opens the network stream for one origin (TCP or unix socket, then TLS),
 * with connect retries and exponential backoff as httpcore does, then hands requests to an
 * HTTP/1.1 or HTTP/2 connection over it: HTTP/2 when TLS negotiated `h2` by ALPN, or by prior
 * knowledge when only `http2` is enabled (h2c on cleartext, RFC 9113 §3.3).
 * @module
 */
import type {
  AsyncNetworkBackend,
  AsyncNetworkStream,
  SocketOption,
  TlsOptions,
} from "../backends/base.js";
import { ConnectError, ConnectionNotAvailable, UnsupportedProtocol } from "../errors.js";
import type { Request, Response } from "../models.js";
import { traced } from "../trace.js";
import type { Origin } from "../url.js";
import { raceAbort } from "./abort.js";
import { openStream, withConnectRetries } from "./dial.js";
import { AsyncHTTP2Connection } from "./http2.js";
import { AsyncHTTP11Connection } from "./http11.js";
import type { AsyncConnectionInterface, ConnectionSnapshot } from "./interfaces.js";

/** Options of {@link AsyncHTTPConnection}; the pool passes its own. */
export interface HTTPConnectionOptions {
  networkBackend: AsyncNetworkBackend;
  ssl?: TlsOptions | null;
  http1?: boolean;
  http2?: boolean;
  keepaliveExpiry?: number | null;
  retries?: number;
  localAddress?: string | null;
  uds?: string | null;
  socketOptions?: SocketOption[] | null;
  /** Bound on a response head: HTTP/1.1 head bytes, HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE. */
  maxHeaderSize?: number;
}

export { backoffDelay } from "./dial.js";

/**
 * ALPN protocols to offer for `http1`/`http2` (RFC 7301; `h2` first, as browsers do). A copy for
 * the TLS options, which are never mutated.
 */
export function alpnProtocols(http1: boolean, http2: boolean): string[] {
  const protocols: string[] = [];
  if (http2) protocols.push("h2");
  if (http1) protocols.push("http/1.1");
  return protocols;
}

/** A connection to one origin that connects lazily on its first request. */
export class AsyncHTTPConnection implements AsyncConnectionInterface {
  readonly origin: Origin;
  /** Set by the pool: called when this connection can take more requests than before. */
  onCapacityChange: (() => void) | null = null;
  #options: HTTPConnectionOptions;
  #connection: AsyncHTTP11Connection | AsyncHTTP2Connection | null = null;
  #connecting = false;
  #connectFailed = false;
  #closed = false;
  /** Aborts a connect in progress when the connection is closed. */
  #closer = new AbortController();

  constructor(origin: Origin, options: HTTPConnectionOptions) {
    this.origin = origin;
    this.#options = options;
  }

  async handleAsyncRequest(request: Request): Promise<Response> {
    if (!this.canHandleRequest(request.url.origin)) {
      throw new Error(
        `Attempted to send request to ${request.url.origin} on connection to ${this.origin}`,
      );
    }
    if (this.#connection === null) {
      if (this.#connecting || this.#connectFailed || this.#closed)
        throw new ConnectionNotAvailable();
      this.#connecting = true;
      try {
        const stream = await this.#connect(request);
        if (this.#closed) {
          await stream.aclose();
          throw new ConnectionNotAvailable();
        }
        this.#connection = this.#protocolFor(stream);
      } catch (error) {
        this.#connectFailed = true;
        throw error;
      } finally {
        this.#connecting = false;
      }
      // Requests queued behind a connection that might multiplex can now go elsewhere (it turned
      // out HTTP/1.1) or come here (HTTP/2, once the server's SETTINGS arrive).
      this.onCapacityChange?.();
    }
    return this.#connection.handleAsyncRequest(request);
  }

  /**
   * HTTP/2 if ALPN chose `h2` (whatever we offered: the server's choice binds), or by prior
   * knowledge when HTTP/1.1 is disabled (httpcore's rule).
   */
  #protocolFor(stream: AsyncNetworkStream): AsyncHTTP11Connection | AsyncHTTP2Connection {
    const { http1 = true, http2 = false, keepaliveExpiry = null, maxHeaderSize } = this.#options;
    const ssl = this.origin.isSecure ? stream.getExtraInfo("ssl_object") : null;
    const alpn = (ssl as { alpnProtocol?: string | null } | null)?.alpnProtocol ?? null;
    if (alpn === "h2" || (http2 && !http1)) {
      const connection = new AsyncHTTP2Connection(this.origin, stream, {
        keepaliveExpiry,
        ...(maxHeaderSize !== undefined && { maxHeaderListSize: maxHeaderSize }),
      });
      connection.onCapacityChange = () => this.onCapacityChange?.();
      return connection;
    }
    return new AsyncHTTP11Connection(this.origin, stream, { keepaliveExpiry, maxHeaderSize });
  }

  #connect(request: Request): Promise<AsyncNetworkStream> {
    const timeout = request.extensions.timeout?.connect ?? null;
    const signal = request.signal
      ? AbortSignal.any([request.signal, this.#closer.signal])
      : this.#closer.signal;
    return withConnectRetries(this.#options, request, signal, () =>
      this.#connectOnce(request, timeout, signal),
    );
  }

  async #connectOnce(
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream> {
    const trace = request.extensions.trace;
    const stream = await openStream(
      this.#options,
      this.origin.connectHost,
      this.origin.port,
      request,
      timeout,
      signal,
      "connection",
    );
    if (!this.origin.isSecure) return stream;
    // A copy: the caller's TLS options are never mutated (httpcore mutates its SSL context).
    const tls = {
      ...this.#options.ssl,
      alpnProtocols: alpnProtocols(this.#options.http1 ?? true, this.#options.http2 ?? false),
      serverHostname: request.extensions.sniHostname ?? this.origin.connectHost,
      timeout,
    };
    try {
      return await traced(
        trace,
        "connection.start_tls",
        { ssl_context: this.#options.ssl ?? null, server_hostname: tls.serverHostname, timeout },
        () => raceAbort(stream.startTls(tls), signal),
      );
    } catch (error) {
      await stream.aclose();
      if (error instanceof UnsupportedProtocol && this.#options.http1 === false) {
        // A backend without ALPN (Workers' connect()) cannot agree on h2 over TLS.
        throw new UnsupportedProtocol(
          `HTTP/2 over TLS to ${this.origin} needs ALPN to negotiate "h2", and http1: false leaves no HTTP/1.1 fallback: ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  isAvailable(): boolean {
    return this.#connection?.isAvailable() ?? false;
  }

  /** How many requests it carries at once: 1 for HTTP/1.1 (and while connecting), the stream limit for HTTP/2. */
  maxConcurrentRequests(): number {
    const inner = this.#connection;
    return inner instanceof AsyncHTTP2Connection ? inner.maxConcurrentRequests() : 1;
  }

  /**
   * True while requests to this origin should wait for this connection instead of opening more:
   * it is connecting and may turn out HTTP/2 (`http2` and TLS, or prior knowledge), or it is an
   * HTTP/2 connection still taking streams. One connection per origin, as httpcore.
   */
  mayMultiplex(): boolean {
    const inner = this.#connection;
    if (inner !== null) return inner instanceof AsyncHTTP2Connection && inner.mayMultiplex();
    const { http1 = true, http2 = false } = this.#options;
    return http2 && (this.origin.isSecure || !http1) && !this.#connectFailed && !this.#closed;
  }

  hasExpired(): boolean {
    return this.#connection?.hasExpired() ?? this.#connectFailed;
  }

  isIdle(): boolean {
    return this.#connection?.isIdle() ?? this.#connectFailed;
  }

  isClosed(): boolean {
    return this.#connection?.isClosed() ?? (this.#connectFailed || this.#closed);
  }

  /** True once a request has started using this connection (connecting or connected). */
  hasStarted(): boolean {
    return this.#connecting || this.#connection !== null || this.#connectFailed;
  }

  expiresAt(): number | null {
    return this.#connection?.expiresAt() ?? null;
  }

  /** The HTTP/1.1 or HTTP/2 connection once connected. */
  get connection(): AsyncHTTP11Connection | AsyncHTTP2Connection | null {
    return this.#connection;
  }

  info(): string {
    if (this.#connection !== null) return this.#connection.info();
    return this.#connectFailed ? "CONNECTION FAILED" : this.#closed ? "CLOSED" : "CONNECTING";
  }

  toJSON(): ConnectionSnapshot {
    const inner = this.#connection?.toJSON();
    return {
      kind: "AsyncHTTPConnection",
      origin: String(this.origin),
      httpVersion: inner?.httpVersion ?? null,
      state:
        inner?.state ??
        (this.#connectFailed ? "CONNECTION FAILED" : this.#closed ? "CLOSED" : "CONNECTING"),
      requestCount: inner?.requestCount ?? 0,
    };
  }

  /**
   * `<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 6]>`, or
   * `HTTP/2` in place of `HTTP/1.1`.
   */
  toString(): string {
    return `<AsyncHTTPConnection [${this.info()}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  async aclose(): Promise<void> {
    this.#closed = true;
    this.#closer.abort(
      new ConnectError(`connection to ${this.origin} was closed while connecting`),
    );
    await this.#connection?.aclose();
  }
}
