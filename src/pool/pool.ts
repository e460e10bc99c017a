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
import { isConnectionFactory, type PoolConnection } from "../connection/interfaces.js";
import { StaleConnection } from "../connection/stale.js";
import {
  abortReason,
  ConnectionNotAvailable,
  HTTPCoreError,
  PoolTimeout,
  UnsupportedProtocol,
} from "../errors.js";
import { type FetchInit, type FetchInput, poolFetch } from "../fetch/adapter.js";
import {
  concat,
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

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

function noop(): void {}

/**
 * A response body that gives the request's connection slot back to the pool when it ends,
 * fails or is closed. One object per response: its iterator is itself.
 */
class PooledStream implements ResponseByteStream, AsyncIterableIterator<Uint8Array> {
  #iterator: AsyncIterator<Uint8Array> | null = null;
  #released: Promise<void> | null = null;

  constructor(
    private readonly inner: ResponseByteStream,
    private readonly releaseSlot: () => Promise<void>,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    this.#iterator ??= this.inner[Symbol.asyncIterator]();
    try {
      return await this.#iterator.next();
    } catch (error) {
      await this.aclose();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.aclose();
    return DONE;
  }

  /** The whole rest of the body (the inner stream's fast path when it has one), then release. */
  async readAll(): Promise<Uint8Array> {
    try {
      if (this.inner.readAll !== undefined) return await this.inner.readAll();
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let r = await this.next(); !r.done; r = await this.next()) {
        parts.push(r.value);
        total += r.value.length;
      }
      return concat(parts, total);
    } finally {
      await this.aclose();
    }
  }

  /** Closes the body, then frees the slot; idempotent. */
  aclose(): Promise<void> {
    this.#released ??= this.inner.aclose().finally(this.releaseSlot);
    return this.#released;
  }
}

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
  /** How many requests hold each connection; absent = none. */
  #load = new Map<PoolConnection, number>();
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
      // aread() releases the connection itself once the body is complete.
      await response.aread();
    } catch (error) {
      await response.aclose();
      throw error;
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
        const closing = this.#assignRequestsToConnections();
        if (closing.length > 0) await this.#closeConnections(closing);
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
          const closing: PoolConnection[] = [];
          const previous = this.#unassign(poolRequest);
          if (previous !== null) this.#tidy(previous, closing);
          await this.#closeConnections(closing);
        }
      }
    } catch (error) {
      const closing: PoolConnection[] = [];
      this.#removeRequest(poolRequest, closing);
      this.#assignRequestsToConnections(closing);
      await this.#closeConnections(closing);
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
    setStream(response, new PooledStream(inner, () => this.#release(poolRequest)));
    return response;
  }

  #release(poolRequest: PoolRequest): Promise<void> {
    const closing: PoolConnection[] = [];
    this.#removeRequest(poolRequest, closing);
    this.#assignRequestsToConnections(closing);
    return this.#closeConnections(closing);
  }

  /** How many requests hold `connection` (assigned, running or streaming a response). */
  #loadOf(connection: PoolConnection): number {
    return this.#load.get(connection) ?? 0;
  }

  #assign(poolRequest: PoolRequest, connection: PoolConnection): void {
    poolRequest.connection = connection;
    this.#load.set(connection, this.#loadOf(connection) + 1);
  }

  /** Takes the request's connection back; returns it (or null). */
  #unassign(poolRequest: PoolRequest): PoolConnection | null {
    const connection = poolRequest.connection;
    if (connection === null) return null;
    poolRequest.connection = null;
    const load = this.#loadOf(connection) - 1;
    if (load > 0) this.#load.set(connection, load);
    else this.#load.delete(connection);
    return connection;
  }

  #removeRequest(poolRequest: PoolRequest, closing: PoolConnection[]): void {
    const i = this.#requests.indexOf(poolRequest);
    if (i !== -1) this.#requests.splice(i, 1);
    const connection = this.#unassign(poolRequest);
    if (connection === null) return;
    // A connection assigned but never used (the request was aborted first) must not linger
    // as a phantom CONNECTING connection: drop it (httpcore's orphan leak).
    if (!connection.hasStarted()) {
      this.#remove(connection);
      closing.push(connection);
      return;
    }
    this.#tidy(connection, closing);
  }

  /**
   * Looks at one connection a request just let go of: drops it if closed, closes it if expired
   * or beyond the idle limit. Only this connection changed, so nothing else needs a look.
   */
  #tidy(connection: PoolConnection, closing: PoolConnection[]): void {
    if (this.#loadOf(connection) > 0) return;
    if (connection.isClosed()) {
      this.#remove(connection);
    } else if (connection.hasExpired()) {
      this.#remove(connection);
      closing.push(connection);
    } else if (connection.isIdle()) {
      this.#trimIdle(closing);
      const at = connection.expiresAt();
      if (at !== null && at < this.#expiryAt) this.#scheduleExpiry(at);
    }
  }

  /** Closes the oldest idle connections beyond `maxKeepaliveConnections` (idle ones counted). */
  #trimIdle(closing: PoolConnection[]): void {
    const max = this.#options.maxKeepaliveConnections;
    if (max === Number.POSITIVE_INFINITY) return;
    let idle = 0;
    for (const c of this.#connections) if (c.isIdle() && this.#loadOf(c) === 0) idle++;
    for (let i = 0; idle > max && i < this.#connections.length; i++) {
      const c = this.#connections[i] as PoolConnection;
      if (!c.isIdle() || this.#loadOf(c) > 0) continue;
      this.#connections.splice(i--, 1);
      closing.push(c);
      idle--;
    }
  }

  /** A full look at every connection (the expiry timer): closed, expired, beyond the idle limit. */
  #sweep(closing: PoolConnection[]): void {
    const connections = this.#connections;
    for (let i = 0; i < connections.length; i++) {
      const c = connections[i] as PoolConnection;
      if (this.#loadOf(c) > 0) continue;
      if (c.isClosed()) {
        connections.splice(i--, 1);
      } else if (c.hasExpired()) {
        connections.splice(i--, 1);
        closing.push(c);
      }
    }
    this.#trimIdle(closing);
  }

  /**
   * Gives each queued request (FIFO) a connection, synchronously. Connections to close are added
   * to `closing`, which is returned.
   */
  #assignRequestsToConnections(closing: PoolConnection[] = []): PoolConnection[] {
    for (const poolRequest of this.#requests) {
      if (poolRequest.connection !== null) continue;
      const origin = poolRequest.request.url.origin;
      const connection = this.#findAvailable(origin, closing) ?? this.#makeRoom(origin, closing);
      if (connection === null) continue;
      this.#assign(poolRequest, connection);
      poolRequest.wake?.();
    }
    return closing;
  }

  /** An available connection to `origin`; stale ones met on the way are dropped (checked lazily). */
  #findAvailable(origin: Origin, closing: PoolConnection[]): PoolConnection | null {
    const connections = this.#connections;
    for (let i = 0; i < connections.length; i++) {
      const c = connections[i] as PoolConnection;
      if (!c.canHandleRequest(origin)) continue;
      const load = this.#loadOf(c);
      if (load === 0) {
        // The server may have closed it while idle: a readable idle socket is stale.
        if (c.isClosed()) {
          connections.splice(i--, 1);
          continue;
        }
        if (c.hasExpired()) {
          connections.splice(i--, 1);
          closing.push(c);
          continue;
        }
      }
      if (c.isAvailable() && load < (c.maxConcurrentRequests?.() ?? 1)) return c;
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

  #makeRoom(origin: Origin, closing: PoolConnection[]): PoolConnection | null {
    if (this.#multiplexPending(origin)) return null;
    if (this.#connections.length >= this.#options.maxConnections) {
      // At the limit: a closed or idle connection (to any origin) makes way for this one.
      const free = this.#connections.findIndex((c) => this.#loadOf(c) === 0 && c.isClosed());
      const index =
        free !== -1
          ? free
          : this.#connections.findIndex((c) => this.#loadOf(c) === 0 && c.isIdle());
      if (index === -1) return null;
      const [evicted] = this.#connections.splice(index, 1);
      if (evicted !== undefined && free === -1) closing.push(evicted);
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

  #closeConnections(closing: PoolConnection[]): Promise<void> {
    if (closing.length === 0) return RESOLVED;
    return Promise.all(closing.map((c) => c.aclose())).then(noop);
  }

  /** Idle expiry runs on a timer (unref'd where possible), not only on the next request. */
  #scheduleExpiry(at: number): void {
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    this.#expiryAt = at;
    if (at === Number.POSITIVE_INFINITY || this.#closed) return;
    const timer = setTimeout(
      () => {
        this.#expiryTimer = null;
        this.#expiryAt = Number.POSITIVE_INFINITY;
        const closing: PoolConnection[] = [];
        this.#sweep(closing);
        this.#assignRequestsToConnections(closing);
        let next = Number.POSITIVE_INFINITY;
        for (const c of this.#connections) {
          const expires = c.expiresAt();
          if (expires !== null && expires < next) next = expires;
        }
        this.#scheduleExpiry(next);
        void this.#closeConnections(closing);
      },
      Math.max(0, (at - now()) * 1000) + 1,
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
