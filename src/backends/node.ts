/**
 * The Node.js network backend: TCP and unix sockets from `node:net`, TLS from `node:tls`.
 * This is the only file of the library that imports `node:*` modules.
 * @module
 */

import { isIP, connect as netConnect, type Socket } from "node:net";
import {
  type ConnectionOptions,
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import {
  abortReason,
  ConnectError,
  ConnectTimeout,
  ReadError,
  ReadTimeout,
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

/** Above this many queued unread bytes the socket is paused (backpressure to the kernel). */
const READ_HIGH_WATER = 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** Words for the system error codes users meet most; anything else falls back to the message. */
const ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  EAI_NONAME: "host not found",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  EADDRNOTAVAIL: "address not available",
  EADDRINUSE: "address in use",
  EPIPE: "broken pipe",
  ENOENT: "no such socket file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTSOCK: "not a socket",
};

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Describes a socket error in a few words, e.g. `connection refused`. */
function describe(err: unknown): string {
  const code = codeOf(err);
  const words = code === undefined ? undefined : ERROR_WORDS[code];
  if (words !== undefined) return words;
  return err instanceof Error ? err.message : String(err);
}

/** `host:port`, with IPv6 literals bracketed. */
function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `[::1]` → `::1`: URLs bracket IPv6 literals, sockets want them bare. */
function stripBrackets(host: string): string {
  return host.length > 1 && host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Validates socket options before any socket exists; returns the settings to apply. */
function parseSocketOptions(options: readonly SocketOption[] | null | undefined): {
  noDelay: boolean;
  keepAlive: { enable: boolean; initialDelayMs: number } | null;
} {
  let noDelay = true; // default: requests go out whole, Nagle only adds latency here
  let keepAlive: { enable: boolean; initialDelayMs: number } | null = null;
  for (const option of options ?? []) {
    if (option === null || typeof option !== "object") {
      throw new TypeError("socket options must be objects such as { noDelay: true }");
    }
    const entries = option as Record<string, unknown>;
    for (const key of Object.keys(entries)) {
      if (key === "noDelay" || key === "keepAlive") {
        if (typeof entries[key] !== "boolean") {
          throw new TypeError(`socket option "${key}" must be a boolean`);
        }
      } else if (key === "initialDelay") {
        const delay = entries[key];
        if (!("keepAlive" in entries)) {
          throw new TypeError('socket option "initialDelay" needs "keepAlive" in the same object');
        }
        if (delay !== undefined && (typeof delay !== "number" || !(delay >= 0))) {
          throw new TypeError('socket option "initialDelay" must be a number of seconds >= 0');
        }
      } else {
        throw new TypeError(`socket option "${key}" is not supported by the node backend`);
      }
    }
    if (typeof entries.noDelay === "boolean") noDelay = entries.noDelay;
    if (typeof entries.keepAlive === "boolean") {
      const delay = typeof entries.initialDelay === "number" ? entries.initialDelay : 0;
      keepAlive = { enable: entries.keepAlive, initialDelayMs: Math.round(delay * 1000) };
    }
  }
  return { noDelay, keepAlive };
}

type Pem = string | Uint8Array;

/** A Buffer view of PEM bytes (no copy); node's typings want Buffers, not Uint8Arrays. */
function pemOf(value: Pem): string | Buffer {
  return typeof value === "string"
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

// Building a SecureContext parses every CA/cert/key each time; pools open many connections with
// the same settings, so contexts for string PEMs are cached (small, insertion-ordered eviction).
const contextCache = new Map<string, SecureContext>();
const CONTEXT_CACHE_SIZE = 16;

function secureContextFor(opts: TlsOptions): SecureContext | undefined {
  const { ca, cert, key } = opts;
  if (ca === undefined && cert === undefined && key === undefined) return undefined; // node's shared default
  const cas = ca === undefined ? undefined : Array.isArray(ca) ? ca : [ca];
  const cacheable =
    (cas === undefined || cas.every((c) => typeof c === "string")) &&
    (cert === undefined || typeof cert === "string") &&
    (key === undefined || typeof key === "string");
  const cacheKey = cacheable ? JSON.stringify([cas ?? null, cert ?? null, key ?? null]) : undefined;
  if (cacheKey !== undefined) {
    const cached = contextCache.get(cacheKey);
    if (cached !== undefined) return cached;
  }
  const context = createSecureContext({
    ca: cas?.map(pemOf),
    cert: cert === undefined ? undefined : pemOf(cert),
    key: key === undefined ? undefined : pemOf(key),
  });
  if (cacheKey !== undefined) {
    if (contextCache.size >= CONTEXT_CACHE_SIZE) {
      const oldest = contextCache.keys().next().value;
      if (oldest !== undefined) contextCache.delete(oldest);
    }
    contextCache.set(cacheKey, context);
  }
  return context;
}

/**
 * Options for `tls.connect`, built fresh (the caller's objects are never mutated).
 * `host` is the address connected to (bare), used when no `serverHostname` is given.
 */
function tlsConnectOptions(host: string, opts: TlsOptions): ConnectionOptions {
  const verifyName = stripBrackets(opts.serverHostname ?? host);
  const options: ConnectionOptions = {
    ALPNProtocols: [...(opts.alpnProtocols ?? ["http/1.1"])],
    rejectUnauthorized: opts.rejectUnauthorized ?? true,
  };
  // SNI must be a DNS name (RFC 6066); node refuses IP literals there.
  if (isIP(verifyName) === 0) options.servername = verifyName;
  // Node checks the certificate against `servername`, else against `host`; when verifying an IP
  // different from the connect address, or when upgrading an existing socket, say so explicitly.
  if (verifyName !== host || isIP(verifyName) !== 0) {
    options.checkServerIdentity = (_name: string, cert: PeerCertificate) =>
      checkServerIdentity(verifyName, cert);
  }
  const secureContext = secureContextFor(opts);
  if (secureContext !== undefined) options.secureContext = secureContext;
  return options;
}

function seconds(timeout: number): string {
  return `${timeout}s`;
}

function hasTimeout(timeout: number | null | undefined): timeout is number {
  return timeout !== null && timeout !== undefined && Number.isFinite(timeout);
}

/** How a connect attempt is described in error messages. */
interface ConnectTarget {
  /** `127.0.0.1:80`, `[::1]:443` or a socket path. */
  label: string;
  timeout: number | null | undefined;
  signal: AbortSignal | null | undefined;
  /** TLS: errors after the TCP connect are handshake failures. */
  tls: boolean;
  /** The socket is connected already (startTls), so any error is a handshake failure. */
  connected: boolean;
}

/**
 * Waits until `socket` is connected (`connect`, or `secureConnect` for TLS) and maps every way
 * that can fail to ConnectError / ConnectTimeout / the abort reason, destroying the socket.
 */
function whenConnected(socket: Socket, target: ConnectTarget): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let tcpConnected = target.connected;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const readyEvent = target.tls ? "secureConnect" : "connect";

    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      socket.off(readyEvent, onReady);
      socket.off("connect", onTcpConnect);
      socket.off("error", onError);
      socket.off("close", onClose);
      target.signal?.removeEventListener("abort", onAbort);
    };
    const fail = (err: unknown): void => {
      cleanup();
      socket.on("error", ignore); // a destroyed socket may still report late errors
      socket.destroy();
      reject(err);
    };
    function onReady(): void {
      cleanup();
      resolve();
    }
    function onTcpConnect(): void {
      tcpConnected = true;
    }
    function onError(err: Error): void {
      let cause = describe(err);
      if (target.tls && tcpConnected) {
        cause =
          codeOf(err) === "ECONNRESET"
            ? "TLS handshake failed: the server closed the connection"
            : `TLS handshake failed: ${err.message}`;
      }
      fail(new ConnectError(`could not connect to ${target.label} (${cause})`, { cause: err }));
    }
    function onClose(): void {
      fail(new ConnectError(`could not connect to ${target.label} (connection closed)`));
    }
    function onAbort(): void {
      fail(abortReason(target.signal as AbortSignal));
    }

    socket.once(readyEvent, onReady);
    if (target.tls && !tcpConnected) socket.once("connect", onTcpConnect);
    socket.once("error", onError);
    socket.once("close", onClose);
    if (target.signal) {
      if (target.signal.aborted) return onAbort();
      target.signal.addEventListener("abort", onAbort, { once: true });
    }
    if (hasTimeout(target.timeout)) {
      const timeout = target.timeout;
      timer = setTimeout(
        () =>
          fail(
            new ConnectTimeout(`timed out connecting to ${target.label} after ${seconds(timeout)}`),
          ),
        Math.max(0, timeout * 1000),
      );
    }
  });
}

