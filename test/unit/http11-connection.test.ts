import { describe, expect, it } from "vitest";
import {
  AsyncHTTP11Connection,
  AsyncMockStream,
  ConnectionNotAvailable,
  LocalProtocolError,
  Origin,
  RemoteProtocolError,
  Request,
} from "../../src/index.js";
import { HELLO, rejectsWith } from "../support/mock.js";

const origin = new Origin("https", "example.com", 443);
const conn = (chunks: string[], at: Origin = origin) => {
  const stream = new AsyncMockStream(chunks);
  return { stream, connection: new AsyncHTTP11Connection(at, stream) };
};
const get = (url = "https://example.com/", headers?: Record<string, string>) =>
  new Request("GET", url, { headers });

describe("AsyncHTTP11Connection (httpcore's test_http11.py)", () => {
  it("is idle and available after a full request", async () => {
    const { connection } = conn(HELLO as string[]);
    const r = await connection.handleAsyncRequest(get());
    expect(new TextDecoder().decode(await r.aread())).toBe("Hello, world!");
    await r.aclose();
    expect([
      connection.isIdle(),
      connection.isClosed(),
      connection.isAvailable(),
      connection.hasExpired(),
    ]).toEqual([true, false, true, false]);
    expect(String(connection)).toBe(
      "<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>",
    );
  });

  it("closes when the response is not read", async () => {
    const { connection, stream } = conn(HELLO as string[]);
    const r = await connection.handleAsyncRequest(get());
    await r.aclose();
    expect(String(connection)).toBe(
      "<AsyncHTTP11Connection ['https://example.com:443', CLOSED, Request Count: 1]>",
    );
    expect(stream.closed).toBe(true);
  });

  it("garbage → RemoteProtocolError and CLOSED", async () => {
    const { connection } = conn(["Wait, this isn't valid HTTP!", ""]);
    await rejectsWith(
      connection.handleAsyncRequest(get()),
      RemoteProtocolError,
      /^illegal status line: /,
    );
    expect(connection.isClosed()).toBe(true);
  });

  it("incomplete body → RemoteProtocolError with counts", async () => {
    const { connection } = conn(["HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", "Hello, wor"]);
    const r = await connection.handleAsyncRequest(get());
    await rejectsWith(
      r.aread(),
      RemoteProtocolError,
      "peer closed connection without sending complete message body (received 10 bytes, expected 13) (origin: https://example.com:443)",
    );
    expect(connection.isClosed()).toBe(true);
  });

  it("a NUL in a header value is a LocalProtocolError before any byte is written", () => {
    expect(() => get("https://example.com/", { Host: "\0" })).toThrowError(LocalProtocolError);
  });

  it("takes one request at a time", async () => {
    const { connection } = conn(HELLO as string[]);
    const r = await connection.handleAsyncRequest(get());
    await rejectsWith(connection.handleAsyncRequest(get()), ConnectionNotAvailable, "");
    await r.aclose();
  });

  it("refuses a request for another origin", async () => {
    const { connection } = conn(HELLO as string[]);
    await rejectsWith(
      connection.handleAsyncRequest(get("https://other.com/")),
      Error,
      "Attempted to send request to https://other.com:443 on connection to https://example.com:443",
    );
  });

  it("skips 100 Continue and 103 Early Hints", async () => {
    const { connection } = conn([
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    ]);
    const r = await connection.handleAsyncRequest(get());
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(await r.aread())).toBe("hello");
  });

  it("101 hands over the network stream with the buffered bytes first", async () => {
    const { connection } = conn(
      [
        "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: custom\r\n\r\nfoobar",
        "baz",
      ],
      new Origin("wss", "example.com", 443),
    );
    const r = await connection.handleAsyncRequest(
      new Request("GET", "wss://example.com:443/", {
        headers: { Connection: "upgrade", Upgrade: "custom" },
      }),
    );
    expect(r.status).toBe(101);
    const ns = r.extensions.networkStream;
    if (!ns) throw new Error("no network stream");
    const dec = new TextDecoder();
    expect(dec.decode(await ns.read(3))).toBe("foo");
    expect(dec.decode(await ns.read(3))).toBe("bar");
    expect(dec.decode(await ns.read(3))).toBe("baz");
    expect(await r.aread()).toEqual(new Uint8Array(0));
  });

  it("writes Host first, user headers in order, then framing", async () => {
    const { connection, stream } = conn(
      HELLO as string[],
      new Origin("https", "example.com", 8443),
    );
    const r = await connection.handleAsyncRequest(
      new Request("POST", "https://example.com:8443/p?q=1", {
        headers: [
          ["X-B", "2"],
          ["x-a", "1"],
        ],
        content: "body",
      }),
    );
    await r.aclose();
    expect(stream.writtenText).toBe(
      "POST /p?q=1 HTTP/1.1\r\nHost: example.com:8443\r\nX-B: 2\r\nx-a: 1\r\nContent-Length: 4\r\n\r\nbody",
    );
  });

  it("sends async-iterable bodies chunked", async () => {
    const { connection, stream } = conn(HELLO as string[]);
    async function* body() {
      yield new TextEncoder().encode("abc");
      yield new TextEncoder().encode("0123456789abcdef!");
    }
    const r = await connection.handleAsyncRequest(
      new Request("PUT", "https://example.com/", { content: body() }),
    );
    await r.aclose();
    expect(stream.writtenText).toBe(
      "PUT / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n",
    );
  });

  it("closes instead of reusing when unsolicited bytes follow a response", async () => {
    const { connection } = conn([
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
    ]);
    const r = await connection.handleAsyncRequest(get());
    await r.aread();
    await r.aclose();
    expect(connection.isClosed()).toBe(true);
  });
});
