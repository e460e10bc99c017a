/**
 * What the pool needs from a connection, whatever its protocol or transport.
 * @module
 */
import type { SocketOption, TlsOptions } from "../backends/base.js";
import type { Request, Response } from "../models.js";
import type { Origin } from "../url.js";

/** The states a connection shows in its repr. */
export type ConnectionState = "CONNECTING" | "NEW" | "ACTIVE" | "IDLE" | "CLOSED";

/** A plain snapshot of a connection, for UIs and logs. */
export interface ConnectionSnapshot {
  /** The connection's class, e.g. `AsyncHTTPConnection`. */
  kind: string;
  origin: string;
  httpVersion: string | null;
  state: ConnectionState | "CONNECTION FAILED";
  requestCount: number;
}

/** A connection as the pool drives it (httpcore's `AsyncConnectionInterface`). */
export interface AsyncConnectionInterface {
  readonly origin: Origin;
  handleAsyncRequest(request: Request): Promise<Response>;
  canHandleRequest(origin: Origin): boolean;
  /** Can take a new request now. */
  isAvailable(): boolean;
  /** Should be closed: keep-alive expired, or the peer closed it while idle. */
  hasExpired(): boolean;
  isIdle(): boolean;
  isClosed(): boolean;
  /** `'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1` */
  info(): string;
  /** When an idle connection's keep-alive runs out, in monotonic seconds (`performance.now() / 1000`); null if never. */
  expiresAt(): number | null;
  toJSON(): ConnectionSnapshot;
  aclose(): Promise<void>;
}

/** A connection the pool can own: one it made, a proxy connection, or a fetch-backed lane. */
export interface PoolConnection extends AsyncConnectionInterface {
  /** True once a request started using it; an unstarted one is dropped when its request aborts. */
  hasStarted(): boolean;
  toString(): string;
  /**
   * How many requests it can carry at once; HTTP/1.1 (the default when absent) carries one.
   * An HTTP/2 connection answers with its stream limit.
   */
  maxConcurrentRequests?(): number;
  /**
   * True while it is, or may turn out to be, a multiplexed (HTTP/2) connection: still connecting,
   * or live. The pool then queues further requests for its origin on it instead of opening more
   * connections (e.g. while only one stream is allowed before the server's SETTINGS).
   */
  mayMultiplex?(): boolean;
  /** Set by the pool: call it when the connection can take more requests than before. */
  onCapacityChange?: (() => void) | null;
}

/**
 * A backend that supplies whole connections rather than byte streams (the fetch backend): the pool
 * asks it for a connection per origin instead of building HTTP/1.1 over `connectTcp`.
 */
export interface ConnectionFactory {
  createConnection(origin: Origin, options: ConnectionFactoryOptions): PoolConnection;
}

/** What the pool passes to a {@link ConnectionFactory}. */
export interface ConnectionFactoryOptions {
  keepaliveExpiry: number | null;
  maxHeaderSize: number;
  /**
   * The pool's transport options, so a factory that cannot honour one (the fetch backend: the
   * platform owns the sockets) can refuse it clearly instead of ignoring it.
   */
  ssl?: TlsOptions | null;
  http1?: boolean;
  http2?: boolean;
  retries?: number;
  localAddress?: string | null;
  uds?: string | null;
  socketOptions?: SocketOption[] | null;
}

/** True if `backend` supplies connections itself. */
export function isConnectionFactory(backend: unknown): backend is ConnectionFactory {
  return (
    typeof backend === "object" &&
    backend !== null &&
    typeof (backend as { createConnection?: unknown }).createConnection === "function"
  );
}