function ignore(): void {}

/**
 * The Node.js backend: `node:net` TCP and unix sockets, `node:tls` for direct TLS and STARTTLS-style
 * upgrades. Timeouts are in seconds; `null`/`undefined` means none.
 *
 * On Node, TLS `ca` replaces the default trust store for that connection (as in `tls.connect`).
 */
export class AsyncNodeBackend implements AsyncNetworkBackend {
  /**
   * Opens a TCP connection, with TLS from the first byte when `opts.tls` is given (SNI from
   * `tls.serverHostname ?? host`, ALPN `tls.alpnProtocols ?? ["http/1.1"]`). `host` may be a name,
   * an IPv4 literal or an IPv6 literal with or without brackets.
   *
   * @throws {ConnectError} refused, unresolvable, reset, TLS failure (`cause` holds node's error)
   * @throws {ConnectTimeout} TCP connect + TLS handshake took longer than `opts.timeout`
   * @throws {TypeError} an unsupported socket option
   * @throws the signal's `reason` when `opts.signal` aborts first
   */
  async connectTcp(
    host: string,
    port: number,
    opts: ConnectTcpOptions = {},
  ): Promise<AsyncNodeStream> {
    const settings = parseSocketOptions(opts.socketOptions);
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    const bareHost = stripBrackets(host);
    const label = formatAddress(bareHost, port);
    const localAddress = opts.localAddress ? stripBrackets(opts.localAddress) : undefined;
    const tls = opts.tls ?? null;

    let socket: Socket;
    try {
      if (tls === null) {
        socket = netConnect({ host: bareHost, port, localAddress, noDelay: settings.noDelay });
      } else {
        // tls.connect hands these to net.Socket#connect; @types/node omits `localAddress` there.
        const options: ConnectionOptions & { localAddress?: string } = {
          ...tlsConnectOptions(bareHost, tls),
          host: bareHost,
          port,
        };
        if (localAddress !== undefined) options.localAddress = localAddress;
        socket = tlsConnect(options);
      }
    } catch (err) {
      // Synchronous failures: invalid port, bad PEM, bad local address...
      throw new ConnectError(`could not connect to ${label} (${describe(err)})`, { cause: err });
    }
    await whenConnected(socket, {
      label,
      timeout: opts.timeout,
      signal: opts.signal,
      tls: tls !== null,
      connected: false,
    });
    applySocketOptions(socket, settings);
    return new AsyncNodeStream(socket, label, bareHost);
  }

