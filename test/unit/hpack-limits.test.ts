// HPACK beyond the RFC examples: table size updates and eviction, the decoder's limits against
// hostile blocks (HPACK bombs), and property tests: any header list round-trips, any byte string
// either decodes or throws a COMPRESSION_ERROR H2Error — never anything else, never unbounded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RemoteProtocolError } from "../../src/errors.js";
import { H2Error, H2ErrorCode } from "../../src/h2/errors.js";
import { DynamicTable, type HeaderField, HpackDecoder, HpackEncoder } from "../../src/h2/hpack.js";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) =>
    Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16),
  );
}

function compressionError(fn: () => unknown): H2Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(H2Error);
    expect(error).toBeInstanceOf(RemoteProtocolError);
    expect((error as H2Error).code).toBe(H2ErrorCode.COMPRESSION_ERROR);
    return error as H2Error;
  }
  throw new Error("expected a COMPRESSION_ERROR");
}

/** A literal with incremental indexing and a literal (non-Huffman) name and value. */
function literal(name: string, value: string, pattern = 0x40): number[] {
  const bytes = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
  return [pattern, name.length, ...bytes(name), value.length, ...bytes(value)];
}

describe("dynamic table", () => {
  it("evicts the oldest entries to fit, and an oversized entry empties it", () => {
    const table = new DynamicTable(100);
    table.add("a", "1"); // 34
    table.add("b", "2"); // 34
    expect(table.size).toBe(68);
    table.add("c", "3"); // 102 > 100: "a" goes
    expect([table.length, table.get(0), table.get(1)]).toEqual([2, ["c", "3"], ["b", "2"]]);
    table.add("x".repeat(60), "y".repeat(20)); // 112 > 100 on its own
    expect([table.length, table.size]).toEqual([0, 0]);
    table.add("d", "4");
    table.setMaxSize(0);
    expect([table.length, table.size]).toEqual([0, 0]);
  });

  it("wraps around its ring buffer", () => {
    const table = new DynamicTable(34 * 3);
    for (let i = 0; i < 50; i++) {
      table.add("k", String(i % 10));
      expect(table.get(0)).toEqual(["k", String(i % 10)]);
      expect(table.size).toBeLessThanOrEqual(102);
    }
    expect(table.find("k", "9")).toEqual([0, 0]);
    expect(table.find("k", "7")).toEqual([2, 2]);
    expect(table.find("k", "x")).toEqual([-1, 0]);
  });
});

describe("table size updates (RFC 7541 §4.2, §6.3)", () => {
  it("the encoder signals the minimum, then the final size, at the next block", () => {
    const encoder = new HpackEncoder();
    encoder.encode([["x-a", "1"]]);
    expect(encoder.table.length).toBe(1);
    encoder.setMaxTableSize(0);
    encoder.setMaxTableSize(2048);
    const block = encoder.encode([["x-b", "2"]]);
    // 0x20 = size 0, then 0x3f e1 0f = 2048; the table was emptied by the shrink.
    expect(Array.from(block.subarray(0, 4))).toEqual([0x20, 0x3f, 0xe1, 0x0f]);
    const decoder = new HpackDecoder();
    // A fresh decoder (4096 allowed) follows along.
    expect(decoder.decode(block).headers).toEqual([["x-b", "2"]]);
    expect(decoder.table.maxSize).toBe(2048);
  });

  it("never uses more table than the peer allows, nor more than its own cap", () => {
    const encoder = new HpackEncoder({ maxTableSize: 1024 });
    const first = encoder.encode([["x-a", "1"]]);
    expect(first[0]).toBe(0x3f); // announces 1024 first: the peer's decoder starts at 4096
    encoder.setMaxTableSize(100000);
    expect(encoder.table.maxSize).toBe(1024);
    encoder.setMaxTableSize(0);
    encoder.encode([["x-b", "2"]]);
    expect(encoder.table.length).toBe(0);
  });

  it("rejects an update above our SETTINGS_HEADER_TABLE_SIZE", () => {
    const decoder = new HpackDecoder({ maxTableSize: 4096 });
    const e = compressionError(() => decoder.decode(hex("3fe21f"))); // 4097
    expect(e.message).toMatch(/size update to 4097 exceeds the allowed 4096/);
  });

  it("rejects an update after a header field", () => {
    const decoder = new HpackDecoder();
    compressionError(() => decoder.decode(hex("82 20")));
  });

  it("accepts two updates at the start of a block", () => {
    const decoder = new HpackDecoder();
    decoder.decode(Uint8Array.from(literal("x-a", "1")));
    expect(decoder.decode(hex("20 3f e1 0f 82")).headers).toEqual([[":method", "GET"]]);
    expect([decoder.table.length, decoder.table.maxSize]).toEqual([0, 2048]);
  });

  it("a lowered allowance applies to the table at once", () => {
    const decoder = new HpackDecoder();
    decoder.decode(Uint8Array.from(literal("x-a", "1")));
    decoder.setAllowedTableSize(0);
    expect(decoder.table.length).toBe(0);
    compressionError(() => decoder.decode(hex("21")));
  });
});

