/**
 * Types of the sans-IO HTTP/1.1 client codec: bytes in → events out, request parts in → bytes out.
 * @module
 */

/** Header list in wire order, names cased as sent. Values are latin1-decoded bytes. */
export type HeaderList = [string, string][];

/** The head of a response (status line and header fields). */
export interface ResponseHead {
  httpVersion: "HTTP/1.0" | "HTTP/1.1";
  status: number;
  reasonPhrase: string;
  headers: HeaderList;
}

/** What {@link ResponseParser.nextEvent} returns. */
export type ResponseEvent =
  /** A 1xx response other than 101 (100 Continue, 103 Early Hints...): skip it and read on. */
  | { type: "informational"; head: ResponseHead }
  /** The final response head (or a 101 Switching Protocols). */
  | { type: "head"; head: ResponseHead }
  /** A piece of the body (never empty). */
  | { type: "data"; data: Uint8Array }
  /** The body is complete. `trailers` holds chunked trailer fields (else empty). */
  | { type: "end"; trailers: HeaderList }
  /** More bytes are needed before the next event. */
  | { type: "need-data" }
  /**
   * The peer switched protocols (101) or accepted a CONNECT (2xx): no HTTP body follows; the bytes
   * after the head are in {@link ResponseParser.trailingData}.
   */
  | { type: "paused" };

/** Options of a {@link ResponseParser}. */
export interface ResponseParserOptions {
  /** The request's method: `HEAD` responses have no body, a 2xx to `CONNECT` pauses. */
  method: string;
  /** Upper bound on the bytes of one response head (status line + headers), default 64 KiB. */
  maxHeaderSize?: number;
}
