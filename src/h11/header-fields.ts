/**
 * Field lines of a response head or trailer section (RFC 9112 §5, RFC 9110 §5.5). Lines are
 * validated on bytes as they arrive and remembered as offsets; the strings are cut from one
 * decode of the whole section ({@link decodeFields}), which is far cheaper than a decode per field.
 * @module
 */

import { RemoteProtocolError } from "../errors.js";
import { BYTE_CLASS, COLON, CR, HTAB, quoteBytes, SP, TCHAR } from "./chars.js";
import type { HeaderList } from "./types.js";

/**
 * Validates the field line `bytes[start, end)` (without its CRLF) and appends four offsets,
 * relative to `base`, to `spans`: name start, name end, value start, value end (the value without
 * surrounding OWS). Returns the bitwise OR of the value bytes (0x80 set: the value has obs-text).
 * `section` names the part of the message in error messages.
 */
export function scanFieldLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  base: number,
  spans: number[],
  section: "header" | "trailer",
): number {
  const first = bytes[start];
  // RFC 9112 §5.2: obs-fold is deprecated; a client may reject it, and joining lines is how
  // lenient parsers have been tricked into seeing different headers than a proxy saw.
  if (first === SP || first === HTAB) {
    throw new RemoteProtocolError(
      `obsolete line folding is not allowed: ${quoteBytes(bytes, start, end)}`,
    );
  }
  let i = start;
  while (i < end && ((BYTE_CLASS[bytes[i] as number] as number) & TCHAR) !== 0) i++;
  if (i === end || bytes[i] !== COLON) throw badName(bytes, start, end, i, section);
  if (i === start) {
    throw new RemoteProtocolError(`empty ${section} name: ${quoteBytes(bytes, start, end)}`);
  }
  const nameEnd = i;
  let valueStart = nameEnd + 1;
  let valueEnd = end;
  while (valueStart < valueEnd && isOws(bytes[valueStart])) valueStart++;
  while (valueEnd > valueStart && isOws(bytes[valueEnd - 1])) valueEnd--;
  let bytesOr = 0;
  for (let k = valueStart; k < valueEnd; k++) {
    const b = bytes[k] as number;
    bytesOr |= b;
    // field-vchar / SP / HTAB (RFC 9110 §5.5): everything but the CTLs other than HTAB, and DEL.
    if ((b < 0x20 && b !== HTAB) || b === 0x7f) {
      if (b === CR) throw bareCr(section);
      throw new RemoteProtocolError(
        `illegal ${section} value for ${quoteBytes(bytes, start, nameEnd)}: ${quoteBytes(
          bytes,
          valueStart,
          valueEnd,
        )}`,
      );
    }
  }
  spans.push(start - base, nameEnd - base, valueStart - base, valueEnd - base);
  return bytesOr;
}

/** Cuts the fields recorded in `spans` out of `text`, the decoded section (offsets match). */
export function decodeFields(text: string, spans: number[]): HeaderList {
  const fields: HeaderList = [];
  for (let i = 0; i < spans.length; i += 4) {
    fields.push([
      text.slice(spans[i] as number, spans[i + 1] as number),
      text.slice(spans[i + 2] as number, spans[i + 3] as number),
    ]);
  }
  return fields;
}

function badName(
  bytes: Uint8Array,
  start: number,
  end: number,
  at: number,
  section: string,
): RemoteProtocolError {
  const b = at === end ? undefined : bytes[at];
  if (b === CR) return bareCr(section);
  // RFC 9112 §5.1: no whitespace is allowed between the field name and the colon.
  const why =
    at === end || bytes.subarray(at, end).indexOf(COLON) === -1
      ? "no colon in"
      : b === SP || b === HTAB
        ? "whitespace before the colon in"
        : "invalid character in the name of";
  return new RemoteProtocolError(`${why} ${section} line: ${quoteBytes(bytes, start, end)}`);
}

function isOws(b: number | undefined): boolean {
  return b === SP || b === HTAB;
}

function bareCr(section: string): RemoteProtocolError {
  return new RemoteProtocolError(`bare CR in ${section} line (CR must be followed by LF)`);
}
