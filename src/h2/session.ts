/**
 * The client side of one HTTP/2 connection as a sans-IO state machine (RFC 9113): bytes in →
 * events out ({@link H2ClientSession.receive}), requests and body data in → bytes out
 * ({@link H2ClientSession.dataToSend}). It keeps the stream states (§5.1), both directions of
 * flow control (§5.2, §6.9), the peer's settings (§6.5) and the two HPACK contexts; it never
 * touches a socket or a timer.
 *
 * Anything the peer gets wrong becomes an {@link H2Error}: a connection error queues GOAWAY and
 * ends the session (a `connection-error` event), a stream error queues RST_STREAM for that
 * stream only (a `stream-error` event).
 * @module
 */
import { LocalProtocolError } from "../errors.js";
import { BYTE_CLASS, FIELD, isToken } from "../h11/chars.js";
import { H2Error, H2ErrorCode } from "./errors.js";
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  encodeData,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  type Frame,
  FrameReader,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  SettingId,
} from "./frames.js";
import {
  DEFAULT_HEADER_TABLE_SIZE,
  type HeaderField,
  HpackDecoder,
  HpackEncoder,
} from "./hpack.js";

/** Options of {@link H2ClientSession}: the local settings we announce and the windows we grant. */
export interface H2SessionOptions {
  /** SETTINGS_MAX_HEADER_LIST_SIZE: bound on a decoded response header list (default 65536). */
  maxHeaderListSize?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS we announce (default 100; we accept no pushed streams anyway). */
  maxConcurrentStreams?: number;
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE: how much of each response body the server may send ahead of the
   * application reading it (default 1 MiB).
   */
  initialWindowSize?: number;
  /**
   * The connection receive window: the most unread body data of all streams together the server
   * may send (default 2^24 + 65535, httpcore's `increment_flow_control_window(2**24)`).
   */
  connectionWindowSize?: number;
}

/** The peer's settings in force (RFC 9113 §6.5.2 initial values until it says otherwise). */
export interface RemoteSettings {
  headerTableSize: number;
  enablePush: boolean;
  /** `Infinity` until the peer sets a limit. */
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  /** `Infinity` until the peer sets a limit (advisory, §6.5.2). */
  maxHeaderListSize: number;
}

/** What {@link H2ClientSession.receive} reports. */
export type H2Event =
  /** The peer's SETTINGS were applied (and acknowledged); `first` for its connection preface. */
  | { type: "settings"; first: boolean }
  /** The peer acknowledged our SETTINGS. */
  | { type: "settings-ack" }
  /** A 1xx response other than 101 (e.g. 100 Continue, 103 Early Hints); a final one follows. */
  | { type: "informational"; streamId: number; status: number; headers: HeaderField[] }
  /** The final response head: names lower-case, pseudo-header fields removed. */
  | {
      type: "response";
      streamId: number;
      status: number;
      headers: HeaderField[];
      endStream: boolean;
    }
  /** Body data (possibly empty when it only carries END_STREAM). */
  | { type: "data"; streamId: number; data: Uint8Array; endStream: boolean }
  /** Trailer fields; they end the stream. */
  | { type: "trailers"; streamId: number; headers: HeaderField[] }
  /**
   * The peer reset the stream (RST_STREAM); it is closed. `endsResponse`: it was NO_ERROR after
   * the response head with the whole declared content-length (or none declared) received — node's
   * http2 server ends responses this way instead of END_STREAM when it closes a stream early.
   */
  | { type: "reset"; streamId: number; errorCode: number; endsResponse: boolean }
  /** The peer broke the protocol on one stream: we reset it; it is closed. */
  | { type: "stream-error"; streamId: number; error: H2Error }
  /** Send window grew: for `streamId`, or for every stream when 0. */
  | { type: "window"; streamId: number }
  | { type: "ping-ack"; opaque: Uint8Array }
  /**
   * The peer is going away: streams above `lastStreamId` were not processed and are now closed;
   * no new stream may be opened.
   */
  | { type: "goaway"; lastStreamId: number; errorCode: number; debug: string }
  /** The peer broke the protocol: GOAWAY is queued and the session is over. */
  | { type: "connection-error"; error: H2Error };

