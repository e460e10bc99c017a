/**
 * `AsyncFetchConnection`: one request-level "lane" of the fetch backend. The platform's `fetch()`
 * owns the sockets; a lane carries one request at a time through it, with the states of an
 * HTTP/1.1 connection (NEW → ACTIVE → IDLE), so the pool's limits, FIFO queue, pool timeout and
 * `.connections` view mean the same thing as over sockets.
 * @module
 */
import { checkChunk } from "../../body.js";
import { onAbort, raceAbort } from "../../connection/abort.js";
import { now } from "../../connection/clock.js";
import { backoffDelay } from "../../connection/dial.js";
import type {
  ConnectionSnapshot,
  ConnectionState,
  PoolConnection,
} from "../../connection/interfaces.js";
import {
  abortReason,
  ConnectError,
  ConnectionNotAvailable,
  ConnectTimeout,
  HTTPCoreError,
  LocalProtocolError,
  ReadError,
  ReadTimeout,
  UnsupportedProtocol,
} from "../../errors.js";
import type { HeaderList } from "../../h11/types.js";
import { concat, type Request, Response, type ResponseByteStream } from "../../models.js";
import { traced } from "../../trace.js";
import type { Origin } from "../../url.js";

/**
 * The HTTP version a lane reports when the platform does not say which protocol it used
 * (no Resource Timing entry, an empty `nextHopProtocol`, or a runtime without Resource Timing,
 * such as Node.js and workerd).
 */
export const UNKNOWN_HTTP_VERSION = "HTTP/unknown";

/** `RequestInit.cache` values (spelled out: the DOM and Workers type libraries differ). */
export type FetchCacheMode =
  | "default"
  | "no-store"
  | "reload"
  | "no-cache"
  | "force-cache"
  | "only-if-cached";
/** `RequestInit.credentials` values. */
export type FetchCredentialsMode = "omit" | "same-origin" | "include";
/** `RequestInit.redirect` values. */
export type FetchRedirectMode = "follow" | "manual" | "error";

/**
 * Per-request options for the platform `fetch()`, passed as `extensions.fetchInit`. `pool.fetch()`
 * fills it from its `init`; socket backends ignore it.
 */
export interface FetchInitExtension {
  /** The browser cache mode; the fetch backend's default is `"no-store"` (a transport, not a cache). */
  cache?: FetchCacheMode;
  /** Whether cookies and HTTP auth go along (the platform default is `"same-origin"`). */
  credentials?: FetchCredentialsMode;
  /**
   * `"follow"` lets the platform follow redirects itself when the backend uses platform redirects
   * (browsers, where `redirect: "manual"` yields an opaque response without `Location`).
   * Otherwise lanes always send `redirect: "manual"` and redirects are `pool.fetch()`'s job.
   */
  redirect?: FetchRedirectMode;
}

/** What a fetch lane puts in `response.extensions.fetchResponse`. */
export interface FetchResponseInfo {
  /** The final URL (differs from the request's after platform-followed redirects). */
  url: string;
  /** True if the platform followed a redirect. */
  redirected: boolean;
  /** `basic`, `cors`, or `opaqueredirect` (status 0: a redirect the browser will not reveal). */
  type: "basic" | "cors" | "default" | "error" | "opaque" | "opaqueredirect";
  /** Always true: the platform already removed any `Content-Encoding` it understood. */
  decoded: true;
}

/** How a lane sends requests; fixed by its backend. */
export interface FetchLaneSettings {
  fetch: (request: globalThis.Request) => Promise<globalThis.Response>;
  keepaliveExpiry: number | null;
  retries: number;
  /** Send streamed bodies as streams (`duplex: "half"`); else they are buffered first. */
  streamingUploads: boolean;
  /** Let the platform follow redirects when `extensions.fetchInit.redirect` is `"follow"`. */
  platformRedirects: boolean;
  /** A pool option the backend cannot honour: every request on the lane fails with it. */
  unsupported: UnsupportedProtocol | null;
}

/** The platform request's init, typed here: the DOM and Workers type libraries differ. */
interface PlatformInit {
  method: string;
  headers: HeaderList;
  signal: AbortSignal;
  cache: FetchCacheMode;
  redirect: FetchRedirectMode;
  credentials?: FetchCredentialsMode;
  body?: Uint8Array | ReadableStream<Uint8Array>;
  duplex?: "half";
}

