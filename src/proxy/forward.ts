/**
 * `AsyncForwardHTTPConnection`: `http://` requests forwarded by an HTTP(S) proxy. Each request
 * goes to the proxy with an absolute-form request-target (`GET http://host:port/path HTTP/1.1`),
 * the target's `Host`, and the proxy's headers (`Proxy-Authorization` …) merged under the
 * request's own. One connection per (proxy, target origin), as in httpcore.
 * @module
 */
import { AsyncHTTPConnection } from "../connection/connection.js";
import type { PoolConnection } from "../connection/interfaces.js";
import { Request, type RequestExtensions, type Response } from "../models.js";
import type { Origin } from "../url.js";
import { type ProxyConnectionOptions, withProxyContext } from "./dial.js";
import type { Proxy as HTTPProxy } from "./proxy.js";
import { mergeHeaders, redactProxyAuthorization } from "./tunnel.js";
import type { ProxyConnectionSnapshot } from "./tunnelled.js";

/** The absolute-form request-target of `request` (RFC 9112 §3.2.2). */
export function absoluteTarget(request: Request): string {
  const { scheme, authority } = request.url;
  const target = request.target;
  if (target.startsWith("/")) return `${scheme}://${authority}${target}`;
  // `OPTIONS *` is sent as `OPTIONS http://host:port` to a proxy (RFC 9112 §3.2.4).
  if (target === "*") return `${scheme}://${authority}`;
  return target; // already absolute-form (or a caller's own choice)
}

/**
 * A connection that forwards `http://` requests through an HTTP(S) proxy. Its repr shows the
 * proxy, as httpcore's does:
 * `<AsyncForwardHTTPConnection ['http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1]>`.
 */
export class AsyncForwardHTTPConnection implements PoolConnection {
  /** The target origin this connection serves. */
  readonly origin: Origin;
  readonly proxy: HTTPProxy;
  readonly #connection: AsyncHTTPConnection;

  constructor(proxy: HTTPProxy, origin: Origin, options: ProxyConnectionOptions) {
    this.proxy = proxy;
    this.origin = origin;
    this.#connection = new AsyncHTTPConnection(proxy.origin, { ...options, ssl: proxy.ssl });
  }

  async handleAsyncRequest(request: Request): Promise<Response> {
    if (!this.canHandleRequest(request.url.origin)) {
      throw new Error(
        `Attempted to send request to ${request.url.origin} on connection to ${this.origin}`,
      );
    }
    const extensions: RequestExtensions = {
      ...request.extensions,
      target: absoluteTarget(request),
    };
    // The caller's sniHostname is for a target's TLS; the TLS here (an https:// proxy) is the proxy's.
    delete extensions.sniHostname;
    const serverHostname = this.proxy.ssl?.serverHostname;
    if (serverHostname !== undefined) extensions.sniHostname = serverHostname;
    const body = request.body;
    // The request's wire headers (Host of the target first, framing last) override the proxy's.
    const headers = mergeHeaders(this.proxy.headers, request.wire.headers);
    const trace = request.extensions.trace;
    if (trace !== undefined && this.proxy.auth !== null) {
      // Trace callbacks see the request with Proxy-Authorization redacted (never the credentials).
      const shown = new Request(request.method, `${this.proxy.url}/`, {
        headers: redactProxyAuthorization(headers),
        extensions: { target: extensions.target },
      });
      extensions.trace = (name, info) =>
        trace(name, info.request === proxyRequest ? { ...info, request: shown } : info);
    }
    const proxyRequest: Request = new Request(request.method, `${this.proxy.url}/`, {
      headers,
      content: body === null ? null : body.kind === "bytes" ? body.bytes : body.stream,
      extensions,
      signal: request.signal,
    });
    try {
      return await this.#connection.handleAsyncRequest(proxyRequest);
    } catch (error) {
      throw withProxyContext(error, this.proxy, this.origin);
    }
  }

  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  isAvailable(): boolean {
    return this.#connection.isAvailable();
  }

  hasExpired(): boolean {
    return this.#connection.hasExpired();
  }

  isIdle(): boolean {
    return this.#connection.isIdle();
  }

  isClosed(): boolean {
    return this.#connection.isClosed();
  }

  hasStarted(): boolean {
    return this.#connection.hasStarted();
  }

  expiresAt(): number | null {
    return this.#connection.expiresAt();
  }

  /** `'http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1` (the proxy origin, as httpcore). */
  info(): string {
    return this.#connection.info();
  }

  toJSON(): ProxyConnectionSnapshot {
    return {
      ...this.#connection.toJSON(),
      kind: "AsyncForwardHTTPConnection",
      origin: String(this.origin),
      proxy: this.proxy.url,
    };
  }

  /** `<AsyncForwardHTTPConnection ['http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1]>` */
  toString(): string {
    return `<AsyncForwardHTTPConnection [${this.info()}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  aclose(): Promise<void> {
    return this.#connection.aclose();
  }
}
