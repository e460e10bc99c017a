/**
 * One request/response exchange on an HTTP/1.1 connection. It is also the response's byte
 * stream: a single object per request (no closures, no generators), because at high concurrency
 * the pool's speed is bound by how much each in-flight request allocates.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { checkChunk } from "../body.js";
import {
  abortReason,
  HTTPCoreError,
  LocalProtocolError,
  NetworkError,
  ProtocolError,
  RemoteProtocolError,
  WriteError,
} from "../errors.js";
import { encodeChunk, LAST_CHUNK, ResponseParser } from "../h11/index.js";
import type { ResponseHead } from "../h11/types.js";
import { concat, type Request, type ResponseByteStream } from "../models.js";
import type { TraceCallback } from "../trace.js";
import type { Origin } from "../url.js";
import { StaleConnection } from "./stale.js";
import type { Framing } from "./wire-headers.js";

/** Bytes asked of the network per read, as httpcore's `READ_NUM_BYTES`. */
const READ_NUM_BYTES = 64 * 1024;
/** Bodies up to this size go out in the same write as the head. */
export const COALESCE_LIMIT = 16 * 1024;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const RESOLVED: Promise<void> = Promise.resolve();

/** Per-request state, the response body's reader, and its `aclose()`. */
export class Exchange implements ResponseByteStream, AsyncIterableIterator<Uint8Array> {
  readonly parser: ResponseParser;
  readonly trace: TraceCallback | undefined;
  requestSent = false;
  writeFailed = false;
  responseBytes = 0;
  responseDone = false;
  aborted = false;
  detachAbort: () => void = noop;
  #closed = false;
  #bodyStarted = false;

  constructor(
    readonly request: Request,
    readonly stream: AsyncNetworkStream,
    readonly origin: Origin,
    maxHeaderSize: number | undefined,
    /** The connection's response-closed handler (bound once per connection). */
    private readonly onClosed: (exchange: Exchange) => Promise<void>,
  ) {
    this.parser = new ResponseParser({ method: request.method, maxHeaderSize });
    this.trace = request.extensions.trace;
  }

  /** Writes the head (and a small body with it), then any larger or streamed body. */
  async sendRequest(head: Uint8Array, framing: Framing): Promise<void> {
    const body = this.request.body;
    if (framing.kind === "none" || body === null) {
      // The common GET: one write, inlined (each async call is an allocation on the hot path).
      try {
        await this.stream.write(head, this.request.extensions.timeout?.write);
      } catch (error) {
        this.#writeFailure(error);
      }
      return;
    }
    if (!(await this.sendHead(head, framing))) await this.sendBody(framing);
  }

  /** Writes the head; a small byte body goes in the same write (returns true then). */
  async sendHead(head: Uint8Array, framing: Framing): Promise<boolean> {
    const body = this.request.body;
    // One write for a small request: fewer syscalls and no Nagle stall between head and body.
    if (
      framing.kind === "length" &&
      body?.kind === "bytes" &&
      body.bytes.length <= COALESCE_LIMIT
    ) {
      await this.#write(concat([head, body.bytes], head.length + body.bytes.length));
      return true;
    }
    await this.#write(head);
    return false;
  }

  /** Writes the body after the head (not the part coalesced with it). */
  async sendBody(framing: Framing): Promise<void> {
    const body = this.request.body;
    if (framing.kind === "none" || body === null) return;
    if (body.kind === "bytes") {
      if (framing.kind === "chunked") {
        if (body.bytes.length > 0) await this.#write(joinChunk(body.bytes));
        await this.#write(LAST_CHUNK);
      } else if (body.bytes.length > COALESCE_LIMIT) {
        await this.#write(body.bytes);
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
        await this.#write(chunk);
      } else {
        await this.#write(joinChunk(chunk));
      }
    }
    if (framing.kind === "chunked") await this.#write(LAST_CHUNK);
    else if (sent !== framing.length) {
      throw new LocalProtocolError(
        `Too little data for declared Content-Length: sent ${sent} of ${framing.length} bytes.`,
      );
    }
  }

