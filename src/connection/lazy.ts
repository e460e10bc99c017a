/**
 * What every connection that opens itself on its first request shares (direct, CONNECT tunnel,
 * SOCKS5): the connect-once state, the pool's predicates delegated to the protocol connection
 * once it exists, and httpcore's `CONNECTING` / `CONNECTION FAILED` reprs before that.
 * @module
 */
import { ConnectError, ConnectionNotAvailable } from "../errors.js";
import type { Request, Response } from "../models.js";
import type { Origin } from "../url.js";
import { AsyncHTTP2Connection } from "./http2.js";
import type { AsyncHTTP11Connection } from "./http11.js";
import type { ConnectionSnapshot, PoolConnection } from "./interfaces.js";

/** The protocol connection a lazy connection ends up carrying requests on. */
export type ProtocolConnection = AsyncHTTP11Connection | AsyncHTTP2Connection;

/** Base of `AsyncHTTPConnection` and the proxied connections. */
export abstract class LazyConnection implements PoolConnection {
  readonly origin: Origin;
  /** Set by the pool: called when this connection can take more requests than before. */
  onCapacityChange: (() => void) | null = null;
  #connection: ProtocolConnection | null = null;
  #connecting = false;
  #connectFailed = false;
  #closed = false;
  /** Aborts an establishment in progress when the connection is closed. */
  #closer = new AbortController();

  /** The class name shown in the repr. */
  protected abstract readonly kind: string;

  constructor(origin: Origin) {
    this.origin = origin;
  }

  /** Establishes the connection (with the pool's retries) and the protocol over it. */
  protected abstract open(request: Request, signal: AbortSignal): Promise<ProtocolConnection>;

  /** What a failed establishment throws (proxies add their context). */
  protected connectFailure(error: unknown): unknown {
    return error;
  }

  /** Why an establishment in progress stops when the connection is closed. */
  protected closedWhileConnecting(): Error {
    return new ConnectError(`connection to ${this.origin} was closed while connecting`);
  }

  /** Whether the connection may turn out HTTP/2 before it is established. */
  protected mayBecomeMultiplexed(): boolean {
    return false;
  }

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
        const signal = request.signal
          ? AbortSignal.any([request.signal, this.#closer.signal])
          : this.#closer.signal;
        const connection = await this.open(request, signal);
        if (this.#closed) {
          await connection.aclose();
          throw new ConnectionNotAvailable();
        }
        this.#connection = connection;
      } catch (error) {
        this.#connectFailed = true;
        throw this.connectFailure(error);
      } finally {
        this.#connecting = false;
      }
      // Requests queued behind a connection that might multiplex can now go elsewhere (it turned
      // out HTTP/1.1) or come here (HTTP/2, once the server's SETTINGS arrive).
      this.onCapacityChange?.();
    }
    return this.#connection.handleAsyncRequest(request);
  }

  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  isAvailable(): boolean {
    return this.#connection?.isAvailable() ?? false;
  }

  /** 1 for HTTP/1.1 (and while connecting), the stream limit for HTTP/2. */
  maxConcurrentRequests(): number {
    const inner = this.#connection;
    return inner instanceof AsyncHTTP2Connection ? inner.maxConcurrentRequests() : 1;
  }

  /**
   * True while requests to this origin should wait for this connection instead of opening more:
   * it is connecting and may turn out HTTP/2, or it is an HTTP/2 connection still taking streams.
   */
  mayMultiplex(): boolean {
    const inner = this.#connection;
    if (inner !== null) return inner instanceof AsyncHTTP2Connection && inner.mayMultiplex();
    return this.mayBecomeMultiplexed() && !this.#connectFailed && !this.#closed;
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

  /** The HTTP/1.1 or HTTP/2 connection once established. */
  get connection(): ProtocolConnection | null {
    return this.#connection;
  }

  #pendingState(): "CONNECTION FAILED" | "CLOSED" | "CONNECTING" {
    return this.#connectFailed ? "CONNECTION FAILED" : this.#closed ? "CLOSED" : "CONNECTING";
  }

  /** `'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1`, or `CONNECTING` before. */
  info(): string {
    return this.#connection?.info() ?? this.#pendingState();
  }

  toJSON(): ConnectionSnapshot {
    const inner = this.#connection?.toJSON();
    return {
      kind: this.kind,
      origin: String(this.origin),
      httpVersion: inner?.httpVersion ?? null,
      state: inner?.state ?? this.#pendingState(),
      requestCount: inner?.requestCount ?? 0,
    };
  }

  /** `<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 6]>` */
  toString(): string {
    return `<${this.kind} [${this.info()}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  async aclose(): Promise<void> {
    this.#closed = true;
    this.#closer.abort(this.closedWhileConnecting());
    await this.#connection?.aclose();
  }
}
