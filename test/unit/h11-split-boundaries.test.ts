import { describe, expect, it } from "vitest";
import { latin1Encode, type ResponseHead, ResponseParser } from "../../src/h11/index.js";

/** Everything a caller learns from one response, with the body joined. */
interface Outcome {
  informational: ResponseHead[];
  head: ResponseHead | null;
  body: string;
  trailers: [string, string][];
  ended: boolean;
  paused: boolean;
  keepAlive: boolean;
  trailingData: string;
}

const text = (u: Uint8Array): string => String.fromCharCode(...u);

/**
 * Feeds `pieces` in order, draining events after each, then EOF if `eof`. Fails on an empty data
 * event or on a runaway event loop.
 */
function run(pieces: Uint8Array[], method: string, eof: boolean): Outcome {
  const parser = new ResponseParser({ method });
  const outcome: Outcome = {
    informational: [],
    head: null,
    body: "",
    trailers: [],
    ended: false,
    paused: false,
    keepAlive: false,
    trailingData: "",
  };
  const drain = () => {
    // After `end` or `paused` the parser only reports `paused`; later bytes are trailing data.
    if (outcome.ended || outcome.paused) return;
    for (let guard = 0; guard < 10_000; guard++) {
      const event = parser.nextEvent();
      switch (event.type) {
        case "need-data":
          return;
        case "informational":
          outcome.informational.push(event.head);
          break;
        case "head":
          outcome.head = event.head;
          break;
        case "data":
          expect(event.data.length).toBeGreaterThan(0);
          outcome.body += text(event.data);
          break;
        case "end":
          outcome.trailers = event.trailers;
          outcome.ended = true;
          return;
        case "paused":
          outcome.paused = true;
          return;
      }
    }
    throw new Error("event loop did not settle");
  };
  for (const piece of pieces) {
    // An empty array would mean EOF.
    if (piece.length === 0) continue;
    parser.receiveData(piece);
    drain();
  }
  if (eof && !outcome.ended && !outcome.paused) {
    parser.receiveData(new Uint8Array(0));
    drain();
  }
  outcome.keepAlive = parser.keepAlive;
  outcome.trailingData = text(parser.trailingData);
  return outcome;
}

const cases: { name: string; input: string; method?: string; eof?: boolean }[] = [
  {
    name: "Content-Length body",
    input: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!",
  },
  {
    name: "chunked body with extensions and trailers",
    input:
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n" +
      '5;a=b;c="d;e"\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0; end\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n',
  },
  {
    name: "EOF-delimited body",
    input: "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this until close",
    eof: true,
  },
  {
    name: "100 and 103 before a 200",
    input:
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
  },
  {
    name: "101 with tunnel bytes",
    input: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
  },
  {
    name: "response followed by unsolicited bytes",
    input: "HTTP/1.1 204 No Content\r\nDate: today\r\n\r\nHTTP/1.1 200 OK\r\n",
  },
];

describe("ResponseParser: every split gives the same result", () => {
  for (const { name, input, method = "GET", eof = false } of cases) {
    const all = latin1Encode(input);
    const whole = run([all], method, eof);

    it(`${name}: the unsplit parse completes`, () => {
      expect(whole.head).not.toBeNull();
      expect(whole.ended || whole.paused).toBe(true);
    });

    it(`${name}: split at every byte boundary`, () => {
      for (let i = 0; i <= all.length; i++) {
        const split = run([all.subarray(0, i), all.subarray(i)], method, eof);
        expect(split, `split at ${i}`).toEqual(whole);
      }
    });

    it(`${name}: split at every pair of boundaries`, () => {
      for (let i = 1; i < all.length; i += 3) {
        for (let j = i; j < all.length; j += 2) {
          const pieces = [all.subarray(0, i), all.subarray(i, j), all.subarray(j)];
          expect(run(pieces, method, eof), `split at ${i}, ${j}`).toEqual(whole);
        }
      }
    });

    it(`${name}: one byte at a time`, () => {
      const pieces = Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1));
      expect(run(pieces, method, eof)).toEqual(whole);
    });
  }

  it("a 60 KB head fed one byte at a time is scanned once, not once per feed", () => {
    const input = latin1Encode(
      `HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(60_000)}\r\nContent-Length: 2\r\n\r\nok`,
    );
    const started = performance.now();
    const pieces = Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1));
    const outcome = run(pieces, "GET", false);
    expect(outcome.head?.headers[0]?.[1].length).toBe(60_000);
    expect(outcome.body).toBe("ok");
    // Quadratic rescanning would take tens of seconds here.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("the unsplit results are the expected ones", () => {
    const chunked = run([latin1Encode(cases[1]?.input ?? "")], "GET", false);
    expect(chunked.body).toBe("helloabcdefghijklmnopqrstuvwxyz");
    expect(chunked.trailers).toEqual([
      ["X-Trailer", "yes"],
      ["X-Other", "2"],
    ]);
    expect(chunked.keepAlive).toBe(true);
    const eofBody = run([latin1Encode(cases[2]?.input ?? "")], "GET", true);
    expect(eofBody.body).toBe("all of this until close");
    expect(eofBody.keepAlive).toBe(false);
    const interim = run([latin1Encode(cases[3]?.input ?? "")], "GET", false);
    expect(interim.informational.map((h) => h.status)).toEqual([100, 103]);
    expect(interim.keepAlive).toBe(false);
    const upgrade = run([latin1Encode(cases[4]?.input ?? "")], "GET", false);
    expect(upgrade.paused).toBe(true);
    expect(upgrade.trailingData).toBe("\x81\x05hello");
    const extra = run([latin1Encode(cases[5]?.input ?? "")], "GET", false);
    expect(extra.trailingData).toBe("HTTP/1.1 200 OK\r\n");
  });
});
