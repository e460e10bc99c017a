/**
 * One HTTP/2 connection over a network stream: drives the sans-IO {@link H2ClientSession} and
 * multiplexes many requests over it (httpcore's `AsyncHTTP2Connection`).
 *
 * - **One reader per connection**: whichever request needs bytes (a response head, body data, or
 *   send window) starts the connection's single read loop; it dispatches every frame to its
 *   stream and stops when nobody waits. Reading on demand keeps TCP backpressure and lets each
 *   read carry a timeout (the soonest deadline among the waiting streams): no timers. A waiter
 *   whose deadline is sooner than that of the read already pending is checked when it returns.
 * - **Writes are serialised** through one queue; frames queued by several streams go out in one
 *   write.
 * - **Flow control**: body data is sent within the peer's windows (RFC 9113 §6.9); received data
 *   is credited back only as the application consumes it, so a slow reader slows the server down
 *   instead of growing our buffers (at most the connection window, 16 MiB + 64 KiB, per
 *   connection, 1 MiB per stream).
 * - **Failures stay local when they can**: RST_STREAM or a malformed response fails one stream;
 *   cancelling a request resets only its stream; GOAWAY fails the streams the server did not
 *   process with {@link ConnectionNotAvailable} so the pool retries them elsewhere; a network or
 *   protocol error of the connection fails every stream on it.
 * @module
 */
import type { AsyncNetworkStream } from "../backends/base.js";
import { checkChunk } from "../body.js";
import {
  abortReason,
  ConnectionNotAvailable,
  LocalProtocolError,
  NetworkError,
  ReadError,
  ReadTimeout,
  RemoteProtocolError,
  UnsupportedProtocol,
} from "../errors.js";
import { type H2Error, H2ErrorCode, h2ErrorName } from "../h2/errors.js";
import type { HeaderField } from "../h2/hpack.js";
import { H2ClientSession, type H2Event } from "../h2/session.js";
import type { HeaderList } from "../h11/types.js";
import { concat, type Request, Response, type ResponseByteStream } from "../models.js";
import { traced } from "../trace.js";
import type { Origin } from "../url.js";
import { onAbort, raceAbort } from "./abort.js";
import { now } from "./clock.js";
import {
  type ConnectionFacts,
  connectionInfo,
  connectionRepr,
  connectionSnapshot,
} from "./describe.js";
import { withOrigin } from "./http11-exchange.js";
import type { AsyncConnectionInterface, ConnectionSnapshot } from "./interfaces.js";
import { StaleConnection } from "./stale.js";

/** Bytes asked of the network per read. */
const READ_NUM_BYTES = 64 * 1024;
/** Our stream limit, SETTINGS_MAX_CONCURRENT_STREAMS as httpcore sets it (the h2 library's default). */
const LOCAL_MAX_STREAMS = 100;
/** Largest piece of a request body queued at once (keeps writes and memory bounded). */
const MAX_SEND_CHUNK = 256 * 1024;
const EMPTY = new Uint8Array(0);

type H2State = "ACTIVE" | "IDLE" | "CLOSED";

/** Options of {@link AsyncHTTP2Connection}. */
export interface HTTP2Options {
  /** Seconds an idle connection may live; null = no expiry. */
  keepaliveExpiry?: number | null;
  /**
   * Bound on a response header list, announced as SETTINGS_MAX_HEADER_LIST_SIZE (default 65536,
   * like httpcore). A larger one fails its request with RemoteProtocolError.
   */
  maxHeaderListSize?: number;
  /** Receive window per stream, SETTINGS_INITIAL_WINDOW_SIZE (default 1 MiB). */
  initialWindowSize?: number;
  /** Receive window of the whole connection (default 2^24 + 65535, as httpcore). */
  connectionWindowSize?: number;
}

/** One request on the connection. */
class Exchange {
  streamId = 0;
  head: { status: number; headers: HeaderList } | null = null;
  chunks: Uint8Array[] = [];
  /** Octets in `chunks`. */
  buffered = 0;
  /** END_STREAM (or trailers) received. */
  ended = false;
  trailers: HeaderList | null = null;
  /** Why the stream failed; set once. */
  error: unknown = null;
  aborted = false;
  /** The one pending wait of this exchange (head, data or window). */
  wake: (() => void) | null = null;
  waitStart = 0;
  /** The server stopped our upload (RST_STREAM NO_ERROR after a complete response, §8.1). */
  stopSending = false;
  /** A frame for this stream arrived (so the server saw it). */
  gotFrames = false;
  /** A one-shot body has started to be consumed: the request can no longer be replayed. */
  bodyStarted = false;
  /** The connection had served requests and was idle when this one started. */
  reused = false;
  /** Holds a stream slot it has not used yet. */
  opening = false;
  closed = false;
  detachAbort: () => void = noop;
  readonly readTimeout: number | null;
  readonly writeTimeout: number | null;

