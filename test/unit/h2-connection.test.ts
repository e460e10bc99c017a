// AsyncHTTP2Connection over an in-memory scripted server (httpcore's tests/_async/test_http2.py
// and more): multiplexing, stream limits, GOAWAY, RST_STREAM, flow control both ways,
// cancellation of one stream, timeouts, and the connection's state afterwards.
import { describe, expect, it } from "vitest";
import { AsyncHTTP2Connection } from "../../src/connection/http2.js";
import { ConnectionNotAvailable, ReadTimeout, RemoteProtocolError } from "../../src/errors.js";
import { H2ErrorCode } from "../../src/h2/errors.js";
import { FrameType, SettingId } from "../../src/h2/frames.js";
import { Request } from "../../src/models.js";
import { Origin } from "../../src/url.js";
import { rejectsWith } from "../support/mock.js";
import { type ClientFrame, cat, dec, enc, FakeH2Stream, scriptedServer } from "./h2-support.js";

const ORIGIN = new Origin("https", "example.com", 443);
const URL = "https://example.com/";

function hello(streamId: number, s: FakeH2Stream, text = "Hello, world!"): void {
  s.send(
    s.wire.response(streamId, 200, [
      ["content-type", "plain/text"],
      ["content-length", String(text.length)],
    ]),
    s.wire.data(streamId, text, true),
  );
}

