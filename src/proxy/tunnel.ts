/**
 * `AsyncTunnelHTTPConnection`: a target reached through an HTTP(S) proxy's `CONNECT` tunnel, with
 * TLS to the target inside the tunnel for `https://`. `Proxy-Authorization` and the proxy's other
 * headers go on the CONNECT request only, never through the tunnel.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { withOrigin } from "../connection/http11-exchange.js";
import { ProxyError } from "../errors.js";
import { encodeRequestHead, ResponseParser } from "../h11/index.js";
import type { HeaderList, ResponseHead } from "../h11/types.js";
import { Request } from "../models.js";
import { traced } from "../trace.js";
import { HandshakeIO } from "./dial.js";
import { TunnelledConnection } from "./tunnelled.js";

const READ_NUM_BYTES = 64 * 1024;

/** httpcore's `merge_headers`: `overrides` replace `defaults` of the same (case-insensitive) name. */
export function mergeHeaders(defaults: HeaderList, overrides: HeaderList): HeaderList {
  const names = new Set(overrides.map(([n]) => n.toLowerCase()));
  return [...defaults.filter(([n]) => !names.has(n.toLowerCase())), ...overrides];
}

/** `headers` with the credentials of `Proxy-Authorization` replaced: `Basic ***`. */
export function redactProxyAuthorization(headers: HeaderList): HeaderList {
  return headers.map(([n, v]) => [
    n,
    n.toLowerCase() === "proxy-authorization" ? v.replace(/ .*/, " ***") : v,
  ]);
}

/**
 * A connection through an HTTP(S) proxy's CONNECT tunnel. Its repr shows the target:
 * `<AsyncTunnelHTTPConnection ['https://localhost:8443', HTTP/1.1, IDLE, Request Count: 1]>`.
 */
export class AsyncTunnelHTTPConnection extends TunnelledConnection {
  protected readonly kind = "AsyncTunnelHTTPConnection";

  protected readonly dialTracePrefix = "connection";
  protected readonly tlsTraceName = "proxy.start_tls";

  protected handshake(
    stream: AsyncNetworkStream,
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream> {
    return this.#connect(stream, request, timeout, signal);
  }

  /** Sends `CONNECT host:port` and reads the proxy's answer; returns the tunnel stream. */
  async #connect(
    stream: AsyncNetworkStream,
    request: Request,
    timeout: number | null,
    signal: AbortSignal,
  ): Promise<AsyncNetworkStream> {
    const proxyOrigin = this.proxy.origin;
    const target = `${this.origin.host}:${this.origin.port}`;
    const headers = mergeHeaders(
      [
        ["Host", target],
        ["Accept", "*/*"],
      ],
      this.proxy.headers,
    );
    const head = encodeRequestHead("CONNECT", target, headers);
    // What trace callbacks see: the URL names the proxy, and Proxy-Authorization is redacted so
    // that a trace log never holds the credentials.
    const connectRequest = new Request("CONNECT", String(proxyOrigin), {
      headers: redactProxyAuthorization(headers),
      extensions: { target },
    });
    const io = new HandshakeIO(
      stream,
      timeout,
      signal,
      `waiting for the proxy ${this.proxy.url} to open a tunnel to ${target}`,
    );
    const trace = request.extensions.trace;
    await traced(trace, "http11.send_request_headers", { request: connectRequest }, () =>
      io.write(head),
    );
    const parser = new ResponseParser({
      method: "CONNECT",
      maxHeaderSize: this.options.maxHeaderSize,
    });
    let response: ResponseHead;
    try {
      response = await traced(
        trace,
        "http11.receive_response_headers",
        { request: connectRequest },
        async () => {
          for (;;) {
            const event = parser.nextEvent();
            if (event.type === "head") return event.head;
            if (event.type === "need-data") parser.receiveData(await io.read(READ_NUM_BYTES));
          }
        },
      );
    } catch (error) {
      throw withOrigin(error, proxyOrigin);
    }
    if (response.status < 200 || response.status > 299) {
      // httpcore's text: "403 Permission Denied". The connection is closed by the caller.
      throw new ProxyError(`${response.status} ${response.reasonPhrase}`);
    }
    parser.nextEvent(); // "paused": the bytes after the head belong to the tunnel
    const leftover = parser.trailingData;
    if (leftover.length > 0) {
      // The client speaks first in TLS and in HTTP: bytes now can only be garbage or an attack.
      throw new ProxyError(
        `the proxy ${this.proxy.url} sent ${leftover.length} unexpected bytes after accepting CONNECT`,
      );
    }
    return stream;
  }
}
