/**
 * HPACK (RFC 7541): header compression for HTTP/2, sans-IO. {@link HpackEncoder} turns header
 * lists into header blocks, {@link HpackDecoder} turns blocks back into lists, each with its own
 * dynamic table (§2.3.2). Names and values are latin1 strings (one char per octet).
 *
 * The decoder is written for hostile input: every length is checked against the bytes left, the
 * dynamic table never exceeds the size we allowed (§4.2), and the decoded header list is bounded
 * (RFC 9113 §6.5.2 SETTINGS_MAX_HEADER_LIST_SIZE) — the work and memory per block are linear in
 * its size.
 * @module
 */
import { decodeSection } from "../h11/chars.js";
import { H2Error, H2ErrorCode } from "./errors.js";
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman.js";

/** A header field: `[name, value]`, latin1 strings. */
export type HeaderField = [string, string];

/** The static table (RFC 7541 Appendix A); index 1 is the first entry. */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

const STATIC_LENGTH = STATIC_TABLE.length;
/** Static index of each name (its first entry) and of each name + value pair. */
const STATIC_NAME = new Map<string, number>();
const STATIC_PAIR = new Map<string, number>();
for (let i = STATIC_LENGTH - 1; i >= 0; i--) {
  const [name, value] = STATIC_TABLE[i] as readonly [string, string];
  STATIC_NAME.set(name, i + 1);
  STATIC_PAIR.set(`${name}\0${value}`, i + 1);
}

/** The default (and our advertised) dynamic table size, SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;

/** Per-entry overhead in the table size (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * The dynamic table (RFC 7541 §2.3.2): a FIFO of entries, newest first in index order, whose size
 * (the sum of name + value + 32 per entry, §4.1) never exceeds `maxSize`. A ring buffer, so
 * inserting and evicting are O(1).
 */
export class DynamicTable {
  #names: string[] = [];
  #values: string[] = [];
  /** Ring positions: the oldest entry is at `#head`, `#count` entries in all. */
  #head = 0;
  #count = 0;
  #size = 0;
  #maxSize: number;

  constructor(maxSize = DEFAULT_HEADER_TABLE_SIZE) {
    this.#maxSize = maxSize;
  }

  /** Number of entries. */
  get length(): number {
    return this.#count;
  }

  /** Current size in octets, as RFC 7541 §4.1 counts it. */
  get size(): number {
    return this.#size;
  }

  /** The size limit in force. */
  get maxSize(): number {
    return this.#maxSize;
  }

