// HPACK against every example of RFC 7541 Appendix C (C.1 integers, C.2 single fields, C.3/C.4
// requests without/with Huffman, C.5/C.6 responses without/with Huffman and a 256-octet table),
// plus the Huffman code itself (Appendix B).
import { describe, expect, it } from "vitest";
import { H2Error } from "../../src/h2/errors.js";
import { type HeaderField, HpackDecoder, HpackEncoder, STATIC_TABLE } from "../../src/h2/hpack.js";
import {
  HUFFMAN_CODES,
  HUFFMAN_LENGTHS,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
} from "../../src/h2/huffman.js";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Entries of a dynamic table, newest first, with the table size. */
function tableOf(table: {
  length: number;
  size: number;
  get(i: number): HeaderField | undefined;
}): [number, HeaderField[]] {
  const entries: HeaderField[] = [];
  for (let i = 0; i < table.length; i++) entries.push(table.get(i) as HeaderField);
  return [table.size, entries];
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

interface Step {
  headers: HeaderField[];
  wire: string;
  table: [number, HeaderField[]];
}

/** Runs a sequence of blocks through one encoder/decoder pair, as the RFC's examples chain. */
function runSequence(steps: Step[], options: { huffman: boolean; tableSize: number }): void {
  const encoder = new HpackEncoder({ huffman: options.huffman, sensitiveNames: [] });
  // The RFC examples assume both ends already agree on the table size (no size update is sent).
  encoder.table.setMaxSize(options.tableSize);
  const decoder = new HpackDecoder({ maxTableSize: options.tableSize });
  for (const step of steps) {
    const wire = hex(step.wire);
    expect(toHex(encoder.encode(step.headers))).toBe(toHex(wire));
    const decoded = decoder.decode(wire);
    expect(decoded.headers).toEqual(step.headers);
    expect(decoded.oversized).toBe(false);
    expect(tableOf(decoder.table)).toEqual(step.table);
    expect(tableOf(encoder.table)).toEqual(step.table);
  }
}

const AUTH: HeaderField = [":authority", "www.example.com"];
const REQUESTS: Omit<Step, "wire">[] = [
  {
    headers: [[":method", "GET"], [":scheme", "http"], [":path", "/"], AUTH],
    table: [57, [AUTH]],
  },
  {
    headers: [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      AUTH,
      ["cache-control", "no-cache"],
    ],
    table: [110, [["cache-control", "no-cache"], AUTH]],
  },
  {
    headers: [
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      AUTH,
      ["custom-key", "custom-value"],
    ],
    table: [164, [["custom-key", "custom-value"], ["cache-control", "no-cache"], AUTH]],
  },
];

const DATE1: HeaderField = ["date", "Mon, 21 Oct 2013 20:13:21 GMT"];
const DATE2: HeaderField = ["date", "Mon, 21 Oct 2013 20:13:22 GMT"];
const LOCATION: HeaderField = ["location", "https://www.example.com"];
const PRIVATE: HeaderField = ["cache-control", "private"];
const COOKIE: HeaderField = [
  "set-cookie",
  "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
];
const RESPONSES: Omit<Step, "wire">[] = [
  {
    headers: [[":status", "302"], PRIVATE, DATE1, LOCATION],
    table: [222, [LOCATION, DATE1, PRIVATE, [":status", "302"]]],
  },
  {
    headers: [[":status", "307"], PRIVATE, DATE1, LOCATION],
    table: [222, [[":status", "307"], LOCATION, DATE1, PRIVATE]],
  },
  {
    headers: [[":status", "200"], PRIVATE, DATE2, LOCATION, ["content-encoding", "gzip"], COOKIE],
    table: [215, [COOKIE, ["content-encoding", "gzip"], DATE2]],
  },
];

describe("RFC 7541 Appendix C", () => {
  it("C.1 integers: 10 and 1337 with a 5-bit prefix, 42 at an octet boundary", () => {
    // Exercised through the 5-bit-prefix Dynamic Table Size Update (§6.3).
    const encoder = new HpackEncoder({ maxTableSize: 1337 });
    encoder.setMaxTableSize(10);
    expect(toHex(encoder.encode([]))).toBe("2a"); // 001 + 01010
    encoder.setMaxTableSize(1337);
    expect(toHex(encoder.encode([]))).toBe("3f9a0a"); // C.1.2: 31, 154, 10
    const decoder = new HpackDecoder({ maxTableSize: 2000 });
    decoder.decode(hex("3f9a0a"));
    expect(decoder.table.maxSize).toBe(1337);
    // C.1.3: 42 with an 8-bit prefix is one octet; an indexed field uses a 7-bit prefix: 0x80|42.
    expect(decoder.decode(hex("aa")).headers).toEqual([STATIC_TABLE[41]]);
  });

  it("C.2.1 literal field with indexing", () => {
    const decoder = new HpackDecoder();
    const wire = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    expect(decoder.decode(wire).headers).toEqual([["custom-key", "custom-header"]]);
    expect(tableOf(decoder.table)).toEqual([55, [["custom-key", "custom-header"]]]);
    const encoder = new HpackEncoder({ huffman: false });
    expect(toHex(encoder.encode([["custom-key", "custom-header"]]))).toBe(toHex(wire));
  });

  it("C.2.2 literal field without indexing", () => {
    const decoder = new HpackDecoder();
    const wire = hex("040c 2f73 616d 706c 652f 7061 7468");
    expect(decoder.decode(wire).headers).toEqual([[":path", "/sample/path"]]);
    expect(tableOf(decoder.table)).toEqual([0, []]);
  });

  it("C.2.3 literal field never indexed", () => {
    const decoder = new HpackDecoder();
    const wire = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
    expect(decoder.decode(wire).headers).toEqual([["password", "secret"]]);
    expect(tableOf(decoder.table)).toEqual([0, []]);
    const encoder = new HpackEncoder({ huffman: false, sensitiveNames: ["password"] });
    expect(toHex(encoder.encode([["password", "secret"]]))).toBe(toHex(wire));
    expect(encoder.table.length).toBe(0);
  });

  it("C.2.4 indexed field", () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex("82")).headers).toEqual([[":method", "GET"]]);
    expect(toHex(new HpackEncoder().encode([[":method", "GET"]]))).toBe("82");
  });

  it("C.3 requests without Huffman coding", () => {
    const wires = [
      "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ];
    runSequence(
      REQUESTS.map((s, i) => ({ ...s, wire: wires[i] as string })),
      { huffman: false, tableSize: 4096 },
    );
  });

  it("C.4 requests with Huffman coding", () => {
    const wires = [
      "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
      "8286 84be 5886 a8eb 1064 9cbf",
      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ];
    runSequence(
      REQUESTS.map((s, i) => ({ ...s, wire: wires[i] as string })),
      { huffman: true, tableSize: 4096 },
    );
  });

  it("C.5 responses without Huffman coding (256-octet table, evictions)", () => {
    const wires = [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
       6c65 2e63 6f6d`,
      "4803 3330 37c1 c0bf",
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
       3d31`,
    ];
    runSequence(
      RESPONSES.map((s, i) => ({ ...s, wire: wires[i] as string })),
      { huffman: false, tableSize: 256 },
    );
  });

  it("C.6 responses with Huffman coding (256-octet table, evictions)", () => {
    const wires = [
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      "4883 640e ffc1 c0bf",
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ];
    runSequence(
      RESPONSES.map((s, i) => ({ ...s, wire: wires[i] as string })),
      { huffman: true, tableSize: 256 },
    );
  });
});

