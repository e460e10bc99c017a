/**
 * `AsyncConnectionPool`: queues requests FIFO, assigns them to connections under the limits,
 * keeps idle connections alive, and leaves its counts exact whatever happens to a request.
 * @module
 */
import type { AsyncNetworkBackend } from "../backends/base.js";
import { defaultNetworkBackend } from "../backends/default.js";
import { raceAbort } from "../connection/abort.js";
import { now } from "../connection/clock.js";
import { AsyncHTTPConnection } from "../connection/connection.js";
import { StaleConnection } from "../connection/http11.js";
import { isConnectionFactory, type PoolConnection } from "../connection/interfaces.js";
import {
  abortReason,
  ConnectionNotAvailable,
  HTTPCoreError,
  PoolTimeout,
  UnsupportedProtocol,
} from "../errors.js";
import { type FetchInit, type FetchInput, poolFetch } from "../fetch/adapter.js";
import {
  getStream,
  Request,
  type RequestOptions,
  type Response,
  type ResponseByteStream,
  setStream,
} from "../models.js";
import { createProxyConnection } from "../proxy/index.js";
import type { Origin } from "../url.js";
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from "./options.js";

/** A request waiting for, or holding, a connection. */
class PoolRequest {
  connection: PoolConnection | null = null;
  /** Wakes the waiting task after an assignment (or pool close). */
  wake: (() => void) | null = null;
  failure: unknown = null;
  constructor(readonly request: Request) {}
}

/** A pool of HTTP connections with httpcore's `AsyncConnectionPool` behaviour. */
export class AsyncConnectionPool {
  readonly #options: ResolvedPoolOptions;
  readonly #backend: AsyncNetworkBackend;
  #connections: PoolConnection[] = [];
  #requests: PoolRequest[] = [];
  #closed = false;
  #expiryTimer: ReturnType<typeof setTimeout> | null = null;
  #expiryAt = Number.POSITIVE_INFINITY;

  constructor(options: PoolOptions = {}) {
    this.#options = resolvePoolOptions(options);
    this.#backend = options.networkBackend ?? defaultNetworkBackend();
    if (this.#options.proxy !== null && isConnectionFactory(this.#backend)) {
      throw new UnsupportedProtocol(
        'The "proxy" option needs a network backend that opens sockets; this backend supplies its own connections.',
      );
    }
  }

