/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B): encoding, and decoding four bits at a time
 * through a state table built once at load.
 *
 * The code is canonical (codes of one length are consecutive, ordered by symbol), so the
 * bit lengths of the 257 symbols are all we store; the codes are derived from them.
 * @module
 */
import { H2Error, H2ErrorCode } from "./errors.js";

/**
 * Code length of symbols 0..255 and EOS (256), one letter each: `A` = 5 bits ... `Z` = 30 bits
 * (RFC 7541 Appendix B).
 */
const LENGTHS =
  "ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ";

const EOS = 256;

/** Bit length of each symbol's code. */
export const HUFFMAN_LENGTHS: Uint8Array = new Uint8Array(257);
/** Each symbol's code, right-aligned (at most 30 bits, so a safe integer). */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array(257);

{
  for (let s = 0; s < 257; s++) HUFFMAN_LENGTHS[s] = LENGTHS.charCodeAt(s) - 60; // 'A' (65) → 5
  // Canonical assignment: by length, then by symbol value.
  const order = Array.from({ length: 257 }, (_, s) => s).sort(
    (a, b) => (HUFFMAN_LENGTHS[a] as number) - (HUFFMAN_LENGTHS[b] as number) || a - b,
  );
  let code = 0;
  let previous = HUFFMAN_LENGTHS[order[0] as number] as number;
  for (let i = 0; i < order.length; i++) {
    const s = order[i] as number;
    const length = HUFFMAN_LENGTHS[s] as number;
    if (i > 0) code = (code + 1) * 2 ** (length - previous);
    previous = length;
    HUFFMAN_CODES[s] = code;
  }
}

/** Bytes `data` takes Huffman-encoded (RFC 7541 §5.2: padded to a whole octet). */
export function huffmanEncodedLength(data: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < data.length; i++) bits += HUFFMAN_LENGTHS[data[i] as number] as number;
  return Math.ceil(bits / 8);
}

/**
 * Writes `data` Huffman-encoded into `out` at `offset` (which must have room for
 * {@link huffmanEncodedLength} bytes) and returns the offset after it. The last octet is padded
 * with the most significant bits of EOS, i.e. ones (§5.2).
 */
export function huffmanEncode(data: Uint8Array, out: Uint8Array, offset: number): number {
  // At most 7 pending bits + 30 new ones: 37 bits, exact in a double; no 32-bit shifts.
  let acc = 0;
  let bits = 0;
  let o = offset;
  for (let i = 0; i < data.length; i++) {
    const s = data[i] as number;
    const length = HUFFMAN_LENGTHS[s] as number;
    acc = acc * 2 ** length + (HUFFMAN_CODES[s] as number);
    bits += length;
    while (bits >= 8) {
      bits -= 8;
      const scale = 2 ** bits;
      const byte = Math.floor(acc / scale);
      out[o++] = byte;
      acc -= byte * scale;
    }
  }
  if (bits > 0) out[o++] = (acc << (8 - bits)) | (0xff >> bits);
  return o;
}

// Decoding: a state is an internal node of the code tree; feeding it four bits leads to another
// state and emits at most one symbol (every code is at least 5 bits long).
/** Next state for (state << 4 | nibble). */
const NEXT = new Uint16Array(256 * 16);
/** Symbol emitted for (state << 4 | nibble), or -1; -2 marks a decoded EOS (an error, §5.2). */
const EMIT = new Int16Array(256 * 16);
/**
 * States where the string may end: reached from the root by at most 7 one-bits, i.e. a valid
 * padding prefix of EOS (§5.2: longer padding, or padding that is not EOS's prefix, is an error).
 */
const ACCEPT = new Uint8Array(256);

{
  // Build the tree: node 0 is the root; children stored as [left, right]; leaves get ~symbol.
  const left: number[] = [0];
  const right: number[] = [0];
  let nodes = 1;
  for (let s = 0; s < 257; s++) {
    const length = HUFFMAN_LENGTHS[s] as number;
    const code = HUFFMAN_CODES[s] as number;
    let node = 0;
    for (let b = length - 1; b >= 0; b--) {
      const bit = Math.floor(code / 2 ** b) % 2;
      const children = bit === 0 ? left : right;
      if (b === 0) {
        children[node] = ~s;
      } else {
        let next = children[node] as number;
        if (next === 0) {
          next = nodes++;
          left.push(0);
          right.push(0);
          children[node] = next;
        }
        node = next;
      }
    }
  }
  // Accepting states: the path from the root is all ones, at most 7 deep.
  let node = 0;
  for (let depth = 0; depth <= 7; depth++) {
    ACCEPT[node] = 1;
    node = right[node] as number;
  }
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let current = state;
      let emit = -1;
      for (let b = 3; b >= 0; b--) {
        const child = ((nibble >> b) & 1) === 0 ? left[current] : right[current];
        if ((child as number) < 0) {
          const symbol = ~(child as number);
          emit = symbol === EOS ? -2 : symbol;
          current = 0;
          if (emit === -2) break;
        } else {
          current = child as number;
        }
      }
      NEXT[(state << 4) | nibble] = current;
      EMIT[(state << 4) | nibble] = emit;
    }
  }
}

/**
 * Decodes Huffman-encoded `data[start, end)` into `out` (which needs room for `(end - start) * 8 / 5`
 * bytes: no code is shorter than 5 bits) and returns the decoded length.
 * @throws {H2Error} COMPRESSION_ERROR: EOS inside the string, or invalid padding (RFC 7541 §5.2)
 */
export function huffmanDecode(
  data: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  let state = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const byte = data[i] as number;
    let index = (state << 4) | (byte >> 4);
    let emit = EMIT[index] as number;
    if (emit >= 0) out[o++] = emit;
    else if (emit === -2) throw huffmanError("EOS symbol in a Huffman-encoded string");
    state = NEXT[index] as number;
    index = (state << 4) | (byte & 0x0f);
    emit = EMIT[index] as number;
    if (emit >= 0) out[o++] = emit;
    else if (emit === -2) throw huffmanError("EOS symbol in a Huffman-encoded string");
    state = NEXT[index] as number;
  }
  if (ACCEPT[state] !== 1) {
    throw huffmanError("invalid padding at the end of a Huffman-encoded string");
  }
  return o;
}

function huffmanError(message: string): H2Error {
  return new H2Error(H2ErrorCode.COMPRESSION_ERROR, message);
}
