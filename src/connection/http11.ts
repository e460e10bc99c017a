/**
 * One HTTP/1.1 connection over a network stream: drives the sans-IO codec, one request at a time,
 * and decides afterwards whether the connection can be kept alive.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { checkChunk } from "../body.js";
import {
  abortReason,
  ConnectionNotAvailable,
  HTTPCoreError,
  LocalProtocolError,
  NetworkError,
  ProtocolError,
  RemoteProtocolError,
  WriteError,
} from "../errors.js";
import { encodeChunk, encodeRequestHead, LAST_CHUNK, ResponseParser } from "../h11/index.js";
import type { ResponseHead } from "../h11/types.js";
import { headerHasToken } from "../headers.js";
import { concat, type Request, Response, type ResponseByteStream } from "../models.js";
import { traced } from "../trace.js";
import type { Origin } from "../url.js";
import { onAbort } from "./abort.js";
import { now } from "./clock.js";
import type { AsyncConnectionInterface, ConnectionSnapshot } from "./interfaces.js";
import { UpgradeStream } from "./upgrade-stream.js";
import type { Framing } from "./wire-headers.js";

/** Bytes asked of the network per read, as httpcore's `READ_NUM_BYTES`. */
const READ_NUM_BYTES = 64 * 1024;
/** Bodies up to this size go out in the same write as the head. */
const COALESCE_LIMIT = 16 * 1024;

type H11State = "NEW" | "ACTIVE" | "IDLE" | "CLOSED";

/**
 * A request failed on a reused connection before any response byte arrived: the server had
 * closed it while idle. The pool retries such a request once on a fresh connection.
 * @internal
 */
export class StaleConnection extends ConnectionNotAvailable {
  constructor(readonly original: unknown) {
    super("stale keep-alive connection");
  }
}

/** Options of {@link AsyncHTTP11Connection}. */
export interface HTTP11Options {
  keepaliveExpiry?: number | null;
  maxHeaderSize?: number;
}

/** Per-request state of the exchange in progress. */
interface Exchange {
  parser: ResponseParser;
  request: Request;
  requestSent: boolean;
  writeFailed: boolean;
  responseBytes: number;
  responseDone: boolean;
  aborted: boolean;
  detachAbort: () => void;
}

/** An HTTP/1.1 connection (httpcore's `AsyncHTTP11Connection`). */
export class AsyncHTTP11Connection implements AsyncConnectionInterface {
  readonly origin: Origin;
  #stream: AsyncNetworkStream;
  #keepaliveExpiry: number | null;
  #maxHeaderSize: number | undefined;
  #state: H11State = "NEW";
  #requestCount = 0;
  #expireAt: number | null = null;
  #exchange: Exchange | null = null;

  constructor(origin: Origin, stream: AsyncNetworkStream, options: HTTP11Options = {}) {
    this.origin = origin;
    this.#stream = stream;
    this.#keepaliveExpiry = options.keepaliveExpiry ?? null;
    this.#maxHeaderSize = options.maxHeaderSize;
  }