/** Defaults of {@link H2SessionOptions}. */
export const DEFAULT_SESSION_OPTIONS: Required<H2SessionOptions> = {
  maxHeaderListSize: 65536,
  maxConcurrentStreams: 100,
  initialWindowSize: 1024 * 1024,
  connectionWindowSize: 2 ** 24 + 65535,
};

/** RFC 9113 §6.9.2: the window every connection and stream starts with. */
const DEFAULT_WINDOW = 65535;
/** How many closed streams we remember, to tell late frames from protocol violations. */
const RECENTLY_CLOSED = 256;

interface StreamState {
  id: number;
  /** We sent END_STREAM. */
  localClosed: boolean;
  /** The peer sent END_STREAM. */
  remoteClosed: boolean;
  /** How much body we may still send (can go negative after a SETTINGS change, §6.9.2). */
  sendWindow: number;
  /** How much body the peer may still send. */
  recvWindow: number;
  /** Consumed by the application and not yet returned with WINDOW_UPDATE. */
  unacked: number;
  /** The final (non-1xx) response head arrived. */
  gotHead: boolean;
  /** The response has no content whatever it says (HEAD request, 204, 304). */
  noBody: boolean;
  /** Its content-length, or -1. */
  expectedLength: number;
  received: number;
}

/** How a stream we no longer track was closed. */
type Closed = "ended" | "reset";

interface HeaderBlock {
  streamId: number;
  endStream: boolean;
  selfDependent: boolean;
  parts: Uint8Array[];
  size: number;
}

