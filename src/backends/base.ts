/**
 * The network layer the pool runs on: one backend per runtime (`node:net`, `cloudflare:sockets`,
 * a scripted mock). Shapes follow httpcore's `AsyncNetworkBackend` / `AsyncNetworkStream`.
 * @module
 */

/** A socket option for `setsockopt`-style tuning; each backend says which it can honour. */
export type SocketOption =
  | { noDelay: boolean }
  | { keepAlive: boolean; initialDelay?: number }
  | { [name: string]: unknown };

/** TLS settings, as accepted in the pool's `ssl` option. */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM; like `node:tls`, they replace the default roots. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** Verify the server certificate (default `true`). */
  rejectUnauthorized?: boolean;
  /** Client certificate, PEM. */
  cert?: string | Uint8Array;
  /** Client private key, PEM. */
  key?: string | Uint8Array;
  /** ALPN protocols to offer; the connection sets this on a copy of the options. */
  alpnProtocols?: string[];
  /** Host name for SNI and certificate verification (defaults to the connect host). */
  serverHostname?: string;
}

/** Options for {@link AsyncNetworkBackend.connectTcp}. Timeouts are in seconds. */
export interface ConnectTcpOptions {
  timeout?: number | null;
  localAddress?: string | null;
  socketOptions?: SocketOption[] | null;
  /** When set, the stream is TLS from the start (direct TLS with SNI + ALPN). */
  tls?: TlsOptions | null;
  /** Cancels a connect in progress. */
  signal?: AbortSignal | null;
}

/** Options for {@link AsyncNetworkBackend.connectUnixSocket}. */
export interface ConnectUnixOptions {
  timeout?: number | null;
  socketOptions?: SocketOption[] | null;
  signal?: AbortSignal | null;
}

/** Options for {@link AsyncNetworkStream.startTls}. */
export interface StartTlsOptions extends TlsOptions {
  timeout?: number | null;
}

/** Opens network streams. */
export interface AsyncNetworkBackend {
  connectTcp(host: string, port: number, opts?: ConnectTcpOptions): Promise<AsyncNetworkStream>;
  connectUnixSocket(path: string, opts?: ConnectUnixOptions): Promise<AsyncNetworkStream>;
  sleep(seconds: number): Promise<void>;
}

/** A connected byte stream. */
export interface AsyncNetworkStream {
  /** Resolves with up to `maxBytes` bytes; an empty array means EOF. Timeout in seconds. */
  read(maxBytes: number, timeout?: number | null): Promise<Uint8Array>;
  write(data: Uint8Array, timeout?: number | null): Promise<void>;
  /** Closes the stream; idempotent, never rejects. */
  aclose(): Promise<void>;
  /** Upgrades to TLS and returns the new stream. */
  startTls(opts: StartTlsOptions): Promise<AsyncNetworkStream>;
  /**
   * `"ssl_object"` (`{ alpnProtocol, version }` or null), `"client_addr"`, `"server_addr"` (`[host, port]`),
   * `"is_readable"` (true once the peer sent bytes or closed: an idle keep-alive socket that is readable
   * is stale), anything else → `null`.
   */
  getExtraInfo(key: string): unknown;
}

/** What `getExtraInfo("ssl_object")` returns on backends that do TLS. */
export interface SslInfo {
  alpnProtocol: string | null;
  version: string | null;
}