  /**
   * Opens a connection to a unix domain socket.
   * @throws {ConnectError} e.g. `could not connect to /tmp/x.sock (no such socket file)`
   * @throws {ConnectTimeout}
   */
  async connectUnixSocket(path: string, opts: ConnectUnixOptions = {}): Promise<AsyncNodeStream> {
    const settings = parseSocketOptions(opts.socketOptions);
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    let socket: Socket;
    try {
      socket = netConnect({ path });
    } catch (err) {
      throw new ConnectError(`could not connect to ${path} (${describe(err)})`, { cause: err });
    }
    await whenConnected(socket, {
      label: path,
      timeout: opts.timeout,
      signal: opts.signal,
      tls: false,
      connected: false,
    });
    // Nagle and TCP keep-alive do not exist on unix sockets; node ignores them there.
    applySocketOptions(socket, settings);
    return new AsyncNodeStream(socket, path, "localhost");
  }

  /** Resolves after `seconds` seconds. */
  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds * 1000)));
  }
}

function applySocketOptions(socket: Socket, settings: ReturnType<typeof parseSocketOptions>): void {
  socket.setNoDelay(settings.noDelay);
  if (settings.keepAlive !== null) {
    socket.setKeepAlive(settings.keepAlive.enable, settings.keepAlive.initialDelayMs);
  }
}

/**
 * A connected node socket as an {@link AsyncNetworkStream}.
 *
 * Incoming bytes are queued as the Buffers node delivers (no copies); `read()` hands out views of
 * them. More than 1 MiB unread pauses the socket until the reader catches up.
 */