describe("decoder limits and malformed blocks", () => {
  it("index 0, an index past both tables, truncated integers and strings", () => {
    const decoder = new HpackDecoder();
    compressionError(() => decoder.decode(hex("80")));
    expect(compressionError(() => decoder.decode(hex("be"))).message).toMatch(/index 62 beyond/);
    compressionError(() => decoder.decode(hex("ff")));
    compressionError(() => decoder.decode(hex("ff 80")));
    compressionError(() => decoder.decode(hex("40")));
    compressionError(() => decoder.decode(hex("40 05 61")));
    compressionError(() => decoder.decode(hex("0f")));
  });

  it("rejects integers that never end or exceed 2^32", () => {
    const decoder = new HpackDecoder();
    compressionError(() =>
      decoder.decode(Uint8Array.from([0xff, ...new Array(1000).fill(0x80), 0])),
    );
    compressionError(() => decoder.decode(hex("ff ff ff ff ff 7f")));
  });

  it("rejects a string literal longer than the block (a length bomb)", () => {
    const decoder = new HpackDecoder();
    // A literal name claiming 2^31 octets.
    compressionError(() => decoder.decode(hex("40 7f 81 ff ff ff 07")));
  });

  it("flags a header list over maxHeaderListSize, and keeps the table in sync", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 200 });
    const big = Uint8Array.from([
      ...literal("x-a", "a".repeat(100)),
      ...literal("x-b", "b".repeat(100)),
    ]);
    const result = decoder.decode(big);
    expect(result.oversized).toBe(true);
    expect(result.headers).toEqual([]);
    expect(result.size).toBe(3 + 100 + 32 + 3 + 100 + 32);
    // Both entries still went into the table: the next block can refer to them.
    expect(decoder.decode(hex("be")).headers).toEqual([["x-b", "b".repeat(100)]]);
    expect(decoder.decode(hex("bf")).headers).toEqual([["x-a", "a".repeat(100)]]);
  });

  it("an indexed-field bomb (one octet → a large field, repeated) stops at the limit", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 65536 });
    decoder.decode(Uint8Array.from(literal("x", "v".repeat(120))));
    const bomb = new Uint8Array(16384).fill(0xbe); // 16384 × 153 octets ≈ 2.5 MB if kept
    const result = decoder.decode(bomb);
    expect(result.oversized).toBe(true);
    expect(result.headers.length).toBe(0);
  });
});

describe("property tests", () => {
  const name = fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((s) => (s.startsWith("-") ? `x${s}` : s));
  const value = fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  const field = fc.tuple(name, value) as fc.Arbitrary<HeaderField>;

  it("any sequence of header lists round-trips, with table size changes in between", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            headers: fc.array(field, { maxLength: 12 }),
            resize: fc.option(fc.integer({ min: 0, max: 4096 })),
            huffman: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.boolean(),
        (blocks, huffman) => {
          const encoder = new HpackEncoder({ huffman });
          const decoder = new HpackDecoder();
          for (const block of blocks) {
            if (block.resize !== null) encoder.setMaxTableSize(block.resize);
            const decoded = decoder.decode(encoder.encode(block.headers));
            expect(decoded.headers).toEqual(block.headers);
            expect(decoder.table.size).toBe(encoder.table.size);
            expect(decoder.table.size).toBeLessThanOrEqual(4096);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("random bytes only ever throw COMPRESSION_ERROR", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoder = new HpackDecoder({ maxHeaderListSize: 4096 });
        try {
          const result = decoder.decode(bytes);
          expect(result.size).toBeGreaterThanOrEqual(0);
        } catch (error) {
          expect(error).toBeInstanceOf(H2Error);
          expect((error as H2Error).code).toBe(H2ErrorCode.COMPRESSION_ERROR);
        }
        expect(decoder.table.size).toBeLessThanOrEqual(4096);
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated valid blocks only ever throw COMPRESSION_ERROR", () => {
    const encoder = new HpackEncoder();
    const seeds = [
      encoder.encode([
        [":status", "200"],
        ["content-type", "text/html; charset=utf-8"],
        ["set-cookie", "a=b; Path=/"],
        ["x-long", "é".repeat(40)],
      ]),
      encoder.encode([
        [":status", "404"],
        ["content-type", "text/html; charset=utf-8"],
      ]),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (seed, edits) => {
          const bytes = seed.slice();
          for (const [at, b] of edits) bytes[at % bytes.length] = b;
          try {
            new HpackDecoder().decode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(H2Error);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
