// httpcore's HTTP/2 tests (tests/_async/test_http2.py and the HTTP/2 cases of
// test_connection_pool.py / test_connection.py), ported onto the mock backend: scripted server
// frames, one element per read.
import { describe, expect, it } from "vitest";
import { AsyncMockBackend, AsyncMockStream } from "../../src/backends/mock.js";
import { AsyncHTTP2Connection } from "../../src/connection/http2.js";
import { H2ErrorCode } from "../../src/h2/errors.js";
import {
  AsyncConnectionPool,
  AsyncHTTPConnection,
  ConnectionNotAvailable,
  RemoteProtocolError,
  Request,
} from "../../src/index.js";
import { Origin } from "../../src/url.js";
import { reprs } from "../support/mock.js";
import { ServerWire } from "./h2-support.js";

const ORIGIN = new Origin("https", "example.com", 443);
const URL = "https://example.com/";

/** httpcore's HTTP/2 fixture: SETTINGS, then a response on each of `streams`. */
function script(
  streams: number[],
  extra: (w: ServerWire) => Uint8Array[] = () => [],
): Uint8Array[] {
  const w = new ServerWire();
  const chunks = [w.settings()];
  for (const id of streams) {
    chunks.push(
      w.response(id, 200, [["content-type", "plain/text"]]),
      w.data(id, "Hello, world!", true),
    );
  }
  return [...chunks, ...extra(w)];
}

describe("httpcore tests/_async/test_http2.py", () => {
  it("test_http2_connection", async () => {
    const conn = new AsyncHTTP2Connection(ORIGIN, new AsyncMockStream(script([1]), true));
    expect(String(conn)).toBe(
      "<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 0]>",
    );
    const r = await conn.handleAsyncRequest(new Request("GET", URL));
    expect(r.status).toBe(200);
    await r.aread();
    expect(r.text()).toBe("Hello, world!");
    expect([conn.isIdle(), conn.isAvailable(), conn.isClosed(), conn.hasExpired()]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(conn.info()).toBe("'https://example.com:443', HTTP/2, IDLE, Request Count: 1");
    expect(String(conn)).toBe(
      "<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 1]>",
    );
  });

  it("test_http2_connection_closed", async () => {
    const conn = new AsyncHTTP2Connection(
      ORIGIN,
      new AsyncMockStream(
        script([1], (w) => [w.goaway(1)]),
        true,
      ),
    );
    await (await conn.handleAsyncRequest(new Request("GET", URL))).aread();
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
    expect(conn.isAvailable()).toBe(false);
  });

  it("test_http2_connection_post_request", async () => {
    const stream = new AsyncMockStream(script([1]), true);
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const r = await conn.handleAsyncRequest(
      new Request("POST", URL, {
        headers: { "content-length": "17" },
        content: "Hello, world 1234",
      }),
    );
    expect(r.status).toBe(200);
  });

  it("test_http2_connection_with_remote_protocol_error", async () => {
    const conn = new AsyncHTTP2Connection(
      ORIGIN,
      new AsyncMockStream(["Wait, this isn't valid HTTP!", ""], true),
    );
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      RemoteProtocolError,
    );
  });

  it("test_http2_connection_with_rst_stream", async () => {
    const w = new ServerWire();
    const chunks = [
      w.settings(),
      w.response(1, 200, [["content-type", "plain/text"]]),
      w.rst(1, H2ErrorCode.CANCEL),
      w.response(3, 200, [["content-type", "plain/text"]]),
      w.data(3, "Hello, world!", true),
    ];
    const conn = new AsyncHTTP2Connection(ORIGIN, new AsyncMockStream(chunks, true));
    const first = await conn.handleAsyncRequest(new Request("GET", URL));
    await expect(first.aread()).rejects.toThrow(
      "HTTP/2 stream 1 was reset by the server: CANCEL (0x8) (origin: https://example.com:443)",
    );
    const second = await conn.handleAsyncRequest(new Request("GET", URL));
    expect((await second.aread()).length).toBe(13);
  });

  it("test_http2_connection_with_goaway", async () => {
    // GOAWAY(last_stream_id=0) in the middle of stream 1's response: the server answered on a
    // stream it now says it never processed, so that request fails; the connection is done.
    const w = new ServerWire();
    const chunks = [
      w.settings(),
      w.response(1, 200, [["content-type", "plain/text"]]),
      w.goaway(0, 0),
      w.data(1, "Hello, world!", true),
    ];
    const conn = new AsyncHTTP2Connection(ORIGIN, new AsyncMockStream(chunks, true));
    const first = await conn.handleAsyncRequest(new Request("GET", URL));
    await expect(first.aread()).rejects.toBeInstanceOf(RemoteProtocolError);
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
  });

  it("test_http2_connection_with_flow_control", async () => {
    const w = new ServerWire();
    // The server grants +10,000 four times on the connection and on stream 1: 105,535 in all.
    const grants = Array.from({ length: 4 }, () => [
      w.windowUpdate(0, 10_000),
      w.windowUpdate(1, 10_000),
    ]).flat();
    const chunks = [
      w.settings(),
      ...grants,
      w.response(1, 200, [["content-type", "plain/text"]]),
      w.data(1, "100,000 bytes received", true),
    ];
    const stream = new AsyncMockStream(chunks, true);
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const r = await conn.handleAsyncRequest(
      new Request("POST", URL, { content: new Uint8Array(100_000).fill(120) }),
    );
    expect(r.status).toBe(200);
    expect((await r.aread()).length).toBe(22);
  });

  it("test_http2_connection_attempt_close", async () => {
    const conn = new AsyncHTTP2Connection(ORIGIN, new AsyncMockStream(script([1]), true));
    await (await conn.handleAsyncRequest(new Request("GET", URL))).aread();
    await conn.aclose();
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
  });

  it("test_http2_request_to_incorrect_origin", async () => {
    const conn = new AsyncHTTP2Connection(ORIGIN, new AsyncMockStream([], true));
    await expect(conn.handleAsyncRequest(new Request("GET", "https://other.com/"))).rejects.toThrow(
      Error,
    );
  });
});

