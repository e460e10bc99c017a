/**
 * The Cloudflare Workers backend: TCP (and runtime TLS) through `connect()` from
 * `cloudflare:sockets`. This is the only file in `src/` that imports a workerd module.
 *
 * What workerd does not offer is refused with an {@link UnsupportedProtocol} before any dial:
 * a source address, socket options, unix sockets, a custom CA, client certificates, turning
 * verification off, ALPN other than HTTP/1.1, and an SNI name different from the dialled host.
 * See `docs/cloudflare.md` for the platform limits.
 * @module
 */

import { connect } from "cloudflare:sockets";
import {
  abortReason,
  ConnectError,
  ConnectTimeout,
  ReadError,
  ReadTimeout,
  UnsupportedProtocol,
  WriteError,
  WriteTimeout,
} from "../errors.js";
import type {
  AsyncNetworkBackend,
  AsyncNetworkStream,
  ConnectTcpOptions,
  ConnectUnixOptions,
  SocketOption,
  SslInfo,
  StartTlsOptions,
  TlsOptions,
} from "./base.js";

// Derived from `connect` so this file compiles against our own minimal declaration
// (`cloudflare-sockets.d.ts`) and against `@cloudflare/workers-types` in the workerd tests.
type Socket = ReturnType<typeof connect>;

/** Size of the buffer a BYOB read fills. */
const CHUNK_SIZE = 64 * 1024;
/** How long `aclose()` waits for `socket.close()` (which first flushes pending writes). */
const CLOSE_GRACE_MS = 1000;
/** setTimeout overflows above 2^31-1 ms and would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const EMPTY = new Uint8Array(0);
const noop = (): void => {};

/** Options of {@link AsyncCloudflareBackend}. */
export interface CloudflareBackendOptions {
  /**
   * How many dials (from `connect()` until `opened` settles) may be in progress at once. Further
   * `connectTcp` calls wait, in FIFO order, for a dial to succeed or fail; their connect timeout
   * includes that wait. Default 6, the per-invocation limit of Workers. `null` or `Infinity`: no
   * limit.
   */
  maxConcurrentDials?: number | null;
}

/** Workers allow 6 simultaneous connection dials per invocation (production queues the rest). */
export const DEFAULT_MAX_CONCURRENT_DIALS = 6;

/**
 * A network backend for Cloudflare Workers (and workerd / Miniflare) built on `connect()`.
 *
 * Plain connections are dialled with `secureTransport: "starttls"` so that
 * {@link AsyncNetworkStream.startTls} can upgrade them later (HTTPS through an HTTP proxy);
 * `tls` dials with `secureTransport: "on"`. The runtime does TLS and verifies the certificate
 * against the dialled host with its own trust store; no ALPN is negotiated, so TLS connections
 * speak HTTP/1.1.
 *
 * At most `maxConcurrentDials` (default 6) dials of one backend instance are in progress at once;
 * the others wait in FIFO order, and the connect timeout covers the wait.
 *
 * Sockets belong to the request (or Durable Object) that opened them: create the pool inside a
 * handler or a Durable Object, never in global scope.
 */
export class AsyncCloudflareBackend implements AsyncNetworkBackend {
  readonly #dials: DialSlots;

  constructor(options: CloudflareBackendOptions = {}) {
    const max = options.maxConcurrentDials ?? Number.POSITIVE_INFINITY;
    const limit = options.maxConcurrentDials === undefined ? DEFAULT_MAX_CONCURRENT_DIALS : max;
    if (limit !== Number.POSITIVE_INFINITY && !(Number.isInteger(limit) && limit >= 1)) {
      throw new RangeError(
        `maxConcurrentDials must be a positive integer, Infinity or null, not ${String(limit)}`,
      );
    }
    this.#dials = new DialSlots(limit);
  }

  /** The most dials in progress at once (`Infinity` when unlimited). */
  get maxConcurrentDials(): number {
    return this.#dials.limit;
  }

