/**
 * The status line of a response (RFC 9112 §4): `HTTP-version SP status-code SP [ reason-phrase ]`.
 * @module
 */

import { RemoteProtocolError } from "../errors.js";
import { BYTE_CLASS, CR, FIELD, quoteBytes, SP } from "./chars.js";

/** A parsed status line; the reason phrase is left as a byte range, decoded with the head. */
export interface StatusLine {
  httpVersion: "HTTP/1.0" | "HTTP/1.1";
  status: number;
  /** The reason phrase is `bytes[reasonStart, reasonEnd)`. */
  reasonStart: number;
  reasonEnd: number;
  /** Bitwise OR of the reason phrase bytes: bit 0x80 set means it holds obs-text. */
  bytesOr: number;
}

// "HTTP/" as bytes; the prefix check also runs on incomplete lines so garbage fails fast.
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];

function isDigit(b: number | undefined): b is number {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** The error for a status line that is not `HTTP/x.y NNN reason`. */
export function illegalStatusLine(
  bytes: Uint8Array,
  start: number,
  end: number,
): RemoteProtocolError {
  return new RemoteProtocolError(`illegal status line: ${quoteBytes(bytes, start, end)}`);
}

// A version word (up to the first SP) made of version-ish characters gets its own message.
function unsupportedVersion(bytes: Uint8Array, start: number, end: number): RemoteProtocolError {
  const limit = Math.min(end, start + 16);
  let i = start + 5;
  while (i < limit && (isDigit(bytes[i]) || bytes[i] === 0x2e)) i++;
  if (i === start + 5 || i === end || bytes[i] !== SP) return illegalStatusLine(bytes, start, end);
  return new RemoteProtocolError(`unsupported HTTP version ${quoteBytes(bytes, start, i)}`);
}

/**
 * Checks the first bytes of a status line that has not fully arrived yet, so a peer that speaks
 * something other than HTTP is rejected before it fills the head buffer. Throws on a mismatch.
 */
export function checkStatusLinePrefix(bytes: Uint8Array, start: number, end: number): void {
  const n = Math.min(end - start, HTTP_SLASH.length);
  for (let i = 0; i < n; i++) {
    if (bytes[start + i] !== HTTP_SLASH[i]) throw illegalStatusLine(bytes, start, end);
  }
}

/**
 * Parses the status line `bytes[start, end)` (without its CRLF). Strict: the version must be
 * HTTP/1.0 or HTTP/1.1, the status exactly three digits in 100-599, and the reason phrase only
 * HTAB / SP / VCHAR / obs-text. `HTTP/1.1 200` without the SP is accepted (an empty reason phrase).
 */
export function parseStatusLine(bytes: Uint8Array, start: number, end: number): StatusLine {
  checkStatusLinePrefix(bytes, start, end);
  // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), then SP. Only 1.0 and 1.1 are HTTP/1.x
  // wire formats; any other version word (2, 2.0, 1.2...) cannot be parsed as this message syntax.
  const major = bytes[start + 5];
  const minor = bytes[start + 7];
  if (
    major !== 0x31 ||
    bytes[start + 6] !== 0x2e ||
    (minor !== 0x30 && minor !== 0x31) ||
    bytes[start + 8] !== SP
  ) {
    throw unsupportedVersion(bytes, start, end);
  }
  if (end - start < 12) throw illegalStatusLine(bytes, start, end);
  const d0 = bytes[start + 9];
  const d1 = bytes[start + 10];
  const d2 = bytes[start + 11];
  if (!isDigit(d0) || !isDigit(d1) || !isDigit(d2)) throw illegalStatusLine(bytes, start, end);
  const status = (d0 - 0x30) * 100 + (d1 - 0x30) * 10 + (d2 - 0x30);
  if (status < 100 || status > 599) throw illegalStatusLine(bytes, start, end);
  let bytesOr = 0;
  if (end > start + 12) {
    if (bytes[start + 12] !== SP) throw illegalStatusLine(bytes, start, end);
    for (let i = start + 13; i < end; i++) {
      const b = bytes[i] as number;
      bytesOr |= b;
      if (((BYTE_CLASS[b] as number) & FIELD) === 0) {
        throw new RemoteProtocolError(
          b === CR
            ? "bare CR in status line (CR must be followed by LF)"
            : `illegal status line: ${quoteBytes(bytes, start, end)}`,
        );
      }
    }
  }
  return {
    httpVersion: minor === 0x31 ? "HTTP/1.1" : "HTTP/1.0",
    status,
    reasonStart: Math.min(start + 13, end),
    reasonEnd: end,
    bytesOr,
  };
}
