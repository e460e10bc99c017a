/**
 * What the CONNECT-tunnel and SOCKS5 connections share: a connection to one target origin that
 * is established through a proxy on its first request (with the pool's retries and connect
 * timeout), then speaks HTTP/1.1 over the tunnel.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { AsyncHTTP11Connection } from "../connection/http11.js";
import type { ConnectionSnapshot, PoolConnection } from "../connection/interfaces.js";
import { ConnectError, ConnectionNotAvailable } from "../errors.js";
import type { Request, Response } from "../models.js";
import type { Origin } from "../url.js";
import { type ProxyConnectionOptions, withConnectRetries, withProxyContext } from "./dial.js";
import type { Proxy as HTTPProxy } from "./proxy.js";

/** A snapshot of a proxy connection: {@link ConnectionSnapshot} plus the proxy URL (no credentials). */
export interface ProxyConnectionSnapshot extends ConnectionSnapshot {
  proxy: string;
}

/** Base of {@link AsyncTunnelHTTPConnection} and {@link AsyncSocks5Connection}. */
export abstract class TunnelledConnection implements PoolConnection {
  /** The target origin. */
  readonly origin: Origin;
  readonly proxy: HTTPProxy;
  protected readonly options: ProxyConnectionOptions;
  #connection: AsyncHTTP11Connection | null = null;
  #connecting = false;
  #connectFailed = false;
  #closed = false;
  /** Aborts an establishment in progress when the connection is closed. */
  #closer = new AbortController();

  /** The class name shown in the repr. */
  protected abstract readonly kind: string;

  constructor(proxy: HTTPProxy, origin: Origin, options: ProxyConnectionOptions) {
    this.proxy = proxy;
    this.origin = origin;
    this.options = options;
  }

  /** One attempt: a stream to the target through the proxy (TLS done for https). */
  protected abstract establish(
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream>;

  async handleAsyncRequest(request: Request): Promise<Response> {
    if (!this.canHandleRequest(request.url.origin)) {
      throw new Error(
        `Attempted to send request to ${request.url.origin} on connection to ${this.origin}`,
      );
    }
    if (this.#connection === null) {
      if (this.#connecting || this.#connectFailed || this.#closed) {
        throw new ConnectionNotAvailable();
      }
      this.#connecting = true;
      try {
        const timeout = request.extensions.timeout?.connect ?? null;
        const signal = request.signal
          ? AbortSignal.any([request.signal, this.#closer.signal])
          : this.#closer.signal;
        const stream = await withConnectRetries(this.options, request, signal, () =>
          this.establish(request, timeout, signal),
        );
        if (this.#closed) {
          await stream.aclose();
          throw new ConnectionNotAvailable();
        }
        this.#connection = new AsyncHTTP11Connection(this.origin, stream, {
          keepaliveExpiry: this.options.keepaliveExpiry ?? null,
          maxHeaderSize: this.options.maxHeaderSize,
        });
      } catch (error) {
        this.#connectFailed = true;
        throw withProxyContext(error, this.proxy, this.origin);
      } finally {
        this.#connecting = false;
      }
    }
    return this.#connection.handleAsyncRequest(request);
  }

  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  isAvailable(): boolean {
    return this.#connection?.isAvailable() ?? false;
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

  hasStarted(): boolean {
    return this.#connecting || this.#connection !== null || this.#connectFailed;
  }

  expiresAt(): number | null {
    return this.#connection?.expiresAt() ?? null;
  }

  /** The HTTP/1.1 connection over the tunnel, once established. */
  get connection(): AsyncHTTP11Connection | null {
    return this.#connection;
  }

  #state(): "CONNECTION FAILED" | "CLOSED" | "CONNECTING" {
    return this.#connectFailed ? "CONNECTION FAILED" : this.#closed ? "CLOSED" : "CONNECTING";
  }

  /** `'https://localhost:8443', HTTP/1.1, IDLE, Request Count: 1` (the target origin). */
  info(): string {
    return this.#connection?.info() ?? this.#state();
  }

  toJSON(): ProxyConnectionSnapshot {
    const inner = this.#connection?.toJSON();
    return {
      kind: this.kind,
      origin: String(this.origin),
      proxy: this.proxy.url,
      httpVersion: inner?.httpVersion ?? null,
      state: inner?.state ?? this.#state(),
      requestCount: inner?.requestCount ?? 0,
    };
  }

  /** `<AsyncTunnelHTTPConnection ['https://localhost:8443', HTTP/1.1, IDLE, Request Count: 1]>` */
  toString(): string {
    return `<${this.kind} [${this.info()}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  async aclose(): Promise<void> {
    this.#closed = true;
    this.#closer.abort(
      new ConnectError(
        `connection to ${this.origin} through the proxy ${this.proxy.url} was closed while connecting`,
      ),
    );
    await this.#connection?.aclose();
  }
}