export class AsyncNodeStream implements AsyncNetworkStream {
  readonly #socket: Socket;
  /** `host:port` or socket path, for messages. */
  readonly #label: string;
  /** Default name to verify in {@link startTls}. */
  readonly #host: string;

  readonly #queue: Buffer[] = [];
  #queued = 0;
  #paused = false;
  #eof = false;
  #error: Error | null = null;
  /** `aclose()` was called. */
  #closed = false;
  /** The socket now belongs to a TLS stream made by {@link startTls}. */
  #upgraded = false;

  // The pending read (at most one).
  #readResolve: ((data: Uint8Array) => void) | null = null;
  #readReject: ((err: unknown) => void) | null = null;
  #readMax = 0;
  #readTimed = false;
  /** One timer reused across reads with the same timeout (`refresh()`), created on first need. */
  #readTimer: ReturnType<typeof setTimeout> | undefined;
  #readTimerSeconds = -1;

  // The pending write waiting for 'drain' (at most one).
  #writeResolve: (() => void) | null = null;
  #writeReject: ((err: unknown) => void) | null = null;
  #writeTimer: ReturnType<typeof setTimeout> | undefined;

  readonly #clientAddr: [string, number] | null;
  readonly #serverAddr: [string, number] | string | null;

  readonly #onData = (chunk: Buffer): void => {
    const resolve = this.#readResolve;
    if (resolve !== null) {
      // A reader is waiting, so the queue is empty: hand the chunk over directly.
      const max = this.#readMax;
      this.#clearPendingRead();
      if (chunk.length <= max) {
        resolve(chunk);
      } else {
        this.#queue.push(chunk.subarray(max));
        this.#queued += chunk.length - max;
        resolve(chunk.subarray(0, max));
      }
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > READ_HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  readonly #onEnd = (): void => {
    this.#eof = true;
    this.#settleReadAtEnd();
  };

