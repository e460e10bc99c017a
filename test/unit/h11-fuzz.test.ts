import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RemoteProtocolError } from "../../src/errors.js";
import { latin1Encode, ResponseParser } from "../../src/h11/index.js";

const SEEDS = [
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
  "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil the end",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n\x81\x00",
  "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
];
const METHODS = ["GET", "HEAD", "POST", "CONNECT"];
// Bytes that matter to the grammar are drawn more often than chance would.
const INTERESTING = [
  0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x3d, 0x22, 0x5c, 0x2c, 0x00, 0x30, 0x66, 0x7f, 0x80, 0xff,
];

const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING));

/** A seed response with a few random edits (replace, insert, delete). */
const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.constantFrom("replace", "insert", "delete"), fc.nat(), byte), {
      maxLength: 6,
    }),
  )
  .map(([seed, edits]) => {
    const out = Array.from(latin1Encode(seed));
    for (const [kind, at, value] of edits) {
      const i = at % (out.length + 1);
      if (kind === "insert") out.splice(i, 0, value);
      else if (kind === "delete") out.splice(i, 1);
      else if (i < out.length) out[i] = value;
    }
    return Uint8Array.from(out);
  });

const randomBytes = fc.uint8Array({ maxLength: 300 }).map((u) => {
  // Half the time, start like a response so the fuzzer gets past the status line.
  return u.length % 2 === 0 ? Uint8Array.from([...latin1Encode("HTTP/1.1 200 OK\r\n"), ...u]) : u;
});

/** Cuts `input` at the given offsets (sorted, deduplicated, within range), dropping empty pieces. */
function cut(input: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (input.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, input.length]) {
    if (p > last) pieces.push(input.subarray(last, p));
    last = p;
  }
  return pieces;
}

/**
 * Feeds the pieces then EOF, draining events; returns the outcome. Anything thrown other than a
 * RemoteProtocolError escapes and fails the property, and so does an event loop that runs away.
 */
function feed(pieces: Uint8Array[], method: string, maxHeaderSize: number): string {
  const parser = new ResponseParser({ method, maxHeaderSize });
  let body = 0;
  let events = 0;
  const drain = (): boolean => {
    for (;;) {
      if (++events > 10_000) throw new Error("too many events: the parser is looping");
      const event = parser.nextEvent();
      if (event.type === "need-data") return false;
      if (event.type === "end" || event.type === "paused") return true;
      if (event.type === "data") {
        if (event.data.length === 0) throw new Error("empty data event");
        body += event.data.length;
      }
    }
  };
  try {
    for (const piece of [...pieces, new Uint8Array(0)]) {
      parser.receiveData(piece);
      if (drain()) break;
    }
  } catch (error) {
    if (!(error instanceof RemoteProtocolError)) throw error;
    // The error sticks.
    expect(() => parser.nextEvent()).toThrow(error);
    return `error: ${error.message}`;
  }
  return `ok: ${body} bytes, keepAlive ${parser.keepAlive}`;
}

describe("ResponseParser fuzz", () => {
  it("mutated responses in random splits only ever throw RemoteProtocolError", () => {
    fc.assert(
      fc.property(
        mutated,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(...METHODS),
        fc.constantFrom(64, 1024, 65536),
        (input, offsets, method, max) => {
          feed(cut(input, offsets), method, max);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("random bytes in random splits only ever throw RemoteProtocolError", () => {
    fc.assert(
      fc.property(
        randomBytes,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(...METHODS),
        (input, offsets, method) => {
          feed(cut(input, offsets), method, 1024);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("a valid response gives the same outcome however it is split", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom(...METHODS),
        (seed, offsets, method) => {
          const input = latin1Encode(seed);
          expect(feed(cut(input, offsets), method, 65536)).toBe(feed([input], method, 65536));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