function framesOf(s: FakeH2Stream, type: number): ClientFrame[] {
  return s.frames.filter((f) => f.type === type);
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("AsyncHTTP2Connection", () => {
  it("handles a request: HTTP/2 extensions, lower-case headers, repr", async () => {
    const stream = scriptedServer((id, _h, s) => hello(id, s));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const r = await conn.handleAsyncRequest(
      new Request("GET", URL, {
        headers: { Accept: "*/*", Connection: "keep-alive", TE: "trailers, deflate" },
      }),
    );
    expect(String(conn)).toBe(
      "<AsyncHTTP2Connection ['https://example.com:443', ACTIVE, Request Count: 1]>",
    );
    expect(r.status).toBe(200);
    expect(r.extensions.httpVersion).toBe("HTTP/2");
    expect(r.extensions.streamId).toBe(1);
    expect(r.headers).toEqual([
      ["content-type", "plain/text"],
      ["content-length", "13"],
    ]);
    expect(dec.decode(await r.aread())).toBe("Hello, world!");
    expect(conn.isIdle()).toBe(true);
    expect(conn.isAvailable()).toBe(true);
    expect(conn.isClosed()).toBe(false);
    expect(conn.hasExpired()).toBe(false);
    expect(conn.info()).toBe("'https://example.com:443', HTTP/2, IDLE, Request Count: 1");
    expect(String(conn)).toBe(
      "<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 1]>",
    );
    expect(conn.toJSON()).toEqual({
      kind: "AsyncHTTP2Connection",
      origin: "https://example.com:443",
      httpVersion: "HTTP/2",
      state: "IDLE",
      requestCount: 1,
    });
    // What went on the wire: pseudo-headers first, Host → :authority, no connection-specific fields.
    const headers = framesOf(stream, FrameType.HEADERS)[0]?.headers;
    expect(headers).toEqual([
      [":method", "GET"],
      [":scheme", "https"],
      [":authority", "example.com"],
      [":path", "/"],
      ["accept", "*/*"],
      ["te", "trailers"],
    ]);
    expect(framesOf(stream, FrameType.HEADERS)[0]).toMatchObject({ endStream: true });
  });

  it("POSTs a body with content-length, END_STREAM on the last DATA frame", async () => {
    let received = "";
    const stream = scriptedServer((id, headers, s, body) => {
      received = `${headers.find(([n]) => n === "content-length")?.[1]}:${dec.decode(body)}`;
      hello(id, s);
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const r = await conn.handleAsyncRequest(
      new Request("POST", URL, { content: "Hello, world 1234" }),
    );
    await r.aread();
    expect(received).toBe("17:Hello, world 1234");
    const data = framesOf(stream, FrameType.DATA);
    expect(data.map((f) => f.type === FrameType.DATA && f.endStream)).toEqual([true]);
  });

  it("sends a streamed body without content-length, ending with END_STREAM (httpcore does not)", async () => {
    let received = "";
    let headers: [string, string][] = [];
    const stream = scriptedServer((id, h, s, body) => {
      received = dec.decode(body);
      headers = h;
      hello(id, s);
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    async function* parts() {
      yield enc.encode("one ");
      yield enc.encode("");
      yield enc.encode("two");
    }
    const r = await conn.handleAsyncRequest(new Request("POST", URL, { content: parts() }));
    await r.aread();
    expect(received).toBe("one two");
    expect(headers.some(([n]) => n === "transfer-encoding")).toBe(false);
    const last = framesOf(stream, FrameType.DATA).at(-1);
    expect(last).toMatchObject({ endStream: true, flowLength: 0 });
  });

  it("multiplexes: 1 stream until the server's SETTINGS, then min(its limit, 100)", async () => {
    const pending: number[] = [];
    const stream = scriptedServer((id) => pending.push(id), {
      settings: [[SettingId.MAX_CONCURRENT_STREAMS, 1000]],
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    expect(conn.maxConcurrentRequests()).toBe(1);
    let changes = 0;
    conn.onCapacityChange = () => changes++;
    const first = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    expect(conn.maxConcurrentRequests()).toBe(100);
    expect(changes).toBe(1);
    const rest = Array.from({ length: 9 }, (_, i) =>
      conn.handleAsyncRequest(new Request("GET", `${URL}${i}`)),
    );
    await tick();
    expect(pending).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(conn.openStreams).toBe(10);
    // Answer in reverse order: each response lands on its own stream.
    for (const id of [...pending].reverse()) hello(id, stream, `stream ${id}`);
    const responses = await Promise.all([first, ...rest]);
    const bodies = await Promise.all(responses.map(async (r) => dec.decode(await r.aread())));
    expect(bodies).toEqual(pending.map((id) => `stream ${id}`));
    expect(conn.info()).toBe("'https://example.com:443', HTTP/2, IDLE, Request Count: 10");
    // A later SETTINGS lowers the limit (httpcore's test_http2_remote_max_streams_update).
    stream.send(stream.wire.settings([[SettingId.MAX_CONCURRENT_STREAMS, 50]]));
    const r = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    hello(21, stream);
    await (await r).aread();
    expect(conn.maxConcurrentRequests()).toBe(50);
  });

  it("waits for a stream slot when the server lowers its limit under the streams in flight", async () => {
    const pending: number[] = [];
    const stream = scriptedServer((id) => pending.push(id), {
      settings: [[SettingId.MAX_CONCURRENT_STREAMS, 2]],
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const a = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    const b = conn.handleAsyncRequest(new Request("GET", URL));
    const c = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    expect(pending).toEqual([1, 3]); // the third waits inside the connection
    hello(1, stream);
    await (await a).aread();
    await tick();
    expect(pending).toEqual([1, 3, 5]);
    hello(3, stream);
    hello(5, stream);
    await Promise.all([(await b).aread(), (await c).aread()]);
  });

  it("GOAWAY after a response: the next request gets ConnectionNotAvailable", async () => {
    const stream = scriptedServer((id, _h, s) => {
      hello(id, s);
      s.send(s.wire.goaway(1));
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await (await conn.handleAsyncRequest(new Request("GET", URL))).aread();
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
    expect(conn.isAvailable()).toBe(false);
    expect(conn.isClosed()).toBe(true);
  });

  it("GOAWAY mid-flight: streams above last_stream_id fail with ConnectionNotAvailable, the rest complete", async () => {
    const pending: number[] = [];
    const stream = scriptedServer((id) => pending.push(id));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const first = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    const others = [1, 2].map(() => conn.handleAsyncRequest(new Request("GET", URL)));
    await tick();
    expect(pending).toEqual([1, 3, 5]);
    stream.send(stream.wire.goaway(1, 0, "graceful"));
    for (const p of others) await expect(p).rejects.toBeInstanceOf(ConnectionNotAvailable);
    expect(conn.isAvailable()).toBe(false);
    expect(conn.mayMultiplex()).toBe(false);
    hello(1, stream);
    const r = await first;
    expect(dec.decode(await r.aread())).toBe("Hello, world!");
    expect(conn.isClosed()).toBe(true); // nothing left in flight after GOAWAY: closed
  });

  it("GOAWAY with last_stream_id 0 fails even the first stream (httpcore's test_http2_connection_with_goaway)", async () => {
    const stream = scriptedServer((_id, _h, s) => s.send(s.wire.goaway(0, 0)));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
  });

  it("RST_STREAM fails that stream only, naming the error code", async () => {
    const stream = scriptedServer((id, _h, s) => {
      if (id === 1) s.send(s.wire.rst(1, H2ErrorCode.INTERNAL_ERROR));
      else hello(id, s);
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await rejectsWith(
      conn.handleAsyncRequest(new Request("GET", URL)),
      RemoteProtocolError,
      "HTTP/2 stream 1 was reset by the server: INTERNAL_ERROR (0x2) (origin: https://example.com:443)",
    );
    const r = await conn.handleAsyncRequest(new Request("GET", URL));
    expect(dec.decode(await r.aread())).toBe("Hello, world!");
    expect(r.extensions.streamId).toBe(3);
    expect(conn.isIdle()).toBe(true);
  });

  it("RST_STREAM(NO_ERROR) instead of END_STREAM ends a complete body (node's server does this)", async () => {
    const stream = scriptedServer((id, _h, s) => {
      const full = id === 1;
      s.send(
        s.wire.response(id, 200, [["content-length", "5"]]),
        s.wire.data(id, full ? "hello" : "hel"),
      );
      s.send(s.wire.rst(id, H2ErrorCode.NO_ERROR));
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const ok = await conn.handleAsyncRequest(new Request("GET", URL));
    expect(dec.decode(await ok.aread())).toBe("hello");
    const truncated = await conn.handleAsyncRequest(new Request("GET", URL));
    await expect(truncated.aread()).rejects.toThrow(/reset by the server: NO_ERROR/);
    expect(conn.isIdle()).toBe(true);
  });

  it("RST_STREAM(REFUSED_STREAM) is retriable: ConnectionNotAvailable", async () => {
    const stream = scriptedServer((id, _h, s) =>
      s.send(s.wire.rst(id, H2ErrorCode.REFUSED_STREAM)),
    );
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
  });

  it("garbage from the server: RemoteProtocolError, GOAWAY sent, connection closed", async () => {
    const stream = new FakeH2Stream();
    stream.onFrame = (_f, s) => s.send(enc.encode("HTTP/1.1 200 OK\r\n\r\n"));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      RemoteProtocolError,
    );
    expect(conn.isClosed()).toBe(true);
    expect(framesOf(stream, FrameType.GOAWAY)).toMatchObject([
      { errorCode: H2ErrorCode.FRAME_SIZE_ERROR },
    ]);
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
  });

  it("EOF mid-flight fails every stream with 'Server disconnected'", async () => {
    const stream = scriptedServer(() => {});
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const a = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    const b = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    stream.end();
    for (const p of [a, b]) {
      await rejectsWith(
        p,
        RemoteProtocolError,
        "Server disconnected (origin: https://example.com:443)",
      );
    }
    expect(conn.isClosed()).toBe(true);
  });

  it("flow control: a 100,000-octet upload waits for WINDOW_UPDATEs (httpcore's test)", async () => {
    const stream = new FakeH2Stream();
    let got = 0;
    stream.onFrame = (frame, s) => {
      if (frame.type === FrameType.SETTINGS && !frame.ack)
        s.send(s.wire.settings(), s.wire.settingsAck());
      if (frame.type === FrameType.DATA) {
        got += frame.data.length;
        if (frame.endStream) hello(1, s);
        // Credit back in slices, after a delay: the client must wait in between.
        else if (got % 16384 === 0)
          setTimeout(() => s.send(s.wire.windowUpdate(0, 16384), s.wire.windowUpdate(1, 16384)), 1);
      }
    };
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const r = await conn.handleAsyncRequest(
      new Request("POST", URL, { content: new Uint8Array(100_000).fill(120) }),
    );
    await r.aread();
    expect(got).toBe(100_000);
  });

  it("a slow reader gets no WINDOW_UPDATE until it consumes (bounded buffering)", async () => {
    const stream = scriptedServer((id, _h, s) => {
      s.send(s.wire.response(id, 200));
      // Send exactly the stream window (64 KiB here), as a well-behaved server would.
      for (let i = 0; i < 4; i++) s.send(s.wire.data(id, new Uint8Array(16384)));
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream, { initialWindowSize: 65536 });
    const r = await conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    const updates = () => framesOf(stream, FrameType.WINDOW_UPDATE).filter((f) => f.streamId === 1);
    expect(updates()).toEqual([]);
    const it = r.aiterStream();
    let read = 0;
    while (read < 65536) read += ((await it.next()).value as Uint8Array).length;
    expect(
      updates().reduce((n, f) => n + (f.type === FrameType.WINDOW_UPDATE ? f.increment : 0), 0),
    ).toBe(65536);
    stream.send(stream.wire.data(1, "", true));
    expect((await it.next()).done).toBe(true);
  });

  it("cancelling one stream (abort) sends RST_STREAM(CANCEL) and leaves the others running", async () => {
    const pending: number[] = [];
    const stream = scriptedServer((id) => pending.push(id));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const first = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    const controller = new AbortController();
    const aborted = conn.handleAsyncRequest(new Request("GET", URL, { signal: controller.signal }));
    const third = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    await tick();
    expect(framesOf(stream, FrameType.RST_STREAM)).toMatchObject([
      { streamId: 3, errorCode: H2ErrorCode.CANCEL },
    ]);
    hello(1, stream);
    hello(3, stream); // late: dropped
    hello(5, stream);
    expect(dec.decode(await (await first).aread())).toBe("Hello, world!");
    expect(dec.decode(await (await third).aread())).toBe("Hello, world!");
    expect(conn.isIdle()).toBe(true);
  });

  it("closing a response early resets its stream; the connection stays usable", async () => {
    const stream = scriptedServer((id, _h, s) => {
      s.send(s.wire.response(id, 200), s.wire.data(id, "partial"));
      if (id === 3) s.send(s.wire.data(id, "", true));
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const r = await conn.handleAsyncRequest(new Request("GET", URL));
    await r.aclose();
    expect(framesOf(stream, FrameType.RST_STREAM)).toMatchObject([
      { streamId: 1, errorCode: H2ErrorCode.CANCEL },
    ]);
    expect(conn.isIdle()).toBe(true);
    const again = await conn.handleAsyncRequest(new Request("GET", URL));
    expect(dec.decode(await again.aread())).toBe("partial");
  });

  it("a read timeout fails the stream that waited, not the connection", async () => {
    const stream = scriptedServer((id, _h, s) => {
      if (id === 3) setTimeout(() => hello(3, s), 80);
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const slow = conn.handleAsyncRequest(
      new Request("GET", URL, { extensions: { timeout: { read: 0.05 } } }),
    );
    await tick();
    const other = conn.handleAsyncRequest(new Request("GET", URL));
    await rejectsWith(
      slow,
      ReadTimeout,
      /timed out reading from https:\/\/example.com:443 after 0.05s \(HTTP\/2 stream 1\)/,
    );
    expect(dec.decode(await (await other).aread())).toBe("Hello, world!");
    expect(framesOf(stream, FrameType.RST_STREAM)).toMatchObject([{ streamId: 1 }]);
    expect(stream.readTimeouts.some((t) => typeof t === "number" && t > 0 && t <= 0.05)).toBe(true);
  });

  it("a response header list over the limit fails that request only", async () => {
    const stream = scriptedServer((id, _h, s) => {
      if (id === 1) s.send(s.wire.response(id, 200, [["x-big", "v".repeat(2000)]], true));
      else hello(id, s);
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream, { maxHeaderListSize: 1024 });
    await rejectsWith(
      conn.handleAsyncRequest(new Request("GET", URL)),
      RemoteProtocolError,
      /exceeds SETTINGS_MAX_HEADER_LIST_SIZE \(1024\)/,
    );
    expect((await conn.handleAsyncRequest(new Request("GET", URL))).status).toBe(200);
  });

  it("emits httpcore's http2 trace events", async () => {
    const stream = scriptedServer((id, _h, s) => hello(id, s));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const events: string[] = [];
    const trace = async (name: string) => {
      events.push(name);
    };
    const r = await conn.handleAsyncRequest(new Request("GET", URL, { extensions: { trace } }));
    await r.aread();
    await r.aclose();
    expect(events).toEqual([
      "http2.send_connection_init.started",
      "http2.send_connection_init.complete",
      "http2.send_request_headers.started",
      "http2.send_request_headers.complete",
      "http2.send_request_body.started",
      "http2.send_request_body.complete",
      "http2.receive_response_headers.started",
      "http2.receive_response_headers.complete",
      "http2.receive_response_body.started",
      "http2.receive_response_body.complete",
      "http2.response_closed.started",
      "http2.response_closed.complete",
    ]);
  });

  it("aclose() sends GOAWAY, fails streams in flight, refuses new requests", async () => {
    const stream = scriptedServer(() => {});
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    const p = conn.handleAsyncRequest(new Request("GET", URL));
    await tick();
    await conn.aclose();
    await expect(p).rejects.toMatchObject({ name: "ReadError" });
    expect(framesOf(stream, FrameType.GOAWAY)).toMatchObject([{ errorCode: 0 }]);
    expect(stream.closed).toBe(true);
    await expect(conn.handleAsyncRequest(new Request("GET", URL))).rejects.toBeInstanceOf(
      ConnectionNotAvailable,
    );
  });

  it("refuses a request for another origin", async () => {
    const conn = new AsyncHTTP2Connection(ORIGIN, new FakeH2Stream());
    await expect(conn.handleAsyncRequest(new Request("GET", "https://other.com/"))).rejects.toThrow(
      /Attempted to send request to https:\/\/other.com:443/,
    );
  });

  it("keeps PING answered and idle GOAWAY noticed without a request in flight", async () => {
    const stream = scriptedServer((id, _h, s) => hello(id, s));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await (await conn.handleAsyncRequest(new Request("GET", URL))).aread();
    stream.send(stream.wire.ping(Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9])), stream.wire.goaway(1));
    expect(conn.hasExpired()).toBe(false); // starts a drain of what arrived
    await tick();
    await tick();
    expect(framesOf(stream, FrameType.PING)).toMatchObject([{ ack: true }]);
    expect(conn.isClosed()).toBe(true);
  });

  it("an idle connection the server closed: the next request fails as stale (the pool retries it)", async () => {
    const stream = scriptedServer((id, _h, s) => hello(id, s));
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await (await conn.handleAsyncRequest(new Request("GET", URL))).aread();
    stream.onFrame = () => {};
    stream.end();
    const error = await conn.handleAsyncRequest(new Request("GET", URL)).catch((e: unknown) => e);
    expect((error as Error).constructor.name).toBe("StaleConnection");
  });

  it("coalesces frames from concurrent streams into few writes", async () => {
    const stream = scriptedServer((id, _h, s) => hello(id, s), {
      settings: [[SettingId.MAX_CONCURRENT_STREAMS, 100]],
    });
    const conn = new AsyncHTTP2Connection(ORIGIN, stream);
    await (await conn.handleAsyncRequest(new Request("GET", URL))).aread();
    const before = stream.frames.length;
    const all = await Promise.all(
      Array.from({ length: 50 }, () => conn.handleAsyncRequest(new Request("GET", URL))),
    );
    await Promise.all(all.map((r) => r.aread()));
    expect(stream.frames.length - before).toBeGreaterThanOrEqual(50);
    expect(cat().length).toBe(0);
  });
});
