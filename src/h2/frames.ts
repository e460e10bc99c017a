/**
 * HTTP/2 frames (RFC 9113 §4, §6), sans-IO: {@link FrameReader} cuts bytes into frames and checks
 * each frame's own layout (lengths, padding, stream 0 or not); the serialisers build frames to
 * send. What a frame means for the connection is {@link H2ClientSession}'s business.
 * @module
 */
import { H2Error, H2ErrorCode } from "./errors.js";

/** Frame type codes (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 §6). */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Setting identifiers (RFC 9113 §6.5.2; 0x8 from RFC 8441, 0x9 from RFC 9218). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

/** The client connection preface (RFC 9113 §3.4), sent before our first SETTINGS. */
export const CONNECTION_PREFACE: Uint8Array = Uint8Array.from(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  (c) => c.charCodeAt(0),
);

/** Frame header length (RFC 9113 §4.1). */
export const FRAME_HEADER_LENGTH = 9;
/** Default and smallest SETTINGS_MAX_FRAME_SIZE (§6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
/** Largest SETTINGS_MAX_FRAME_SIZE (§6.5.2). */
export const MAX_MAX_FRAME_SIZE = 16777215;
/** Largest flow-control window (§6.9.1). */
export const MAX_WINDOW_SIZE = 2147483647;
/** Largest stream identifier (§5.1.1). */
export const MAX_STREAM_ID = 2147483647;

/** A frame as parsed: layout checked, meaning not yet applied. */
export type Frame =
  | {
      type: typeof FrameType.DATA;
      streamId: number;
      endStream: boolean;
      data: Uint8Array;
      /** Octets counted by flow control: the whole payload, padding included (§6.9). */
      flowLength: number;
    }
  | {
      type: typeof FrameType.HEADERS;
      streamId: number;
      endStream: boolean;
      endHeaders: boolean;
      fragment: Uint8Array;
      /** The stream this one depends on, when the PRIORITY flag is set (ignored otherwise). */
      dependsOn: number | null;
    }
  | { type: typeof FrameType.PRIORITY; streamId: number; dependsOn: number }
  | { type: typeof FrameType.RST_STREAM; streamId: number; errorCode: number }
  | { type: typeof FrameType.SETTINGS; streamId: 0; ack: boolean; settings: [number, number][] }
  | {
      type: typeof FrameType.PUSH_PROMISE;
      streamId: number;
      promisedStreamId: number;
      endHeaders: boolean;
      fragment: Uint8Array;
    }
  | { type: typeof FrameType.PING; streamId: 0; ack: boolean; opaque: Uint8Array }
  | {
      type: typeof FrameType.GOAWAY;
      streamId: 0;
      lastStreamId: number;
      errorCode: number;
      debug: Uint8Array;
    }
  | { type: typeof FrameType.WINDOW_UPDATE; streamId: number; increment: number }
  | {
      type: typeof FrameType.CONTINUATION;
      streamId: number;
      endHeaders: boolean;
      fragment: Uint8Array;
    }
  /** A frame type this implementation does not know: ignored (§4.1, §5.5). */
  | { type: -1; frameType: number; streamId: number; flags: number; payload: Uint8Array };

function u32(b: Uint8Array, at: number): number {
  return (
    (b[at] as number) * 0x1000000 +
    (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))
  );
}

function frameError(message: string, code: number = H2ErrorCode.PROTOCOL_ERROR): H2Error {
  return new H2Error(code, message);
}

const EMPTY = new Uint8Array(0);

/**
 * Locates the payload after an optional pad-length octet and `prefix` fixed octets, without the
 * padding (§6.1, §6.2, §6.6).
 * @returns [start, end) of the unpadded payload
 */
function unpad(payload: Uint8Array, flags: number, prefix: number, what: string): [number, number] {
  const padded = (flags & Flag.PADDED) !== 0;
  const head = (padded ? 1 : 0) + prefix;
  if (payload.length < head) {
    throw frameError(`${what} frame too short for its fields`, H2ErrorCode.FRAME_SIZE_ERROR);
  }
  if (!padded) return [head, payload.length];
  const padLength = payload[0] as number;
  // "If the length of the padding is the length of the frame payload or greater, the recipient
  // MUST treat this as a connection error of type PROTOCOL_ERROR."
  if (padLength > payload.length - head) {
    throw frameError(`${what} frame padding (${padLength}) exceeds its payload`);
  }
  return [head, payload.length - padLength];
}