  constructor(readonly request: Request) {
    this.readTimeout = request.extensions.timeout?.read ?? null;
    this.writeTimeout = request.extensions.timeout?.write ?? null;
  }
}

/** An HTTP/2 connection (httpcore's `AsyncHTTP2Connection`). */
export class AsyncHTTP2Connection implements AsyncConnectionInterface {
  readonly origin: Origin;
  /** Set by the pool: called when the connection can take more requests, or fewer. */
  onCapacityChange: (() => void) | null = null;
  readonly #stream: AsyncNetworkStream;
  readonly #session: H2ClientSession;
  readonly #keepaliveExpiry: number | null;
  /** As httpcore: IDLE until the first request, then ACTIVE/IDLE, CLOSED at the end (no NEW). */
  #state: H2State = "IDLE";
  #requestCount = 0;
  #expireAt: number | null = null;
  #initialized = false;
  readonly #exchanges = new Set<Exchange>();
  readonly #byStream = new Map<number, Exchange>();
  /** Exchanges waiting for bytes: the read loop runs while there are any. */
  readonly #waiters = new Set<Exchange>();
  /** Requests waiting for a stream slot (the peer's limit was lowered under the pool). */
  #slotWaiters: (() => void)[] = [];
  #reading = false;
  /** Requests past the slot check that have not opened their stream yet. */
  #opening = 0;
  /** Write queue: every write chains on the previous one. */
  #writing: Promise<void> = Promise.resolve();
  /** The connection failed (network, protocol) or was closed: every later use fails with this. */
  #broken: unknown = null;
  #goaway: { lastStreamId: number; errorCode: number; debug: string } | null = null;
  /** Stream limit: 1 until the server's first SETTINGS, then min(its limit, 100) (httpcore). */
  #maxStreams = 1;
  /** Nothing arrived since the connection went idle: it may have died meanwhile. */
  #quietSinceIdle = false;