/** Headers the platform sets itself (framing, connection management). */
const TRANSPORT_HEADERS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
]);
/** A network failure cannot tell us whether the request was sent: only these are retried. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Per-request state of the exchange in progress. */
interface Exchange {
  request: Request;
  controller: AbortController;
  /** An error we aborted the platform fetch with (timeout, lane closed); thrown instead of its rejection. */
  failure: unknown;
  /** The caller's signal aborted. */
  aborted: boolean;
  detachAbort: () => void;
  headReceived: boolean;
  /** The body was read to the end. */
  done: boolean;
  failed: boolean;
  href: string;
  /** `performance.now()` when the platform fetch started, to find its Resource Timing entry. */
  startTime: number;
  /** The resolved HTTP version; null while unknown. */
  version: string | null;
}

/** A lane of the fetch backend, shown like a connection: `<AsyncFetchConnection [...]>`. */
export class AsyncFetchConnection implements PoolConnection {
  readonly origin: Origin;
  #settings: FetchLaneSettings;
  #state: Exclude<ConnectionState, "CONNECTING"> = "NEW";
  #requestCount = 0;
  #expireAt: number | null = null;
  #exchange: Exchange | null = null;
  /** The latest exchange, whose HTTP version may become known only after its body ended. */
  #last: Exchange | null = null;
  #version: string | null = null;

  constructor(origin: Origin, settings: FetchLaneSettings) {
    this.origin = origin;
    this.#settings = settings;
  }

