/**
 * One HTTP/1.1 connection over a network stream: drives the sans-IO codec, one request at a time,
 * and decides afterwards whether the connection can be kept alive.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { abortReason, ConnectionNotAvailable } from "../errors.js";
import { encodeRequestHead } from "../h11/index.js";
import type { ResponseHead } from "../h11/types.js";
import { headerHasToken } from "../headers.js";
import { createResponse, type Request, type Response } from "../models.js";
import { traced } from "../trace.js";
import type { Origin } from "../url.js";
import { onAbort } from "./abort.js";
import { now } from "./clock.js";
import {
  type ConnectionFacts,
  connectionInfo,
  connectionRepr,
  connectionSnapshot,
} from "./describe.js";
import { Exchange } from "./http11-exchange.js";
import type { AsyncConnectionInterface, ConnectionSnapshot } from "./interfaces.js";
import { UpgradeStream } from "./upgrade-stream.js";

type H11State = "NEW" | "ACTIVE" | "IDLE" | "CLOSED";

/** Options of {@link AsyncHTTP11Connection}. */
export interface HTTP11Options {
  keepaliveExpiry?: number | null;
  maxHeaderSize?: number;
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
  /** Bound once: every exchange reports its end here. */
  readonly #onExchangeClosed = (exchange: Exchange): Promise<void> =>
    this.#responseClosed(exchange);

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
    const exchange = new Exchange(
      request,
      this.#stream,
      this.origin,
      this.#maxHeaderSize,
      this.#onExchangeClosed,
    );
    this.#exchange = exchange;
    // Closing the stream is the one portable way to interrupt a pending read or write.
    if (signal !== null) {
      exchange.detachAbort = onAbort(signal, () => {
        exchange.aborted = true;
        void this.aclose();
      });
    }
    const trace = exchange.trace;
    try {
      if (exchange.aborted) throw abortReason(signal as AbortSignal);
      const { headers, framing } = request.wire;
      const head = encodeRequestHead(request.method, request.target, headers);
      let responseHead: ResponseHead;
      if (trace === undefined) {
        await exchange.sendRequest(head, framing);
        exchange.requestSent = true;
        responseHead = await exchange.receiveHead();
      } else {
        responseHead = await this.#tracedExchange(exchange, head, framing, trace);
      }
      const status = responseHead.status;
      const response = createResponse(status, responseHead.headers, exchange, {
        httpVersion: responseHead.httpVersion,
        reasonPhrase: responseHead.reasonPhrase,
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
      const failure = exchange.failure(error, reused);
      await exchange.aclose();
      throw failure;
    }
  }

  /** The same steps as the untraced path, between httpcore's trace events. */
  async #tracedExchange(
    exchange: Exchange,
    head: Uint8Array,
    framing: Exchange["request"]["wire"]["framing"],
    trace: NonNullable<Exchange["trace"]>,
  ): Promise<ResponseHead> {
    const request = exchange.request;
    await traced(trace, "http11.send_request_headers", { request }, () =>
      exchange.sendHead(head, framing),
    );
    await traced(trace, "http11.send_request_body", { request }, () => exchange.sendBody(framing));
    exchange.requestSent = true;
    const result = await traced(trace, "http11.receive_response_headers", { request }, async () => {
      const h = await exchange.receiveHead();
      return [h.httpVersion, h.status, h.reasonPhrase, h.headers] as const;
    });
    return {
      httpVersion: result[0],
      status: result[1],
      reasonPhrase: result[2],
      headers: result[3],
    };
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

  #facts(): ConnectionFacts {
    return {
      kind: "AsyncHTTP11Connection",
      origin: this.origin,
      httpVersion: "HTTP/1.1",
      state: this.#state,
      requestCount: this.#requestCount,
    };
  }

  info(): string {
    return connectionInfo(this.#facts());
  }

  toJSON(): ConnectionSnapshot {
    return connectionSnapshot(this.#facts());
  }

  /** `<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>` */
  toString(): string {
    return connectionRepr(this.#facts());
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