  /** Sends `request` and returns once the response head has arrived. */
  async handleAsyncRequest(request: Request): Promise<Response> {
    if (!this.canHandleRequest(request.url.origin)) {
      throw new Error(
        `Attempted to send request to ${request.url.origin} on connection to ${this.origin}`,
      );
    }
    if (this.#state !== "NEW" && this.#state !== "IDLE") throw new ConnectionNotAvailable();
    const reused = this.#requestCount > 0;
    this.#state = "ACTIVE";
    this.#requestCount++;
    this.#expireAt = null;
    const signal = request.signal;
    const exchange: Exchange = {
      parser: new ResponseParser({ method: request.method, maxHeaderSize: this.#maxHeaderSize }),
      request,
      requestSent: false,
      writeFailed: false,
      responseBytes: 0,
      responseDone: false,
      aborted: false,
      detachAbort: noop,
    };
    this.#exchange = exchange;
    // Closing the stream is the one portable way to interrupt a pending read or write.
    exchange.detachAbort = onAbort(signal, () => {
      exchange.aborted = true;
      void this.aclose();
    });
    const trace = request.extensions.trace;
    try {
      if (exchange.aborted) throw abortReason(signal as AbortSignal);
      const { headers, framing } = request.wire;
      const head = encodeRequestHead(request.method, request.target, headers);
      await traced(trace, "http11.send_request_headers", { request }, () =>
        this.#sendHead(exchange, head, framing),
      );
      await traced(trace, "http11.send_request_body", { request }, () =>
        this.#sendBody(exchange, framing),
      );
      exchange.requestSent = true;
      const responseHead = await traced(
        trace,
        "http11.receive_response_headers",
        { request },
        async () => {
          const h = await this.#receiveHead(exchange);
          return [h.httpVersion, h.status, h.reasonPhrase, h.headers] as const;
        },
      );
      const [httpVersion, status, reasonPhrase, responseHeaders] = responseHead;
      const response = new Response(status, {
        headers: responseHeaders,
        stream: this.#bodyStream(exchange),
        extensions: { httpVersion, reasonPhrase },
      });
      if (status === 101 || (request.method === "CONNECT" && status >= 200 && status < 300)) {
        const event = exchange.parser.nextEvent();
        if (event.type === "paused") {
          response.extensions.networkStream = new UpgradeStream(
            this.#stream,
            exchange.parser.trailingData,
          );
          exchange.responseDone = true;
        }
      }
      return response;
    } catch (error) {
      const failure = this.#failure(exchange, error, reused);
      await traced(trace, "http11.response_closed", {}, () => this.#responseClosed(exchange));
      throw failure;
    }
  }

  async #sendHead(exchange: Exchange, head: Uint8Array, framing: Framing): Promise<void> {
    const body = exchange.request.body;
    // One write for a small request: fewer syscalls and no Nagle stall between head and body.
    if (
      framing.kind === "length" &&
      body?.kind === "bytes" &&
      body.bytes.length <= COALESCE_LIMIT
    ) {
      await this.#write(exchange, concat([head, body.bytes], head.length + body.bytes.length));
      return;
    }
    await this.#write(exchange, head);
  }

  async #sendBody(exchange: Exchange, framing: Framing): Promise<void> {
    const body = exchange.request.body;
    if (framing.kind === "none" || body === null) return;
    if (body.kind === "bytes") {
      if (framing.kind === "chunked") {
        if (body.bytes.length > 0) await this.#write(exchange, joinChunk(body.bytes));
        await this.#write(exchange, LAST_CHUNK);
      } else if (body.bytes.length > COALESCE_LIMIT) {
        await this.#write(exchange, body.bytes);
      }
      return;
    }
    let sent = 0;
    for await (const item of body.stream) {
      const chunk = checkChunk(item);
      if (chunk.length === 0) continue;
      if (framing.kind === "length") {
        sent += chunk.length;
        if (sent > framing.length) {
          throw new LocalProtocolError(
            `Too much data for declared Content-Length: the body exceeded ${framing.length} bytes.`,
          );
        }
        await this.#write(exchange, chunk);
      } else {
        await this.#write(exchange, joinChunk(chunk));
      }
    }
    if (framing.kind === "chunked") await this.#write(exchange, LAST_CHUNK);
    else if (sent !== framing.length) {
      throw new LocalProtocolError(
        `Too little data for declared Content-Length: sent ${sent} of ${framing.length} bytes.`,
      );
    }
  }

  async #write(exchange: Exchange, data: Uint8Array): Promise<void> {
    // After a failed write keep going quietly: the server may have answered early (e.g. 413).
    if (exchange.writeFailed) return;
    try {
      await this.#stream.write(data, exchange.request.extensions.timeout?.write);
    } catch (error) {
      if (!(error instanceof WriteError) || exchange.aborted) throw error;
      exchange.writeFailed = true;
    }
  }

  async #read(exchange: Exchange): Promise<void> {
    const data = await this.#stream.read(READ_NUM_BYTES, exchange.request.extensions.timeout?.read);
    exchange.responseBytes += data.length;
    exchange.parser.receiveData(data);
  }