  /** Sends `request` through the platform `fetch()`; returns once the response head arrived. */
  async handleAsyncRequest(request: Request): Promise<Response> {
    if (!this.canHandleRequest(request.url.origin)) {
      throw new Error(
        `Attempted to send request to ${request.url.origin} on connection to ${this.origin}`,
      );
    }
    if (this.#state !== "NEW" && this.#state !== "IDLE") throw new ConnectionNotAvailable();
    this.#state = "ACTIVE";
    this.#requestCount++;
    this.#expireAt = null;
    const signal = request.signal;
    const exchange: Exchange = {
      request,
      controller: new AbortController(),
      failure: null,
      aborted: false,
      detachAbort: noop,
      headReceived: false,
      done: false,
      failed: false,
      href: request.url.href.split("#")[0] ?? request.url.href,
      startTime: 0,
      version: null,
    };
    this.#exchange = exchange;
    this.#last = exchange;
    exchange.detachAbort = onAbort(signal, () => {
      exchange.aborted = true;
      exchange.controller.abort(abortReason(signal as AbortSignal));
    });
    const trace = request.extensions.trace;
    try {
      if (this.#settings.unsupported !== null) throw this.#settings.unsupported;
      if (exchange.aborted) throw abortReason(signal as AbortSignal);
      const platform = await traced(trace, "fetch.send_request", { request }, () =>
        this.#send(exchange),
      );
      exchange.headReceived = true;
      return this.#toResponse(exchange, platform);
    } catch (error) {
      exchange.failed = true;
      const failure = this.#outcome(exchange, error);
      this.#finish(exchange);
      throw failure;
    }
  }

  /** Builds the platform request and fetches it, with `retries` for idempotent requests. */
  async #send(exchange: Exchange): Promise<globalThis.Response> {
    const init = await this.#init(exchange);
    const { retries } = this.#settings;
    const streamed = init.body instanceof ReadableStream;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#fetchOnce(exchange, init);
      } catch (error) {
        const retriable =
          error instanceof ConnectError &&
          exchange.failure === null &&
          !exchange.aborted &&
          !streamed &&
          IDEMPOTENT.has(exchange.request.method);
        if (!retriable || attempt >= retries) throw error;
        await raceAbort(sleep(backoffDelay(attempt)), exchange.controller.signal);
      }
    }
  }

  async #fetchOnce(exchange: Exchange, init: PlatformInit): Promise<globalThis.Response> {
    let platformRequest: globalThis.Request;
    try {
      platformRequest = new globalThis.Request(exchange.href, init as RequestInit);
    } catch (error) {
      // The platform refuses the request itself (a method like CONNECT, a forbidden value...).
      throw new UnsupportedProtocol(
        `the fetch backend cannot send this request to ${this.#where}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const timer = this.#headTimer(exchange);
    exchange.startTime = now() * 1000;
    try {
      return await this.#settings.fetch(platformRequest);
    } catch (error) {
      if (exchange.failure !== null || exchange.aborted) throw error;
      // Browsers say only `TypeError: Failed to fetch` for refused ports, DNS failures, TLS
      // errors and CORS refusals alike; the origin at least says where it went wrong.
      throw new ConnectError(
        `could not connect to ${this.#where} (network error or blocked by CORS)`,
        { cause: error },
      );
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * fetch() cannot tell connecting from waiting for the server, so the wait for the response head
   * is bounded by `connect + read` (either alone when only one is set).
   */
  #headTimer(exchange: Exchange): ReturnType<typeof setTimeout> | undefined {
    const timeout = exchange.request.extensions.timeout;
    const connect = timeout?.connect ?? null;
    const read = timeout?.read ?? null;
    if (connect === null && read === null) return undefined;
    const total = Number(((connect ?? 0) + (read ?? 0)).toFixed(6));
    let error: Error;
    if (read === null) {
      error = new ConnectTimeout(`timed out connecting to ${this.#where} after ${connect}s`);
    } else if (connect === null) {
      error = new ReadTimeout(`timed out reading from ${this.#where} after ${read}s`);
    } else {
      error = new ReadTimeout(
        `timed out waiting for the response from ${this.#where} after ${total}s (connect ${connect}s + read ${read}s)`,
      );
    }
    return setTimeout(() => this.#abortWith(exchange, error), total * 1000);
  }

  /** The platform request's init: headers, body, and the transport's fixed choices. */
  async #init(exchange: Exchange): Promise<PlatformInit> {
    const request = exchange.request;
    const extensions = request.extensions;
    if (extensions.sniHostname !== undefined) {
      throw unsupported("sniHostname", "fetch() takes the TLS server name from the URL");
    }
    if (extensions.target !== undefined && extensions.target !== request.url.target) {
      throw unsupported("target", "fetch() sends the URL's path and query as the request-target");
    }
    const headers: HeaderList = [];
    for (const [name, value] of request.headers) {
      const lower = name.toLowerCase();
      if (lower === "host") {
        if (value !== request.url.authority) {
          throw new UnsupportedProtocol(
            `the fetch backend cannot send a Host header (${JSON.stringify(value)}) other than the URL's authority (${request.url.authority})`,
          );
        }
        continue;
      }
      if (!TRANSPORT_HEADERS.has(lower)) headers.push([name, value]);
    }
    const fetchInit = (extensions.fetchInit ?? {}) as FetchInitExtension;
    const init: PlatformInit = {
      method: request.method,
      headers,
      signal: exchange.controller.signal,
      // A transport, not a cache: identical concurrent GETs really run concurrently.
      cache: fetchInit.cache ?? "no-store",
      redirect:
        this.#settings.platformRedirects && fetchInit.redirect === "follow" ? "follow" : "manual",
    };
    if (fetchInit.credentials !== undefined) init.credentials = fetchInit.credentials;
    const body = request.body;
    if (body === null) return init;
    if (body.kind === "bytes") {
      // fetch() refuses any body on GET/HEAD, even an empty one.
      if (body.bytes.length > 0 || !NO_BODY_METHODS.has(request.method)) {
        init.body = body.bytes;
      }
      return init;
    }
    if (this.#settings.streamingUploads) {
      init.body = toReadableStream(body.stream);
      init.duplex = "half";
      return init;
    }
    // Buffered by default: Chromium rejects streaming uploads over HTTP/1.1.
    const bytes = await raceAbort(collect(body.stream), exchange.controller.signal);
    const framing = request.wire.framing;
    if (framing.kind === "length" && bytes.length !== framing.length) {
      throw new LocalProtocolError(
        bytes.length > framing.length
          ? `Too much data for declared Content-Length: the body exceeded ${framing.length} bytes.`
          : `Too little data for declared Content-Length: sent ${bytes.length} of ${framing.length} bytes.`,
      );
    }
    init.body = bytes;
    return init;
  }

  #toResponse(exchange: Exchange, platform: globalThis.Response): Response {
    const headers: HeaderList = [];
    for (const [name, value] of platform.headers) headers.push([name, value]);
    const info: FetchResponseInfo = {
      url: platform.url,
      redirected: platform.redirected,
      type: (platform as { type?: FetchResponseInfo["type"] }).type ?? "basic",
      decoded: true,
    };
    const response = new Response(platform.status, {
      headers,
      stream: this.#bodyStream(exchange, platform.body),
      extensions: { reasonPhrase: platform.statusText, fetchResponse: info },
    });
    // Resource Timing usually has the entry only after the body ended: resolve it when asked.
    Object.defineProperty(response.extensions, "httpVersion", {
      enumerable: true,
      configurable: true,
      get: () => this.#exchangeVersion(exchange),
    });
    return response;
  }

  #bodyStream(exchange: Exchange, body: ReadableStream<Uint8Array> | null): ResponseByteStream {
    const trace = exchange.request.extensions.trace;
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      // An early close cancels the platform body, so the browser stops downloading it.
      if (!exchange.done && body !== null) {
        await (reader ?? body).cancel().catch(noop);
      }
      await traced(trace, "fetch.response_closed", {}, async () => this.#finish(exchange));
    };
    const iterate = async function* (this: AsyncFetchConnection): AsyncGenerator<Uint8Array> {
      if (body === null) {
        exchange.done = true;
        return;
      }
      if (trace) await trace("fetch.receive_response_body.started", { request: exchange.request });
      reader = body.getReader();
      try {
        for (;;) {
          const { done, value } = await this.#readChunk(exchange, reader);
          if (done) break;
          if (value.length > 0) yield value;
        }
        exchange.done = true;
      } catch (error) {
        exchange.failed = true;
        const ours =
          exchange.aborted || exchange.failure !== null || error instanceof HTTPCoreError;
        const failure = ours
          ? this.#outcome(exchange, error)
          : new ReadError(
              `error reading the response body from ${this.#where} (${errorMessage(error)})`,
              { cause: error },
            );
        if (trace) await trace("fetch.receive_response_body.failed", { exception: failure });
        await close();
        throw failure;
      }
      if (trace) await trace("fetch.receive_response_body.complete", { return_value: null });
    }.bind(this);
    return { [Symbol.asyncIterator]: iterate, aclose: close };
  }

  /** One body read, bounded by the `read` timeout and interrupted by any abort. */
  async #readChunk(
    exchange: Exchange,
    reader: ReadableStreamDefaultReader<Uint8Array>,
  ): Promise<ReadableStreamReadResult<Uint8Array>> {
    const read = exchange.request.extensions.timeout?.read ?? null;
    const timer =
      read === null
        ? undefined
        : setTimeout(
            () =>
              this.#abortWith(
                exchange,
                new ReadTimeout(`timed out reading from ${this.#where} after ${read}s`),
              ),
            read * 1000,
          );
    try {
      // Raced, so an abort ends the wait even where the platform is slow to error the body.
      return await raceAbort(reader.read(), exchange.controller.signal);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  #abortWith(exchange: Exchange, error: unknown): void {
    if (exchange.failure !== null || exchange.aborted) return;
    exchange.failure = error;
    exchange.controller.abort(error);
  }

  /** The error the caller sees: the caller's abort first, then our own timeout or close. */
  #outcome(exchange: Exchange, error: unknown): unknown {
    const signal = exchange.request.signal;
    if (exchange.aborted && signal) return abortReason(signal);
    if (exchange.failure !== null) return exchange.failure;
    return error;
  }

  /** Ends the exchange: IDLE after a clean end or early close, CLOSED after any failure. */
  #finish(exchange: Exchange): void {
    exchange.detachAbort();
    if (this.#exchange !== exchange) return;
    this.#exchange = null;
    if (this.#state === "CLOSED") return;
    if (exchange.failed || exchange.aborted || exchange.failure !== null) {
      this.#state = "CLOSED";
      this.#expireAt = null;
      return;
    }
    this.#state = "IDLE";
    const expiry = this.#settings.keepaliveExpiry;
    if (expiry !== null) this.#expireAt = now() + expiry;
  }

  #exchangeVersion(exchange: Exchange): string {
    if (exchange.version === null && exchange.startTime > 0) {
      exchange.version = lookupHttpVersion(exchange.href, exchange.startTime);
    }
    return exchange.version ?? UNKNOWN_HTTP_VERSION;
  }

  /** The HTTP version the platform last reported for this lane, or {@link UNKNOWN_HTTP_VERSION}. */
  get httpVersion(): string {
    const last = this.#last;
    if (last !== null) {
      const version = this.#exchangeVersion(last);
      if (version !== UNKNOWN_HTTP_VERSION) this.#version = version;
    }
    return this.#version ?? UNKNOWN_HTTP_VERSION;
  }

  get #where(): string {
    return `${this.origin.host}:${this.origin.port}`;
  }

  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  isAvailable(): boolean {
    return this.#state === "IDLE";
  }

  hasExpired(): boolean {
    return this.#expireAt !== null && now() >= this.#expireAt;
  }

  isIdle(): boolean {
    return this.#state === "IDLE";
  }

  isClosed(): boolean {
    return this.#state === "CLOSED";
  }

  hasStarted(): boolean {
    return this.#requestCount > 0;
  }

  expiresAt(): number | null {
    return this.#state === "IDLE" ? this.#expireAt : null;
  }

  /** `'http://127.0.0.1:8080', HTTP/1.1, IDLE, Request Count: 2` */
  info(): string {
    return `'${this.origin}', ${this.httpVersion}, ${this.#state}, Request Count: ${this.#requestCount}`;
  }

  toJSON(): ConnectionSnapshot {
    return {
      kind: "AsyncFetchConnection",
      origin: String(this.origin),
      httpVersion: this.httpVersion,
      state: this.#state,
      requestCount: this.#requestCount,
    };
  }

  /** `<AsyncFetchConnection ['http://127.0.0.1:8080', HTTP/1.1, IDLE, Request Count: 2]>` */
  toString(): string {
    return `<AsyncFetchConnection [${this.info()}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Closes the lane; a request in flight on it is aborted. Idempotent. */
  async aclose(): Promise<void> {
    if (this.#state === "CLOSED") return;
    this.#state = "CLOSED";
    this.#expireAt = null;
    const exchange = this.#exchange;
    if (exchange !== null) {
      this.#abortWith(
        exchange,
        exchange.headReceived
          ? new ReadError(`connection to ${this.origin} was closed while reading the response`)
          : new ConnectError(`connection to ${this.origin} was closed before the response arrived`),
      );
    }
  }
}

const NO_BODY_METHODS = new Set(["GET", "HEAD"]);

function unsupported(extension: string, reason: string): UnsupportedProtocol {
  return new UnsupportedProtocol(
    `the fetch backend cannot honour the "${extension}" extension: ${reason}`,
  );
}

/** Finds the Resource Timing entry of a fetch and maps its ALPN id to an HTTP version. */
function lookupHttpVersion(href: string, startTime: number): string | null {
  const perf = (globalThis as { performance?: Partial<Performance> }).performance;
  if (typeof perf?.getEntriesByName !== "function") return null;
  let entries: readonly PerformanceEntry[];
  try {
    entries = perf.getEntriesByName(href, "resource");
  } catch {
    return null;
  }
  for (const entry of entries) {
    // Entries come oldest first; ours started no earlier than the fetch call.
    if (entry.startTime + 1 < startTime) continue;
    const version = httpVersionOf((entry as { nextHopProtocol?: string }).nextHopProtocol);
    if (version !== null) return version;
  }
  return null;
}

/** `http/1.1` → `HTTP/1.1`, `h2` → `HTTP/2`, `h3` → `HTTP/3`; anything else → null. */
export function httpVersionOf(alpn: string | undefined): string | null {
  if (alpn === "http/1.1") return "HTTP/1.1";
  if (alpn === "http/1.0") return "HTTP/1.0";
  if (alpn === "h2" || alpn === "h2c") return "HTTP/2";
  if (alpn === "h3" || alpn?.startsWith("h3-")) return "HTTP/3";
  return null;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const item of stream) {
    const chunk = checkChunk(item);
    parts.push(chunk);
    total += chunk.length;
  }
  return concat(parts, total);
}

/** A pull-based ReadableStream over an async iterable (what a streaming upload needs). */
function toReadableStream(iterable: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = iterable[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(checkChunk(value));
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function noop(): void {}
