/**
 * `AsyncSocks5Connection`: a target reached through a SOCKS5 proxy (RFC 1928; username/password
 * from RFC 1929), with TLS to the target inside the tunnel for `https://`.
 *
 * `socks5://` and `socks5h://` behave the same, as in httpcore: IP literals are sent as IPv4/IPv6
 * addresses and host names as domain names, so the proxy resolves names. Nothing is resolved
 * locally (Workers have no DNS API, and a local lookup would leak the name outside the proxy).
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { ProxyError } from "../errors.js";
import type { Request } from "../models.js";
import { traced } from "../trace.js";
import { HandshakeIO } from "./dial.js";
import { Socks5Handshake } from "./socks5.js";
import { TunnelledConnection } from "./tunnelled.js";

/**
 * A connection through a SOCKS5 proxy. Its repr shows the target:
 * `<AsyncSocks5Connection ['https://localhost:8443', HTTP/1.1, IDLE, Request Count: 1]>`.
 */
export class AsyncSocks5Connection extends TunnelledConnection {
  protected readonly kind = "AsyncSocks5Connection";

  protected readonly dialTracePrefix = "socks";
  protected readonly tlsTraceName = "socks.start_tls";

  protected async handshake(
    stream: AsyncNetworkStream,
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream> {
    const host = this.origin.connectHost;
    const port = this.origin.port;
    await traced(
      request.extensions.trace,
      "socks.setup_socks5_connection",
      { host, port, auth: this.proxy.auth === null ? null : "***" },
      () => this.#handshake(stream, host, port, timeout, signal),
    );
    return stream;
  }

  async #handshake(
    stream: AsyncNetworkStream,
    host: string,
    port: number,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<void> {
    const handshake = new Socks5Handshake({ host, port, auth: this.proxy.auth });
    const io = new HandshakeIO(
      stream,
      timeout,
      signal,
      `the SOCKS5 handshake with ${this.proxy.url} for ${handshake.target}`,
    );
    let out = handshake.start();
    while (!handshake.done) {
      if (out.length > 0) await io.write(out);
      out = handshake.receiveData(await io.read(4096));
    }
    if (handshake.leftover.length > 0) {
      throw new ProxyError(
        `the proxy ${this.proxy.url} sent ${handshake.leftover.length} unexpected bytes after its SOCKS5 reply`,
      );
    }
  }
}
