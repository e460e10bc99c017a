/**
 * The chunk-size line of the chunked transfer coding (RFC 9112 §7.1):
 * `chunk-size [ chunk-ext ] CRLF` with `chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )`.
 * @module
 */

import { RemoteProtocolError } from "../errors.js";
import { BYTE_CLASS, CR, FIELD, HEX, HTAB, QDTEXT, quoteBytes, SP, TCHAR } from "./chars.js";

/**
 * Parses the chunk-size line `bytes[start, end)` (without its CRLF) and returns the chunk size.
 * Extensions are validated and ignored. Strict like llhttp: no whitespace between the size and
 * the extensions or line end, no CTLs anywhere, size at most `Number.MAX_SAFE_INTEGER`.
 */
export function parseChunkSizeLine(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let size = 0;
  while (i < end && ((BYTE_CLASS[bytes[i] as number] as number) & HEX) !== 0) {
    // Checked before multiplying so the arithmetic stays exact (leading zeros are fine).
    if (size > Number.MAX_SAFE_INTEGER / 16) {
      throw new RemoteProtocolError(`chunk size overflow: ${quoteBytes(bytes, start, end)}`);
    }
    size = size * 16 + hexValue(bytes[i] as number);
    i++;
  }
  if (i === start || (i < end && bytes[i] !== 0x3b)) throw invalidLine(bytes, start, end, i);
  while (i < end) i = parseExtension(bytes, i, start, end);
  return size;
}

// Parses one `;name[=value]` starting at the ";" at `i`; returns the index of the next ";" or
// `end`. BWS may surround ";" and "=" but not end the line (llhttp rejects that too).
function parseExtension(bytes: Uint8Array, i: number, lineStart: number, end: number): number {
  i = skipBws(bytes, i + 1, end);
  const nameStart = i;
  while (i < end && ((BYTE_CLASS[bytes[i] as number] as number) & TCHAR) !== 0) i++;
  if (i === nameStart) throw invalidLine(bytes, lineStart, end, i);
  let next = skipBws(bytes, i, end);
  if (next < end && bytes[next] === 0x3d) {
    i = skipBws(bytes, next + 1, end);
    if (bytes[i] === 0x22) {
      i = skipQuotedString(bytes, i, lineStart, end);
    } else {
      const valueStart = i;
      while (i < end && ((BYTE_CLASS[bytes[i] as number] as number) & TCHAR) !== 0) i++;
      if (i === valueStart) throw invalidLine(bytes, lineStart, end, i);
    }
    next = skipBws(bytes, i, end);
  }
  if (next === end ? next !== i : bytes[next] !== 0x3b) throw invalidLine(bytes, lineStart, end, i);
  return next;
}

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4); returns the index
// after the closing quote.
function skipQuotedString(bytes: Uint8Array, i: number, lineStart: number, end: number): number {
  i++;
  while (i < end) {
    const b = bytes[i] as number;
    if (b === 0x22) return i + 1;
    if (b === 0x5c) {
      const escaped = bytes[i + 1];
      if (i + 1 >= end || ((BYTE_CLASS[escaped as number] as number) & FIELD) === 0) {
        throw invalidLine(bytes, lineStart, end, i + 1);
      }
      i += 2;
    } else if (((BYTE_CLASS[b] as number) & QDTEXT) !== 0) {
      i++;
    } else {
      throw invalidLine(bytes, lineStart, end, i);
    }
  }
  throw invalidLine(bytes, lineStart, end, end);
}

function skipBws(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && (bytes[i] === SP || bytes[i] === HTAB)) i++;
  return i;
}

function hexValue(b: number): number {
  // '0'-'9' → 0-9; 'A'-'F' and 'a'-'f' share their low bits once 0x20 is set.
  return b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57;
}

function invalidLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  at: number,
): RemoteProtocolError {
  if (at < end && bytes[at] === CR) {
    return new RemoteProtocolError("bare CR in chunk-size line (CR must be followed by LF)");
  }
  const what = at === start ? "invalid chunk size" : "invalid chunk-size line";
  return new RemoteProtocolError(`${what}: ${quoteBytes(bytes, start, end)}`);
}