describe("Huffman code (RFC 7541 Appendix B)", () => {
  it("derives the canonical codes of the appendix", () => {
    // Spot checks across lengths, straight from Appendix B.
    const expected: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [1, 0x7fffd8, 23],
      [10, 0x3ffffffc, 30],
      [32, 0x14, 6],
      [48, 0x0, 5],
      [58, 0x5c, 7],
      [92, 0x7fff0, 19],
      [116, 0x9, 5],
      [127, 0xffffffc, 28],
      [195, 0x7fff1, 19],
      [255, 0x3ffffee, 26],
      [256, 0x3fffffff, 30],
    ];
    for (const [symbol, code, length] of expected) {
      expect([HUFFMAN_CODES[symbol], HUFFMAN_LENGTHS[symbol]]).toEqual([code, length]);
    }
    // A prefix code: Kraft's sum is exactly 1 for a complete code.
    let kraft = 0;
    for (let s = 0; s < 257; s++) kraft += 2 ** -(HUFFMAN_LENGTHS[s] as number);
    expect(kraft).toBe(1);
  });

  it("round-trips every octet value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const encoded = new Uint8Array(huffmanEncodedLength(all));
    expect(huffmanEncode(all, encoded, 0)).toBe(encoded.length);
    const out = new Uint8Array(Math.ceil((encoded.length * 8) / 5));
    const n = huffmanDecode(encoded, 0, encoded.length, out);
    expect(out.subarray(0, n)).toEqual(all);
  });

  it("encodes www.example.com as in C.4.1", () => {
    const data = latin1("www.example.com");
    const out = new Uint8Array(huffmanEncodedLength(data));
    huffmanEncode(data, out, 0);
    expect(toHex(out)).toBe("f1e3c2e5f23a6ba0ab90f4ff");
  });

  it("rejects EOS, padding longer than 7 bits and padding that is not EOS's prefix", () => {
    const out = new Uint8Array(64);
    const bad = [
      hex("ffffffff"), // 30 one-bits = EOS inside the string
      hex("1fff"), // '0' (00000) then 11 one-bits of padding
      hex("00"), // '0' then '000': padding must be ones
      hex("ff"), // 8 bits of padding, no symbol
    ];
    for (const data of bad) {
      expect(() => huffmanDecode(data, 0, data.length, out)).toThrow(H2Error);
    }
    // A lone '0' padded with three ones is fine.
    expect(huffmanDecode(hex("07"), 0, 1, out)).toBe(1);
    expect(out[0]).toBe(0x30);
  });
});