/**
 * Parses one frame's payload per its type (RFC 9113 §6), checking the layout rules that do not
 * depend on connection state.
 * @throws {H2Error} a connection error (FRAME_SIZE_ERROR or PROTOCOL_ERROR), or a stream error
 *   for a PRIORITY frame of the wrong size (§6.3)
 */
export function parseFrame(
  frameType: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Frame {
  const length = payload.length;
  switch (frameType) {
    case FrameType.DATA: {
      if (streamId === 0) throw frameError("DATA frame on stream 0");
      const [start, end] = unpad(payload, flags, 0, "DATA");
      return {
        type: FrameType.DATA,
        streamId,
        endStream: (flags & Flag.END_STREAM) !== 0,
        data: start === 0 && end === length ? payload : payload.subarray(start, end),
        flowLength: length,
      };
    }
    case FrameType.HEADERS: {
      if (streamId === 0) throw frameError("HEADERS frame on stream 0");
      const priority = (flags & Flag.PRIORITY) !== 0;
      const [start, end] = unpad(payload, flags, priority ? 5 : 0, "HEADERS");
      const dependsOn = priority ? u32(payload, start - 5) & 0x7fffffff : null;
      return {
        type: FrameType.HEADERS,
        streamId,
        endStream: (flags & Flag.END_STREAM) !== 0,
        endHeaders: (flags & Flag.END_HEADERS) !== 0,
        fragment: payload.subarray(start, end),
        dependsOn,
      };
    }
    case FrameType.PRIORITY:
      if (streamId === 0) throw frameError("PRIORITY frame on stream 0");
      if (length !== 5) {
        throw new H2Error(
          H2ErrorCode.FRAME_SIZE_ERROR,
          `PRIORITY frame of ${length} octets (must be 5)`,
          streamId,
        );
      }
      return { type: FrameType.PRIORITY, streamId, dependsOn: u32(payload, 0) & 0x7fffffff };
    case FrameType.RST_STREAM:
      if (streamId === 0) throw frameError("RST_STREAM frame on stream 0");
      if (length !== 4) {
        throw frameError(
          `RST_STREAM frame of ${length} octets (must be 4)`,
          H2ErrorCode.FRAME_SIZE_ERROR,
        );
      }
      return { type: FrameType.RST_STREAM, streamId, errorCode: u32(payload, 0) };
    case FrameType.SETTINGS: {
      if (streamId !== 0) throw frameError(`SETTINGS frame on stream ${streamId}`);
      const ack = (flags & Flag.ACK) !== 0;
      if (ack && length !== 0) {
        throw frameError("SETTINGS ACK with a payload", H2ErrorCode.FRAME_SIZE_ERROR);
      }
      if (length % 6 !== 0) {
        throw frameError(
          `SETTINGS frame of ${length} octets (not a multiple of 6)`,
          H2ErrorCode.FRAME_SIZE_ERROR,
        );
      }
      const settings: [number, number][] = [];
      for (let at = 0; at < length; at += 6) {
        settings.push([
          ((payload[at] as number) << 8) | (payload[at + 1] as number),
          u32(payload, at + 2),
        ]);
      }
      return { type: FrameType.SETTINGS, streamId: 0, ack, settings };
    }
    case FrameType.PUSH_PROMISE: {
      if (streamId === 0) throw frameError("PUSH_PROMISE frame on stream 0");
      const [start, end] = unpad(payload, flags, 4, "PUSH_PROMISE");
      return {
        type: FrameType.PUSH_PROMISE,
        streamId,
        promisedStreamId: u32(payload, start - 4) & 0x7fffffff,
        endHeaders: (flags & Flag.END_HEADERS) !== 0,
        fragment: payload.subarray(start, end),
      };
    }
    case FrameType.PING:
      if (streamId !== 0) throw frameError(`PING frame on stream ${streamId}`);
      if (length !== 8) {
        throw frameError(
          `PING frame of ${length} octets (must be 8)`,
          H2ErrorCode.FRAME_SIZE_ERROR,
        );
      }
      return { type: FrameType.PING, streamId: 0, ack: (flags & Flag.ACK) !== 0, opaque: payload };
    case FrameType.GOAWAY:
      if (streamId !== 0) throw frameError(`GOAWAY frame on stream ${streamId}`);
      if (length < 8) {
        throw frameError(
          `GOAWAY frame of ${length} octets (at least 8)`,
          H2ErrorCode.FRAME_SIZE_ERROR,
        );
      }
      return {
        type: FrameType.GOAWAY,
        streamId: 0,
        lastStreamId: u32(payload, 0) & 0x7fffffff,
        errorCode: u32(payload, 4),
        debug: payload.subarray(8),
      };
    case FrameType.WINDOW_UPDATE:
      if (length !== 4) {
        throw frameError(
          `WINDOW_UPDATE frame of ${length} octets (must be 4)`,
          H2ErrorCode.FRAME_SIZE_ERROR,
        );
      }
      return {
        type: FrameType.WINDOW_UPDATE,
        streamId,
        increment: u32(payload, 0) & 0x7fffffff,
      };
    case FrameType.CONTINUATION:
      if (streamId === 0) throw frameError("CONTINUATION frame on stream 0");
      return {
        type: FrameType.CONTINUATION,
        streamId,
        endHeaders: (flags & Flag.END_HEADERS) !== 0,
        fragment: payload,
      };
    default:
      return { type: -1, frameType, streamId, flags, payload };
  }
}

/**
 * Cuts a byte stream into frames. Bytes are kept as the views they arrived in: a frame inside one
 * chunk is a subarray of it (no copy); only a frame split across chunks is copied together.
 */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  /** Offset into `#chunks[0]`. */
  #offset = 0;
  #available = 0;
  readonly #header = new Uint8Array(FRAME_HEADER_LENGTH);
  /** The largest payload accepted: our SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize: number;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes received and not yet cut into frames. */
  get buffered(): number {
    return this.#available;
  }

  /** Adds received bytes (kept by reference: do not modify them afterwards). */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#available += data.length;
  }

  /**
   * The next complete frame, or null until more bytes arrive.
   * @throws {H2Error} FRAME_SIZE_ERROR for a frame over `maxFrameSize` (§4.2), or any layout error
   *   of {@link parseFrame}
   */
  next(): Frame | null {
    if (this.#available < FRAME_HEADER_LENGTH) return null;
    const header = this.#peek(FRAME_HEADER_LENGTH);
    const length =
      ((header[0] as number) << 16) | ((header[1] as number) << 8) | (header[2] as number);
    if (length > this.maxFrameSize) {
      // §4.2: a frame over SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR; as it may be one that
      // alters connection state (HEADERS, SETTINGS...), it is treated as a connection error.
      throw frameError(
        `frame of ${length} octets exceeds SETTINGS_MAX_FRAME_SIZE (${this.maxFrameSize})`,
        H2ErrorCode.FRAME_SIZE_ERROR,
      );
    }
    if (this.#available < FRAME_HEADER_LENGTH + length) return null;
    const frameType = header[3] as number;
    const flags = header[4] as number;
    const streamId = u32(header, 5) & 0x7fffffff; // the reserved bit is ignored (§4.1)
    this.#skip(FRAME_HEADER_LENGTH);
    const payload = length === 0 ? EMPTY : this.#take(length);
    return parseFrame(frameType, flags, streamId, payload);
  }

  /** Copies the first `n` bytes into the header scratch (they may span chunks). */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    let copied = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(offset, Math.min(chunk.length, offset + n - copied));
      this.#header.set(part, copied);
      copied += part.length;
      offset = 0;
      if (copied === n) break;
    }
    return this.#header;
  }

  #skip(n: number): void {
    this.#available -= n;
    while (n > 0) {
      const first = this.#chunks[0] as Uint8Array;
      const left = first.length - this.#offset;
      if (left > n) {
        this.#offset += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#skip(n);
      return out;
    }
    const out = new Uint8Array(n);
    let copied = 0;
    while (copied < n) {
      const chunk = this.#chunks[0] as Uint8Array;
      const part = chunk.subarray(this.#offset, Math.min(chunk.length, this.#offset + n - copied));
      out.set(part, copied);
      copied += part.length;
      this.#skip(part.length);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Serialisation

/** Writes a frame header (§4.1) into `out` at `at`. */
export function writeFrameHeader(
  out: Uint8Array,
  at: number,
  length: number,
  frameType: number,
  flags: number,
  streamId: number,
): void {
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = frameType;
  out[at + 4] = flags;
  out[at + 5] = (streamId >>> 24) & 0x7f;
  out[at + 6] = (streamId >>> 16) & 0xff;
  out[at + 7] = (streamId >>> 8) & 0xff;
  out[at + 8] = streamId & 0xff;
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** A frame with an arbitrary payload (also for tests and unknown types). */
export function encodeFrame(
  frameType: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = EMPTY,
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + payload.length);
  writeFrameHeader(out, 0, payload.length, frameType, flags, streamId);
  out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

/** A SETTINGS frame (§6.5), or its ACK when `settings` is null. */
export function encodeSettings(
  settings: readonly (readonly [number, number])[] | null,
): Uint8Array {
  if (settings === null) return encodeFrame(FrameType.SETTINGS, Flag.ACK, 0);
  const payload = new Uint8Array(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload[i * 6] = id >>> 8;
    payload[i * 6 + 1] = id & 0xff;
    writeU32(payload, i * 6 + 2, value);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

/** A WINDOW_UPDATE frame (§6.9). */
export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  const payload = new Uint8Array(4);
  writeU32(payload, 0, increment);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

/** An RST_STREAM frame (§6.4). */
export function encodeRstStream(streamId: number, errorCode: number): Uint8Array {
  const payload = new Uint8Array(4);
  writeU32(payload, 0, errorCode);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

/** A PING frame (§6.7) with 8 octets of opaque data. */
export function encodePing(opaque: Uint8Array, ack: boolean): Uint8Array {
  return encodeFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, opaque);
}

/** A GOAWAY frame (§6.8). */
export function encodeGoaway(
  lastStreamId: number,
  errorCode: number,
  debug: Uint8Array = EMPTY,
): Uint8Array {
  const payload = new Uint8Array(8 + debug.length);
  writeU32(payload, 0, lastStreamId);
  writeU32(payload, 4, errorCode);
  payload.set(debug, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

/**
 * A header block as HEADERS + CONTINUATION frames of at most `maxFrameSize` octets each (§6.2,
 * §6.10): END_STREAM goes on the HEADERS frame, END_HEADERS on the last one.
 */
export function encodeHeaders(
  streamId: number,
  block: Uint8Array,
  endStream: boolean,
  maxFrameSize: number,
): Uint8Array {
  const frames = Math.max(1, Math.ceil(block.length / maxFrameSize));
  const out = new Uint8Array(block.length + frames * FRAME_HEADER_LENGTH);
  let at = 0;
  for (let i = 0; i < frames; i++) {
    const part = block.subarray(i * maxFrameSize, Math.min(block.length, (i + 1) * maxFrameSize));
    let flags = i === frames - 1 ? Flag.END_HEADERS : 0;
    if (i === 0 && endStream) flags |= Flag.END_STREAM;
    writeFrameHeader(
      out,
      at,
      part.length,
      i === 0 ? FrameType.HEADERS : FrameType.CONTINUATION,
      flags,
      streamId,
    );
    out.set(part, at + FRAME_HEADER_LENGTH);
    at += FRAME_HEADER_LENGTH + part.length;
  }
  return out;
}

/** DATA frames carrying `data` in pieces of at most `maxFrameSize`; END_STREAM on the last (§6.1). */
export function encodeData(
  streamId: number,
  data: Uint8Array,
  endStream: boolean,
  maxFrameSize: number,
): Uint8Array {
  const frames = Math.max(1, Math.ceil(data.length / maxFrameSize));
  const out = new Uint8Array(data.length + frames * FRAME_HEADER_LENGTH);
  let at = 0;
  for (let i = 0; i < frames; i++) {
    const part = data.subarray(i * maxFrameSize, Math.min(data.length, (i + 1) * maxFrameSize));
    const flags = i === frames - 1 && endStream ? Flag.END_STREAM : 0;
    writeFrameHeader(out, at, part.length, FrameType.DATA, flags, streamId);
    out.set(part, at + FRAME_HEADER_LENGTH);
    at += FRAME_HEADER_LENGTH + part.length;
  }
  return out;
}
