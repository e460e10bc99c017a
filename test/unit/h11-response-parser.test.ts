import { describe, expect, it } from "vitest";
import { LocalProtocolError, RemoteProtocolError } from "../../src/errors.js";
import {
  DEFAULT_MAX_HEADER_SIZE,
  latin1Encode,
  type ResponseEvent,
  ResponseParser,
} from "../../src/h11/index.js";

const bytes = (s: string): Uint8Array => latin1Encode(s);
const text = (u: Uint8Array): string => String.fromCharCode(...u);

/** Feeds `input` (then EOF if asked) and returns every event up to `end`/`paused`/`need-data`. */
function drain(parser: ResponseParser): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  for (let i = 0; i < 1000; i++) {
    const event = parser.nextEvent();
    events.push(event);
    if (event.type === "end" || event.type === "paused" || event.type === "need-data") break;
  }
  return events;
}

function parse(
  input: string,
  method = "GET",
  eof = false,
): { parser: ResponseParser; events: ResponseEvent[] } {
  const parser = new ResponseParser({ method });
  parser.receiveData(bytes(input));
  if (eof) parser.receiveData(new Uint8Array(0));
  return { parser, events: drain(parser) };
}

/** Events with data as latin1 text, for readable exact comparisons. */
function plain(events: ResponseEvent[]): unknown[] {
  return events.map((e) => (e.type === "data" ? { type: "data", data: text(e.data) } : e));
}

describe("ResponseParser: body framing", () => {
  it("reads a Content-Length body", () => {
    const { parser, events } = parse(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!",
    );
    expect(plain(events)).toEqual([
      {
        type: "head",
        head: {
          httpVersion: "HTTP/1.1",
          status: 200,
          reasonPhrase: "OK",
          headers: [
            ["Content-Type", "text/plain"],
            ["Content-Length", "13"],
          ],
        },
      },
      { type: "data", data: "Hello, world!" },
      { type: "end", trailers: [] },
    ]);
    expect(parser.keepAlive).toBe(true);
    expect(parser.isDone).toBe(true);
    expect(parser.state).toBe("done");
    expect(parser.trailingData.length).toBe(0);
    // As h11: once done, the parser stays paused.
    expect(parser.nextEvent()).toEqual({ type: "paused" });
  });

  it("returns data as views of the fed bytes, not copies", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"));
    expect(parser.nextEvent().type).toBe("head");
    const body = bytes("0123456789");
    parser.receiveData(body);
    const event = parser.nextEvent();
    expect(event.type).toBe("data");
    if (event.type === "data") {
      expect(event.data.buffer).toBe(body.buffer);
      expect(text(event.data)).toBe("0123456789");
    }
  });

  it("reads a chunked body with extensions and trailers", () => {
    const { parser, events } = parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        '5;name=value;q="a \\"b\\""\r\nhello\r\n' +
        '6; ignored = "x" ;flag\r\n world\r\n' +
        "A\r\n0123456789\r\n" +
        "0;last\r\nX-Checksum: abc\r\nServer-Timing: db;dur=53\r\n\r\n",
    );
    expect(plain(events)).toEqual([
      {
        type: "head",
        head: {
          httpVersion: "HTTP/1.1",
          status: 200,
          reasonPhrase: "OK",
          headers: [["Transfer-Encoding", "chunked"]],
        },
      },
      { type: "data", data: "hello" },
      { type: "data", data: " world" },
      { type: "data", data: "0123456789" },
      {
        type: "end",
        trailers: [
          ["X-Checksum", "abc"],
          ["Server-Timing", "db;dur=53"],
        ],
      },
    ]);
    expect(parser.keepAlive).toBe(true);
  });

  it("reads a body delimited by EOF and never keeps the connection alive", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(bytes("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome"));
    expect(plain(drain(parser))).toEqual([
      {
        type: "head",
        head: {
          httpVersion: "HTTP/1.1",
          status: 200,
          reasonPhrase: "OK",
          headers: [["Server", "x"]],
        },
      },
      { type: "data", data: "some" },
      { type: "need-data" },
    ]);
    parser.receiveData(bytes(" body"));
    parser.receiveData(new Uint8Array(0));
    expect(plain(drain(parser))).toEqual([
      { type: "data", data: " body" },
      { type: "end", trailers: [] },
    ]);
    expect(parser.keepAlive).toBe(false);
  });

  it("reads no body for a HEAD request whatever Content-Length says", () => {
    const { parser, events } = parse("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "HEAD");
    expect(events.map((e) => e.type)).toEqual(["head", "end"]);
    expect(parser.keepAlive).toBe(true);
  });

  it.each([
    ["204 No Content", ""],
    ["304 Not Modified", 'Content-Length: 99\r\nETag: "x"\r\n'],
  ])("reads no body for %s", (status, headers) => {
    const { parser, events } = parse(`HTTP/1.1 ${status}\r\n${headers}\r\n`);
    expect(events.map((e) => e.type)).toEqual(["head", "end"]);
    expect(parser.keepAlive).toBe(true);
  });

  it("ends at once on Content-Length: 0", () => {
    const { parser, events } = parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(events.map((e) => e.type)).toEqual(["head", "end"]);
    expect(parser.keepAlive).toBe(true);
  });

  it("accepts identical duplicate Content-Length values, on separate lines or as a list", () => {
    const { events } = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3, 3\r\n\r\nabcNEXT",
    );
    expect(plain(events).slice(1)).toEqual([
      { type: "data", data: "abc" },
      { type: "end", trailers: [] },
    ]);
  });

  it("accepts Transfer-Encoding split over lines when chunked is last, in any case", () => {
    const { events } = parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: CHUNKED\t\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    );
    expect(plain(events).slice(1)).toEqual([
      { type: "data", data: "x" },
      { type: "end", trailers: [] },
    ]);
  });
});

