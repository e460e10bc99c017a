/**
 * The sans-IO HTTP/1.1 response parser: bytes in through {@link ResponseParser.receiveData},
 * events out through {@link ResponseParser.nextEvent}. Strict like llhttp (RFC 9112 with none of
 * the lenient options), so a peer cannot make us see a different message than an intermediary
 * saw. One parser reads one response (plus any 1xx before it) to one request.
 * @module
 */

import { LocalProtocolError, RemoteProtocolError } from "../errors.js";
import { CR, decodeSection, LF } from "./chars.js";
import { parseChunkSizeLine } from "./chunked.js";
import { bodyFraming } from "./framing.js";
import { decodeFields, scanFieldLine } from "./header-fields.js";
import { ReceiveBuffer } from "./receive-buffer.js";
import { checkStatusLinePrefix, parseStatusLine, type StatusLine } from "./status-line.js";
import type { HeaderList, ResponseEvent, ResponseHead, ResponseParserOptions } from "./types.js";

/** Default upper bound on the bytes of one response head (and of one trailer section): 64 KiB. */
export const DEFAULT_MAX_HEADER_SIZE = 65536;

/**
 * Where a {@link ResponseParser} is: reading a head, reading a body, done (after `end`), paused
 * (after a 101 or a 2xx to CONNECT) or failed (every `nextEvent` rethrows the error).
 */
export type ResponseParserState = "head" | "body" | "done" | "paused" | "error";

// Internal states. Plain numbers: cheaper to switch on than strings in the hot loop.
const HEAD = 0;
const BODY_LENGTH = 1;
const BODY_EOF = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_CRLF = 5;
const TRAILERS = 6;
const END = 7;
const DONE = 8;
const PAUSED = 9;
const ERROR = 10;

const NEED_DATA: ResponseEvent = Object.freeze({ type: "need-data" });
const PAUSED_EVENT: ResponseEvent = Object.freeze({ type: "paused" });

const INCOMPLETE_CHUNKED =
  "peer closed connection without sending complete message body (incomplete chunked read)";

/**
 * Parses one HTTP/1.1 response, h11-style: feed bytes with {@link receiveData} (an empty array
 * means the peer closed), then call {@link nextEvent} until it returns `need-data` (feed more),
 * `end` or `paused`. Body `data` events are views of the fed arrays, not copies: do not reuse a
 * fed array until the events that came from it are consumed.
 */
export class ResponseParser {
  private readonly method: string;
  private readonly maxHeaderSize: number;
  private readonly buffer = new ReceiveBuffer();
  private phase = HEAD;
  private eof = false;
  private error: RemoteProtocolError | null = null;
  private bytesReceived = 0;
  private informationalCount = 0;

  // Where the search for the LF ending the current line resumes, relative to `buffer.pos`, so a
  // line split across many feeds is scanned once overall.
  private scanFrom = 0;
  // The head or trailer section being read. Its bytes stay unconsumed in the buffer until the
  // blank line arrives, so one decode yields every string; offsets are relative to `buffer.pos`
  // (the buffer may move its bytes when a feed arrives).
  private lineStart = 0;
  private spans: number[] = [];
  private bytesOr = 0;
  private statusLine: StatusLine | null = null;

  // Final response.
  private finalHead: ResponseHead | null = null;
  private connectionClose = false;
  private closeDelimited = false;
  private remaining = 0;
  private expectedLength = 0;
  private trailers: HeaderList = [];

