/**
 * Request serialisation: the request line and header fields as latin1 bytes, and the chunked
 * transfer coding of a streamed body. Everything is validated before a byte is produced, so
 * caller-supplied strings can never inject CR/LF, split the request or desynchronise framing
 * (CVE-2022-31150, CVE-2023-23936, CVE-2026-1525 in undici).
 * @module
 */

import { LocalProtocolError } from "../errors.js";
import { isToken, trimOws } from "./chars.js";
import type { HeaderList } from "./types.js";

/** Throws {@link LocalProtocolError} unless `method` is a non-empty RFC 9110 token. */
export function validateMethod(method: string): void {
  if (!isToken(method)) {
    throw new LocalProtocolError(`invalid HTTP method: ${JSON.stringify(method)}`);
  }
}

/**
 * Throws {@link LocalProtocolError} unless `target` is non-empty and made of 0x21-0x7E and
 * obs-text 0x80-0xFF only: no SP, no CTL, nothing beyond latin1 (which would be truncated into
 * arbitrary bytes, CVE-2018-12116). Non-ASCII should be percent-encoded by the caller.
 */
export function validateTarget(target: string): void {
  if (target.length === 0) throw new LocalProtocolError("invalid request target: empty");
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0xff) {
      throw new LocalProtocolError(
        `invalid character in request target: ${JSON.stringify(target)}`,
      );
    }
  }
}

/**
 * Throws {@link LocalProtocolError} unless `name` is a token and `value` holds only HTAB, SP,
 * VCHAR and obs-text (RFC 9110 §5.5): no NUL, CR, LF, other CTL or DEL, nothing beyond 0xFF.
 */
export function validateHeader(name: string, value: string): void {
  if (!isToken(name)) {
    throw new LocalProtocolError(`Illegal header name ${JSON.stringify(name)}`);
  }
  if (!isFieldValue(value)) {
    throw new LocalProtocolError(
      `Illegal header value ${JSON.stringify(value)} for header ${JSON.stringify(name)}`,
    );
  }
}

function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * Validates a request and encodes its head: `METHOD SP target SP HTTP/1.1 CRLF`, one
 * `name: value CRLF` per header in the given order and casing, then CRLF. Also rejects framing
 * a server could read two ways: several Content-Length or Host fields (any casing, even with
 * equal values), a Content-Length that is not `1*DIGIT`, Content-Length together with
 * Transfer-Encoding, and a Transfer-Encoding whose final coding is not `chunked`.
 */
export function encodeRequestHead(method: string, target: string, headers: HeaderList): Uint8Array {
  validateMethod(method);
  validateTarget(target);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let contentLength = false;
  let transferEncoding: string | null = null;
  let host = false;
  for (const [name, value] of headers) {
    validateHeader(name, value);
    // Only three names matter; checking the length first skips lower-casing all the others.
    const n = name.length;
    const lower = n === 4 || n === 14 || n === 17 ? name.toLowerCase() : "";
    if (lower === "content-length") {
      if (contentLength) throw new LocalProtocolError("duplicate Content-Length header");
      if (!isDigits(value)) {
        throw new LocalProtocolError(`invalid Content-Length value ${JSON.stringify(value)}`);
      }
      contentLength = true;
    } else if (lower === "host") {
      if (host) throw new LocalProtocolError("duplicate Host header");
      host = true;
    } else if (lower === "transfer-encoding") {
      transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
    }
    head += `${name}: ${value}\r\n`;
  }
  if (transferEncoding !== null) {
    // RFC 9112 §6.1/§6.3: CL with TE is a smuggling signature, and without chunked as the final
    // coding the server cannot find the end of the request body.
    if (contentLength) {
      throw new LocalProtocolError("both Content-Length and Transfer-Encoding are set");
    }
    const codings = transferEncoding.split(",");
    const last = trimOws(codings[codings.length - 1] as string).toLowerCase();
    if (last !== "chunked") {
      throw new LocalProtocolError(
        `unsupported Transfer-Encoding ${JSON.stringify(transferEncoding)}: chunked must be the final coding`,
      );
    }
  }
  head += "\r\n";
  return latin1Encode(head);
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 16) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return Number(s) <= Number.MAX_SAFE_INTEGER;
}

const ascii = new TextEncoder();

/**
 * Encodes `s` as latin1 (code point = byte). Throws {@link LocalProtocolError} on a character
 * above U+00FF rather than truncating it.
 */
export function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  let high = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) {
      high = true;
      break;
    }
  }
  // Pure ASCII (the usual head) is UTF-8 already: the native encoder is the fastest copy.
  if (!high) {
    ascii.encodeInto(s, out);
    return out;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw new LocalProtocolError(
        `cannot encode ${JSON.stringify(s.charAt(i))} (U+${c.toString(16).toUpperCase().padStart(4, "0")}) as latin1`,
      );
    }
    out[i] = c;
  }
  return out;
}

/** The last chunk of a chunked body without trailers: `0\r\n\r\n`. Shared; do not mutate. */
export const LAST_CHUNK: Uint8Array = latin1Encode("0\r\n\r\n");

const CRLF = latin1Encode("\r\n");
// Below this size one copy into a single array is cheaper than three writes to the socket.
const COALESCE_LIMIT = 1024;

/**
 * Frames `data` as one chunk (RFC 9112 §7.1): the size line, the data, CRLF. Small chunks come
 * back as one array; large ones as three (the data is not copied; the CRLF array is shared, do not
 * mutate it). An empty `data` yields no
 * arrays, since a zero-size chunk would end the body.
 */
export function encodeChunk(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [];
  const sizeLine = latin1Encode(`${data.length.toString(16)}\r\n`);
  if (data.length > COALESCE_LIMIT) return [sizeLine, data, CRLF];
  const out = new Uint8Array(sizeLine.length + data.length + 2);
  out.set(sizeLine, 0);
  out.set(data, sizeLine.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return [out];
}