/** Header fields that are connection-specific and malformed in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** latin1 text of a short byte string (GOAWAY debug data). */
function latin1Text(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

/**
 * One HTTP/2 client connection's protocol state. Call {@link initiate} once, then feed
 * {@link receive} with every byte read and write out {@link dataToSend} after each call.
 */
export class H2ClientSession {
  readonly #options: Required<H2SessionOptions>;
  readonly #reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  readonly #encoder = new HpackEncoder();
  readonly #decoder: HpackDecoder;
  readonly #streams = new Map<number, StreamState>();
  readonly #closed = new Map<number, Closed>();
  /** Body octets delivered in events and not yet consumed, per stream (outlives the stream). */
  readonly #unconsumed = new Map<number, number>();
  #outbound: Uint8Array[] = [];
  #outboundBytes = 0;
  #block: HeaderBlock | null = null;
  #nextStreamId = 1;
  #gotPreface = false;
  #pendingAcks = 0;
  #connSendWindow = DEFAULT_WINDOW;
  #connRecvWindow: number;
  #connUnacked = 0;
  #goaway: { lastStreamId: number; errorCode: number; debug: string } | null = null;
  #goawaySent = false;
  #error: H2Error | null = null;
  readonly #remote: RemoteSettings = {
    headerTableSize: DEFAULT_HEADER_TABLE_SIZE,
    enablePush: true,
    maxConcurrentStreams: Number.POSITIVE_INFINITY,
    initialWindowSize: DEFAULT_WINDOW,
    maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
    maxHeaderListSize: Number.POSITIVE_INFINITY,
  };

  constructor(options: H2SessionOptions = {}) {
    this.#options = { ...DEFAULT_SESSION_OPTIONS, ...options };
    const o = this.#options;
    if (!(o.initialWindowSize >= 1 && o.initialWindowSize <= MAX_WINDOW_SIZE)) {
      throw new RangeError(
        `initialWindowSize must be within 1..2^31-1, not ${o.initialWindowSize}`,
      );
    }
    if (!(o.connectionWindowSize >= DEFAULT_WINDOW && o.connectionWindowSize <= MAX_WINDOW_SIZE)) {
      throw new RangeError(
        `connectionWindowSize must be within 65535..2^31-1, not ${o.connectionWindowSize}`,
      );
    }
    this.#decoder = new HpackDecoder({ maxHeaderListSize: o.maxHeaderListSize });
    this.#connRecvWindow = DEFAULT_WINDOW;
  }

  /**
   * Queues the connection preface (§3.4): the magic octets, our SETTINGS (push disabled, stream
   * limit, header list limit, stream window) and a WINDOW_UPDATE raising the connection window.
   */
  initiate(): void {
    const o = this.#options;
    this.#queue(CONNECTION_PREFACE);
    this.#queue(
      encodeSettings([
        [SettingId.ENABLE_PUSH, 0],
        [SettingId.MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams],
        [SettingId.INITIAL_WINDOW_SIZE, o.initialWindowSize],
        [SettingId.MAX_HEADER_LIST_SIZE, o.maxHeaderListSize],
      ]),
    );
    this.#pendingAcks++;
    const raise = o.connectionWindowSize - DEFAULT_WINDOW;
    if (raise > 0) this.#queue(encodeWindowUpdate(0, raise));
    this.#connRecvWindow = o.connectionWindowSize;
  }

  // -------------------------------------------------------------------------------------------
  // State

  /** The peer's settings in force. */
  get remoteSettings(): Readonly<RemoteSettings> {
    return this.#remote;
  }

  /** True once the peer's first SETTINGS frame (its preface) arrived. */
  get receivedSettings(): boolean {
    return this.#gotPreface;
  }

  /** Streams open or half-closed: what counts against SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2). */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** The GOAWAY received, if any. */
  get goaway(): { lastStreamId: number; errorCode: number; debug: string } | null {
    return this.#goaway;
  }

  /** The connection error that ended the session, if any. */
  get error(): H2Error | null {
    return this.#error;
  }

  /** The id the next stream will get. */
  get nextStreamId(): number {
    return this.#nextStreamId;
  }

  /** A new stream may be opened: no GOAWAY either way, no error, ids left (§5.1.1). */
  get canOpenStream(): boolean {
    return (
      this.#error === null &&
      this.#goaway === null &&
      !this.#goawaySent &&
      this.#nextStreamId <= MAX_STREAM_ID
    );
  }

  /** True while `streamId` is open or half-closed. */
  isOpen(streamId: number): boolean {
    return this.#streams.has(streamId);
  }

  /** True once we sent END_STREAM (or the stream is closed). */
  isLocalClosed(streamId: number): boolean {
    return this.#streams.get(streamId)?.localClosed ?? true;
  }

  /** Octets of body that may be sent on `streamId` now (0 when closed or blocked). */
  sendWindow(streamId: number): number {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.localClosed || this.#error !== null) return 0;
    return Math.max(0, Math.min(this.#connSendWindow, stream.sendWindow));
  }

  /** Octets queued and not yet taken by {@link dataToSend}. */
  get pendingOutput(): number {
    return this.#outboundBytes;
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  /**
   * Opens a stream with a request head (pseudo-header fields first, names lower-case; see
   * `requestFields`) and returns its id. `endStream` when there is no body; `noBody` when the
   * response cannot have content (a HEAD request).
   * @throws {LocalProtocolError} the session cannot open streams, or the header list exceeds the
   *   peer's SETTINGS_MAX_HEADER_LIST_SIZE
   */
  openStream(headers: readonly HeaderField[], endStream: boolean, noBody = false): number {
    if (!this.canOpenStream) {
      throw new LocalProtocolError("this HTTP/2 connection cannot open new streams");
    }
    let size = 0;
    for (const [name, value] of headers) size += name.length + value.length + 32;
    if (size > this.#remote.maxHeaderListSize) {
      throw new LocalProtocolError(
        `request header list of ${size} octets exceeds the server's SETTINGS_MAX_HEADER_LIST_SIZE (${this.#remote.maxHeaderListSize})`,
      );
    }
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const block = this.#encoder.encode(headers);
    this.#queue(encodeHeaders(id, block, endStream, this.#remote.maxFrameSize));
    this.#streams.set(id, {
      id,
      localClosed: endStream,
      remoteClosed: false,
      sendWindow: this.#remote.initialWindowSize,
      recvWindow: this.#options.initialWindowSize,
      unacked: 0,
      gotHead: false,
      noBody,
      expectedLength: -1,
      received: 0,
    });
    return id;
  }

  /**
   * Queues body data: at most {@link sendWindow} octets, cut into DATA frames of the peer's
   * SETTINGS_MAX_FRAME_SIZE; `endStream` marks the last one.
   */
  sendData(streamId: number, data: Uint8Array, endStream: boolean): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.localClosed) {
      throw new LocalProtocolError(`stream ${streamId} is closed for sending`);
    }
    if (data.length > this.sendWindow(streamId)) {
      throw new LocalProtocolError(
        `${data.length} octets exceed the flow-control window of stream ${streamId}`,
      );
    }
    if (data.length === 0 && !endStream) return;
    stream.sendWindow -= data.length;
    this.#connSendWindow -= data.length;
    this.#queue(encodeData(streamId, data, endStream, this.#remote.maxFrameSize));
    if (endStream) {
      stream.localClosed = true;
      if (stream.remoteClosed) this.#forget(stream, "ended");
    }
  }

  /** Resets a stream (RST_STREAM, §6.4), e.g. CANCEL when the application gave up on it. */
  resetStream(streamId: number, errorCode: number = H2ErrorCode.CANCEL): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    if (this.#error === null) this.#queue(encodeRstStream(streamId, errorCode));
    this.#forget(stream, "reset");
  }

  /**
   * The application consumed `n` octets of `streamId`'s body: give them back to the peer. A
   * WINDOW_UPDATE goes out once half a window is owed, so a slow reader slows the sender down
   * instead of making us buffer without bound.
   */
  consumed(streamId: number, n: number): void {
    const owed = this.#unconsumed.get(streamId);
    if (owed === undefined || n <= 0) return;
    const amount = Math.min(n, owed);
    if (owed - amount === 0) this.#unconsumed.delete(streamId);
    else this.#unconsumed.set(streamId, owed - amount);
    this.#creditConnection(amount);
    const stream = this.#streams.get(streamId);
    if (stream !== undefined && !stream.remoteClosed) {
      stream.unacked += amount;
      if (stream.unacked >= this.#options.initialWindowSize / 2 && this.#error === null) {
        this.#queue(encodeWindowUpdate(streamId, stream.unacked));
        stream.recvWindow += stream.unacked;
        stream.unacked = 0;
      }
    }
  }

  /** Queues a PING (§6.7). */
  ping(opaque: Uint8Array): void {
    if (opaque.length !== 8) throw new RangeError("PING data must be 8 octets");
    if (this.#error === null) this.#queue(encodePing(opaque, false));
  }

  /** Queues GOAWAY (§6.8): no new streams either way. Streams in flight may finish. */
  goAway(errorCode: number = H2ErrorCode.NO_ERROR, debug = ""): void {
    if (this.#goawaySent) return;
    this.#goawaySent = true;
    // We never accept streams (push is off): the last peer-initiated stream processed is 0.
    this.#queue(
      encodeGoaway(
        0,
        errorCode,
        Uint8Array.from(debug, (c) => c.charCodeAt(0) & 0xff),
      ),
    );
  }

  /** Everything queued to send since the last call, as one array; null when nothing is. */
  dataToSend(): Uint8Array | null {
    const chunks = this.#outbound;
    if (chunks.length === 0) return null;
    this.#outbound = [];
    const total = this.#outboundBytes;
    this.#outboundBytes = 0;
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  #queue(bytes: Uint8Array): void {
    this.#outbound.push(bytes);
    this.#outboundBytes += bytes.length;
  }

  #creditConnection(amount: number): void {
    if (amount <= 0) return;
    this.#connUnacked += amount;
    if (this.#connUnacked >= this.#options.connectionWindowSize / 2 && this.#error === null) {
      this.#queue(encodeWindowUpdate(0, this.#connUnacked));
      this.#connRecvWindow += this.#connUnacked;
      this.#connUnacked = 0;
    }
  }

  /** Stops tracking a stream, returning whatever body it still held to the connection window. */
  #forget(stream: StreamState, how: Closed): void {
    this.#streams.delete(stream.id);
    if (how === "reset") {
      const owed = this.#unconsumed.get(stream.id);
      if (owed !== undefined) {
        this.#unconsumed.delete(stream.id);
        this.#creditConnection(owed);
      }
    }
    this.#closed.set(stream.id, how);
    if (this.#closed.size > RECENTLY_CLOSED) {
      const oldest = this.#closed.keys().next().value as number;
      this.#closed.delete(oldest);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  /**
   * Feeds received bytes; returns what happened. After a `connection-error` event the session
   * ignores further input (send the queued GOAWAY, then close).
   */
  receive(data: Uint8Array): H2Event[] {
    const events: H2Event[] = [];
    if (this.#error !== null) return events;
    this.#reader.push(data);
    for (;;) {
      let frame: Frame | null;
      try {
        frame = this.#reader.next();
        if (frame === null) break;
        this.#handle(frame, events);
      } catch (error) {
        if (!(error instanceof H2Error)) throw error;
        if (error.streamId !== 0) {
          this.#streamError(error, events);
          continue;
        }
        this.#connectionError(error, events);
        break;
      }
    }
    return events;
  }

  #connectionError(error: H2Error, events: H2Event[]): void {
    // §5.4.1: GOAWAY with the error, then close. The debug data says why, for the peer's logs.
    const debug = error.message.slice(0, 200);
    this.#goawaySent = true;
    this.#queue(
      encodeGoaway(
        0,
        error.code,
        Uint8Array.from(debug, (c) => c.charCodeAt(0) & 0xff),
      ),
    );
    this.#error = error;
    this.#block = null;
    events.push({ type: "connection-error", error });
  }

  #streamError(error: H2Error, events: H2Event[]): void {
    const stream = this.#streams.get(error.streamId);
    if (stream === undefined) return; // nothing to reset (e.g. a bad PRIORITY on a closed stream)
    this.#queue(encodeRstStream(stream.id, error.code));
    this.#forget(stream, "reset");
    events.push({ type: "stream-error", streamId: stream.id, error });
  }

  /** Idle streams (§5.1): ones we never opened, and every even (server-initiated) one. */
  #isIdle(streamId: number): boolean {
    return streamId % 2 === 0 || streamId >= this.#nextStreamId;
  }

  #handle(frame: Frame, events: H2Event[]): void {
    if (!this.#gotPreface && frame.type !== FrameType.SETTINGS) {
      // §3.4: the server's preface is a SETTINGS frame, first.
      throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "the server did not start with SETTINGS");
    }
    if (this.#block !== null && frame.type !== FrameType.CONTINUATION) {
      // §6.10: a header block is contiguous; nothing may be interleaved.
      throw new H2Error(
        H2ErrorCode.PROTOCOL_ERROR,
        `frame type ${frame.type === -1 ? frame.frameType : frame.type} inside the header block of stream ${this.#block.streamId}`,
      );
    }
    switch (frame.type) {
      case FrameType.DATA:
        this.#onData(frame, events);
        return;
      case FrameType.HEADERS: {
        if (frame.streamId % 2 === 0) {
          throw new H2Error(
            H2ErrorCode.PROTOCOL_ERROR,
            `HEADERS on stream ${frame.streamId}, which the server cannot open`,
          );
        }
        this.#block = {
          streamId: frame.streamId,
          endStream: frame.endStream,
          selfDependent: frame.dependsOn === frame.streamId,
          parts: [frame.fragment],
          size: frame.fragment.length,
        };
        this.#checkBlockSize(this.#block);
        if (frame.endHeaders) this.#onHeaderBlock(events);
        return;
      }
      case FrameType.CONTINUATION: {
        const block = this.#block;
        if (block === null || block.streamId !== frame.streamId) {
          throw new H2Error(
            H2ErrorCode.PROTOCOL_ERROR,
            `CONTINUATION on stream ${frame.streamId} without a header block in progress`,
          );
        }
        block.parts.push(frame.fragment);
        block.size += frame.fragment.length;
        this.#checkBlockSize(block);
        if (frame.endHeaders) this.#onHeaderBlock(events);
        return;
      }
      case FrameType.PRIORITY:
        return; // deprecated signalling (RFC 9113 §5.3.2): ignored
      case FrameType.RST_STREAM: {
        if (this.#isIdle(frame.streamId)) {
          throw new H2Error(
            H2ErrorCode.PROTOCOL_ERROR,
            `RST_STREAM on idle stream ${frame.streamId}`,
          );
        }
        const stream = this.#streams.get(frame.streamId);
        if (stream === undefined) return; // already closed: a late reset crossing ours
        const endsResponse =
          frame.errorCode === H2ErrorCode.NO_ERROR &&
          stream.gotHead &&
          !stream.remoteClosed &&
          (stream.expectedLength < 0 || stream.noBody || stream.received === stream.expectedLength);
        this.#forget(stream, "reset");
        events.push({
          type: "reset",
          streamId: frame.streamId,
          errorCode: frame.errorCode,
          endsResponse,
        });
        return;
      }
      case FrameType.SETTINGS:
        this.#onSettings(frame.ack, frame.settings, events);
        return;
      case FrameType.PUSH_PROMISE:
        // §6.6, §8.4: we sent SETTINGS_ENABLE_PUSH = 0.
        throw new H2Error(
          H2ErrorCode.PROTOCOL_ERROR,
          "PUSH_PROMISE received although server push is disabled (SETTINGS_ENABLE_PUSH = 0)",
        );
      case FrameType.PING:
        if (frame.ack) events.push({ type: "ping-ack", opaque: frame.opaque });
        else this.#queue(encodePing(frame.opaque.slice(), true));
        return;
      case FrameType.GOAWAY:
        this.#onGoaway(frame.lastStreamId, frame.errorCode, frame.debug, events);
        return;
      case FrameType.WINDOW_UPDATE:
        this.#onWindowUpdate(frame.streamId, frame.increment, events);
        return;
      default:
        return; // unknown frame types are ignored (§5.5)
    }
  }

  #checkBlockSize(block: HeaderBlock): void {
    // Bounded memory for a CONTINUATION flood: without the whole block the HPACK context is lost.
    const limit = Math.max(2 * this.#options.maxHeaderListSize, 65536);
    if (block.size > limit) {
      throw new H2Error(
        H2ErrorCode.COMPRESSION_ERROR,
        `header block on stream ${block.streamId} exceeds ${limit} octets`,
      );
    }
  }

  #onData(frame: Extract<Frame, { type: typeof FrameType.DATA }>, events: H2Event[]): void {
    const { streamId, flowLength } = frame;
    // Connection-level flow control applies to DATA on any stream, even closed ones (§6.9).
    if (flowLength > this.#connRecvWindow) {
      throw new H2Error(
        H2ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${flowLength} octets exceeds the connection window (${this.#connRecvWindow})`,
      );
    }
    this.#connRecvWindow -= flowLength;
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (this.#isIdle(streamId)) {
        throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      }
      this.#creditConnection(flowLength);
      if (this.#closed.get(streamId) === "ended") {
        // §5.1: frames after END_STREAM on a closed stream are a connection error.
        throw new H2Error(H2ErrorCode.STREAM_CLOSED, `DATA on stream ${streamId} after its end`);
      }
      return; // a stream we reset: frames in flight are expected, and dropped
    }
    if (stream.remoteClosed) {
      this.#creditConnection(flowLength);
      throw new H2Error(H2ErrorCode.STREAM_CLOSED, "DATA after END_STREAM", streamId);
    }
    if (flowLength > stream.recvWindow) {
      throw new H2Error(
        H2ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${flowLength} octets exceeds the window of stream ${streamId} (${stream.recvWindow})`,
      );
    }
    stream.recvWindow -= flowLength;
    // Padding is never delivered: it is consumed at once (§6.1).
    const data = frame.data;
    const padding = flowLength - data.length;
    this.#unconsumed.set(streamId, (this.#unconsumed.get(streamId) ?? 0) + flowLength);
    if (padding > 0) this.consumed(streamId, padding);
    if (!stream.gotHead) {
      throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "DATA before the response head", streamId);
    }
    stream.received += data.length;
    if (stream.noBody && data.length > 0) {
      throw new H2Error(
        H2ErrorCode.PROTOCOL_ERROR,
        "content in a response that cannot have any (HEAD, 204 or 304)",
        streamId,
      );
    }
    if (stream.expectedLength >= 0 && !stream.noBody) {
      if (
        stream.received > stream.expectedLength ||
        (frame.endStream && stream.received !== stream.expectedLength)
      ) {
        throw new H2Error(
          H2ErrorCode.PROTOCOL_ERROR,
          `response body of ${stream.received}${frame.endStream ? "" : "+"} octets does not match content-length ${stream.expectedLength}`,
          streamId,
        );
      }
    }
    events.push({ type: "data", streamId, data, endStream: frame.endStream });
    if (frame.endStream) this.#remoteEnd(stream);
  }

  #remoteEnd(stream: StreamState): void {
    stream.remoteClosed = true;
    if (stream.localClosed) this.#forget(stream, "ended");
  }

  #onHeaderBlock(events: H2Event[]): void {
    const block = this.#block as HeaderBlock;
    this.#block = null;
    const bytes = joinParts(block.parts, block.size);
    // Decoded even for streams we dropped: the HPACK context must stay in sync (§4.3).
    const decoded = this.#decoder.decode(bytes);
    const streamId = block.streamId;
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (this.#isIdle(streamId)) {
        throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, `HEADERS on idle stream ${streamId}`);
      }
      if (this.#closed.get(streamId) === "ended") {
        throw new H2Error(H2ErrorCode.STREAM_CLOSED, `HEADERS on stream ${streamId} after its end`);
      }
      return;
    }
    if (stream.remoteClosed) {
      throw new H2Error(H2ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM", streamId);
    }
    if (block.selfDependent) {
      throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "stream depends on itself", streamId);
    }
    if (decoded.oversized) {
      throw new H2Error(
        H2ErrorCode.PROTOCOL_ERROR,
        `response header list of ${decoded.size} octets exceeds SETTINGS_MAX_HEADER_LIST_SIZE (${this.#decoder.maxHeaderListSize})`,
        streamId,
      );
    }
    if (stream.gotHead) {
      // Trailers (§8.1): they must end the stream and carry no pseudo-header fields.
      if (!block.endStream) {
        throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM", streamId);
      }
      const { headers } = checkFields(decoded.headers, streamId, true);
      if (
        stream.expectedLength >= 0 &&
        !stream.noBody &&
        stream.received !== stream.expectedLength
      ) {
        throw new H2Error(
          H2ErrorCode.PROTOCOL_ERROR,
          `response body of ${stream.received} octets does not match content-length ${stream.expectedLength}`,
          streamId,
        );
      }
      events.push({ type: "trailers", streamId, headers });
      this.#remoteEnd(stream);
      return;
    }
    const { status, headers, contentLength } = checkFields(decoded.headers, streamId, false);
    if (status < 200) {
      if (status === 101) {
        // §8.6: HTTP/2 has no 101 (Switching Protocols).
        throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "101 status in HTTP/2", streamId);
      }
      if (block.endStream) {
        throw new H2Error(
          H2ErrorCode.PROTOCOL_ERROR,
          `informational ${status} response with END_STREAM`,
          streamId,
        );
      }
      events.push({ type: "informational", streamId, status, headers });
      return;
    }
    stream.gotHead = true;
    if (status === 204 || status === 304) stream.noBody = true;
    stream.expectedLength = contentLength;
    if (block.endStream && contentLength > 0 && !stream.noBody) {
      throw new H2Error(
        H2ErrorCode.PROTOCOL_ERROR,
        `response ended with no body although content-length is ${contentLength}`,
        streamId,
      );
    }
    events.push({ type: "response", streamId, status, headers, endStream: block.endStream });
    if (block.endStream) this.#remoteEnd(stream);
  }

  #onSettings(ack: boolean, settings: [number, number][], events: H2Event[]): void {
    if (ack) {
      if (this.#pendingAcks > 0) {
        this.#pendingAcks--;
        events.push({ type: "settings-ack" });
      }
      return;
    }
    const first = !this.#gotPreface;
    this.#gotPreface = true;
    const remote = this.#remote;
    for (const [id, value] of settings) {
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          remote.headerTableSize = value;
          this.#encoder.setMaxTableSize(value);
          break;
        case SettingId.ENABLE_PUSH:
          // §6.5.2: only 0 or 1, and a server MUST NOT send 1.
          if (value > 1) {
            throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
          }
          if (value === 1) {
            throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "a server sent SETTINGS_ENABLE_PUSH = 1");
          }
          remote.enablePush = false;
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          remote.maxConcurrentStreams = value;
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW_SIZE) {
            throw new H2Error(
              H2ErrorCode.FLOW_CONTROL_ERROR,
              `SETTINGS_INITIAL_WINDOW_SIZE of ${value} exceeds 2^31-1`,
            );
          }
          // §6.9.2: the change applies to every open stream's window, and may make it negative.
          const delta = value - remote.initialWindowSize;
          remote.initialWindowSize = value;
          for (const stream of this.#streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW_SIZE) {
              throw new H2Error(
                H2ErrorCode.FLOW_CONTROL_ERROR,
                `SETTINGS_INITIAL_WINDOW_SIZE change overflows the window of stream ${stream.id}`,
              );
            }
          }
          if (delta > 0) events.push({ type: "window", streamId: 0 });
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            throw new H2Error(
              H2ErrorCode.PROTOCOL_ERROR,
              `SETTINGS_MAX_FRAME_SIZE of ${value} outside 16384..16777215`,
            );
          }
          remote.maxFrameSize = value;
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          remote.maxHeaderListSize = value;
          break;
        case SettingId.ENABLE_CONNECT_PROTOCOL:
        case SettingId.NO_RFC7540_PRIORITIES:
          if (value > 1) {
            throw new H2Error(
              H2ErrorCode.PROTOCOL_ERROR,
              `setting 0x${id.toString(16)} of ${value} (must be 0 or 1)`,
            );
          }
          break;
        default:
          break; // unknown settings are ignored (§6.5.2)
      }
    }
    this.#queue(encodeSettings(null));
    events.push({ type: "settings", first });
  }

  #onGoaway(lastStreamId: number, errorCode: number, debug: Uint8Array, events: H2Event[]): void {
    // A later GOAWAY may lower last_stream_id, never raise it (§6.8).
    const last = Math.min(lastStreamId, this.#goaway?.lastStreamId ?? lastStreamId);
    const text = latin1Text(debug.subarray(0, 256));
    this.#goaway = { lastStreamId: last, errorCode, debug: text };
    for (const stream of [...this.#streams.values()]) {
      if (stream.id > last) this.#forget(stream, "reset");
    }
    events.push({ type: "goaway", lastStreamId: last, errorCode, debug: text });
  }

  #onWindowUpdate(streamId: number, increment: number, events: H2Event[]): void {
    if (streamId === 0) {
      if (increment === 0) {
        throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 for the connection");
      }
      this.#connSendWindow += increment;
      if (this.#connSendWindow > MAX_WINDOW_SIZE) {
        throw new H2Error(
          H2ErrorCode.FLOW_CONTROL_ERROR,
          "WINDOW_UPDATE overflows the connection window beyond 2^31-1",
        );
      }
      events.push({ type: "window", streamId: 0 });
      return;
    }
    if (this.#isIdle(streamId)) {
      throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
    }
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return; // closed: updates may still be in flight
    if (increment === 0) {
      throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0", streamId);
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) {
      throw new H2Error(
        H2ErrorCode.FLOW_CONTROL_ERROR,
        "WINDOW_UPDATE overflows the stream window beyond 2^31-1",
        streamId,
      );
    }
    events.push({ type: "window", streamId });
  }
}

