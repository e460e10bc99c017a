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
import { UnsupportedProtocol } from "../errors.js";
import type { Request } from "../models.js";
import { traced } from "../trace.js";
import type { Origin } from "../url.js";
import { raceAbort } from "./abort.js";
import { openStream, withConnectRetries } from "./dial.js";
import { AsyncHTTP2Connection } from "./http2.js";
import { AsyncHTTP11Connection } from "./http11.js";
import { LazyConnection, type ProtocolConnection } from "./lazy.js";

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
export class AsyncHTTPConnection extends LazyConnection {
  protected readonly kind = "AsyncHTTPConnection";
  #options: HTTPConnectionOptions;

  constructor(origin: Origin, options: HTTPConnectionOptions) {
    super(origin);
    this.#options = options;
  }

  protected async open(request: Request, signal: AbortSignal): Promise<ProtocolConnection> {
    return this.#protocolFor(await this.#connect(request, signal));
  }

  /** It may multiplex while connecting if `http2` is on and TLS (ALPN) or prior knowledge applies. */
  protected override mayBecomeMultiplexed(): boolean {
    const { http1 = true, http2 = false } = this.#options;
    return http2 && (this.origin.isSecure || !http1);
  }

  /**
   * HTTP/2 if ALPN chose `h2` (whatever we offered: the server's choice binds), or by prior
   * knowledge when HTTP/1.1 is disabled (httpcore's rule).
   */
  #protocolFor(stream: AsyncNetworkStream): ProtocolConnection {
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

  #connect(request: Request, signal: AbortSignal): Promise<AsyncNetworkStream> {
    const timeout = request.extensions.timeout?.connect ?? null;
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
}