describe("httpcore tests/_async/test_connection_pool.py and test_connection.py (HTTP/2)", () => {
  it("test_connection_pool_with_http2: the server's ALPN choice binds, even with http2 off", async () => {
    await using pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(script([1, 3]), { http2: true }),
    });
    const r1 = await pool.request("GET", URL);
    expect([r1.status, r1.text()]).toEqual([200, "Hello, world!"]);
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>",
    ]);
    const r2 = await pool.request("GET", URL);
    expect(r2.text()).toBe("Hello, world!");
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 2]>",
    ]);
  });

  it("test_connection_pool_with_http2_goaway: the next request moves to a new connection", async () => {
    const backend = new AsyncMockBackend(
      script([1], (w) => [w.goaway(1), new Uint8Array(0)]),
      { http2: true },
    );
    await using pool = new AsyncConnectionPool({ networkBackend: backend, http2: true });
    expect((await pool.request("GET", URL)).text()).toBe("Hello, world!");
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>",
    ]);
    expect((await pool.request("GET", URL)).text()).toBe("Hello, world!");
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>",
    ]);
    expect(backend.streams.length).toBe(2);
  });

  it("test_http2_connection (AsyncHTTPConnection): http_version HTTP/2", async () => {
    const conn = new AsyncHTTPConnection(ORIGIN, {
      networkBackend: new AsyncMockBackend(script([1]), { http2: true }),
      http2: true,
    });
    expect(String(conn)).toBe("<AsyncHTTPConnection [CONNECTING]>");
    expect(conn.mayMultiplex()).toBe(true);
    const r = await conn.handleAsyncRequest(new Request("GET", URL));
    expect(r.extensions.httpVersion).toBe("HTTP/2");
    await r.aread();
    expect(String(conn)).toBe(
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>",
    );
    expect(conn.maxConcurrentRequests()).toBe(100);
  });

  it("offers ALPN per http1/http2, on a copy of the TLS options", async () => {
    const offered: (string[] | undefined)[] = [];
    const backend = new AsyncMockBackend(script([1]), { http2: true });
    const connectTcp = backend.connectTcp.bind(backend);
    backend.connectTcp = async (host, port, opts) => {
      const stream = await connectTcp(host, port, opts);
      const startTls = stream.startTls.bind(stream);
      stream.startTls = (tls) => {
        offered.push(tls.alpnProtocols);
        return startTls(tls);
      };
      return stream;
    };
    const ssl = Object.freeze({ alpnProtocols: ["x"] });
    for (const [http1, http2] of [
      [true, false],
      [true, true],
      [false, true],
    ] as const) {
      await using pool = new AsyncConnectionPool({ networkBackend: backend, http1, http2, ssl });
      await pool.request("GET", URL);
    }
    expect(offered).toEqual([["http/1.1"], ["h2", "http/1.1"], ["h2"]]);
    expect(ssl.alpnProtocols).toEqual(["x"]);
  });
});