  constructor(origin: Origin, stream: AsyncNetworkStream, options: HTTP2Options = {}) {
    this.origin = origin;
    this.#stream = stream;
    this.#keepaliveExpiry = options.keepaliveExpiry ?? null;
    this.#session = new H2ClientSession({
      maxHeaderListSize: options.maxHeaderListSize ?? 65536,
      maxConcurrentStreams: LOCAL_MAX_STREAMS,
      ...(options.initialWindowSize !== undefined && {
        initialWindowSize: options.initialWindowSize,
      }),
      ...(options.connectionWindowSize !== undefined && {
        connectionWindowSize: options.connectionWindowSize,
      }),
    });
  }

  /** Sends `request` on a new stream and returns once its response head has arrived. */
  async handleAsyncRequest(request: Request): Promise<Response> {
    if (!this.canHandleRequest(request.url.origin)) {
      throw new Error(
        `Attempted to send request to ${request.url.origin} on connection to ${this.origin}`,
      );
    }
    if (!this.isAvailable()) throw new ConnectionNotAvailable();
    const exchange = new Exchange(request);
    exchange.reused = this.#quietSinceIdle;
    this.#state = "ACTIVE";
    this.#requestCount++;
    this.#expireAt = null;
    this.#exchanges.add(exchange);
    exchange.detachAbort = onAbort(request.signal, () => this.#abort(exchange));
    const trace = request.extensions.trace;
    try {
      if (exchange.aborted) throw exchange.error;
      if (!this.#initialized) {
        this.#initialized = true;
        this.#session.initiate();
        await traced(trace, "http2.send_connection_init", { request }, () =>
          this.#flushFor(exchange),
        );
      }
      await this.#acquireSlot(exchange);
      await traced(trace, "http2.send_request_headers", { request, stream_id: 0 }, () =>
        this.#sendHeaders(exchange),
      );
      await traced(
        trace,
        "http2.send_request_body",
        { request, stream_id: exchange.streamId },
        () => this.#sendBody(exchange),
      );
      const head = await traced(
        trace,
        "http2.receive_response_headers",
        { request, stream_id: exchange.streamId },
        async () => {
          const h = await this.#receiveHead(exchange);
          return [h.status, h.headers] as const;
        },
      );
      return new Response(head[0], {
        headers: head[1],
        stream: this.#bodyStream(exchange),
        extensions: { httpVersion: "HTTP/2", reasonPhrase: "", streamId: exchange.streamId },
      });
    } catch (error) {
      const failure = this.#failure(exchange, error);
      // Refused (GOAWAY, REFUSED_STREAM): it never ran here and will run elsewhere (httpcore).
      if (failure instanceof ConnectionNotAvailable) this.#requestCount--;
      await traced(trace, "http2.response_closed", { stream_id: exchange.streamId }, () =>
        this.#responseClosed(exchange),
      );
      throw failure;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  async #acquireSlot(exchange: Exchange): Promise<void> {
    // The pool keeps within maxConcurrentRequests(); this only waits if the server lowered its
    // SETTINGS_MAX_CONCURRENT_STREAMS below the streams in flight (httpx2#1216's deadlock spot:
    // here the reader runs independently, so the wait always ends).
    while (this.#session.openStreams + this.#opening >= this.#maxStreams) {
      this.#checkUsable(exchange);
      await new Promise<void>((resolve) => {
        this.#slotWaiters.push(resolve);
        exchange.wake = resolve;
        this.#pumpReader();
      });
      exchange.wake = null;
    }
    this.#checkUsable(exchange);
    // Held until the stream is open: concurrent requests must not pass the same check.
    this.#opening++;
    exchange.opening = true;
  }

  #openingDone(exchange: Exchange): void {
    if (!exchange.opening) return;
    exchange.opening = false;
    this.#opening--;
  }

  #checkUsable(exchange: Exchange): void {
    if (exchange.error !== null) throw exchange.error;
    if (this.#broken !== null) throw this.#broken;
    if (!this.#session.canOpenStream) throw new ConnectionNotAvailable();
  }

  async #sendHeaders(exchange: Exchange): Promise<void> {
    const request = exchange.request;
    const body = request.body;
    const endStream = body === null || (body.kind === "bytes" && body.bytes.length === 0);
    try {
      const fields = requestFields(request);
      exchange.streamId = this.#session.openStream(fields, endStream, request.method === "HEAD");
    } catch (error) {
      if (error instanceof LocalProtocolError && !this.#session.canOpenStream) {
        throw new ConnectionNotAvailable();
      }
      throw error;
    } finally {
      this.#openingDone(exchange);
    }
    this.#byStream.set(exchange.streamId, exchange);
    await this.#flushFor(exchange);
  }

  async #sendBody(exchange: Exchange): Promise<void> {
    const request = exchange.request;
    const body = request.body;
    if (body === null) return;
    if (body.kind === "bytes") {
      if (body.bytes.length > 0) await this.#sendChunk(exchange, body.bytes, true);
      return;
    }
    const framing = request.wire.framing;
    let sent = 0;
    for await (const item of body.stream) {
      exchange.bodyStarted = true;
      const chunk = checkChunk(item);
      if (chunk.length === 0) continue;
      sent += chunk.length;
      if (framing.kind === "length" && sent > framing.length) {
        throw new LocalProtocolError(
          `Too much data for declared Content-Length: the body exceeded ${framing.length} bytes.`,
        );
      }
      await this.#sendChunk(exchange, chunk, false);
      if (exchange.stopSending) return;
    }
    exchange.bodyStarted = true;
    if (framing.kind === "length" && sent !== framing.length) {
      throw new LocalProtocolError(
        `Too little data for declared Content-Length: sent ${sent} of ${framing.length} bytes.`,
      );
    }
    // Without a known length the end is only known now: an empty DATA frame carries END_STREAM
    // (httpcore sends no body at all without a content-length; this does).
    await this.#sendChunk(exchange, EMPTY, true);
  }

  /** Sends `data` (then END_STREAM if `end`) as the peer's windows allow. */
  async #sendChunk(exchange: Exchange, data: Uint8Array, end: boolean): Promise<void> {
    const id = exchange.streamId;
    let offset = 0;
    for (;;) {
      if (exchange.error !== null) throw exchange.error;
      if (this.#broken !== null) throw this.#broken;
      if (exchange.stopSending || !this.#session.isOpen(id) || this.#session.isLocalClosed(id)) {
        // Reset by the server after a complete response (RST_STREAM NO_ERROR, §8.1): stop quietly.
        if (exchange.ended || exchange.stopSending) {
          exchange.stopSending = true;
          return;
        }
        throw new RemoteProtocolError(`HTTP/2 stream ${id} was closed while sending the body`);
      }
      const remaining = data.length - offset;
      const window = this.#session.sendWindow(id);
      if (remaining > 0 && window === 0) {
        if (exchange.ended) {
          // The whole response is here and the server stopped reading: stop sending (§8.1).
          exchange.stopSending = true;
          this.#session.resetStream(id, H2ErrorCode.CANCEL);
          this.#flushSoon();
          return;
        }
        await this.#wait(exchange);
        continue;
      }
      const n = Math.min(remaining, window, MAX_SEND_CHUNK);
      const last = end && offset + n === data.length;
      this.#session.sendData(
        id,
        n === data.length ? data : data.subarray(offset, offset + n),
        last,
      );
      offset += n;
      await this.#flushFor(exchange);
      if (offset === data.length) return;
    }
  }

  /** Writes what the session queued; rejects if the connection fails or the request aborts. */
  #flushFor(exchange: Exchange): Promise<void> {
    const written = this.#flush(exchange.writeTimeout);
    return exchange.request.signal ? raceAbort(written, exchange.request.signal) : written;
  }

  #flush(timeout: number | null): Promise<void> {
    // Chained: the callback takes everything queued by then, so concurrent flushes coalesce.
    this.#writing = this.#writing.then(async () => {
      if (this.#broken !== null) return;
      const data = this.#session.dataToSend();
      if (data === null) return;
      try {
        await this.#stream.write(data, timeout);
      } catch (error) {
        this.#connectionLost(error);
      }
    });
    return this.#writing.then(() => {
      if (this.#broken !== null) throw this.#broken;
    });
  }

  /** Flushes in the background (ACKs, WINDOW_UPDATEs, RST_STREAMs); failures fail the connection. */
  #flushSoon(): void {
    if (this.#session.pendingOutput > 0) this.#flush(null).catch(noop);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  async #receiveHead(exchange: Exchange): Promise<{ status: number; headers: HeaderList }> {
    for (;;) {
      if (exchange.head !== null) return exchange.head;
      if (exchange.error !== null) throw exchange.error;
      if (this.#broken !== null) throw this.#broken;
      await this.#wait(exchange);
    }
  }

  /** Waits until something happens to `exchange` (it is woken by the read loop or a failure). */
  #wait(exchange: Exchange): Promise<void> {
    return new Promise<void>((resolve) => {
      exchange.wake = resolve;
      exchange.waitStart = now();
      this.#waiters.add(exchange);
      this.#pumpReader();
    });
  }

  #notify(exchange: Exchange): void {
    const wake = exchange.wake;
    if (wake === null) return;
    exchange.wake = null;
    this.#waiters.delete(exchange);
    wake();
  }

  /** Starts the read loop unless it runs. */
  #pumpReader(): void {
    if (this.#reading || this.#broken !== null) return;
    this.#reading = true;
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    try {
      while (this.#broken === null && this.#needsRead()) {
        const timeout = this.#readTimeout();
        if (timeout !== null && timeout <= 0) {
          this.#expireWaiters();
          continue;
        }
        let data: Uint8Array;
        try {
          data = await this.#stream.read(READ_NUM_BYTES, timeout);
        } catch (error) {
          if (error instanceof ReadTimeout && this.#broken === null) {
            this.#expireWaiters();
            continue;
          }
          throw error;
        }
        if (data.length === 0) {
          const goaway = this.#goaway;
          this.#connectionLost(
            new RemoteProtocolError(
              goaway !== null && goaway.errorCode !== H2ErrorCode.NO_ERROR
                ? `Server disconnected after GOAWAY ${h2ErrorName(goaway.errorCode)}${goaway.debug ? `: ${goaway.debug}` : ""}`
                : "Server disconnected",
            ),
          );
          return;
        }
        this.#onBytes(data);
      }
    } catch (error) {
      this.#connectionLost(error);
    } finally {
      this.#reading = false;
    }
    // Someone may have started waiting just as the loop decided to stop.
    if (this.#broken === null && this.#needsRead()) this.#pumpReader();
  }

  /** Reads are needed while a request waits for bytes, or to drain an idle connection. */
  #needsRead(): boolean {
    if (this.#waiters.size > 0 || this.#slotWaiters.length > 0) return true;
    // Idle: take in what the server sent meanwhile (a GOAWAY, a PING, its EOF) without blocking.
    return (
      this.#initialized &&
      this.#exchanges.size === 0 &&
      this.#stream.getExtraInfo("is_readable") === true
    );
  }

  /** The read timeout: the soonest deadline among waiting streams (seconds left), or none. */
  #readTimeout(): number | null {
    if (this.#waiters.size === 0) return null;
    const t = now();
    let soonest: number | null = null;
    for (const ex of this.#waiters) {
      if (ex.readTimeout === null) continue;
      const left = ex.waitStart + ex.readTimeout - t;
      if (soonest === null || left < soonest) soonest = left;
    }
    return soonest;
  }

  /** Fails, with ReadTimeout, the waiting streams whose deadline passed; resets their streams. */
  #expireWaiters(): void {
    const t = now() + 0.001;
    for (const ex of [...this.#waiters]) {
      if (ex.readTimeout === null || ex.waitStart + ex.readTimeout > t) continue;
      this.#failExchange(
        ex,
        new ReadTimeout(
          `timed out reading from ${this.origin} after ${ex.readTimeout}s (HTTP/2 stream ${ex.streamId})`,
        ),
      );
    }
    this.#flushSoon();
  }

  /** Fails one exchange and resets its stream; the connection carries on. */
  #failExchange(exchange: Exchange, error: unknown): void {
    if (exchange.error === null) exchange.error = error;
    if (exchange.streamId !== 0 && this.#session.isOpen(exchange.streamId)) {
      this.#session.resetStream(exchange.streamId, H2ErrorCode.CANCEL);
    }
    this.#notify(exchange);
    this.#wakeSlotWaiters();
  }

  #onBytes(data: Uint8Array): void {
    this.#quietSinceIdle = false;
    const before = this.#capacity();
    const events = this.#session.receive(data);
    for (const event of events) this.#dispatch(event);
    this.#flushSoon();
    this.#wakeSlotWaiters();
    if (this.#capacity() !== before) this.onCapacityChange?.();
  }

  #dispatch(event: H2Event): void {
    switch (event.type) {
      case "settings":
        this.#maxStreams = Math.min(
          this.#session.remoteSettings.maxConcurrentStreams,
          LOCAL_MAX_STREAMS,
        );
        return;
      case "response": {
        const ex = this.#byStream.get(event.streamId);
        if (ex === undefined) return;
        ex.gotFrames = true;
        ex.head = { status: event.status, headers: event.headers };
        if (event.endStream) ex.ended = true;
        this.#notify(ex);
        return;
      }
      case "informational": {
        const ex = this.#byStream.get(event.streamId);
        if (ex !== undefined) ex.gotFrames = true;
        return;
      }
      case "data": {
        const ex = this.#byStream.get(event.streamId);
        if (ex === undefined || ex.closed) {
          this.#session.consumed(event.streamId, event.data.length);
          return;
        }
        ex.gotFrames = true;
        if (event.data.length > 0) {
          ex.chunks.push(event.data);
          ex.buffered += event.data.length;
        }
        if (event.endStream) ex.ended = true;
        this.#notify(ex);
        return;
      }
      case "trailers": {
        const ex = this.#byStream.get(event.streamId);
        if (ex === undefined) return;
        ex.trailers = event.headers;
        ex.ended = true;
        this.#notify(ex);
        return;
      }
      case "reset": {
        const ex = this.#byStream.get(event.streamId);
        if (ex === undefined) return;
        ex.gotFrames = true;
        if (event.errorCode === H2ErrorCode.NO_ERROR && (ex.ended || event.endsResponse)) {
          // "Stop sending, the response is complete" (§8.1): not an error. node's http2 server
          // also ends responses with RST_STREAM(NO_ERROR) instead of END_STREAM at times; with
          // the declared content-length received (or none declared) that is a complete response.
          ex.ended = true;
          ex.stopSending = true;
          this.#notify(ex);
          return;
        }
        if (event.errorCode === H2ErrorCode.REFUSED_STREAM && !ex.bodyStarted) {
          // §8.7: the server did not process the stream; another connection may.
          this.#failExchange(ex, new ConnectionNotAvailable("stream refused (REFUSED_STREAM)"));
          return;
        }
        this.#failExchange(
          ex,
          new RemoteProtocolError(
            `HTTP/2 stream ${event.streamId} was reset by the server: ${h2ErrorName(event.errorCode)} (0x${event.errorCode.toString(16)})`,
          ),
        );
        return;
      }
      case "stream-error": {
        const ex = this.#byStream.get(event.streamId);
        if (ex === undefined) return;
        ex.gotFrames = true;
        this.#failExchange(ex, publicError(event.error));
        return;
      }
      case "window": {
        // Every waiter re-checks what it waits for, so waking one too many is harmless.
        if (event.streamId === 0) {
          for (const ex of [...this.#waiters]) this.#notify(ex);
        } else {
          const ex = this.#byStream.get(event.streamId);
          if (ex !== undefined) this.#notify(ex);
        }
        return;
      }
      case "goaway":
        this.#onGoaway(event.lastStreamId, event.errorCode, event.debug);
        return;
      case "connection-error":
        this.#connectionLost(publicError(event.error));
        return;
      default:
        return; // settings-ack, ping-ack
    }
  }

  #onGoaway(lastStreamId: number, errorCode: number, debug: string): void {
    this.#goaway = { lastStreamId, errorCode, debug };
    for (const ex of this.#exchanges) {
      if (ex.streamId !== 0 && ex.streamId <= lastStreamId) continue;
      // Not processed by the server (§6.8): safe to send again elsewhere — unless a one-shot body
      // was already consumed, or the server contradicts itself by having answered on it.
      let error: unknown = new ConnectionNotAvailable("the server is going away (GOAWAY)");
      if (ex.gotFrames) {
        error = new RemoteProtocolError(
          `the server went away (GOAWAY, last stream ${lastStreamId}) in the middle of HTTP/2 stream ${ex.streamId}`,
        );
      } else if (ex.bodyStarted) {
        error = new RemoteProtocolError(
          `the server refused HTTP/2 stream ${ex.streamId} (GOAWAY) after part of its one-shot body was sent; it cannot be retried`,
        );
      }
      this.#failExchange(ex, error);
    }
    this.onCapacityChange?.();
    if (this.#exchanges.size === 0) void this.aclose();
  }

  /** The connection is unusable: fail every stream still expecting something, close the socket. */
  #connectionLost(error: unknown, closeStream = true): void {
    if (this.#broken !== null) return;
    this.#broken = error;
    this.#state = "CLOSED";
    this.#expireAt = null;
    if (closeStream) {
      // A failed session queued a GOAWAY: try to send it before closing (best effort).
      const goaway = this.#session.error !== null ? this.#session.dataToSend() : null;
      const stream = this.#stream;
      const written = goaway === null ? Promise.resolve() : stream.write(goaway, 1).catch(noop);
      void written.then(() => stream.aclose());
    }
    for (const ex of this.#exchanges) {
      // A response received in full can still be read from our buffers.
      if (!ex.ended || ex.head === null) {
        if (ex.error === null) ex.error = error;
      }
      this.#notify(ex);
    }
    this.#wakeSlotWaiters();
    this.onCapacityChange?.();
  }

  #bodyStream(exchange: Exchange): ResponseByteStream {
    const trace = exchange.request.extensions.trace;
    const request = exchange.request;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await traced(trace, "http2.response_closed", { stream_id: exchange.streamId }, () =>
        this.#responseClosed(exchange),
      );
    };
    const fail = async (error: unknown): Promise<never> => {
      const failure = this.#failure(exchange, error);
      if (trace) await trace("http2.receive_response_body.failed", { exception: failure });
      await close();
      throw failure;
    };
    let started = false;
    let finished = false;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      if (finished) return DONE;
      if (!started) {
        started = true;
        if (trace) {
          await trace("http2.receive_response_body.started", {
            request,
            stream_id: exchange.streamId,
          });
        }
      }
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#nextChunk(exchange);
      } catch (error) {
        return fail(error);
      }
      if (chunk !== null) return { value: chunk, done: false };
      finished = true;
      if (trace) await trace("http2.receive_response_body.complete", { return_value: null });
      return DONE;
    };
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next,
      [Symbol.asyncIterator]: () => iterator,
    };
    const stream: ResponseByteStream = { [Symbol.asyncIterator]: () => iterator, aclose: close };
    if (trace === undefined) {
      stream.readAll = async () => {
        const parts: Uint8Array[] = [];
        let total = 0;
        try {
          for (;;) {
            const chunk = await this.#nextChunk(exchange);
            if (chunk === null) break;
            parts.push(chunk);
            total += chunk.length;
          }
        } catch (error) {
          return fail(error);
        }
        await close();
        return concat(parts, total);
      };
    }
    return stream;
  }

  /** The next piece of the body, waiting as needed; null at its end. */
  async #nextChunk(exchange: Exchange): Promise<Uint8Array | null> {
    for (;;) {
      const chunk = exchange.chunks.shift();
      if (chunk !== undefined) {
        exchange.buffered -= chunk.length;
        // Consumed: give the window back (a WINDOW_UPDATE once half a window is owed).
        this.#session.consumed(exchange.streamId, chunk.length);
        this.#flushSoon();
        return chunk;
      }
      if (exchange.error !== null) throw exchange.error;
      if (exchange.ended) return null;
      if (this.#broken !== null) throw this.#broken;
      await this.#wait(exchange);
    }
  }

  /** Maps an error of the exchange to what the caller should see. */
  #failure(exchange: Exchange, error: unknown): unknown {
    if (exchange.aborted) return abortReason(exchange.request.signal as AbortSignal);
    if (error instanceof ConnectionNotAvailable) return error;
    // A kept-alive connection the server had closed while idle: nothing came back for this stream.
    if (
      exchange.reused &&
      !exchange.gotFrames &&
      error === this.#broken &&
      (error instanceof NetworkError || error instanceof RemoteProtocolError)
    ) {
      return new StaleConnection(withOrigin(error, this.origin));
    }
    return withOrigin(error, this.origin);
  }

  async #responseClosed(exchange: Exchange): Promise<void> {
    if (exchange.closed) return;
    exchange.closed = true;
    exchange.detachAbort();
    this.#openingDone(exchange);
    this.#waiters.delete(exchange);
    exchange.wake = null;
    const id = exchange.streamId;
    if (id !== 0) {
      // Closed before the exchange completed both ways (early aclose, error, abort): cancel it so
      // the server stops sending (RST_STREAM CANCEL); the other streams are untouched.
      if (this.#session.isOpen(id)) this.#session.resetStream(id, H2ErrorCode.CANCEL);
      // Unread data returns to the connection window.
      if (exchange.buffered > 0) this.#session.consumed(id, exchange.buffered);
      exchange.chunks = [];
      exchange.buffered = 0;
      this.#byStream.delete(id);
      this.#flushSoon();
    }
    this.#exchanges.delete(exchange);
    this.#wakeSlotWaiters();
    if (this.#exchanges.size > 0 || this.#state === "CLOSED") return;
    if (this.#broken !== null || this.#goaway !== null || !this.#session.canOpenStream) {
      await this.aclose();
      return;
    }
    this.#state = "IDLE";
    this.#quietSinceIdle = true;
    if (this.#keepaliveExpiry !== null) this.#expireAt = now() + this.#keepaliveExpiry;
  }

  #abort(exchange: Exchange): void {
    if (exchange.closed) return;
    exchange.aborted = true;
    this.#failExchange(exchange, abortReason(exchange.request.signal as AbortSignal));
    this.#flushSoon();
  }

  #wakeSlotWaiters(): void {
    if (this.#slotWaiters.length === 0) return;
    const waiters = this.#slotWaiters;
    this.#slotWaiters = [];
    for (const wake of waiters) wake();
  }

  /** What the pool may assign: changes trigger `onCapacityChange`. */
  #capacity(): number {
    return this.isAvailable() ? this.#maxStreams : -1;
  }

  // ---------------------------------------------------------------------------------------------
  // The pool's view

  /** True for requests to this connection's origin only. */
  canHandleRequest(origin: Origin): boolean {
    return origin.equals(this.origin);
  }

  /** Can take new streams: not closed, no GOAWAY, stream ids left (httpcore's `is_available`). */
  isAvailable(): boolean {
    return (
      this.#state !== "CLOSED" &&
      this.#broken === null &&
      this.#session.canOpenStream &&
      this.#maxStreams > 0
    );
  }

  /** How many requests it carries at once: 1 until the server's SETTINGS, then min(its limit, 100). */
  maxConcurrentRequests(): number {
    return this.#maxStreams;
  }

  /** True while it can take more streams: the pool queues requests for it rather than dialling. */
  mayMultiplex(): boolean {
    return this.isAvailable();
  }

  /** Idle past its keep-alive expiry (it also takes in, without blocking, what arrived while idle). */
  hasExpired(): boolean {
    if (this.#state !== "IDLE") return false;
    if (this.#expireAt !== null && now() >= this.#expireAt) return true;
    // Something arrived while idle (GOAWAY, PING, EOF): read it now, without blocking.
    if (this.#initialized && !this.#reading && this.#stream.getExtraInfo("is_readable") === true) {
      this.#pumpReader();
    }
    return false;
  }

  /** No stream in flight. */
  isIdle(): boolean {
    return this.#state === "IDLE";
  }

  /** Closed, by either side or after an error; never usable again. */
  isClosed(): boolean {
    return this.#state === "CLOSED";
  }

  /** When its keep-alive runs out while idle, in monotonic seconds; null if never. */
  expiresAt(): number | null {
    return this.#state === "IDLE" ? this.#expireAt : null;
  }

  /** The underlying network stream. */
  get stream(): AsyncNetworkStream {
    return this.#stream;
  }

  /** Streams open on the wire now (open or half-closed). */
  get openStreams(): number {
    return this.#session.openStreams;
  }

  /**
   * The sans-IO protocol state (settings in force, windows...), for inspection.
   * @internal
   */
  get session(): H2ClientSession {
    return this.#session;
  }

  #facts(): ConnectionFacts {
    return {
      kind: "AsyncHTTP2Connection",
      origin: this.origin,
      httpVersion: "HTTP/2",
      state: this.#state,
      requestCount: this.#requestCount,
    };
  }

  /** `'https://example.com:443', HTTP/2, IDLE, Request Count: 1` */
  info(): string {
    return connectionInfo(this.#facts());
  }

  /** A plain snapshot for UIs and logs. */
  toJSON(): ConnectionSnapshot {
    return connectionSnapshot(this.#facts());
  }

  /** `<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 1]>` */
  toString(): string {
    return connectionRepr(this.#facts());
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * Closes the connection: GOAWAY (NO_ERROR) to the server, then the socket. Streams still in
   * flight fail with ReadError; responses already received in full stay readable.
   */
  async aclose(): Promise<void> {
    if (this.#broken !== null) {
      this.#state = "CLOSED";
      await this.#stream.aclose();
      return;
    }
    const graceful = this.#initialized && this.#session.error === null;
    if (graceful) this.#session.goAway(H2ErrorCode.NO_ERROR);
    const goaway = graceful ? this.#session.dataToSend() : null;
    this.#connectionLost(
      new ReadError(`could not read from ${this.origin}: the connection was closed`),
      false,
    );
    // Tell the server (best effort, bounded by a 1 s write timeout), then close the socket.
    if (goaway !== null) await this.#stream.write(goaway, 1).catch(noop);
    await this.#stream.aclose();
  }
}

/** Header fields that are connection-specific, never sent in HTTP/2 (RFC 9113 §8.2.2). */
const DROPPED = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * A request's HTTP/2 header list (RFC 9113 §8.3.1): `:method`, `:scheme`, `:authority` (from
 * `Host`), `:path`, then the other fields with lower-case names, connection-specific ones removed
 * and `te` kept only as `trailers`.
 */
export function requestFields(request: Request): HeaderField[] {
  if (request.method === "CONNECT") {
    throw new UnsupportedProtocol("CONNECT requests over HTTP/2 are not supported");
  }
  let authority = request.url.authority;
  const regular: HeaderField[] = [];
  for (const [name, value] of request.wire.headers) {
    const lower = name.toLowerCase();
    if (lower === "host") {
      authority = value;
      continue;
    }
    if (DROPPED.has(lower)) continue;
    if (lower === "te") {
      // §8.2.2: TE may only carry "trailers".
      if (value.split(",").some((t) => t.trim().toLowerCase() === "trailers")) {
        regular.push(["te", "trailers"]);
      }
      continue;
    }
    regular.push([lower, value]);
  }
  return [
    [":method", request.method],
    [":scheme", request.url.scheme === "https" || request.url.scheme === "wss" ? "https" : "http"],
    [":authority", authority],
    [":path", request.target],
    ...regular,
  ];
}

/** The error users see for a protocol violation: a plain RemoteProtocolError with its message. */
function publicError(error: H2Error): RemoteProtocolError {
  return new RemoteProtocolError(error.message, { cause: error });
}

function noop(): void {}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
