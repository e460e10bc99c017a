import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  AsyncMockBackend,
  LocalProtocolError,
  Request,
  UnsupportedProtocol,
} from "../../src/index.js";
import { HELLO, rejectsWith } from "../support/mock.js";

// Every injection must fail before a connection is even opened.
describe("CR/LF/NUL injection is refused before any byte is sent", () => {
  const cases: Array<[string, () => Request]> = [
    ["method", () => new Request("GET /evil HTTP/1.1\r\nX:", "http://a.com/")],
    ["method with NUL", () => new Request("G\0T", "http://a.com/")],
    [
      "target via extension",
      () => new Request("GET", "http://a.com/", { extensions: { target: "/a\r\nX: y" } }),
    ],
    ["url", () => new Request("GET", "http://a.com/a\r\nX-Injected: 1")],
    ["url with NUL", () => new Request("GET", "http://a.com/\0")],
    ["header name", () => new Request("GET", "http://a.com/", { headers: { "X-A\r\nX-B": "1" } })],
    [
      "header value",
      () => new Request("GET", "http://a.com/", { headers: { "X-A": "1\r\nX-B: 2" } }),
    ],
    [
      "header value with NUL",
      () => new Request("GET", "http://a.com/", { headers: [["X-A", "a\0b"]] }),
    ],
    [
      "Host header",
      () => new Request("GET", "http://a.com/", { headers: { Host: "a.com\r\nX-B: 2" } }),
    ],
  ];
  for (const [what, make] of cases) {
    it(what, () => {
      expect(make).toThrowError(LocalProtocolError);
    });
  }

  it("the pool opens no connection for them", async () => {
    const backend = new AsyncMockBackend(HELLO);
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await expect(
      pool.request("GET", "http://a.com/", { headers: { "X-A": "1\r\nX-B: 2" } }),
    ).rejects.toBeInstanceOf(LocalProtocolError);
    expect(backend.connects).toEqual([]);
    expect(pool.connections).toEqual([]);
  });

  it("names the offending URL", () => {
    expect(() => new Request("GET", "http://a.com/a\r\nb")).toThrowError(
      new LocalProtocolError(
        'Invalid request URL "http://a.com/a\\r\\nb": URLs may not contain control characters or spaces.',
      ),
    );
  });

  it("refuses object header values whose toString could smuggle CR/LF", () => {
    const evil = { toString: () => "1\r\nX-B: 2" };
    expect(
      () => new Request("GET", "http://a.com/", { headers: { "X-A": evil as never } }),
    ).toThrowError(new TypeError("header value must be a string, but got Object."));
  });

  it("refuses a user Content-Length that contradicts the body", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(HELLO) });
    await rejectsWith(
      pool.request("POST", "http://a.com/", {
        headers: { "Content-Length": "9" },
        content: "hello",
      }),
      LocalProtocolError,
      "Content-Length 9 does not match the 5-byte request body.",
    );
    expect(pool.connections).toEqual([]);
  });
});

describe("URLs", () => {
  it("keeps IPv6 brackets in the origin and the Host header", async () => {
    const backend = new AsyncMockBackend(HELLO);
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await pool.request("GET", "http://[::1]:8080/x");
    expect(backend.connects).toEqual([["::1", 8080]]);
    expect(backend.streams[0]?.writtenText).toBe("GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    expect(String(pool.connections[0])).toBe(
      "<AsyncHTTPConnection ['http://[::1]:8080', HTTP/1.1, IDLE, Request Count: 1]>",
    );
  });

  it("accepts URL objects and drops the fragment", async () => {
    const backend = new AsyncMockBackend(HELLO);
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await pool.request("GET", new URL("https://example.com/a%20b?x=1#frag"));
    expect(backend.streams[0]?.writtenText).toBe(
      "GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
  });

  it("names a missing or unsupported scheme", () => {
    expect(() => new Request("GET", "example.com/")).toThrowError(
      new UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol."),
    );
    expect(() => new Request("GET", "file:///etc/passwd")).toThrowError(
      new UnsupportedProtocol("Request URL has an unsupported protocol 'file://'."),
    );
  });
});