describe("ResponseParser: interim and upgrade responses", () => {
  it("reports 100 Continue then the final response", () => {
    const { events } = parse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      "POST",
    );
    expect(plain(events)).toEqual([
      {
        type: "informational",
        head: { httpVersion: "HTTP/1.1", status: 100, reasonPhrase: "Continue", headers: [] },
      },
      {
        type: "head",
        head: {
          httpVersion: "HTTP/1.1",
          status: 200,
          reasonPhrase: "OK",
          headers: [["Content-Length", "2"]],
        },
      },
      { type: "data", data: "ok" },
      { type: "end", trailers: [] },
    ]);
  });

  it("reports 103 Early Hints with its headers then the final response", () => {
    const { parser, events } = parse(
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nLink: </script.js>; rel=preload\r\n\r\n" +
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody",
    );
    expect(plain(events)).toEqual([
      {
        type: "informational",
        head: {
          httpVersion: "HTTP/1.1",
          status: 103,
          reasonPhrase: "Early Hints",
          headers: [
            ["Link", "</style.css>; rel=preload"],
            ["Link", "</script.js>; rel=preload"],
          ],
        },
      },
      {
        type: "head",
        head: {
          httpVersion: "HTTP/1.1",
          status: 200,
          reasonPhrase: "OK",
          headers: [["Content-Length", "4"]],
        },
      },
      { type: "data", data: "body" },
      { type: "end", trailers: [] },
    ]);
    expect(parser.head?.status).toBe(200);
  });

  it("pauses after a 101 and leaves the following bytes in trailingData", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(
      bytes(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: upgrade\r\n\r\nfoobar",
      ),
    );
    const events = drain(parser);
    expect(events.map((e) => e.type)).toEqual(["head", "paused"]);
    expect(parser.state).toBe("paused");
    expect(text(parser.trailingData)).toBe("foobar");
    parser.receiveData(bytes("baz"));
    expect(parser.nextEvent()).toEqual({ type: "paused" });
    expect(text(parser.trailingData)).toBe("foobarbaz");
    expect(parser.keepAlive).toBe(false);
  });

  it("pauses after a 2xx to CONNECT, ignoring its framing headers", () => {
    const { parser, events } = parse(
      "HTTP/1.1 200 Connection established\r\nContent-Length: 10\r\n\r\n\x16\x03\x01tls",
      "CONNECT",
    );
    expect(events.map((e) => e.type)).toEqual(["head", "paused"]);
    expect(text(parser.trailingData)).toBe("\x16\x03\x01tls");
  });

  it("reads the body of a non-2xx answer to CONNECT", () => {
    const { events } = parse(
      "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno",
      "CONNECT",
    );
    expect(events.map((e) => e.type)).toEqual(["head", "data", "end"]);
  });
});

describe("ResponseParser: keep-alive", () => {
  it("keeps an HTTP/1.1 response alive by default", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").parser.keepAlive).toBe(true);
  });

  it("is false before the response ends", () => {
    const { parser } = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab");
    expect(parser.keepAlive).toBe(false);
    expect(parser.state).toBe("body");
  });

  it.each([
    "Connection: close",
    "Connection: keep-alive, Close",
    "connection: foo\r\nConnection: CLOSE ",
  ])("is false with %j", (header) => {
    expect(
      parse(`HTTP/1.1 200 OK\r\n${header}\r\nContent-Length: 0\r\n\r\n`).parser.keepAlive,
    ).toBe(false);
  });

  it("is false for HTTP/1.0, even with Connection: keep-alive (as h11)", () => {
    const { parser, events } = parse(
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
    );
    expect(events[0]).toMatchObject({ type: "head", head: { httpVersion: "HTTP/1.0" } });
    expect(events.map((e) => e.type)).toEqual(["head", "data", "end"]);
    expect(parser.keepAlive).toBe(false);
  });
});