  async #receiveHead(exchange: Exchange): Promise<ResponseHead> {
    for (;;) {
      const event = exchange.parser.nextEvent();
      if (event.type === "need-data") await this.#read(exchange);
      else if (event.type === "head") return event.head;
      else if (event.type !== "informational") {
        throw new RemoteProtocolError(`unexpected ${event.type} event before the response head`);
      }
    }
  }

  #bodyStream(exchange: Exchange): ResponseByteStream {
    const trace = exchange.request.extensions.trace;
    const request = exchange.request;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await traced(trace, "http11.response_closed", {}, () => this.#responseClosed(exchange));
    };
    const fail = async (error: unknown): Promise<never> => {
      const failure = this.#failure(exchange, error, false);
      if (trace) await trace("http11.receive_response_body.failed", { exception: failure });
      await close();
      throw failure;
    };
    let started = false;
    // A hand-written iterator, not a generator: one promise per chunk on the streaming hot path.
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      if (exchange.responseDone) return DONE;
      if (!started) {
        started = true;
        if (trace) await trace("http11.receive_response_body.started", { request });
      }
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#nextChunk(exchange);
      } catch (error) {
        return fail(error);
      }
      if (chunk !== null) return { value: chunk, done: false };
      exchange.responseDone = true;
      if (trace) await trace("http11.receive_response_body.complete", { return_value: null });
      return DONE;
    };
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next,
      [Symbol.asyncIterator]: () => iterator,
    };
    const stream: ResponseByteStream = { [Symbol.asyncIterator]: () => iterator, aclose: close };
    // Without a trace callback `request()` reads the body in one loop.
    if (trace === undefined) {
      stream.readAll = async () => {
        const parts: Uint8Array[] = [];
        let total = 0;
        try {
          for (;;) {
            const chunk = exchange.responseDone ? null : await this.#nextChunk(exchange);
            if (chunk === null) break;
            parts.push(chunk);
            total += chunk.length;
          }
          exchange.responseDone = true;
        } catch (error) {
          return fail(error);
        }
        await close();
        return concat(parts, total);
      };
    }
    return stream;
  }

  /** The next piece of the body, reading as needed; `null` at its end. */
  async #nextChunk(exchange: Exchange): Promise<Uint8Array | null> {
    for (;;) {
      const event = exchange.parser.nextEvent();
      if (event.type === "data") return event.data;
      if (event.type === "need-data") await this.#read(exchange);
      else if (event.type === "end") return null;
      else throw new RemoteProtocolError(`unexpected ${event.type} event in the response body`);
    }
  }

  /** Maps an error of the exchange to what the caller should see. */
  #failure(exchange: Exchange, error: unknown, reused: boolean): unknown {
    if (exchange.aborted) return abortReason(exchange.request.signal as AbortSignal);
    // A kept-alive connection the server closed while idle fails before any response byte.
    if (
      reused &&
      exchange.responseBytes === 0 &&
      (error instanceof NetworkError || error instanceof RemoteProtocolError)
    ) {
      return new StaleConnection(withOrigin(error, this.origin));
    }
    return withOrigin(error, this.origin);
  }

  async #responseClosed(exchange: Exchange): Promise<void> {
    exchange.detachAbort();
    if (this.#exchange !== exchange) return;
    this.#exchange = null;
    if (this.#state === "CLOSED") return;
    const parser = exchange.parser;
    const reusable =
      exchange.requestSent &&
      !exchange.writeFailed &&
      exchange.responseDone &&
      parser.keepAlive &&
      // Bytes after the response were never asked for: response queue poisoning.
      parser.trailingData.length === 0 &&
      !headerHasToken(exchange.request.headers, "connection", "close");
    if (reusable) {
      this.#state = "IDLE";
      if (this.#keepaliveExpiry !== null) this.#expireAt = now() + this.#keepaliveExpiry;
    } else {
      await this.aclose();
    }
  }

  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  isAvailable(): boolean {
    return this.#state === "IDLE";
  }

  hasExpired(): boolean {
    if (this.#expireAt !== null && now() >= this.#expireAt) return true;
    // An idle socket with something to read can only be about to say EOF (or poison us).
    return this.#state === "IDLE" && this.#stream.getExtraInfo("is_readable") === true;
  }

  isIdle(): boolean {
    return this.#state === "IDLE";
  }

  isClosed(): boolean {
    return this.#state === "CLOSED";
  }

  expiresAt(): number | null {
    return this.#state === "IDLE" ? this.#expireAt : null;
  }

  /** The underlying network stream. */
  get stream(): AsyncNetworkStream {
    return this.#stream;
  }

  info(): string {
    return `'${this.origin}', HTTP/1.1, ${this.#state}, Request Count: ${this.#requestCount}`;
  }

  toJSON(): ConnectionSnapshot {
    return {
      kind: "AsyncHTTP11Connection",
      origin: String(this.origin),
      httpVersion: "HTTP/1.1",
      state: this.#state,
      requestCount: this.#requestCount,
    };
  }

  /** `<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>` */
  toString(): string {
    return `<AsyncHTTP11Connection ['${this.origin}', ${this.#state}, Request Count: ${this.#requestCount}]>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Closes the connection (state changes at once; the socket closes asynchronously). */
  async aclose(): Promise<void> {
    if (this.#state === "CLOSED") return;
    this.#state = "CLOSED";
    this.#expireAt = null;
    await this.#stream.aclose();
  }
}

function joinChunk(data: Uint8Array): Uint8Array {
  const parts = encodeChunk(data);
  let total = 0;
  for (const p of parts) total += p.length;
  return concat(parts, total);
}

/** Adds the origin to a protocol error's message, once. */
export function withOrigin(error: unknown, origin: Origin): unknown {
  if (error instanceof ProtocolError && error instanceof HTTPCoreError) {
    const tag = `(origin: ${origin})`;
    if (!error.message.includes(tag)) error.message = `${error.message} ${tag}`;
  }
  return error;
}

function noop(): void {}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