  /** Dials in progress now: `connect()` called and `opened` not yet settled, timed out or aborted. */
  get dialsInProgress(): number {
    return this.#dials.active;
  }

  /** `connectTcp` calls waiting for a dial slot. */
  get dialsWaiting(): number {
    return this.#dials.waiting;
  }

  /**
   * Opens a TCP connection, TLS from the start when `opts.tls` is set. Waits first for a dial
   * slot when `maxConcurrentDials` dials are in progress.
   *
   * @throws {UnsupportedProtocol} before dialling, for an option workerd cannot honour.
   * @throws {ConnectTimeout} when the wait for a dial slot plus `opened` (TCP connect, plus the
   *   TLS handshake) take longer than `opts.timeout` seconds.
   * @throws {ConnectError} when the connection fails; workerd reports refused ports, DNS failures,
   *   blocked destinations and TLS failures with one generic error, kept as `cause`.
   * @throws the signal's `reason` when `opts.signal` aborts.
   */
  async connectTcp(
    host: string,
    port: number,
    opts: ConnectTcpOptions = {},
  ): Promise<AsyncNetworkStream> {
    const { timeout, localAddress, socketOptions, tls, signal } = opts;
    if (localAddress != null) {
      throw unsupported("localAddress", "connect() has no source address");
    }
    checkSocketOptions(socketOptions);
    if (tls) checkTls(tls, host);
    if (signal?.aborted) throw abortReason(signal);

    const where = formatHostPort(host, port);
    const started = Date.now();
    const slot = await this.#dials.acquire(timeout, signal);
    if (slot === "timeout") {
      throw new ConnectTimeout(
        `timed out connecting to ${where} after ${timeout}s (waiting for a dial slot: ${this.#dials.limit} dials in progress)`,
      );
    }
    if (slot === "abort") throw abortReason(signal as AbortSignal);
    try {
      // The connect timeout covers the wait for the slot.
      const left = timeout == null ? timeout : Math.max(0, timeout - (Date.now() - started) / 1000);
      return await dial(host, port, where, tls, signal, timeout, left);
    } finally {
      // Free once `opened` settled, or once we gave up on it (timeout, abort).
      this.#dials.release();
    }
  }

  /** Always rejects: `connect()` cannot reach unix sockets. */
  async connectUnixSocket(_path: string, _opts?: ConnectUnixOptions): Promise<AsyncNetworkStream> {
    throw unsupported("uds", "connect() has no unix sockets");
  }

  /** Resolves after `seconds`. */
  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, toMs(seconds)));
  }
}

/** One `connect()`, waited on until `opened` settles, `left` seconds pass or `signal` aborts. */
async function dial(
  host: string,
  port: number,
  where: string,
  tls: TlsOptions | null | undefined,
  signal: AbortSignal | null | undefined,
  timeout: number | null | undefined,
  left: number | null | undefined,
): Promise<AsyncNetworkStream> {
  let socket: Socket;
  try {
    socket = connect(
      { hostname: dialHost(host), port },
      // allowHalfOpen is required by the workers types; false = the peer's EOF closes our side too.
      { secureTransport: tls ? "on" : "starttls", allowHalfOpen: false },
    );
  } catch (err) {
    // Synchronous TypeErrors: unsupported characters in the host, port out of range, global scope.
    throw new ConnectError(`could not connect to ${where} (${messageOf(err)})`, { cause: err });
  }
  const watch = watchSocket(socket);

  const outcome = await settle(socket.opened, left, signal);
  switch (outcome.kind) {
    case "value":
      return new CloudflareNetworkStream(socket, watch, host, port, Boolean(tls));
    case "timeout":
      // close() waits for `opened` to settle, so the dial may linger until the invocation ends.
      closeQuietly(socket);
      throw new ConnectTimeout(`timed out connecting to ${where} after ${timeout}s`);
    case "abort":
      closeQuietly(socket);
      throw abortReason(signal as AbortSignal);
    case "error":
      closeQuietly(socket);
      throw new ConnectError(connectFailure(where, Boolean(tls), outcome.error), {
        cause: outcome.error,
      });
  }
}

