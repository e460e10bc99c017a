import { describe, expect, it } from "vitest";
import { RemoteProtocolError } from "../../src/errors.js";
import { latin1Encode, ResponseParser } from "../../src/h11/index.js";

/** Feeds `pieces` (then EOF if asked), draining events; returns what was thrown, if anything. */
function failure(
  pieces: string[],
  {
    method = "GET",
    eof = false,
    maxHeaderSize,
  }: { method?: string; eof?: boolean; maxHeaderSize?: number } = {},
): unknown {
  const parser = new ResponseParser({ method, ...(maxHeaderSize ? { maxHeaderSize } : {}) });
  const drain = () => {
    for (let i = 0; i < 1000; i++) {
      const type = parser.nextEvent().type;
      if (type === "need-data" || type === "end" || type === "paused") return;
    }
  };
  try {
    for (const piece of pieces) {
      parser.receiveData(latin1Encode(piece));
      drain();
    }
    if (eof) {
      parser.receiveData(new Uint8Array(0));
      drain();
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Asserts the input is rejected with a RemoteProtocolError whose message is exactly `message`. */
function expectRejected(
  input: string | string[],
  message: string | RegExp,
  opts?: Parameters<typeof failure>[1],
): void {
  const error = failure(typeof input === "string" ? [input] : input, opts);
  expect(error).toBeInstanceOf(RemoteProtocolError);
  if (typeof message === "string") expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

const OK = "HTTP/1.1 200 OK\r\n";

describe("request smuggling: body framing", () => {
  it("rejects Transfer-Encoding together with Content-Length", () => {
    expectRejected(
      `${OK}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      "both Transfer-Encoding and Content-Length are present in the response",
    );
    // Even where the body would be ignored: the pair is a smuggling signature.
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`,
      "both Transfer-Encoding and Content-Length are present in the response",
      { method: "HEAD" },
    );
  });

  it("rejects differing duplicate Content-Length values", () => {
    expectRejected(
      `${OK}Content-Length: 5\r\ncontent-length: 6\r\n\r\nhello`,
      "conflicting Content-Length values (5 and 6)",
    );
    expectRejected(
      `${OK}Content-Length: 5, 7\r\n\r\nhello`,
      "conflicting Content-Length values (5 and 7)",
    );
  });

  it.each([
    "+5",
    "5 5",
    "-1",
    "",
    "0x10",
    "5,",
    ",5",
    "1e3",
    "5;",
    "99999999999999999999",
    "\u00a05",
  ])("rejects Content-Length %j", (value) => {
    expectRejected(
      `${OK}Content-Length: ${value}\r\n\r\n`,
      `invalid Content-Length value ${JSON.stringify(value)}`,
    );
  });

  it("accepts Content-Length up to Number.MAX_SAFE_INTEGER and rejects one more", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(latin1Encode(`${OK}Content-Length: 9007199254740991\r\n\r\n`));
    expect(parser.nextEvent().type).toBe("head");
    expectRejected(
      `${OK}Content-Length: 9007199254740992\r\n\r\n`,
      'invalid Content-Length value "9007199254740992"',
    );
  });

  it.each([
    ["gzip", "gzip"],
    ["chunked, gzip", "chunked, gzip"],
    ["chunked, chunked", "chunked, chunked"],
    ["identity", "identity"],
    ["chunked;a=b", "chunked;a=b"],
    ["gzip;q=1", "gzip;q=1"],
  ])("rejects Transfer-Encoding %j", (value, shown) => {
    expectRejected(
      `${OK}Transfer-Encoding: ${value}\r\n\r\n`,
      `unsupported Transfer-Encoding ${JSON.stringify(shown)}: chunked must be the final coding, exactly once`,
    );
  });

  it("rejects chunked followed by another coding on a later line", () => {
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n`,
      'unsupported Transfer-Encoding "chunked, gzip": chunked must be the final coding, exactly once',
    );
  });

  it.each([
    ['"chunked"', '\\"chunked\\"'],
    ["chun ked", "chun ked"],
    ["chunked,", "chunked, "],
    [",chunked", ", chunked"],
    ["gzip, ,chunked", "gzip, , chunked"],
    ["", ""],
  ])("rejects the malformed Transfer-Encoding %j", (value, shown) => {
    expectRejected(
      `${OK}Transfer-Encoding: ${value}\r\n\r\n`,
      `invalid Transfer-Encoding: "${shown}"`,
    );
  });
});

describe("request smuggling: line syntax", () => {
  it("rejects obs-fold", () => {
    expectRejected(
      `${OK}X-Folded: a\r\n  continued\r\nContent-Length: 0\r\n\r\n`,
      'obsolete line folding is not allowed: "  continued"',
    );
    expectRejected(
      `${OK}Transfer-Encoding: gzip\r\n\tchunked\r\n\r\n`,
      'obsolete line folding is not allowed: "\\tchunked"',
    );
  });

  it("rejects bare LF everywhere", () => {
    const message = "bare LF in response head (lines must end with CRLF)";
    expectRejected("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", message);
    expectRejected(`${OK}Content-Length: 0\n\r\n`, message);
    expectRejected(`${OK}Content-Length: 0\r\n\n`, message);
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
      "bare LF in chunk-size line (lines must end with CRLF)",
    );
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
      "missing CRLF after chunk data",
    );
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n`,
      "bare LF in trailer section (lines must end with CRLF)",
    );
  });

  it("rejects bare CR everywhere", () => {
    expectRejected(
      `${OK}X-Foo: a\rb\r\nContent-Length: 0\r\n\r\n`,
      "bare CR in header line (CR must be followed by LF)",
    );
    expectRejected(
      `${OK}X-Foo\r: b\r\nContent-Length: 0\r\n\r\n`,
      "bare CR in header line (CR must be followed by LF)",
    );
    expectRejected(
      "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n",
      "bare CR in status line (CR must be followed by LF)",
    );
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\r\nhello\r\n0\r\n\r\n`,
      "bare CR in chunk-size line (CR must be followed by LF)",
    );
    expectRejected(
      `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb\r\n\r\n`,
      "bare CR in trailer line (CR must be followed by LF)",
    );
  });

  it.each([
    ["\x00", "a\\u0000b"],
    ["\x01", "a\\u0001b"],
    ["\x7f", "a\x7fb"],
    ["\x1b", "a\\u001bb"],
  ])("rejects control character %j in a header value", (ctl, shown) => {
    expectRejected(
      `${OK}X-Foo: a${ctl}b\r\nContent-Length: 0\r\n\r\n`,
      `illegal header value for "X-Foo": "${shown}"`,
    );
  });

  it("rejects whitespace between the field name and the colon", () => {
    expectRejected(
      `${OK}Content-Length : 5\r\n\r\nhello`,
      'whitespace before the colon in header line: "Content-Length : 5"',
    );
    expectRejected(
      `${OK}Transfer-Encoding\t: chunked\r\n\r\n`,
      'whitespace before the colon in header line: "Transfer-Encoding\\t: chunked"',
    );
  });

  it("rejects malformed header names", () => {
    expectRejected(`${OK}: x\r\n\r\n`, 'empty header name: ": x"');
    expectRejected(`${OK}No colon here\r\n\r\n`, 'no colon in header line: "No colon here"');
    expectRejected(`${OK}NoColon\r\n\r\n`, 'no colon in header line: "NoColon"');
    expectRejected(
      `${OK}X(y): z\r\n\r\n`,
      'invalid character in the name of header line: "X(y): z"',
    );
    expectRejected(
      `${OK}X\u00e9: z\r\n\r\n`,
      'invalid character in the name of header line: "X\u00e9: z"',
    );
  });
});

describe("request smuggling: chunked coding", () => {
  const chunked = `${OK}Transfer-Encoding: chunked\r\n\r\n`;

  it.each([
    ["zz", 'invalid chunk size: "zz"'],
    ["-1", 'invalid chunk size: "-1"'],
    ["", 'invalid chunk size: ""'],
    [" 5", 'invalid chunk size: " 5"'],
    ["0x5", 'invalid chunk-size line: "0x5"'],
    ["5 ", 'invalid chunk-size line: "5 "'],
    ["5;", 'invalid chunk-size line: "5;"'],
    ["5;a=", 'invalid chunk-size line: "5;a="'],
    ['5;a="unterminated', 'invalid chunk-size line: "5;a=\\"unterminated"'],
    ["5;a=\x01", 'invalid chunk-size line: "5;a=\\u0001"'],
    ["5;a b", 'invalid chunk-size line: "5;a b"'],
    ["5;a=b ", 'invalid chunk-size line: "5;a=b "'],
    ["5;a\t", 'invalid chunk-size line: "5;a\\t"'],
    ["5;a=b;", 'invalid chunk-size line: "5;a=b;"'],
    ['5;a="x" y', 'invalid chunk-size line: "5;a=\\"x\\" y"'],
    ["5;=b", 'invalid chunk-size line: "5;=b"'],
    ["fffffffffffffffffff", 'chunk size overflow: "fffffffffffffffffff"'],
    ["20000000000000", 'chunk size overflow: "20000000000000"'],
  ])("rejects chunk-size line %j", (line, message) => {
    expectRejected(`${chunked}${line}\r\nhello\r\n0\r\n\r\n`, message);
  });

  it("accepts the largest safe chunk size and leading zeros", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(latin1Encode(`${chunked}1fffffffffffff\r\nab`));
    expect(parser.nextEvent().type).toBe("head");
    expect(parser.nextEvent()).toMatchObject({ type: "data" });
    const zeros = new ResponseParser({ method: "GET" });
    zeros.receiveData(latin1Encode(`${chunked}00000000000000000000003\r\nabc\r\n0\r\n\r\n`));
    expect(["head", "data", "end"].map(() => zeros.nextEvent().type)).toEqual([
      "head",
      "data",
      "end",
    ]);
  });

  it("requires CRLF right after the chunk data", () => {
    expectRejected(`${chunked}5\r\nhelloX\r\n0\r\n\r\n`, "missing CRLF after chunk data");
    expectRejected(`${chunked}5\r\nhello\rX0\r\n\r\n`, "missing CRLF after chunk data");
    expectRejected([`${chunked}5\r\nhello\r`, "\r\n0\r\n\r\n"], "missing CRLF after chunk data");
    // A chunk longer than announced is the classic desync.
    expectRejected(`${chunked}3\r\nhello\r\n0\r\n\r\n`, "missing CRLF after chunk data");
  });

  it("validates trailers like header fields", () => {
    expectRejected(
      `${chunked}0\r\nX : y\r\n\r\n`,
      'whitespace before the colon in trailer line: "X : y"',
    );
    expectRejected(`${chunked}0\r\nX: a\x00\r\n\r\n`, 'illegal trailer value for "X": "a\\u0000"');
    expectRejected(
      `${chunked}0\r\n folded\r\n\r\n`,
      'obsolete line folding is not allowed: " folded"',
    );
  });

  it("bounds the trailer section and the chunk-size line by maxHeaderSize", () => {
    expectRejected(
      [chunked, "0\r\n", `X: ${"a".repeat(600)}\r\n`, `Y: ${"b".repeat(600)}\r\n`],
      "response trailer section exceeds the 1024-byte limit",
      { maxHeaderSize: 1024 },
    );
    expectRejected(
      [chunked, `5;${"e".repeat(1000)}`, "e".repeat(100)],
      "chunk-size line exceeds the 1024-byte limit",
      { maxHeaderSize: 1024 },
    );
  });
});

describe("status line", () => {
  it.each([
    ["HTTP/1.1 20 OK", 'illegal status line: "HTTP/1.1 20 OK"'],
    ["HTTP/1.1 2000 OK", 'illegal status line: "HTTP/1.1 2000 OK"'],
    ["HTTP/1.1 200OK", 'illegal status line: "HTTP/1.1 200OK"'],
    ["HTTP/1.1  200 OK", 'illegal status line: "HTTP/1.1  200 OK"'],
    ["HTTP/1.1 099 Low", 'illegal status line: "HTTP/1.1 099 Low"'],
    ["HTTP/1.1 600 High", 'illegal status line: "HTTP/1.1 600 High"'],
    ["HTTP/1.1 2x0 OK", 'illegal status line: "HTTP/1.1 2x0 OK"'],
    ["HTTP/1.1", 'illegal status line: "HTTP/1.1"'],
    ["", 'illegal status line: ""'],
    ["http/1.1 200 OK", 'illegal status line: "http/1.1 200 OK"'],
    ["HTTP/1.1 200 OK\x00", 'illegal status line: "HTTP/1.1 200 OK\\u0000"'],
    ["HTTP/2.0 200 OK", 'unsupported HTTP version "HTTP/2.0"'],
    ["HTTP/2 200 OK", 'unsupported HTTP version "HTTP/2"'],
    ["HTTP/1.2 200 OK", 'unsupported HTTP version "HTTP/1.2"'],
    ["HTTP/0.9 200 OK", 'unsupported HTTP version "HTTP/0.9"'],
    ["HTTP/1.1.1 200 OK", 'unsupported HTTP version "HTTP/1.1.1"'],
    ["HTTP/x 200 OK", 'illegal status line: "HTTP/x 200 OK"'],
  ])("rejects %j", (line, message) => {
    expectRejected(`${line}\r\nContent-Length: 0\r\n\r\n`, message);
  });

  it("rejects garbage as soon as its first bytes arrive, without waiting for a line end", () => {
    expectRejected(
      "Wait, this isn't valid HTTP!",
      'illegal status line: "Wait, this isn\'t valid HTTP!"',
    );
    expectRejected(["HT", "TX"], 'illegal status line: "HTTX"');
    // A valid prefix is not enough to fail: the line may still complete.
    expect(failure(["H", "TTP/1.", "1 200 OK\r\n", "Content-Length: 0\r\n\r\n"])).toBeUndefined();
  });

  it("truncates the quoted status line to 64 bytes", () => {
    const line = `HTTP/1.1 2${"x".repeat(100)}`;
    expectRejected(`${line}\r\n\r\n`, `illegal status line: ${JSON.stringify(line.slice(0, 64))}`);
  });
});

describe("denial of service: head size", () => {
  it("rejects a head over the default 64 KiB limit", () => {
    expectRejected(
      `${OK}X-Big: ${"a".repeat(70_000)}\r\n\r\n`,
      "response head exceeds the 65536-byte limit",
    );
  });

  it("stops a server that drips header lines forever as soon as the limit is passed", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(latin1Encode(OK));
    const line = latin1Encode(`X-Drip: ${"a".repeat(1014)}\r\n`);
    expect(line.length).toBe(1024);
    let fed = OK.length;
    let error: unknown;
    for (let i = 0; i < 1000 && error === undefined; i++) {
      parser.receiveData(line);
      fed += line.length;
      try {
        expect(parser.nextEvent()).toEqual({ type: "need-data" });
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(RemoteProtocolError);
    expect((error as Error).message).toBe("response head exceeds the 65536-byte limit");
    expect(fed).toBeGreaterThan(65536);
    expect(fed).toBeLessThanOrEqual(65536 + 1024);
  });

  it("stops a single header line that never ends", () => {
    const parser = new ResponseParser({ method: "GET", maxHeaderSize: 4096 });
    parser.receiveData(latin1Encode(`${OK}X-Endless: `));
    const piece = latin1Encode("a".repeat(1024));
    let error: unknown;
    let feeds = 0;
    while (error === undefined && feeds < 100) {
      parser.receiveData(piece);
      feeds++;
      try {
        parser.nextEvent();
      } catch (e) {
        error = e;
      }
    }
    expect((error as Error).message).toBe("response head exceeds the 4096-byte limit");
    expect(feeds).toBe(4);
  });

  it("counts each 1xx head separately, and resets for the final head", () => {
    const interim = `HTTP/1.1 103 Early Hints\r\nLink: ${"l".repeat(900)}\r\n\r\n`;
    const parser = new ResponseParser({ method: "GET", maxHeaderSize: 1024 });
    parser.receiveData(
      latin1Encode(`${interim}${interim}${interim}${OK}Content-Length: 0\r\n\r\n`),
    );
    const types = Array.from({ length: 5 }, () => parser.nextEvent().type);
    expect(types).toEqual(["informational", "informational", "informational", "head", "end"]);
  });
});

describe("premature EOF", () => {
  it("before any byte: httpcore's exact message", () => {
    expectRejected([], "Server disconnected without sending a response.", { eof: true });
  });

  it("after a 1xx but before the final response", () => {
    expectRejected(
      ["HTTP/1.1 100 Continue\r\n\r\n"],
      "Server disconnected after an informational (1xx) response without sending the final response.",
      { eof: true },
    );
  });

  it.each([
    "H",
    "HTTP/1.1 200 OK",
    OK,
    `${OK}Content-Length: 5\r\n`,
    `${OK}Content-Length: 5\r\n\r`,
  ])("in the middle of the head %j", (input) => {
    expectRejected([input], "Server disconnected while sending the response head.", { eof: true });
  });

  it("in a Content-Length body", () => {
    expectRejected(
      [`${OK}Content-Length: 10\r\n\r\nabc`],
      "peer closed connection without sending complete message body (received 3 bytes, expected 10)",
      { eof: true },
    );
    expectRejected(
      [`${OK}Content-Length: 10\r\n\r\n`],
      "peer closed connection without sending complete message body (received 0 bytes, expected 10)",
      { eof: true },
    );
  });

  it.each([
    "",
    "5",
    "5\r\n",
    "5\r\nhel",
    "5\r\nhello",
    "5\r\nhello\r",
    "5\r\nhello\r\n",
    "5\r\nhello\r\n0\r\n",
    "5\r\nhello\r\n0\r\nX: y\r\n",
    "5\r\nhello\r\n0\r\n\r",
  ])("in a chunked body after %j", (body) => {
    expectRejected(
      [`${OK}Transfer-Encoding: chunked\r\n\r\n${body}`],
      "peer closed connection without sending complete message body (incomplete chunked read)",
      { eof: true },
    );
  });

  it("is not an error after the end of a framed body", () => {
    expect(failure([`${OK}Content-Length: 2\r\n\r\nok`], { eof: true })).toBeUndefined();
  });
});
