/**
 * Byte classes and latin1 helpers shared by the parser and the writer. Every check is one table
 * lookup per byte: no regexes, so attacker-controlled input can never cause backtracking.
 * @module
 */

/** Bit in {@link BYTE_CLASS}: RFC 9110 §5.6.2 `tchar`, the characters of a token. */
export const TCHAR = 1;
/** Bit in {@link BYTE_CLASS}: RFC 9110 §5.5 field-value characters (HTAB, SP, VCHAR, obs-text). */
export const FIELD = 2;
/** Bit in {@link BYTE_CLASS}: hex digit of a chunk size (RFC 9112 §7.1). */
export const HEX = 4;
/** Bit in {@link BYTE_CLASS}: RFC 9110 §5.6.4 `qdtext` (inside a quoted-string, minus `\`). */
export const QDTEXT = 8;

/** Per-byte bitset of the classes above. */
export const BYTE_CLASS: Uint8Array = buildByteClass();

function buildByteClass(): Uint8Array {
  const table = new Uint8Array(256);
  const tcharSymbols = "!#$%&'*+-.^_`|~";
  for (let b = 0; b < 256; b++) {
    let bits = 0;
    const isAlnum =
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    if (isAlnum || tcharSymbols.includes(String.fromCharCode(b))) bits |= TCHAR;
    // VCHAR is 0x21-0x7E, obs-text 0x80-0xFF; DEL (0x7F) and the other CTLs are excluded.
    if (b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80) bits |= FIELD;
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)) {
      bits |= HEX;
    }
    if (b === 0x09 || b === 0x20 || b === 0x21 || (b >= 0x23 && b <= 0x5b) || b >= 0x5d) {
      if (b !== 0x7f) bits |= QDTEXT;
    }
    table[b] = bits;
  }
  return table;
}

/** Carriage return. */
export const CR = 0x0d;
/** Line feed. */
export const LF = 0x0a;
/** Space. */
export const SP = 0x20;
/** Horizontal tab. */
export const HTAB = 0x09;
/** `:` */
export const COLON = 0x3a;

/** An empty byte array, shared so that "no bytes" never allocates. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

// `String.fromCharCode.apply` takes one argument per byte; engines cap argument counts, so long
// fields are decoded in slices of this size.
const APPLY_SLICE = 8192;

/**
 * Decodes `bytes[start, end)` as latin1 (ISO-8859-1: byte value = code point). Not
 * `TextDecoder("latin1")`, which the WHATWG Encoding spec maps to windows-1252 (0x80 → "€").
 */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length <= 0) return "";
  if (length <= APPLY_SLICE) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  let out = "";
  for (let i = start; i < end; i += APPLY_SLICE) {
    const stop = Math.min(i + APPLY_SLICE, end);
    out += String.fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]);
  }
  return out;
}

// Pure-ASCII bytes decode the same in UTF-8 and latin1, and the native UTF-8 decoder is fast in
// every runtime: about 10x `String.fromCharCode.apply` on a typical head in Node 20. (It cannot do
// obs-text: `TextDecoder("latin1")` is windows-1252 per the WHATWG Encoding spec.)
const asciiDecoder = new TextDecoder();

/**
 * Decodes `bytes[start, end)` as latin1, given `bytesOr`, the bitwise OR of (at least) every byte
 * that may be above 0x7F: without such a byte, one native ASCII decode does it.
 */
export function decodeSection(
  bytes: Uint8Array,
  start: number,
  end: number,
  bytesOr: number,
): string {
  if ((bytesOr & 0x80) === 0) return asciiDecoder.decode(bytes.subarray(start, end));
  return latin1Decode(bytes, start, end);
}

/** JSON-quoted latin1 text of at most `max` bytes of `bytes[start, end)`, for error messages. */
export function quoteBytes(bytes: Uint8Array, start: number, end: number, max = 64): string {
  return JSON.stringify(latin1Decode(bytes, start, Math.min(end, start + max)));
}

/** True if `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || ((BYTE_CLASS[c] as number) & TCHAR) === 0) return false;
  }
  return true;
}

/** Strips RFC 9110 OWS (SP / HTAB only; `String.prototype.trim` would also eat NBSP, 0xA0). */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}