  /** The pool's connections, oldest first (a snapshot array of live connection objects). */
  get connections(): readonly PoolConnection[] {
    return [...this.#connections];
  }

  /** Sends a request and reads the whole response body. */
  async request(
    method: string,
    url: string | URL,
    options: RequestOptions = {},
  ): Promise<Response> {
    const response = await this.handleAsyncRequest(new Request(method, url, options));
    try {
      await response.aread();
    } finally {
      await response.aclose();
    }
    return response;
  }

  /** Sends a request and returns once the head arrived; close the response to free the connection. */
  async stream(method: string, url: string | URL, options: RequestOptions = {}): Promise<Response> {
    return this.handleAsyncRequest(new Request(method, url, options));
  }

  /**
   * A WHATWG `fetch()` over this pool, returning real `Response` objects: follows redirects
   * (`redirect: "follow"`, at most 20, credentials dropped across origins; `"manual"`;
   * `"error"`), decodes `gzip`/`deflate`/`br` where the runtime can, and streams the body.
   * Read or cancel each body: the connection stays busy until then.
   */
  fetch(input: FetchInput, init?: FetchInit): Promise<globalThis.Response> {
    return poolFetch(this, input, init);
  }

  /** The core that `request()` and `stream()` call. */
  async handleAsyncRequest(request: Request): Promise<Response> {
    if (this.#closed) {
      throw new HTTPCoreError("Cannot send a request, as the connection pool has been closed.");
    }
    const signal = request.signal;
    if (signal?.aborted) throw abortReason(signal);
    const poolRequest = new PoolRequest(request);
    this.#requests.push(poolRequest);
    const poolTimeout = request.extensions.timeout?.pool ?? null;
    const deadline = poolTimeout === null ? null : now() + poolTimeout;
    const replayable = request.body === null || request.body.kind === "bytes";
    let staleRetried = false;
    let response: Response;
    try {
      for (;;) {
        await this.#closeConnections(this.#assignRequestsToConnections());
        while (poolRequest.connection === null) {
          await this.#waitForConnection(poolRequest, deadline, poolTimeout);
        }
        const connection = poolRequest.connection;
        try {
          response = await connection.handleAsyncRequest(request);
          break;
        } catch (error) {
          if (!(error instanceof ConnectionNotAvailable)) throw error;
          if (error instanceof StaleConnection) {
            if (staleRetried || !replayable) throw error.original;
            staleRetried = true;
          }
          // Give the slot back and queue again (at the front: this request was first).
          poolRequest.connection = null;
        }
      }
    } catch (error) {
      this.#removeRequest(poolRequest);
      await this.#closeConnections(this.#assignRequestsToConnections());
      throw error;
    }
    return this.#wrapResponse(response, poolRequest);
  }

  #waitForConnection(
    poolRequest: PoolRequest,
    deadline: number | null,
    poolTimeout: number | null,
  ): Promise<void> {
    const signal = poolRequest.request.signal;
    const origin = poolRequest.request.url.origin;
    const waiting = new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (deadline !== null) {
        const remaining = Math.max(0, deadline - now());
        timer = setTimeout(() => {
          poolRequest.wake = null;
          reject(
            new PoolTimeout(
              `timed out after ${poolTimeout}s waiting for a connection to ${origin} (${this.#connections.length} of ${this.#options.maxConnections} connections in use)`,
            ),
          );
        }, remaining * 1000);
      }
      poolRequest.wake = () => {
        poolRequest.wake = null;
        if (timer !== undefined) clearTimeout(timer);
        if (poolRequest.failure !== null) reject(poolRequest.failure);
        else resolve();
      };
    });
    return raceAbort(waiting, signal).finally(() => {
      poolRequest.wake = null;
    });
  }

  /** Releases the request's connection slot when its response closes. */
  #wrapResponse(response: Response, poolRequest: PoolRequest): Response {
    // The Response object keeps its identity; only its byte stream is wrapped.
    const inner = getStream(response);
    if (inner === null) {
      void this.#release(poolRequest);
      return response;
    }
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      try {
        await inner.aclose();
      } finally {
        await this.#release(poolRequest);
      }
    };
    const wrapped: ResponseByteStream = {
      // Forwards the connection's iterator (no generator layer); any error releases the slot.
      [Symbol.asyncIterator]: () => {
        const it = inner[Symbol.asyncIterator]();
        const onError = async (error: unknown): Promise<never> => {
          await release();
          throw error;
        };
        const forwarded: AsyncIterableIterator<Uint8Array> = {
          next: () => it.next().catch(onError),
          return: async () => {
            await release();
            return { value: undefined, done: true };
          },
          [Symbol.asyncIterator]: () => forwarded,
        };
        return forwarded;
      },
      aclose: release,
    };
    const readAll = inner.readAll;
    if (readAll !== undefined) {
      wrapped.readAll = async () => {
        try {
          return await readAll();
        } finally {
          await release();
        }
      };
    }
    setStream(response, wrapped);
    return response;
  }

  async #release(poolRequest: PoolRequest): Promise<void> {
    this.#removeRequest(poolRequest);
    await this.#closeConnections(this.#assignRequestsToConnections());
  }

  #removeRequest(poolRequest: PoolRequest): void {
    const i = this.#requests.indexOf(poolRequest);
    if (i !== -1) this.#requests.splice(i, 1);
    const connection = poolRequest.connection;
    poolRequest.connection = null;
    // A connection assigned but never used (the request was aborted first) must not linger
    // as a phantom CONNECTING connection: drop it (httpcore's orphan leak).
    if (connection !== null && !connection.hasStarted()) {
      this.#dropConnection(connection);
    }
  }

  #dropConnection(connection: PoolConnection): void {
    const i = this.#connections.indexOf(connection);
    if (i !== -1) this.#connections.splice(i, 1);
    void connection.aclose();
  }

  /**
   * One synchronous pass: drop closed and expired connections, trim idle ones, then give each
   * queued request (FIFO) a connection. Returns the connections to close.
   */
  #assignRequestsToConnections(): PoolConnection[] {
    const closing: PoolConnection[] = [];
    // How many requests hold each connection (assigned, running or streaming a response).
    const reserved = new Map<PoolConnection, number>();
    for (const r of this.#requests) {
      if (r.connection !== null) reserved.set(r.connection, (reserved.get(r.connection) ?? 0) + 1);
    }
    let idle = 0;
    for (const c of this.#connections) if (c.isIdle() && !reserved.has(c)) idle++;

    for (const connection of [...this.#connections]) {
      if (reserved.has(connection)) continue;
      if (connection.isClosed()) {
        this.#remove(connection);
      } else if (connection.hasExpired()) {
        this.#remove(connection);
        closing.push(connection);
        if (connection.isIdle()) idle--;
      } else if (connection.isIdle() && idle > this.#options.maxKeepaliveConnections) {
        this.#remove(connection);
        closing.push(connection);
        idle--;
      }
    }

    for (const poolRequest of this.#requests) {
      if (poolRequest.connection !== null) continue;
      const origin = poolRequest.request.url.origin;
      const connection =
        this.#findAvailable(origin, reserved) ?? this.#makeRoom(origin, reserved, closing);
      if (connection === null) continue;
      poolRequest.connection = connection;
      reserved.set(connection, (reserved.get(connection) ?? 0) + 1);
      poolRequest.wake?.();
    }
    this.#scheduleExpiry();
    return closing;
  }

  #findAvailable(origin: Origin, reserved: Map<PoolConnection, number>): PoolConnection | null {
    for (const c of this.#connections) {
      if (!c.canHandleRequest(origin) || !c.isAvailable()) continue;
      if ((reserved.get(c) ?? 0) < (c.maxConcurrentRequests?.() ?? 1)) return c;
    }
    return null;
  }

  /** A connection to `origin` still connecting that may multiplex: wait for it instead. */
  #multiplexPending(origin: Origin): boolean {
    for (const c of this.#connections) {
      if (c.canHandleRequest(origin) && c.mayMultiplex?.() === true) return true;
    }
    return false;
  }

  #makeRoom(
    origin: Origin,
    reserved: Map<PoolConnection, number>,
    closing: PoolConnection[],
  ): PoolConnection | null {
    if (this.#multiplexPending(origin)) return null;
    if (this.#connections.length >= this.#options.maxConnections) {
      // At the limit: an idle connection to another origin makes way for this one.
      const idle = this.#connections.find((c) => c.isIdle() && !reserved.has(c));
      if (idle === undefined) return null;
      this.#remove(idle);
      closing.push(idle);
    }
    const connection = this.createConnection(origin);
    connection.onCapacityChange = () => {
      if (!this.#closed) void this.#closeConnections(this.#assignRequestsToConnections());
    };
    this.#connections.push(connection);
    return connection;
  }

  /** Makes a connection for `origin` (override to customise). */
  createConnection(origin: Origin): PoolConnection {
    const o = this.#options;
    if (isConnectionFactory(this.#backend)) {
      return this.#backend.createConnection(origin, { ...o });
    }
    const options = {
      networkBackend: this.#backend,
      ssl: o.ssl,
      http1: o.http1,
      http2: o.http2,
      keepaliveExpiry: o.keepaliveExpiry,
      retries: o.retries,
      localAddress: o.localAddress,
      uds: o.uds,
      socketOptions: o.socketOptions,
      maxHeaderSize: o.maxHeaderSize,
    };
    // Through a proxy: one connection per (proxy, target origin), as the proxy is chosen per origin.
    const proxy = o.proxy?.(origin) ?? null;
    if (proxy !== null) return createProxyConnection(proxy, origin, options);
    return new AsyncHTTPConnection(origin, options);
  }

  #remove(connection: PoolConnection): void {
    const i = this.#connections.indexOf(connection);
    if (i !== -1) this.#connections.splice(i, 1);
  }

  async #closeConnections(closing: PoolConnection[]): Promise<void> {
    if (closing.length === 0) return;
    await Promise.all(closing.map((c) => c.aclose()));
  }

  /** Idle expiry runs on a timer (unref'd where possible), not only on the next request. */
  #scheduleExpiry(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const c of this.#connections) {
      const at = c.expiresAt();
      if (at !== null && at < next) next = at;
    }
    if (next === this.#expiryAt) return;
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    this.#expiryAt = next;
    if (next === Number.POSITIVE_INFINITY || this.#closed) return;
    const timer = setTimeout(
      () => {
        this.#expiryTimer = null;
        this.#expiryAt = Number.POSITIVE_INFINITY;
        void this.#closeConnections(this.#assignRequestsToConnections());
      },
      Math.max(0, (next - now()) * 1000) + 1,
    );
    (timer as { unref?: () => void }).unref?.();
    this.#expiryTimer = timer;
  }

  /** Closes every connection; queued requests fail, later requests are refused. */
  async aclose(): Promise<void> {
    this.#closed = true;
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    const connections = this.#connections;
    this.#connections = [];
    for (const r of this.#requests) {
      if (r.connection === null && r.wake !== null) {
        r.failure = new HTTPCoreError(
          "Cannot send a request, as the connection pool has been closed.",
        );
        r.wake();
      }
    }
    await Promise.all(connections.map((c) => c.aclose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.aclose();
  }

  /** `<AsyncConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 2 idle]>` */
  toString(): string {
    let active = 0;
    let queued = 0;
    for (const r of this.#requests) {
      if (r.connection === null) queued++;
      else active++;
    }
    let idle = 0;
    for (const c of this.#connections) if (c.isIdle()) idle++;
    const busy = this.#connections.length - idle;
    return `<AsyncConnectionPool [Requests: ${active} active, ${queued} queued | Connections: ${busy} active, ${idle} idle]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
