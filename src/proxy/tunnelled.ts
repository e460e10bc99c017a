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
import { type ProxyConnectionOptions, withConnectRetries, withProxyContext } from "./dial.js";
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

  /** One attempt: a stream to the target through the proxy (TLS done for https). */
  protected abstract establish(
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream>;

  protected async open(request: Request, signal: AbortSignal): Promise<ProtocolConnection> {
    const timeout = request.extensions.timeout?.connect ?? null;
    const stream = await withConnectRetries(this.options, request, signal, () =>
      this.establish(request, timeout, signal),
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
