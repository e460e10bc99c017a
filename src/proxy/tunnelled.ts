/**
 * What the CONNECT-tunnel and SOCKS5 connections share: a connection to one target origin that
 * is established through a proxy on its first request (with the pool's retries and connect
 * timeout), then speaks HTTP/1.1 over the tunnel.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { AsyncHTTP11Connection } from "../connection/http11.js";
import type { ConnectionSnapshot } from "../connection/interfaces.js";
import { LazyConnection, type ProtocolConnection } from "../connection/lazy.js";
import { ConnectError } from "../errors.js";
import type { Request } from "../models.js";
import type { Origin } from "../url.js";
import {
  dialProxy,
  type ProxyConnectionOptions,
  startTargetTls,
  withConnectRetries,
  withProxyContext,
} from "./dial.js";
import type { Proxy as HTTPProxy } from "./proxy.js";

/** A snapshot of a proxy connection: {@link ConnectionSnapshot} plus the proxy URL (no credentials). */
export interface ProxyConnectionSnapshot extends ConnectionSnapshot {
  proxy: string;
}

/** Base of {@link AsyncTunnelHTTPConnection} and {@link AsyncSocks5Connection}. */
export abstract class TunnelledConnection extends LazyConnection {
  readonly proxy: HTTPProxy;
  protected readonly options: ProxyConnectionOptions;

  constructor(proxy: HTTPProxy, origin: Origin, options: ProxyConnectionOptions) {
    super(origin);
    this.proxy = proxy;
    this.options = options;
  }

  /** Trace prefix of the dial to the proxy (httpcore: `connection` for HTTP proxies, `socks`). */
  protected abstract readonly dialTracePrefix: "connection" | "socks";
  /** Trace name of the TLS upgrade to the target inside the tunnel. */
  protected abstract readonly tlsTraceName: string;

  /** Turns a stream to the proxy into a stream to the target (CONNECT or the SOCKS5 handshake). */
  protected abstract handshake(
    stream: AsyncNetworkStream,
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream>;

  /** One attempt: dial the proxy, hand-shake, then TLS to the target for https. */
  async #establish(
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream> {
    const stream = await dialProxy(
      this.proxy,
      this.options,
      request,
      timeout,
      signal,
      this.dialTracePrefix,
    );
    let tunnel: AsyncNetworkStream;
    try {
      tunnel = await this.handshake(stream, request, timeout, signal);
    } catch (error) {
      await stream.aclose();
      throw error;
    }
    if (!this.origin.isSecure) return tunnel;
    return startTargetTls(
      tunnel,
      this.proxy,
      this.origin,
      this.options,
      request,
      timeout,
      signal,
      this.tlsTraceName,
    );
  }

  protected async open(request: Request, signal: AbortSignal): Promise<ProtocolConnection> {
    const timeout = request.extensions.timeout?.connect ?? null;
    const stream = await withConnectRetries(this.options, request, signal, () =>
      this.#establish(request, timeout, signal),
    );
    return new AsyncHTTP11Connection(this.origin, stream, {
      keepaliveExpiry: this.options.keepaliveExpiry ?? null,
      maxHeaderSize: this.options.maxHeaderSize,
    });
  }

  protected override connectFailure(error: unknown): unknown {
    return withProxyContext(error, this.proxy, this.origin);
  }

  protected override closedWhileConnecting(): Error {
    return new ConnectError(
      `connection to ${this.origin} through the proxy ${this.proxy.url} was closed while connecting`,
    );
  }

  /** The snapshot plus the proxy URL (no credentials). */
  override toJSON(): ProxyConnectionSnapshot {
    return { ...super.toJSON(), proxy: this.proxy.url };
  }
}