  /** Entry `i` (0 = newest), or undefined. */
  get(i: number): HeaderField | undefined {
    if (i < 0 || i >= this.#count) return undefined;
    const capacity = this.#names.length;
    const at = (this.#head + this.#count - 1 - i) % capacity;
    return [this.#names[at] as string, this.#values[at] as string];
  }

  /** Finds `name` (and `value`): `[index of a full match or -1, index of a name match or -1]`. */
  find(name: string, value: string): [number, number] {
    const capacity = this.#names.length;
    let nameIndex = -1;
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head + this.#count - 1 - i) % capacity;
      if (this.#names[at] !== name) continue;
      if (this.#values[at] === value) return [i, i];
      if (nameIndex === -1) nameIndex = i;
    }
    return [-1, nameIndex];
  }

  /** Changes the limit, evicting the oldest entries until the table fits (§4.3). */
  setMaxSize(maxSize: number): void {
    this.#maxSize = maxSize;
    this.#evict(0);
  }

  /**
   * Adds an entry as the newest, evicting old ones first (§4.4). An entry larger than the whole
   * table empties it and is not stored — not an error.
   */
  add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.#maxSize) {
      this.#evict(this.#maxSize);
      return;
    }
    this.#evict(entrySize);
    if (this.#count === this.#names.length) this.#grow();
    const at = (this.#head + this.#count) % this.#names.length;
    this.#names[at] = name;
    this.#values[at] = value;
    this.#count++;
    this.#size += entrySize;
  }

  /** Evicts until `room` more octets fit. */
  #evict(room: number): void {
    while (this.#count > 0 && this.#size + room > this.#maxSize) {
      const at = this.#head;
      const name = this.#names[at] as string;
      const value = this.#values[at] as string;
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      this.#names[at] = "";
      this.#values[at] = "";
      this.#head = (at + 1) % this.#names.length;
      this.#count--;
    }
    if (this.#count === 0) this.#head = 0;
  }

  #grow(): void {
    // Entries are at least 32 octets, so at most maxSize / 32 of them: growth stops there.
    const capacity = Math.max(8, this.#names.length * 2);
    const names: string[] = new Array(capacity).fill("");
    const values: string[] = new Array(capacity).fill("");
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head + i) % this.#names.length;
      names[i] = this.#names[at] as string;
      values[i] = this.#values[at] as string;
    }
    this.#names = names;
    this.#values = values;
    this.#head = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Primitive representations (RFC 7541 §5)

/**
 * Appends the integer `value` with an N-bit prefix (§5.1); `first` holds the pattern bits above
 * the prefix.
 */
function writeInteger(out: number[], value: number, prefixBits: number, first: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(first | value);
    return;
  }
  out.push(first | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** The octets of a latin1 string (chars above 0xFF never reach here: headers are validated). */
function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Appends a string literal (§5.2), Huffman-coded when that is shorter. */
function writeString(out: number[], s: string, huffman: boolean): void {
  const bytes = latin1Bytes(s);
  if (huffman) {
    const length = huffmanEncodedLength(bytes);
    if (length <= bytes.length) {
      writeInteger(out, length, 7, 0x80);
      const buffer = new Uint8Array(length);
      huffmanEncode(bytes, buffer, 0);
      for (let i = 0; i < length; i++) out.push(buffer[i] as number);
      return;
    }
  }
  writeInteger(out, bytes.length, 7, 0);
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i] as number);
}

/** Options of {@link HpackEncoder}. */
export interface HpackEncoderOptions {
  /** Largest dynamic table this encoder will use (default 4096). */
  maxTableSize?: number;
  /** Huffman-code string literals unless that makes them longer (default true). */
  huffman?: boolean;
  /**
   * Names whose fields are sent "never indexed" and kept out of the dynamic table (§6.2.3,
   * §7.1.3). Default: `authorization`, `proxy-authorization`, `set-cookie` (and short `cookie`
   * values, which are easy to guess).
   */
  sensitiveNames?: Iterable<string>;
}

/**
 * Names whose values never enter the dynamic table and are sent "never indexed" (§6.2.3, §7.1.3):
 * credentials an intermediary must not compress either.
 */
const SENSITIVE = new Set(["authorization", "proxy-authorization", "set-cookie"]);

/**
 * An HPACK encoder. Uses the static table, then its dynamic table, and adds new fields to the
 * dynamic table unless they are sensitive or too large to be worth a slot.
 */
export class HpackEncoder {
  readonly #table: DynamicTable;
  readonly #huffman: boolean;
  readonly #sensitive: ReadonlySet<string>;
  /** The most this encoder may use: min(peer's SETTINGS_HEADER_TABLE_SIZE, our own cap). */
  readonly #cap: number;
  /** Smallest and final sizes since the last block, for the size updates owed (§4.2). */
  #pendingMin: number | null = null;
  #pendingFinal: number | null = null;

  constructor(options: HpackEncoderOptions = {}) {
    this.#cap = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    this.#huffman = options.huffman ?? true;
    this.#sensitive =
      options.sensitiveNames === undefined ? SENSITIVE : new Set(options.sensitiveNames);
    const size = Math.min(this.#cap, DEFAULT_HEADER_TABLE_SIZE);
    this.#table = new DynamicTable(size);
    // The peer's decoder starts at 4096 (§4.2): a smaller table must be announced first.
    if (size < DEFAULT_HEADER_TABLE_SIZE) {
      this.#pendingMin = size;
      this.#pendingFinal = size;
    }
  }

  /** The encoder's dynamic table (for inspection). */
  get table(): DynamicTable {
    return this.#table;
  }

  /**
   * The decoder's limit changed (the peer's SETTINGS_HEADER_TABLE_SIZE): use at most that much
   * (capped at our own limit) and signal the new size at the start of the next block (§4.2, §6.3).
   */
  setMaxTableSize(peerLimit: number): void {
    const size = Math.min(peerLimit, this.#cap);
    if (size === this.#table.maxSize && this.#pendingFinal === null) return;
    this.#pendingMin = Math.min(this.#pendingMin ?? size, size);
    this.#pendingFinal = size;
    this.#table.setMaxSize(size);
  }

  /** Encodes a header list (names must already be lower-case) into a header block. */
  encode(headers: readonly (readonly [string, string])[]): Uint8Array {
    const out: number[] = [];
    if (this.#pendingFinal !== null) {
      // A shrink followed by a growth must signal the minimum first (§4.2).
      const min = this.#pendingMin as number;
      if (min < this.#pendingFinal) writeInteger(out, min, 5, 0x20);
      writeInteger(out, this.#pendingFinal, 5, 0x20);
      this.#pendingMin = null;
      this.#pendingFinal = null;
    }
    for (const [name, value] of headers) this.#encodeField(out, name, value);
    return Uint8Array.from(out);
  }

  #encodeField(out: number[], name: string, value: string): void {
    const sensitive =
      this.#sensitive.has(name) ||
      (name === "cookie" && value.length < 20 && this.#sensitive === SENSITIVE);
    const staticFull = STATIC_PAIR.get(`${name}\0${value}`);
    if (staticFull !== undefined && !sensitive) {
      writeInteger(out, staticFull, 7, 0x80); // §6.1 indexed
      return;
    }
    const [dynamicFull, dynamicName] = this.#table.find(name, value);
    if (dynamicFull !== -1 && !sensitive) {
      writeInteger(out, STATIC_LENGTH + 1 + dynamicFull, 7, 0x80);
      return;
    }
    const staticName = STATIC_NAME.get(name);
    const nameIndex = staticName ?? (dynamicName === -1 ? 0 : STATIC_LENGTH + 1 + dynamicName);
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (sensitive) {
      writeInteger(out, nameIndex, 4, 0x10); // §6.2.3 never indexed
    } else if (entrySize <= this.#table.maxSize / 2) {
      writeInteger(out, nameIndex, 6, 0x40); // §6.2.1 with incremental indexing
      this.#table.add(name, value);
    } else {
      writeInteger(out, nameIndex, 4, 0x00); // §6.2.2 without indexing: too big to keep
    }
    if (nameIndex === 0) writeString(out, name, this.#huffman);
    writeString(out, value, this.#huffman);
  }
}

/** Options of {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * The dynamic table size we allow the peer (our SETTINGS_HEADER_TABLE_SIZE, default 4096): a
   * size update above it is a COMPRESSION_ERROR (RFC 7541 §6.3).
   */
  maxTableSize?: number;
  /**
   * Bound on the decoded header list, counted as RFC 9113 §6.5.2 does (name + value + 32 per
   * field); default 65536 like httpcore.
   */
  maxHeaderListSize?: number;
}

/** What {@link HpackDecoder.decode} returns. */
export interface DecodedBlock {
  /** The fields in order; empty when the list was over the limit. */
  headers: HeaderField[];
  /** Size of the whole list as RFC 9113 §6.5.2 counts it (name + value + 32 per field). */
  size: number;
  /**
   * The list exceeded `maxHeaderListSize`: the block was still decoded to the end, so the dynamic
   * table stays in sync (RFC 9113 §10.5.1), but its fields were dropped.
   */
  oversized: boolean;
}

/** Largest integer we accept in a representation: no legitimate index or length comes near. */
const MAX_INTEGER = 2 ** 32;

/**
 * An HPACK decoder with its own dynamic table. Any malformed block throws an {@link H2Error}
 * with COMPRESSION_ERROR (a connection error, RFC 9113 §4.3: the table may be out of sync).
 */
export class HpackDecoder {
  readonly #table: DynamicTable;
  /** What we advertised; updates above it are errors. */
  #allowed: number;
  readonly #maxHeaderListSize: number;
  /** Scratch for Huffman decoding, grown on demand. */
  #scratch = new Uint8Array(256);

  constructor(options: HpackDecoderOptions = {}) {
    this.#allowed = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    this.#maxHeaderListSize = options.maxHeaderListSize ?? 65536;
    this.#table = new DynamicTable(this.#allowed);
  }

  /** The decoder's dynamic table (for inspection). */
  get table(): DynamicTable {
    return this.#table;
  }

  /** The limit of the decoded header list. */
  get maxHeaderListSize(): number {
    return this.#maxHeaderListSize;
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATION fragments joined).
   * @throws {H2Error} COMPRESSION_ERROR on any malformed representation
   */
  decode(block: Uint8Array): DecodedBlock {
    const headers: HeaderField[] = [];
    let size = 0;
    let oversized = false;
    let pos = 0;
    let fieldsSeen = false;
    const end = block.length;
    const readInteger = (prefixBits: number): number => {
      const max = (1 << prefixBits) - 1;
      let value = (block[pos++] as number) & max;
      if (value < max) return value;
      let factor = 1;
      for (;;) {
        if (pos >= end) throw compressionError("truncated integer");
        const b = block[pos++] as number;
        value += (b & 0x7f) * factor;
        // Five continuation octets already reach 2^35: more (even zero-valued ones) is abuse.
        if (value > MAX_INTEGER || factor > 2 ** 28) throw compressionError("integer too large");
        if ((b & 0x80) === 0) return value;
        factor *= 128;
      }
    };
    const readString = (): string => {
      if (pos >= end) throw compressionError("truncated string literal");
      const huffman = ((block[pos] as number) & 0x80) !== 0;
      const length = readInteger(7);
      if (length > end - pos) throw compressionError("string literal longer than the block");
      const start = pos;
      pos += length;
      if (!huffman) return latin1(block, start, pos);
      const room = Math.ceil((length * 8) / 5);
      if (this.#scratch.length < room) this.#scratch = new Uint8Array(Math.max(room, 256));
      const n = huffmanDecode(block, start, pos, this.#scratch);
      return latin1(this.#scratch, 0, n);
    };
    const emit = (name: string, value: string): void => {
      size += name.length + value.length + ENTRY_OVERHEAD;
      if (size > this.#maxHeaderListSize) {
        oversized = true;
        headers.length = 0;
      }
      if (!oversized) headers.push([name, value]);
    };
    while (pos < end) {
      const b = block[pos] as number;
      if (b & 0x80) {
        // §6.1 Indexed Header Field
        const index = readInteger(7);
        const [name, value] = this.#lookup(index);
        emit(name, value);
        fieldsSeen = true;
      } else if (b & 0x40) {
        // §6.2.1 Literal with incremental indexing
        const index = readInteger(6);
        const name = index === 0 ? readString() : (this.#lookup(index)[0] as string);
        const value = readString();
        this.#table.add(name, value);
        emit(name, value);
        fieldsSeen = true;
      } else if (b & 0x20) {
        // §6.3 Dynamic Table Size Update: only at the start of a block (§4.2).
        if (fieldsSeen) throw compressionError("dynamic table size update after a header field");
        const newSize = readInteger(5);
        if (newSize > this.#allowed) {
          throw compressionError(
            `dynamic table size update to ${newSize} exceeds the allowed ${this.#allowed}`,
          );
        }
        this.#table.setMaxSize(newSize);
      } else {
        // §6.2.2 without indexing (0000xxxx) / §6.2.3 never indexed (0001xxxx)
        const index = readInteger(4);
        const name = index === 0 ? readString() : (this.#lookup(index)[0] as string);
        const value = readString();
        emit(name, value);
        fieldsSeen = true;
      }
    }
    return { headers, size, oversized };
  }

  /**
   * We now allow the peer `size` octets (a new SETTINGS_HEADER_TABLE_SIZE of ours, acknowledged).
   * A smaller limit takes effect at once.
   */
  setAllowedTableSize(size: number): void {
    this.#allowed = size;
    if (this.#table.maxSize > size) this.#table.setMaxSize(size);
  }

  #lookup(index: number): readonly [string, string] {
    if (index === 0) throw compressionError("index 0 in an indexed representation");
    if (index <= STATIC_LENGTH) return STATIC_TABLE[index - 1] as readonly [string, string];
    const entry = this.#table.get(index - STATIC_LENGTH - 1);
    if (entry === undefined) {
      throw compressionError(
        `index ${index} beyond the tables (${STATIC_LENGTH} static + ${this.#table.length} dynamic entries)`,
      );
    }
    return entry;
  }
}

function compressionError(message: string): H2Error {
  return new H2Error(H2ErrorCode.COMPRESSION_ERROR, `HPACK: ${message}`);
}

/** latin1 text of `bytes[start, end)`: short ASCII by hand, long ASCII natively (fast). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 32) {
    let or = 0;
    for (let i = start; i < end; i++) or |= bytes[i] as number;
    return decodeSection(bytes, start, end, or);
  }
  let out = "";
  for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i] as number);
  return out;
}
