// Fuzzing the frame parser and the client state machine with fast-check: random bytes, random
// frames with valid headers, and mutations of a realistic server byte stream, fed in random
// splits. The only failure allowed is an H2Error (a RemoteProtocolError): never another
// exception, never a hang, and never output out of proportion to the input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RemoteProtocolError } from "../../src/errors.js";
import { H2Error } from "../../src/h2/errors.js";
import { encodeFrame, FrameReader, SettingId } from "../../src/h2/frames.js";
import { H2ClientSession } from "../../src/h2/session.js";
import { cat, ServerWire } from "./h2-support.js";

const GET: [string, string][] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":authority", "example.com"],
  [":path", "/"],
];

/** A plausible server byte stream answering streams 1, 3 and 5. */
function serverStream(): Uint8Array {
  const w = new ServerWire();
  return cat(
    w.settings([
      [SettingId.MAX_CONCURRENT_STREAMS, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 65535],
      [SettingId.HEADER_TABLE_SIZE, 4096],
    ]),
    w.settingsAck(),
    w.response(1, 200, [
      ["content-type", "text/plain"],
      ["content-length", "11"],
      ["set-cookie", "a=b"],
    ]),
    w.data(1, "hello "),
    w.data(1, "world", true),
    w.response(3, 103, [["link", "</x>"]]),
    w.response(3, 404, [["content-type", "text/html"]]),
    w.paddedData(3, new Uint8Array(0), 0),
    w.windowUpdate(0, 1000),
    w.ping(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])),
    w.data(3, "nope"),
    w.headers(3, [["x-trailer", "1"]], { endStream: true }),
    w.rst(5, 8),
    w.goaway(5, 0, "bye"),
  );
}

/** Runs `input` through a fresh session in the given splits; checks the invariants. */
function feed(input: Uint8Array, splits: number[]): boolean {
  const session = new H2ClientSession({ maxHeaderListSize: 8192 });
  session.initiate();
  session.dataToSend();
  for (let i = 0; i < 3; i++) session.openStream(GET, i !== 2);
  session.dataToSend();
  let at = 0;
  let out = 0;
  let failed = false;
  for (const s of [...splits, input.length]) {
    const end = Math.min(input.length, at + Math.max(1, s));
    const events = session.receive(input.subarray(at, end));
    for (const e of events) {
      if (e.type === "connection-error" || e.type === "stream-error") {
        failed = true;
        expect(e.error).toBeInstanceOf(H2Error);
        expect(e.error).toBeInstanceOf(RemoteProtocolError);
      }
    }
    out += session.dataToSend()?.length ?? 0;
    at = end;
    if (at >= input.length) break;
  }
  // Replies (ACKs, WINDOW_UPDATEs, RST_STREAMs, one GOAWAY) stay proportional to the input.
  expect(out).toBeLessThanOrEqual(input.length * 4 + 1024);
  // The application's side never breaks on whatever state the session is in.
  session.consumed(1, 100);
  session.resetStream(5);
  return failed;
}

describe("fuzz: frame reader", () => {
  it("random bytes: frames or H2Error only", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const reader = new FrameReader();
        reader.push(bytes);
        try {
          for (let i = 0; i < 1000 && reader.next() !== null; i++);
        } catch (error) {
          expect(error).toBeInstanceOf(H2Error);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("well-framed random payloads of every type: frames or H2Error only", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.integer({ min: 0, max: 12 }),
            flags: fc.integer({ min: 0, max: 255 }),
            stream: fc.integer({ min: 0, max: 9 }),
            payload: fc.uint8Array({ maxLength: 40 }),
          }),
          { maxLength: 20 },
        ),
        (frames) => {
          const reader = new FrameReader();
          reader.push(cat(...frames.map((f) => encodeFrame(f.type, f.flags, f.stream, f.payload))));
          try {
            while (reader.next() !== null);
          } catch (error) {
            expect(error).toBeInstanceOf(H2Error);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe("fuzz: client session", () => {
  const splits = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 40 });

  it("the unmutated server stream is fine in any split", () => {
    fc.assert(
      fc.property(splits, (s) => {
        expect(feed(serverStream(), s)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("random bytes after a valid SETTINGS", () => {
    const settings = new ServerWire().settings();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), splits, (bytes, s) => {
        feed(cat(settings, bytes), s);
      }),
      { numRuns: 3000 },
    );
  });

  it("random well-framed frames of every type after a valid SETTINGS", () => {
    const settings = new ServerWire().settings();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.integer({ min: 0, max: 10 }),
            flags: fc.integer({ min: 0, max: 255 }),
            stream: fc.constantFrom(0, 1, 2, 3, 5, 7),
            payload: fc.uint8Array({ maxLength: 60 }),
          }),
          { maxLength: 30 },
        ),
        splits,
        (frames, s) => {
          feed(
            cat(settings, ...frames.map((f) => encodeFrame(f.type, f.flags, f.stream, f.payload))),
            s,
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("mutations of a realistic server stream (flips, inserts, deletes, truncation)", () => {
    const seed = serverStream();
    const edit = fc.oneof(
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.array(edit, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        splits,
        (edits, cut, s) => {
          const bytes = Array.from(seed);
          for (const e of edits) {
            const at = e.at % (bytes.length + 1);
            if (e.kind === "flip") bytes[at % bytes.length] = e.value;
            else if (e.kind === "insert") bytes.splice(at, 0, e.value);
            else bytes.splice(at % bytes.length, 1);
          }
          const input = Uint8Array.from(bytes).subarray(0, bytes.length - (cut % 16));
          feed(input, s);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