  async #write(data: Uint8Array): Promise<void> {
    if (this.writeFailed) return;
    try {
      await this.stream.write(data, this.request.extensions.timeout?.write);
    } catch (error) {
      this.#writeFailure(error);
    }
  }

  /** After a failed write keep going quietly: the server may have answered early (e.g. 413). */
  #writeFailure(error: unknown): void {
    if (!(error instanceof WriteError) || this.aborted) throw error;
    this.writeFailed = true;
  }

  /** Reads until the final response head (1xx informational responses are skipped). */
  async receiveHead(): Promise<ResponseHead> {
    const parser = this.parser;
    for (;;) {
      const event = parser.nextEvent();
      if (event.type === "need-data") {
        const data = await this.stream.read(READ_NUM_BYTES, this.request.extensions.timeout?.read);
        this.responseBytes += data.length;
        parser.receiveData(data);
      } else if (event.type === "head") return event.head;
      else if (event.type !== "informational") {
        throw new RemoteProtocolError(`unexpected ${event.type} event before the response head`);
      }
    }
  }

  async #read(): Promise<void> {
    const data = await this.stream.read(READ_NUM_BYTES, this.request.extensions.timeout?.read);
    this.responseBytes += data.length;
    this.parser.receiveData(data);
  }

  /** The next piece of the body, reading as needed; `null` at its end. */
  async #nextChunk(): Promise<Uint8Array | null> {
    const parser = this.parser;
    for (;;) {
      const event = parser.nextEvent();
      if (event.type === "data") return event.data;
      if (event.type === "need-data") await this.#read();
      else if (event.type === "end") return null;
      else throw new RemoteProtocolError(`unexpected ${event.type} event in the response body`);
    }
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.responseDone) return DONE;
    const trace = this.trace;
    if (!this.#bodyStarted) {
      this.#bodyStarted = true;
      if (trace) await trace("http11.receive_response_body.started", { request: this.request });
    }
    let chunk: Uint8Array | null;
    try {
      chunk = await this.#nextChunk();
    } catch (error) {
      return this.#fail(error);
    }
    if (chunk !== null) return { value: chunk, done: false };
    this.responseDone = true;
    if (trace) await trace("http11.receive_response_body.complete", { return_value: null });
    return DONE;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  /** The rest of the body in one loop; the exchange is closed afterwards. */
  async readAll(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    if (this.trace !== undefined) {
      // Through next(), which emits the receive_response_body trace events.
      for (let r = await this.next(); !r.done; r = await this.next()) {
        parts.push(r.value);
        total += r.value.length;
      }
    } else if (!this.responseDone) {
      // The untraced loop, with reads inlined: `request()` spends its time here.
      const parser = this.parser;
      const timeout = this.request.extensions.timeout?.read;
      try {
        for (;;) {
          const event = parser.nextEvent();
          if (event.type === "data") {
            parts.push(event.data);
            total += event.data.length;
          } else if (event.type === "need-data") {
            const data = await this.stream.read(READ_NUM_BYTES, timeout);
            this.responseBytes += data.length;
            parser.receiveData(data);
          } else if (event.type === "end") break;
          else throw new RemoteProtocolError(`unexpected ${event.type} event in the response body`);
        }
      } catch (error) {
        return this.#fail(error);
      }
      this.responseDone = true;
    }
    await this.aclose();
    return concat(parts, total);
  }

  async #fail(error: unknown): Promise<never> {
    const failure = this.failure(error, false);
    if (this.trace) await this.trace("http11.receive_response_body.failed", { exception: failure });
    await this.aclose();
    throw failure;
  }

  /** Releases the connection (kept alive only if the exchange completed cleanly). Idempotent. */
  aclose(): Promise<void> {
    if (this.#closed) return RESOLVED;
    this.#closed = true;
    const trace = this.trace;
    if (trace === undefined) return this.onClosed(this);
    return (async () => {
      await trace("http11.response_closed.started", {});
      await this.onClosed(this);
      await trace("http11.response_closed.complete", { return_value: null });
    })();
  }

  /** Maps an error of the exchange to what the caller should see. */
  failure(error: unknown, reused: boolean): unknown {
    if (this.aborted) return abortReason(this.request.signal as AbortSignal);
    // A kept-alive connection the server closed while idle fails before any response byte.
    if (
      reused &&
      this.responseBytes === 0 &&
      (error instanceof NetworkError || error instanceof RemoteProtocolError)
    ) {
      return new StaleConnection(withOrigin(error, this.origin));
    }
    return withOrigin(error, this.origin);
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