  /** A parser for the response to a request with `opts.method`. */
  constructor(opts: ResponseParserOptions) {
    const max = opts.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new LocalProtocolError(`maxHeaderSize must be a positive integer, got ${max}`);
    }
    this.method = opts.method;
    this.maxHeaderSize = max;
  }

  /**
   * Feeds bytes received from the peer. An empty array means the peer closed the connection
   * (EOF). The array is kept by reference until consumed.
   */
  receiveData(data: Uint8Array): void {
    if (data.length === 0) {
      this.eof = true;
      return;
    }
    if (this.eof) throw new LocalProtocolError("received data after the peer closed (EOF)");
    this.bytesReceived += data.length;
    this.buffer.append(data);
  }

  /**
   * The next event: `informational`* then `head`, then `data`* and `end` (or `paused` right after
   * the head of a 101 or of a 2xx to CONNECT); `need-data` when more bytes are needed. After `end`
   * it returns `paused`, as h11 does. Throws {@link RemoteProtocolError} on invalid input, and
   * the same error again on every later call.
   */
  nextEvent(): ResponseEvent {
    if (this.error !== null) throw this.error;
    try {
      return this.step();
    } catch (err) {
      if (err instanceof RemoteProtocolError) {
        this.error = err;
        this.phase = ERROR;
      }
      throw err;
    }
  }

  /** Bytes received but not consumed: the start of the tunnel after `paused`, or excess after `end`. */
  get trailingData(): Uint8Array {
    return this.buffer.rest();
  }

  /**
   * After `end`: true only if the connection may carry another request, i.e. an HTTP/1.1 response
   * without `Connection: close` whose body was not delimited by EOF. False before `end`.
   */
  get keepAlive(): boolean {
    return (
      this.phase === DONE &&
      this.finalHead?.httpVersion === "HTTP/1.1" &&
      !this.connectionClose &&
      !this.closeDelimited
    );
  }

  /** Where the parser is; see {@link ResponseParserState}. */
  get state(): ResponseParserState {
    return publicState(this.phase);
  }

  /** True once `end` has been returned. */
  get isDone(): boolean {
    return this.phase === DONE;
  }

  /** True once any byte of a response arrived (so an EOF is not a stale keep-alive close). */
  get responseStarted(): boolean {
    return this.bytesReceived > 0;
  }

  /** The final response head once its `head` event was returned, else null. */
  get head(): ResponseHead | null {
    return this.finalHead;
  }

  private step(): ResponseEvent {
    const buf = this.buffer;
    for (;;) {
      switch (this.phase) {
        case HEAD:
          return this.readHead();
        case BODY_LENGTH: {
          const available = buf.length;
          if (available === 0) {
            if (!this.eof) return NEED_DATA;
            const received = this.expectedLength - this.remaining;
            throw new RemoteProtocolError(
              `peer closed connection without sending complete message body (received ${received} bytes, expected ${this.expectedLength})`,
            );
          }
          const n = Math.min(available, this.remaining);
          this.remaining -= n;
          if (this.remaining === 0) this.phase = END;
          return { type: "data", data: buf.take(n) };
        }
        case BODY_EOF: {
          const available = buf.length;
          if (available > 0) return { type: "data", data: buf.take(available) };
          if (!this.eof) return NEED_DATA;
          return this.end();
        }
        case CHUNK_SIZE: {
          const bytes = buf.bytes;
          const start = buf.pos;
          const lf = bytes.indexOf(LF, start + this.scanFrom);
          if (lf === -1) {
            // The line is bounded like a head so a peer cannot make us buffer forever.
            this.scanFrom = bytes.length - start;
            if (this.scanFrom > this.maxHeaderSize) throw this.chunkLineTooLong();
            return this.needData(INCOMPLETE_CHUNKED);
          }
          if (lf + 1 - start > this.maxHeaderSize) throw this.chunkLineTooLong();
          this.checkCrlf(bytes, start, lf, "chunk-size line");
          const size = parseChunkSizeLine(bytes, start, lf - 1);
          buf.skip(lf + 1 - start);
          this.scanFrom = 0;
          if (size === 0) {
            // last-chunk: the trailer section follows (RFC 9112 §7.1.2).
            this.phase = TRAILERS;
          } else {
            this.remaining = size;
            this.phase = CHUNK_DATA;
          }
          continue;
        }
        case CHUNK_DATA: {
          const available = buf.length;
          if (available === 0) return this.needData(INCOMPLETE_CHUNKED);
          const n = Math.min(available, this.remaining);
          this.remaining -= n;
          if (this.remaining === 0) this.phase = CHUNK_CRLF;
          return { type: "data", data: buf.take(n) };
        }
        case CHUNK_CRLF: {
          // RFC 9112 §7.1: chunk-data is followed by CRLF; llhttp rejects anything else.
          const available = buf.length;
          const bytes = buf.bytes;
          if (available >= 1 && bytes[buf.pos] !== CR) throw missingChunkCrlf();
          if (available >= 2 && bytes[buf.pos + 1] !== LF) throw missingChunkCrlf();
          if (available < 2) return this.needData(INCOMPLETE_CHUNKED);
          buf.skip(2);
          this.phase = CHUNK_SIZE;
          continue;
        }
        case TRAILERS:
          return this.readTrailers();
        case END:
          return this.end();
        case DONE:
        case PAUSED:
          return PAUSED_EVENT;
        default:
          // ERROR is handled in nextEvent; reaching here means a bug.
          throw new LocalProtocolError(`response parser in invalid state ${this.phase}`);
      }
    }
  }

  // Reads the lines of a head (status line first) or trailer section as they complete: each is
  // validated at once, and the size limit is checked on what is buffered, so a peer dripping an
  // endless head is stopped at the limit. Returns the section's length (through its blank line)
  // once complete, else -1.
  private readSection(isHead: boolean): number {
    const buf = this.buffer;
    const bytes = buf.bytes;
    const base = buf.pos;
    for (;;) {
      const lf = bytes.indexOf(LF, base + this.scanFrom);
      if (lf === -1) {
        const pending = bytes.length - base;
        this.scanFrom = pending;
        if (pending > this.maxHeaderSize) throw this.sectionTooLarge(isHead);
        if (isHead && this.lineStart === 0 && pending > 0) {
          checkStatusLinePrefix(bytes, base, base + pending);
        }
        return -1;
      }
      const length = lf + 1 - base;
      if (length > this.maxHeaderSize) throw this.sectionTooLarge(isHead);
      const start = base + this.lineStart;
      this.lineStart = length;
      this.scanFrom = length;
      this.checkCrlf(bytes, start, lf, isHead ? "response head" : "trailer section");
      const end = lf - 1;
      if (isHead && start === base) {
        const statusLine = parseStatusLine(bytes, start, end);
        // Offsets relative to `base`: the buffer may move before the section completes.
        statusLine.reasonStart -= base;
        statusLine.reasonEnd -= base;
        this.statusLine = statusLine;
        this.bytesOr = statusLine.bytesOr;
      } else if (end === start) {
        return length;
      } else {
        this.bytesOr |= scanFieldLine(
          bytes,
          start,
          end,
          base,
          this.spans,
          isHead ? "header" : "trailer",
        );
      }
    }
  }

  // Decodes the complete section of `length` bytes, consumes it and resets the section state.
  private takeSection(length: number): { text: string; fields: HeaderList } {
    const buf = this.buffer;
    const text = decodeSection(buf.bytes, buf.pos, buf.pos + length, this.bytesOr);
    const fields = decodeFields(text, this.spans);
    buf.skip(length);
    this.lineStart = 0;
    this.scanFrom = 0;
    this.spans = [];
    this.bytesOr = 0;
    return { text, fields };
  }

  private readHead(): ResponseEvent {
    const length = this.readSection(true);
    if (length === -1) {
      if (!this.eof) return NEED_DATA;
      if (this.buffer.length === 0) {
        throw new RemoteProtocolError(
          this.informationalCount === 0
            ? "Server disconnected without sending a response."
            : "Server disconnected after an informational (1xx) response without sending the final response.",
        );
      }
      throw new RemoteProtocolError("Server disconnected while sending the response head.");
    }
    const statusLine = this.statusLine as StatusLine;
    const { text, fields } = this.takeSection(length);
    const head: ResponseHead = {
      httpVersion: statusLine.httpVersion,
      status: statusLine.status,
      reasonPhrase: text.slice(statusLine.reasonStart, statusLine.reasonEnd),
      headers: fields,
    };
    this.statusLine = null;
    // RFC 9110 §15.2: a 1xx other than 101 is interim; the final response follows on the wire.
    if (head.status < 200 && head.status !== 101) {
      this.informationalCount++;
      return { type: "informational", head };
    }
    const { framing, connectionClose } = bodyFraming(head, this.method);
    this.finalHead = head;
    this.connectionClose = connectionClose;
    switch (framing.kind) {
      case "none":
        this.phase = END;
        break;
      case "length":
        this.expectedLength = framing.length;
        this.remaining = framing.length;
        this.phase = framing.length === 0 ? END : BODY_LENGTH;
        break;
      case "chunked":
        this.phase = CHUNK_SIZE;
        break;
      case "eof":
        this.closeDelimited = true;
        this.phase = BODY_EOF;
        break;
      case "paused":
        this.phase = PAUSED;
        break;
    }
    return { type: "head", head };
  }

  // Trailer fields after the last chunk (RFC 9112 §7.1.2), validated like header fields and
  // bounded by the same limit.
  private readTrailers(): ResponseEvent {
    const length = this.readSection(false);
    if (length === -1) return this.needData(INCOMPLETE_CHUNKED);
    this.trailers = this.takeSection(length).fields;
    return this.end();
  }

  private end(): ResponseEvent {
    this.phase = DONE;
    return { type: "end", trailers: this.trailers };
  }

  // Nothing buffered answers the current state: EOF here is an error with `eofMessage`.
  private needData(eofMessage: string): ResponseEvent {
    if (this.eof) throw new RemoteProtocolError(eofMessage);
    return NEED_DATA;
  }

  // RFC 9112 §2.2: lines end in CRLF. A bare LF is rejected (llhttp's default; h11 accepts it),
  // and a CR not followed by LF is caught by the character checks of each line's parser.
  private checkCrlf(bytes: Uint8Array, start: number, lf: number, where: string): void {
    if (lf === start || bytes[lf - 1] !== CR) {
      throw new RemoteProtocolError(`bare LF in ${where} (lines must end with CRLF)`);
    }
  }

  private sectionTooLarge(isHead: boolean): RemoteProtocolError {
    const what = isHead ? "response head" : "response trailer section";
    return new RemoteProtocolError(`${what} exceeds the ${this.maxHeaderSize}-byte limit`);
  }

  private chunkLineTooLong(): RemoteProtocolError {
    return new RemoteProtocolError(`chunk-size line exceeds the ${this.maxHeaderSize}-byte limit`);
  }
}

function missingChunkCrlf(): RemoteProtocolError {
  return new RemoteProtocolError("missing CRLF after chunk data");
}

function publicState(state: number): ResponseParserState {
  if (state === HEAD) return "head";
  if (state === DONE) return "done";
  if (state === PAUSED) return "paused";
  if (state === ERROR) return "error";
  return "body";
}
