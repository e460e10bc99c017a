/**
 * Opening the byte stream a connection starts from, shared by direct and proxied connections:
 * TCP or unix socket with the pool's options and httpcore's trace events, and connect retries
 * with httpcore's backoff.
 * @module
 */
import type { AsyncNetworkBackend, AsyncNetworkStream, SocketOption } from "../backends/base.js";
import { abortReason, ConnectError, ConnectTimeout } from "../errors.js";
import type { Request } from "../models.js";
import { traced } from "../trace.js";
import { raceAbort } from "./abort.js";

/** Seconds between connect attempts: 0, 0.5, 1, 2, 4, ... (httpcore's `RETRIES_BACKOFF_FACTOR`). */
const RETRIES_BACKOFF_FACTOR = 0.5;

/** The `n`-th retry's delay in seconds. */
export function backoffDelay(attempt: number): number {
  return attempt === 0 ? 0 : RETRIES_BACKOFF_FACTOR * 2 ** (attempt - 1);
}

/** The transport options a dial uses. */
export interface DialOptions {
  networkBackend: AsyncNetworkBackend;
  retries?: number;
  localAddress?: string | null;
  uds?: string | null;
  socketOptions?: SocketOption[] | null;
}

/**
 * Runs `attempt` until it succeeds, retrying ConnectError/ConnectTimeout up to `retries` times
 * with httpcore's backoff (0, 0.5, 1, 2 ... seconds). Aborts and other errors end it at once.
 */
export async function withConnectRetries<T>(
  options: DialOptions,
  request: Request,
  signal: AbortSignal,
  attempt: () => Promise<T>,
): Promise<T> {
  const retries = options.retries ?? 0;
  const trace = request.extensions.trace;
  let n = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) throw request.signal?.aborted ? abortReason(request.signal) : error;
      const retriable = error instanceof ConnectError || error instanceof ConnectTimeout;
      if (!retriable || n >= retries) throw error;
      const delay = backoffDelay(n++);
      await traced(trace, "connection.retry", { delay }, () =>
        raceAbort(options.networkBackend.sleep(delay), signal),
      );
    }
  }
}

/**
 * Opens a TCP stream to `host:port` (or the `uds` socket when set), traced as
 * `<prefix>.connect_tcp` / `<prefix>.connect_unix_socket`.
 */
export function openStream(
  options: DialOptions,
  host: string,
  port: number,
  request: Request,
  timeout: number | null,
  signal: AbortSignal,
  prefix: "connection" | "socks",
): Promise<AsyncNetworkStream> {
  const { networkBackend: backend, uds, localAddress, socketOptions } = options;
  const trace = request.extensions.trace;
  if (uds != null) {
    return traced(
      trace,
      `${prefix}.connect_unix_socket`,
      { path: uds, timeout, socket_options: socketOptions ?? null },
      () => backend.connectUnixSocket(uds, { timeout, socketOptions, signal }),
    );
  }
  return traced(
    trace,
    `${prefix}.connect_tcp`,
    {
      host,
      port,
      local_address: localAddress ?? null,
      timeout,
      socket_options: socketOptions ?? null,
    },
    () => backend.connectTcp(host, port, { timeout, localAddress, socketOptions, signal }),
  );
}
