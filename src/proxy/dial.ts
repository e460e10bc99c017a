/**
 * Establishing a connection through a proxy: dialling the proxy (TCP or unix socket, TLS to an
 * `https://` proxy) with the pool's retries, localAddress, socketOptions and connect timeout, and
 * running a handshake over the stream under that timeout.
 * @module
 */
import type { AsyncNetworkStream, StartTlsOptions } from "../backends/base.js";
import { onAbort, raceAbort } from "../connection/abort.js";
import { now } from "../connection/clock.js";
import type { HTTPConnectionOptions } from "../connection/connection.js";
import { openStream } from "../connection/dial.js";

export { withConnectRetries } from "../connection/dial.js";

import {
  abortReason,
  ConnectError,
  ConnectTimeout,
  HTTPCoreError,
  ReadError,
  ReadTimeout,
  UnsupportedProtocol,
  WriteError,
  WriteTimeout,
} from "../errors.js";
import type { Request } from "../models.js";
import { traced } from "../trace.js";
import type { Origin } from "../url.js";
import type { Proxy as HTTPProxy } from "./proxy.js";

/** The options every connection of the pool gets. */
export type ProxyConnectionOptions = HTTPConnectionOptions;

/**
 * Opens a stream to the proxy: the pool's `uds` when set (the proxy listens there), else TCP to
 * the proxy's host and port, then TLS with `proxy.ssl` for an `https://` proxy. Trace events are
 * `<prefix>.connect_tcp`, `<prefix>.connect_unix_socket` and `<prefix>.start_tls`.
 */
export async function dialProxy(
  proxy: HTTPProxy,
  options: ProxyConnectionOptions,
  request: Request,
  timeout: number | null,
  signal: AbortSignal,
  prefix: "connection" | "socks",
): Promise<AsyncNetworkStream> {
  const trace = request.extensions.trace;
  const stream = await openStream(
    options,
    proxy.origin.connectHost,
    proxy.origin.port,
    request,
    timeout,
    signal,
    prefix,
  );
  if (proxy.scheme !== "https") return stream;
  const tls: StartTlsOptions = {
    ...proxy.ssl,
    alpnProtocols: ["http/1.1"],
    serverHostname: proxy.ssl?.serverHostname ?? proxy.origin.connectHost,
    timeout,
  };
  return upgrade(stream, signal, () =>
    traced(
      trace,
      `${prefix}.start_tls`,
      { ssl_context: proxy.ssl, server_hostname: tls.serverHostname, timeout },
      () => stream.startTls(tls),
    ),
  );
}

/** Runs a TLS upgrade of `stream`, closing it on failure or abort. */
async function upgrade(
  stream: AsyncNetworkStream,
  signal: AbortSignal,
  run: () => Promise<AsyncNetworkStream>,
): Promise<AsyncNetworkStream> {
  try {
    return await raceAbort(run(), signal);
  } catch (error) {
    await stream.aclose();
    throw error;
  }
}

/**
 * Upgrades a tunnel (CONNECT or SOCKS5) to TLS with the target: SNI and verification for
 * `sniHostname ?? target host`, the pool's `ssl`, ALPN `http/1.1`. A backend that cannot verify a
 * name other than the host it dialled (Cloudflare's `startTls()`) refuses with a clear
 * {@link UnsupportedProtocol}: never a plaintext fallback.
 */
export async function startTargetTls(
  stream: AsyncNetworkStream,
  proxy: HTTPProxy,
  origin: Origin,
  options: ProxyConnectionOptions,
  request: Request,
  timeout: number | null,
  signal: AbortSignal,
  traceName: string,
): Promise<AsyncNetworkStream> {
  const tls: StartTlsOptions = {
    ...options.ssl,
    alpnProtocols: ["http/1.1"],
    serverHostname: request.extensions.sniHostname ?? origin.connectHost,
    timeout,
  };
  try {
    return await upgrade(stream, signal, () =>
      traced(
        request.extensions.trace,
        traceName,
        { ssl_context: options.ssl ?? null, server_hostname: tls.serverHostname, timeout },
        () => stream.startTls(tls),
      ),
    );
  } catch (error) {
    if (error instanceof UnsupportedProtocol) {
      throw new UnsupportedProtocol(
        `cannot open TLS to ${origin} inside the tunnel through the proxy ${proxy.url}: this network backend can only start TLS with the host it dialled (${proxy.origin.host}), once per socket (as Cloudflare's connect() does), and a tunnel is never downgraded to plaintext. Reach ${origin.scheme}:// targets without this proxy, or send http:// targets through it. (${error.message})`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Reads and writes of a proxy handshake: the connect timeout is a deadline for the whole
 * handshake, a timeout becomes ConnectTimeout and a network failure ConnectError (so `retries`
 * applies), and an abort closes the stream and throws the signal's reason.
 */
export class HandshakeIO {
  readonly #stream: AsyncNetworkStream;
  readonly #deadline: number | null;
  readonly #timeout: number | null;
  readonly #what: string;
  readonly #signal: AbortSignal;

  constructor(
    stream: AsyncNetworkStream,
    timeout: number | null,
    signal: AbortSignal,
    what: string,
  ) {
    this.#stream = stream;
    this.#timeout = timeout;
    this.#deadline = timeout === null ? null : now() + timeout;
    this.#signal = signal;
    this.#what = what;
  }

  #left(): number | null {
    return this.#deadline === null ? null : Math.max(0, this.#deadline - now());
  }

  async #run<T>(op: () => Promise<T>): Promise<T> {
    if (this.#signal.aborted) throw abortReason(this.#signal);
    // Closing the stream is the portable way to interrupt a pending read or write.
    const detach = onAbort(this.#signal, () => void this.#stream.aclose());
    try {
      return await op();
    } catch (error) {
      if (this.#signal.aborted) throw abortReason(this.#signal);
      if (error instanceof ReadTimeout || error instanceof WriteTimeout) {
        throw new ConnectTimeout(`timed out ${this.#what} after ${this.#timeout}s`, {
          cause: error,
        });
      }
      if (error instanceof ReadError || error instanceof WriteError) {
        throw new ConnectError(`could not complete ${this.#what}: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    } finally {
      detach();
    }
  }

  read(maxBytes: number): Promise<Uint8Array> {
    return this.#run(() => this.#stream.read(maxBytes, this.#left()));
  }

  write(data: Uint8Array): Promise<void> {
    return this.#run(() => this.#stream.write(data, this.#left()));
  }
}

/**
 * Adds which proxy and target a connect failure was about, once:
 * `could not connect to 127.0.0.1:3128 (connection refused) (proxy: http://127.0.0.1:3128, target: https://localhost:8443)`.
 * Only ConnectError and ConnectTimeout are tagged; ProxyError keeps httpcore's exact text.
 */
export function withProxyContext(error: unknown, proxy: HTTPProxy, origin: Origin): unknown {
  if (
    (error instanceof ConnectError || error instanceof ConnectTimeout) &&
    error instanceof HTTPCoreError
  ) {
    const tag = `(proxy: ${proxy.url}, target: ${origin})`;
    if (!error.message.includes(tag)) error.message = `${error.message} ${tag}`;
  }
  return error;
}