describe("ResponseParser: head syntax", () => {
  it("keeps header names as cased and in wire order, duplicates included, values OWS-trimmed", () => {
    const { events } = parse(
      "HTTP/1.1 200 OK\r\nX-B: 1\r\nx-a:2\r\nX-B:\t 3 \t\r\nSET-COOKIE: a=b\r\nset-cookie: c=d\r\nEmpty:\r\nContent-Length: 0\r\n\r\n",
    );
    expect(events[0]).toEqual({
      type: "head",
      head: {
        httpVersion: "HTTP/1.1",
        status: 200,
        reasonPhrase: "OK",
        headers: [
          ["X-B", "1"],
          ["x-a", "2"],
          ["X-B", "3"],
          ["SET-COOKIE", "a=b"],
          ["set-cookie", "c=d"],
          ["Empty", ""],
          ["Content-Length", "0"],
        ],
      },
    });
  });

  it("keeps inner whitespace and decodes obs-text as latin1", () => {
    const { events } = parse(
      "HTTP/1.1 200 \xc7a va\r\nX-Name: Ren\xe9 \x80\xff\r\nX-Inner: a \t b\r\nContent-Length: 0\r\n\r\n",
    );
    expect(events[0]).toMatchObject({
      head: {
        reasonPhrase: "\xc7a va",
        headers: [
          ["X-Name", "Ren\u00e9 \u0080\u00ff"],
          ["X-Inner", "a \t b"],
          ["Content-Length", "0"],
        ],
      },
    });
  });

  it.each([
    ["HTTP/1.1 200\r\n", ""],
    ["HTTP/1.1 200 \r\n", ""],
    ["HTTP/1.1 599 Custom  reason\r\n", "Custom  reason"],
  ])("accepts the status line %j", (line, reason) => {
    const { events } = parse(`${line}Content-Length: 0\r\n\r\n`);
    expect(events[0]).toMatchObject({ type: "head", head: { reasonPhrase: reason } });
  });

  it("accepts a ~100 KB head when maxHeaderSize is raised", () => {
    const head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nCookie: ";
    const cookie = "x".repeat(102400 - head.length - 4);
    const input = `${head}${cookie}\r\n\r\n`;
    expect(input.length).toBe(102400);
    const parser = new ResponseParser({ method: "GET", maxHeaderSize: 200 * 1024 });
    for (let i = 0; i < input.length; i += 4096)
      parser.receiveData(bytes(input.slice(i, i + 4096)));
    const events = drain(parser);
    expect(events.map((e) => e.type)).toEqual(["head", "end"]);
    expect(events[0]).toMatchObject({
      head: {
        headers: [
          ["Content-Length", "0"],
          ["Cookie", cookie],
        ],
      },
    });
  });

  it("accepts a head of exactly maxHeaderSize bytes and rejects one more", () => {
    const head = "HTTP/1.1 204 No Content\r\nX: abc\r\n\r\n";
    const ok = new ResponseParser({ method: "GET", maxHeaderSize: head.length });
    ok.receiveData(bytes(head));
    expect(drain(ok).map((e) => e.type)).toEqual(["head", "end"]);
    const tooBig = new ResponseParser({ method: "GET", maxHeaderSize: head.length - 1 });
    tooBig.receiveData(bytes(head));
    expect(() => tooBig.nextEvent()).toThrowError(
      new RemoteProtocolError(`response head exceeds the ${head.length - 1}-byte limit`),
    );
  });

  it("exports the default head limit", () => {
    expect(DEFAULT_MAX_HEADER_SIZE).toBe(65536);
  });
});

describe("ResponseParser: lifecycle", () => {
  it("leaves bytes after the end of the response in trailingData", () => {
    const { parser, events } = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
    );
    expect(events.map((e) => e.type)).toEqual(["head", "data", "end"]);
    expect(text(parser.trailingData)).toBe("HTTP/1.1 200 OK\r\n");
    expect(parser.keepAlive).toBe(true);
  });

  it("asks for data until the head is complete", () => {
    const parser = new ResponseParser({ method: "GET" });
    expect(parser.nextEvent()).toEqual({ type: "need-data" });
    expect(parser.responseStarted).toBe(false);
    parser.receiveData(bytes("HTTP/1.1 200 OK\r\nContent-"));
    expect(parser.nextEvent()).toEqual({ type: "need-data" });
    expect(parser.responseStarted).toBe(true);
    expect(parser.state).toBe("head");
    parser.receiveData(bytes("Length: 0\r\n\r\n"));
    expect(parser.nextEvent().type).toBe("head");
    expect(parser.nextEvent().type).toBe("end");
  });

  it("keeps throwing the same error after a failure", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(bytes("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n"));
    let first: unknown;
    try {
      parser.nextEvent();
    } catch (error) {
      first = error;
    }
    expect(first).toBeInstanceOf(RemoteProtocolError);
    expect(parser.state).toBe("error");
    parser.receiveData(bytes("more"));
    expect(() => parser.nextEvent()).toThrow(first as Error);
    try {
      parser.nextEvent();
    } catch (error) {
      expect(error).toBe(first);
    }
  });

  it("rejects data after EOF and a bad maxHeaderSize as local errors", () => {
    const parser = new ResponseParser({ method: "GET" });
    parser.receiveData(new Uint8Array(0));
    expect(() => parser.receiveData(bytes("x"))).toThrowError(
      new LocalProtocolError("received data after the peer closed (EOF)"),
    );
    expect(() => new ResponseParser({ method: "GET", maxHeaderSize: 0 })).toThrowError(
      LocalProtocolError,
    );
  });
});