/**
 * A FIFO counting semaphore for dials. `release()` hands the slot straight to the longest waiter,
 * so a later `acquire()` can never overtake a queued one.
 */
class DialSlots {
  readonly limit: number;
  #active = 0;
  readonly #queue: Array<() => boolean> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Takes a slot, waiting up to `timeout` seconds (null = no limit) or until `signal` aborts. */
  acquire(
    timeout: number | null | undefined,
    signal: AbortSignal | null | undefined,
  ): Promise<"ok" | "timeout" | "abort"> {
    if (signal?.aborted) return Promise.resolve("abort");
    if (this.#active < this.limit && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve("ok");
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const finish = (result: "ok" | "timeout" | "abort"): boolean => {
        if (done) return false;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (result !== "ok") {
          const index = this.#queue.indexOf(grant);
          if (index >= 0) this.#queue.splice(index, 1);
        }
        resolve(result);
        return true;
      };
      // Called by release() with the slot already counted for us.
      const grant = (): boolean => finish("ok");
      const onAbort = (): void => {
        finish("abort");
      };
      this.#queue.push(grant);
      if (timeout != null && timeout !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(() => finish("timeout"), toMs(timeout));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Frees a slot: the longest waiter gets it, or it becomes free. */
  release(): void {
    for (;;) {
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#active--;
        return;
      }
      // A waiter that already timed out or aborted removed itself; `grant` is false only in a race.
      if (next()) return;
    }
  }
}

/** Why the stream can no longer be used. */
type DeadReason = "closed" | "upgraded" | "read timed out" | "write timed out";

interface SocketWatch {
  /** `socket.closed` has settled (it may never do so after a peer's EOF). */
  closed: boolean;
}

/** One connection made by {@link AsyncCloudflareBackend}. */
class CloudflareNetworkStream implements AsyncNetworkStream {
  readonly #socket: Socket;
  readonly #watch: SocketWatch;
  readonly #host: string;
  readonly #port: number;
  readonly #tls: boolean;
  readonly #where: string;
  #reader: ReadableStreamBYOBReader | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  /** A buffer we own again (its last read was copied out); reused by the next read. */
  #spare: ArrayBuffer | null = null;
  /** Bytes read but not yet returned (a background read, or more than `maxBytes`). */
  #pending: Uint8Array | null = null;
  /** The one `reader.read()` in flight; it records its result on the stream itself. */
  #inflight: Promise<void> | null = null;
  #eof = false;
  #readFailed = false;
  #readError: unknown = undefined;
  #dead: DeadReason | null = null;
  #closing: Promise<void> | null = null;

  constructor(socket: Socket, watch: SocketWatch, host: string, port: number, tls: boolean) {
    this.#socket = socket;
    this.#watch = watch;
    this.#host = host;
    this.#port = port;
    this.#tls = tls;
    this.#where = formatHostPort(host, port);
  }

  async read(maxBytes: number, timeout?: number | null): Promise<Uint8Array> {
    const size = Math.max(1, Math.floor(maxBytes));
    for (;;) {
      if (this.#dead !== null) {
        throw new ReadError(`could not read from ${this.#where}: ${deadMessage(this.#dead)}`);
      }
      if (this.#pending !== null) return this.#take(size);
      if (this.#readFailed) {
        throw new ReadError(`could not read from ${this.#where} (${messageOf(this.#readError)})`, {
          cause: this.#readError,
        });
      }
      if (this.#eof) return EMPTY;
      const inflight = this.#inflight ?? this.#startRead(size);
      // `inflight` never rejects (it records its outcome on `this`): without a timeout, await it
      // directly rather than through settle()'s extra promise and closures.
      if (timeout == null || timeout === Number.POSITIVE_INFINITY) {
        await inflight;
        continue;
      }
      const outcome = await settle(inflight, timeout, null);
      if (outcome.kind === "timeout") {
        // A pending reader.read() cannot be cancelled and the reader lock cannot be released
        // while it is outstanding, so the stream is unusable: close it.
        this.#kill("read timed out");
        throw new ReadTimeout(`timed out reading from ${this.#where} after ${timeout}s`);
      }
      // The read recorded its result (bytes, EOF or error) on `this`; loop to return it.
    }
  }

  async write(data: Uint8Array, timeout?: number | null): Promise<void> {
    if (this.#dead !== null) {
      throw new WriteError(`could not write to ${this.#where}: ${deadMessage(this.#dead)}`);
    }
    if (data.byteLength === 0) return;
    // One writer for the stream's whole life (released only for startTls).
    this.#writer ??= this.#socket.writable.getWriter();
    const writing = this.#writer.write(data);
    const outcome =
      timeout == null || timeout === Number.POSITIVE_INFINITY
        ? await writing.then(WRITTEN, (error: unknown) => ({ kind: "error" as const, error }))
        : await settle(writing, timeout, null);
    if (outcome.kind === "timeout") {
      this.#kill("write timed out");
      throw new WriteTimeout(`timed out writing to ${this.#where} after ${timeout}s`);
    }
    if (outcome.kind === "error") {
      if (this.#dead !== null) {
        throw new WriteError(`could not write to ${this.#where}: ${deadMessage(this.#dead)}`, {
          cause: outcome.error,
        });
      }
      throw new WriteError(`could not write to ${this.#where} (${messageOf(outcome.error)})`, {
        cause: outcome.error,
      });
    }
  }

  aclose(): Promise<void> {
    if (this.#closing === null) {
      if (this.#dead === null) this.#dead = "closed";
      // Always close(): `closed` alone may never settle after EOF (workerd #5653), and close()
      // flushes pending writes first, so wait for it only briefly.
      this.#closing = settle(closeQuietly(this.#socket), CLOSE_GRACE_MS / 1000, null).then(noop);
    }
    return this.#closing;
  }

  async startTls(opts: StartTlsOptions): Promise<AsyncNetworkStream> {
    const { timeout, ...tls } = opts;
    checkTls(tls, this.#host);
    if (this.#tls) {
      throw new UnsupportedProtocol(
        `the cloudflare backend cannot start TLS inside TLS with ${this.#where}: connect() offers one TLS layer per socket`,
      );
    }
    if (this.#dead !== null) {
      throw new ConnectError(`could not start TLS with ${this.#where}: ${deadMessage(this.#dead)}`);
    }
    if (this.#inflight !== null || this.#pending !== null || this.#eof || this.#readFailed) {
      // A pending read holds the reader lock; unread bytes would be lost by the upgrade.
      throw new ConnectError(
        `could not start TLS with ${this.#where}: the plaintext stream has a read in progress or unread data`,
      );
    }
    const where = this.#where;
    let next: Socket;
    try {
      // startTls() throws "locked" if our reader or writer still hold the streams.
      this.#reader?.releaseLock();
      this.#writer?.releaseLock();
      this.#reader = null;
      this.#writer = null;
      // No expectedServerHostname: workerd rejects or ignores it; the dialled host is verified.
      next = this.#socket.startTls();
    } catch (err) {
      this.#kill("closed");
      throw new ConnectError(`could not start TLS with ${where} (${messageOf(err)})`, {
        cause: err,
      });
    }
    this.#dead = "upgraded";
    const watch = watchSocket(next);
    const outcome = await settle(next.opened, timeout, null);
    switch (outcome.kind) {
      case "value":
        return new CloudflareNetworkStream(next, watch, this.#host, this.#port, true);
      case "timeout":
        closeQuietly(next);
        throw new ConnectTimeout(`timed out starting TLS with ${where} after ${timeout}s`);
      default:
        closeQuietly(next);
        throw new ConnectError(`could not start TLS with ${where} (TLS handshake failed)`, {
          cause: outcome.kind === "error" ? outcome.error : undefined,
        });
    }
  }

  getExtraInfo(key: string): unknown {
    switch (key) {
      case "ssl_object":
        // workerd exposes neither the negotiated ALPN protocol nor the TLS version.
        return this.#tls ? ({ alpnProtocol: null, version: null } satisfies SslInfo) : null;
      case "server_addr":
        return [this.#host, this.#port];
      case "is_readable":
        return this.#isReadable();
      case "socket":
        return this.#socket;
      default:
        return null;
    }
  }

  /**
   * True once the peer sent bytes or closed. `socket.closed` does not settle on a peer's EOF
   * until someone reads, so an idle stream starts one background read when asked; its result
   * (bytes, EOF or error) is kept for the next `read()`.
   */
  #isReadable(): boolean {
    if (this.#dead !== null) return this.#dead !== "upgraded";
    if (this.#pending !== null || this.#eof || this.#readFailed || this.#watch.closed) return true;
    if (this.#inflight === null) this.#startRead(CHUNK_SIZE);
    return false;
  }

  #startRead(size: number): Promise<void> {
    this.#reader ??= this.#socket.readable.getReader({ mode: "byob" });
    // BYOB transfers the buffer we pass: the returned `value` views a new ArrayBuffer and ours is
    // detached. A small read is copied out and its buffer kept for the next read; a large one
    // (at least half the buffer) is handed out as is and the next read gets a fresh buffer.
    const buffer = this.#spare ?? new ArrayBuffer(CHUNK_SIZE);
    this.#spare = null;
    const view = new Uint8Array(buffer, 0, Math.min(size, buffer.byteLength));
    const inflight = this.#reader.read(view).then(
      (result) => {
        this.#inflight = null;
        // At EOF workerd still returns our (empty) buffer although the types say `undefined`.
        const value: Uint8Array | undefined = result.value;
        if (result.done || value === undefined) {
          this.#eof = true;
          if (value !== undefined) this.#recycle(value.buffer);
        } else if (value.byteLength > 0) {
          if (value.byteLength * 2 < value.buffer.byteLength) {
            this.#pending = value.slice();
            this.#recycle(value.buffer);
          } else {
            this.#pending = value;
          }
        } else {
          this.#recycle(value.buffer);
        }
      },
      (err: unknown) => {
        this.#inflight = null;
        if (this.#dead === null) {
          this.#readFailed = true;
          this.#readError = err;
        }
      },
    );
    this.#inflight = inflight;
    return inflight;
  }

  #recycle(buffer: ArrayBufferLike): void {
    if (buffer instanceof ArrayBuffer && buffer.byteLength === CHUNK_SIZE) this.#spare = buffer;
  }

  #take(maxBytes: number): Uint8Array {
    const pending = this.#pending as Uint8Array;
    if (pending.byteLength <= maxBytes) {
      this.#pending = null;
      return pending;
    }
    this.#pending = pending.subarray(maxBytes);
    return pending.subarray(0, maxBytes);
  }

  #kill(reason: DeadReason): void {
    if (this.#dead === null) this.#dead = reason;
    this.#pending = null;
    closeQuietly(this.#socket);
  }
}

interface Settled<T> {
  kind: "value";
  value: T;
}
type Outcome<T> =
  | Settled<T>
  | { kind: "error"; error: unknown }
  | { kind: "timeout" }
  | { kind: "abort" };

/** Waits for `promise`, a timeout in seconds (null = none) or an abort, whichever comes first. */
const WRITTEN = (): Outcome<undefined> => ({ kind: "value", value: undefined });

function settle<T>(
  promise: Promise<T>,
  timeout: number | null | undefined,
  signal: AbortSignal | null | undefined,
): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => done({ kind: "abort" });
    const done = (outcome: Outcome<T>): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    promise.then(
      (value) => done({ kind: "value", value }),
      (error: unknown) => done({ kind: "error", error }),
    );
    if (timeout != null && timeout !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => done({ kind: "timeout" }), toMs(timeout));
    }
    if (signal) {
      if (signal.aborted) done({ kind: "abort" });
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}

/** Marks rejections of `opened`/`closed` as handled and tracks whether `closed` settled. */
function watchSocket(socket: Socket): SocketWatch {
  const watch: SocketWatch = { closed: false };
  const settled = (): void => {
    watch.closed = true;
  };
  socket.opened.catch(noop);
  // `closed` may reject with `undefined` after close() (workerd #6479): that is still "closed".
  socket.closed.then(settled, settled);
  return watch;
}

/** Calls `socket.close()` without ever rejecting. Never waits on `closed` alone. */
function closeQuietly(socket: Socket): Promise<void> {
  socket.closed.catch(noop);
  try {
    return socket.close().then(noop, noop);
  } catch {
    return Promise.resolve();
  }
}

function unsupported(option: string, reason: string): UnsupportedProtocol {
  return new UnsupportedProtocol(
    `the cloudflare backend cannot honour the "${option}" option: ${reason}`,
  );
}

function checkSocketOptions(socketOptions: SocketOption[] | null | undefined): void {
  for (const option of socketOptions ?? []) {
    for (const key of Object.keys(option)) {
      throw unsupported(
        `socketOptions.${key}`,
        "connect() exposes no socket options (no setNoDelay/setKeepAlive)",
      );
    }
  }
}

/** Refuses every TLS setting `connect()` cannot honour, before anything is dialled. */
function checkTls(tls: TlsOptions, host: string): void {
  if (tls.ca != null) {
    throw unsupported(
      "tls.ca",
      "connect() trusts only the runtime's CA store (in Miniflare, add a CA through NODE_EXTRA_CA_CERTS)",
    );
  }
  if (tls.cert != null) {
    throw unsupported("tls.cert", "connect() cannot present a client certificate");
  }
  if (tls.key != null) {
    throw unsupported("tls.key", "connect() cannot present a client certificate");
  }
  if (tls.rejectUnauthorized === false) {
    throw unsupported(
      "tls.rejectUnauthorized",
      "connect() always verifies the server certificate and cannot turn verification off",
    );
  }
  const alpn = tls.alpnProtocols;
  if (alpn != null && alpn.length > 0 && !alpn.includes("http/1.1")) {
    throw unsupported(
      "tls.alpnProtocols",
      `connect() negotiates no ALPN, so TLS connections speak HTTP/1.1 only, which ${JSON.stringify(alpn)} does not offer`,
    );
  }
  if (tls.serverHostname != null && normaliseHost(tls.serverHostname) !== normaliseHost(host)) {
    throw unsupported(
      "tls.serverHostname",
      `connect() sends SNI for and verifies the certificate against the dialled host "${host}" only, not "${tls.serverHostname}"`,
    );
  }
}

/** workerd parses the host as a URL authority: IPv6 literals need brackets (a bare `::1` fails). */
function dialHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function formatHostPort(host: string, port: number): string {
  return `${dialHost(host)}:${port}`;
}

function normaliseHost(host: string): string {
  return host
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "")
    .toLowerCase();
}

/** workerd's generic "proxy request failed…" hides which of these happened. */
function connectFailure(where: string, tls: boolean, err: unknown): string {
  const message = messageOf(err);
  if (message.startsWith("proxy request failed") || message.startsWith("internal error")) {
    return tls
      ? `could not connect to ${where} (connection refused, host unreachable, blocked or TLS handshake failed)`
      : `could not connect to ${where} (connection refused, host unreachable or blocked)`;
  }
  // Specific refusals keep their words, e.g. "Connections to port 25 are prohibited".
  return `could not connect to ${where} (${message})`;
}

function deadMessage(reason: DeadReason): string {
  switch (reason) {
    case "closed":
      return "the stream is closed";
    case "upgraded":
      return "the stream was upgraded to TLS; use the stream startTls() returned";
    case "read timed out":
      return "the stream was closed after a read timed out";
    case "write timed out":
      return "the stream was closed after a write timed out";
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function toMs(seconds: number): number {
  if (!(seconds > 0)) return 0;
  return Math.min(seconds * 1000, MAX_TIMER_MS);
}