function joinParts(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Checks a response's (or trailers') fields as RFC 9113 §8.2 and §8.3.2 require, and splits off
 * `:status`. Anything malformed is a stream error PROTOCOL_ERROR (§8.1.1).
 */
function checkFields(
  fields: HeaderField[],
  streamId: number,
  trailers: boolean,
): { status: number; headers: HeaderField[]; contentLength: number } {
  let status = -1;
  let contentLength = -1;
  let regular = false;
  const headers: HeaderField[] = [];
  const malformed = (why: string): H2Error =>
    new H2Error(H2ErrorCode.PROTOCOL_ERROR, `malformed response: ${why}`, streamId);
  for (const field of fields) {
    const [name, value] = field;
    if (name.charCodeAt(0) === 0x3a) {
      if (trailers) throw malformed(`pseudo-header field ${name} in trailers`);
      if (regular) throw malformed(`pseudo-header field ${name} after regular fields`);
      if (name !== ":status") throw malformed(`pseudo-header field ${name} in a response`);
      if (status !== -1) throw malformed("two :status fields");
      if (!/^[1-9][0-9][0-9]$/.test(value)) throw malformed(`:status ${JSON.stringify(value)}`);
      status = Number(value);
      continue;
    }
    regular = true;
    // §8.2.1: lower-case token characters only; values without NUL/CR/LF or edge whitespace.
    if (!isToken(name) || name !== name.toLowerCase()) {
      throw malformed(`invalid field name ${JSON.stringify(name)}`);
    }
    if (!isFieldValue(value)) {
      throw malformed(`invalid value for ${name}: ${JSON.stringify(value.slice(0, 64))}`);
    }
    if (CONNECTION_SPECIFIC.has(name)) throw malformed(`connection-specific field ${name}`);
    if (name === "content-length" && !trailers) {
      if (!/^[0-9]{1,15}$/.test(value)) throw malformed(`content-length ${JSON.stringify(value)}`);
      const n = Number(value);
      if (contentLength !== -1 && contentLength !== n)
        throw malformed("differing content-length fields");
      contentLength = n;
    }
    headers.push(field);
  }
  if (!trailers && status === -1) throw malformed("no :status");
  return { status, headers, contentLength };
}

function isFieldValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || ((BYTE_CLASS[c] as number) & FIELD) === 0) return false;
  }
  return true;
}