  readonly #onError = (err: Error): void => {
    this.#error ??= err;
    this.#settleReadAtEnd();
    this.#settleWrite(this.#writeError(err));
  };

  readonly #onClose = (): void => {
    this.#eof = true;
    this.#settleReadAtEnd();
    this.#settleWrite(
      this.#error !== null
        ? this.#writeError(this.#error)
        : new WriteError(`could not write to ${this.#label} (connection closed)`),
    );
  };

  readonly #onDrain = (): void => this.#settleWrite(null);

  /** @internal Made by {@link AsyncNodeBackend}; wraps a connected socket. */
  constructor(socket: Socket, label: string, host: string) {
    this.#socket = socket;
    this.#label = label;
    this.#host = host;
    // Addresses are read now: node forgets them once the socket is destroyed.
    this.#clientAddr =
      socket.localAddress !== undefined && socket.localPort !== undefined
        ? [socket.localAddress, socket.localPort]
        : null;
    this.#serverAddr =
      socket.remoteAddress !== undefined && socket.remotePort !== undefined
        ? [socket.remoteAddress, socket.remotePort]
        : label; // unix socket: the path, like Python's getpeername()
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    socket.on("drain", this.#onDrain);
  }

  /**
   * Resolves with the next bytes available (at most `maxBytes`; the rest stays queued), or an
   * empty array at EOF. The result is a view of node's buffer, valid as long as you keep it.
   * @throws {ReadTimeout} nothing arrived within `timeout` seconds
   * @throws {ReadError} the socket failed (e.g. `connection reset by 127.0.0.1:8080`) or was closed
   */
  read(maxBytes: number, timeout?: number | null): Promise<Uint8Array> {
    if (this.#closed || this.#upgraded) {
      return Promise.reject(new ReadError(this.#closedMessage("read from")));
    }
    if (this.#readResolve !== null) {
      return Promise.reject(new Error("read() called while another read() is pending"));
    }
    if (!(maxBytes >= 1)) {
      return Promise.reject(new RangeError(`maxBytes must be at least 1, got ${maxBytes}`));
    }
    if (this.#queue.length > 0) return Promise.resolve(this.#take(maxBytes));
    if (this.#error !== null) return Promise.reject(this.#readError(this.#error));
    if (this.#eof) return Promise.resolve(EMPTY);

    return new Promise<Uint8Array>((resolve, reject) => {
      this.#readResolve = resolve;
      this.#readReject = reject;
      this.#readMax = maxBytes;
      if (hasTimeout(timeout)) {
        this.#readTimed = true;
        this.#armReadTimer(timeout);
      }
    });
  }

  /**
   * Writes `data`; resolves once node accepted it below its high-water mark (else after 'drain').
   * Do not modify `data` afterwards: node may still hold it until it reaches the kernel.
   * @throws {WriteTimeout} the kernel did not take the data within `timeout` seconds
   * @throws {WriteError} the socket failed or was closed
   */
  write(data: Uint8Array, timeout?: number | null): Promise<void> {
    if (this.#closed || this.#upgraded) {
      return Promise.reject(new WriteError(this.#closedMessage("write to")));
    }
    if (data.length === 0) return Promise.resolve();
    if (this.#error !== null) return Promise.reject(this.#writeError(this.#error));
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
      return Promise.reject(
        new WriteError(`could not write to ${this.#label} (connection closed)`),
      );
    }
    if (this.#writeResolve !== null) {
      return Promise.reject(new Error("write() called while another write() is pending"));
    }
    if (socket.write(data)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#writeResolve = resolve;
      this.#writeReject = reject;
      if (hasTimeout(timeout)) {
        this.#writeTimer = setTimeout(
          () =>
            this.#settleWrite(
              new WriteTimeout(`timed out writing to ${this.#label} after ${seconds(timeout)}`),
            ),
          Math.max(0, timeout * 1000),
        );
      }
    });
  }

  /** Destroys the socket. Idempotent; never rejects; a pending read/write fails with ReadError/WriteError. */
  aclose(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#teardown();
    const reject = this.#readReject;
    this.#clearPendingRead();
    reject?.(new ReadError(this.#closedMessage("read from")));
    this.#settleWrite(new WriteError(this.#closedMessage("write to")));
    this.#socket.destroy();
    return Promise.resolve();
  }

  /**
   * Upgrades this connection to TLS (e.g. through an HTTP CONNECT tunnel) and returns the TLS
   * stream; this stream must not be used afterwards (closing it closes the connection).
   * The name verified defaults to the host this stream connected to.
   * @throws {ConnectError} handshake failure (the connection is closed)
   * @throws {ConnectTimeout}
   */
  async startTls(opts: StartTlsOptions): Promise<AsyncNodeStream> {
    if (this.#closed || this.#upgraded)
      throw new ConnectError(this.#closedMessage("start TLS with"));
    if (this.#queue.length > 0 || this.#eof || this.#error !== null) {
      // Bytes the server sent before our ClientHello cannot be part of a TLS handshake.
      await this.aclose();
      throw new ConnectError(
        `could not connect to ${this.#label} (TLS handshake failed: unexpected data or EOF before the handshake)`,
      );
    }
    const raw = this.#socket;
    this.#upgraded = true;
    this.#teardown();
    raw.off("data", this.#onData);
    raw.off("end", this.#onEnd);
    raw.off("error", this.#onError);
    raw.off("close", this.#onClose);
    raw.off("drain", this.#onDrain);
    raw.on("error", ignore); // the TLS socket reports errors; keep stray ones off the process
    if (this.#paused) raw.resume();

    let socket: TLSSocket;
    try {
      socket = tlsConnect({ ...tlsConnectOptions(this.#host, opts), socket: raw });
    } catch (err) {
      raw.destroy();
      throw new ConnectError(`could not connect to ${this.#label} (${describe(err)})`, {
        cause: err,
      });
    }
    try {
      await whenConnected(socket, {
        label: this.#label,
        timeout: opts.timeout,
        signal: undefined,
        tls: true,
        connected: true,
      });
    } catch (err) {
      raw.destroy();
      throw err;
    }
    return new AsyncNodeStream(socket, this.#label, this.#host);
  }

  /**
   * - `"ssl_object"`: `{ alpnProtocol, version }` ({@link SslInfo}) on TLS, else `null`
   * - `"client_addr"` / `"server_addr"`: `[address, port]` (`server_addr` is the path on unix sockets)
   * - `"socket"`: the `net.Socket` / `tls.TLSSocket`
   * - `"is_readable"`: true when bytes are queued or the peer closed/errored: an idle keep-alive
   *   connection that is readable is stale
   * - anything else: `null`
   */
  getExtraInfo(key: string): unknown {
    switch (key) {
      case "ssl_object": {
        const socket = this.#socket;
        if (!(socket instanceof TLSSocket)) return null;
        const info: SslInfo = {
          alpnProtocol: socket.alpnProtocol || null,
          version: socket.getProtocol(),
        };
        return info;
      }
      case "client_addr":
        return this.#clientAddr;
      case "server_addr":
        return this.#serverAddr;
      case "socket":
        return this.#socket;
      case "is_readable":
        return (
          this.#queue.length > 0 ||
          this.#eof ||
          this.#error !== null ||
          this.#closed ||
          this.#socket.destroyed
        );
      default:
        return null;
    }
  }

  /** Takes up to `max` bytes from the head of the (non-empty) queue. */
  #take(max: number): Uint8Array {
    const queue = this.#queue;
    const head = queue[0] as Buffer;
    let out: Buffer;
    if (head.length <= max) {
      queue.shift();
      out = head;
    } else {
      queue[0] = head.subarray(max);
      out = head.subarray(0, max);
    }
    this.#queued -= out.length;
    if (this.#paused && this.#queued <= READ_HIGH_WATER) {
      this.#paused = false;
      this.#socket.resume();
    }
    return out;
  }

  #armReadTimer(timeout: number): void {
    if (this.#readTimer !== undefined && this.#readTimerSeconds === timeout) {
      this.#readTimer.refresh();
      return;
    }
    if (this.#readTimer !== undefined) clearTimeout(this.#readTimer);
    this.#readTimerSeconds = timeout;
    this.#readTimer = setTimeout(
      () => {
        // The timer outlives reads (it is refreshed, not recreated): only a timed read expires.
        if (this.#readReject === null || !this.#readTimed) return;
        const reject = this.#readReject;
        this.#clearPendingRead();
        reject(new ReadTimeout(`timed out reading from ${this.#label} after ${seconds(timeout)}`));
      },
      Math.max(0, timeout * 1000),
    );
    // The socket keeps the process alive while a read is pending; an idle timer must not.
    this.#readTimer.unref();
  }

  #clearPendingRead(): void {
    this.#readResolve = null;
    this.#readReject = null;
    this.#readTimed = false;
  }

  /** EOF, error or close while a read waits on an empty queue. */
  #settleReadAtEnd(): void {
    const resolve = this.#readResolve;
    const reject = this.#readReject;
    if (resolve === null || reject === null) return;
    if (this.#error !== null) {
      this.#clearPendingRead();
      reject(this.#readError(this.#error));
    } else if (this.#eof) {
      this.#clearPendingRead();
      resolve(EMPTY);
    }
  }

  #settleWrite(err: Error | null): void {
    const resolve = this.#writeResolve;
    const reject = this.#writeReject;
    if (resolve === null || reject === null) return;
    this.#writeResolve = null;
    this.#writeReject = null;
    if (this.#writeTimer !== undefined) {
      clearTimeout(this.#writeTimer);
      this.#writeTimer = undefined;
    }
    if (err === null) resolve();
    else reject(err);
  }

  #teardown(): void {
    if (this.#readTimer !== undefined) clearTimeout(this.#readTimer);
    this.#readTimer = undefined;
    if (this.#writeTimer !== undefined) clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
  }

  #readError(err: Error): ReadError {
    const message =
      codeOf(err) === "ECONNRESET"
        ? `connection reset by ${this.#label}`
        : `could not read from ${this.#label} (${describe(err)})`;
    return new ReadError(message, { cause: err });
  }

  #writeError(err: Error): WriteError {
    const message =
      codeOf(err) === "ECONNRESET"
        ? `connection reset by ${this.#label}`
        : `could not write to ${this.#label} (${describe(err)})`;
    return new WriteError(message, { cause: err });
  }

  #closedMessage(what: string): string {
    return this.#upgraded
      ? `cannot ${what} ${this.#label}: the stream was upgraded to TLS`
      : `cannot ${what} ${this.#label}: connection closed`;
  }
}
