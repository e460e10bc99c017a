// The sans-IO HTTP/2 client state machine: bytes in → events out, every RFC 9113 rule a client
// must enforce on what a server sends, and both directions of flow control.
import { describe, expect, it } from "vitest";
import { LocalProtocolError } from "../../src/errors.js";
import { H2ErrorCode } from "../../src/h2/errors.js";
import { encodeFrame, Flag, FrameType, SettingId } from "../../src/h2/frames.js";
import type { HeaderField } from "../../src/h2/hpack.js";
import { H2ClientSession, type H2Event, type H2SessionOptions } from "../../src/h2/session.js";
import { type ClientFrame, ClientReader, cat, ServerWire } from "./h2-support.js";

const GET: HeaderField[] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":authority", "example.com"],
  [":path", "/"],
];

/** A session past the handshake, with a reader of what it sends. */
function setup(options: H2SessionOptions = {}, settings: [number, number][] = []) {
  const session = new H2ClientSession(options);
  const wire = new ServerWire();
  const client = new ClientReader();
  session.initiate();
  const sent = (): ClientFrame[] => {
    const bytes = session.dataToSend();
    return bytes === null ? [] : client.feed(bytes);
  };
  const first = sent();
  const events = session.receive(wire.settings(settings));
  expect(events).toEqual([{ type: "settings", first: true }]);
  const ack = sent();
  expect(ack).toMatchObject([{ type: FrameType.SETTINGS, ack: true }]);
  return { session, wire, sent, first };
}

function connectionError(events: H2Event[], code: number): string {
  const last = events.at(-1);
  expect(last?.type).toBe("connection-error");
  if (last?.type !== "connection-error") throw new Error("unreachable");
  expect(last.error.code).toBe(code);
  return last.error.message;
}

describe("connection preface and settings", () => {
  it("sends the preface: SETTINGS like httpcore, then a larger connection window", () => {
    const { first } = setup();
    expect(first).toMatchObject([
      {
        type: FrameType.SETTINGS,
        ack: false,
        settings: [
          [SettingId.ENABLE_PUSH, 0],
          [SettingId.MAX_CONCURRENT_STREAMS, 100],
          [SettingId.INITIAL_WINDOW_SIZE, 1048576],
          [SettingId.MAX_HEADER_LIST_SIZE, 65536],
        ],
      },
      { type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 2 ** 24 },
    ]);
  });

  it("a server that does not start with SETTINGS is a PROTOCOL_ERROR, answered with GOAWAY", () => {
    const session = new H2ClientSession();
    session.initiate();
    const client = new ClientReader();
    client.feed(session.dataToSend() as Uint8Array);
    const events = session.receive(new ServerWire().ping());
    connectionError(events, H2ErrorCode.PROTOCOL_ERROR);
    const out = client.feed(session.dataToSend() as Uint8Array);
    expect(out).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 0, errorCode: 1 }]);
    expect(session.canOpenStream).toBe(false);
    expect(session.receive(new ServerWire().settings())).toEqual([]);
  });

  it("applies the server's settings", () => {
    const { session } = setup({}, [
      [SettingId.MAX_CONCURRENT_STREAMS, 7],
      [SettingId.MAX_FRAME_SIZE, 32768],
      [SettingId.INITIAL_WINDOW_SIZE, 1000],
      [SettingId.ENABLE_PUSH, 0],
      [0xf0, 123], // unknown: ignored
    ]);
    expect(session.remoteSettings).toMatchObject({
      maxConcurrentStreams: 7,
      maxFrameSize: 32768,
      initialWindowSize: 1000,
    });
  });

  it.each([
    [SettingId.ENABLE_PUSH, 1, H2ErrorCode.PROTOCOL_ERROR],
    [SettingId.ENABLE_PUSH, 2, H2ErrorCode.PROTOCOL_ERROR],
    [SettingId.INITIAL_WINDOW_SIZE, 2 ** 31, H2ErrorCode.FLOW_CONTROL_ERROR],
    [SettingId.MAX_FRAME_SIZE, 16383, H2ErrorCode.PROTOCOL_ERROR],
    [SettingId.MAX_FRAME_SIZE, 2 ** 24, H2ErrorCode.PROTOCOL_ERROR],
    [SettingId.ENABLE_CONNECT_PROTOCOL, 2, H2ErrorCode.PROTOCOL_ERROR],
  ])("setting 0x%s = %s is a connection error %s", (id, value, code) => {
    const session = new H2ClientSession();
    session.initiate();
    connectionError(session.receive(new ServerWire().settings([[id, value]])), code);
  });

  it("reports the ACK of our SETTINGS", () => {
    const { session, wire } = setup();
    expect(session.receive(wire.settingsAck())).toEqual([{ type: "settings-ack" }]);
    expect(session.receive(wire.settingsAck())).toEqual([]); // none pending
  });

  it("answers PING with an ACK carrying the same data", () => {
    const { session, wire, sent } = setup();
    const opaque = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(session.receive(wire.ping(opaque))).toEqual([]);
    expect(sent()).toMatchObject([{ type: FrameType.PING, ack: true, opaque }]);
    expect(session.receive(wire.ping(opaque, true))).toEqual([{ type: "ping-ack", opaque }]);
  });

  it("ignores unknown frame types and PRIORITY, even on idle streams", () => {
    const { session } = setup();
    const events = session.receive(
      cat(
        encodeFrame(0xbb, 0, 5, Uint8Array.from([1, 2, 3])),
        encodeFrame(FrameType.PRIORITY, 0, 9, Uint8Array.from([0, 0, 0, 1, 16])),
      ),
    );
    expect(events).toEqual([]);
  });
});

describe("a request and its response", () => {
  it("runs a whole exchange and closes the stream", () => {
    const { session, wire, sent } = setup();
    const id = session.openStream(GET, true);
    expect(id).toBe(1);
    expect(sent()).toMatchObject([
      { type: FrameType.HEADERS, streamId: 1, endStream: true, headers: GET },
    ]);
    expect(session.openStreams).toBe(1);
    const events = session.receive(
      cat(
        wire.response(1, 200, [
          ["content-type", "text/plain"],
          ["content-length", "5"],
        ]),
        wire.data(1, "hel"),
        wire.data(1, "lo", true),
      ),
    );
    expect(events).toMatchObject([
      {
        type: "response",
        streamId: 1,
        status: 200,
        headers: [
          ["content-type", "text/plain"],
          ["content-length", "5"],
        ],
        endStream: false,
      },
      { type: "data", streamId: 1, endStream: false },
      { type: "data", streamId: 1, endStream: true },
    ]);
    expect(session.openStreams).toBe(0);
    expect(session.openStream(GET, true)).toBe(3);
  });

  it("delivers 1xx heads, then the final one, then trailers", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    const events = session.receive(
      cat(
        wire.response(1, 103, [["link", "</a.css>; rel=preload"]]),
        wire.response(1, 200),
        wire.data(1, "x"),
        wire.headers(1, [["grpc-status", "0"]], { endStream: true }),
      ),
    );
    expect(events.map((e) => e.type)).toEqual(["informational", "response", "data", "trailers"]);
    expect(session.openStreams).toBe(0);
  });

  it("splits a large request head into HEADERS + CONTINUATION", () => {
    const { session, sent } = setup();
    const big: HeaderField[] = [...GET, ["x-big", "v".repeat(40000)]];
    session.openStream(big, true);
    const frames = sent();
    expect(frames).toHaveLength(1); // the reader joins the block
    expect(frames[0]?.headers).toEqual(big);
  });

  it("refuses a request head over the server's SETTINGS_MAX_HEADER_LIST_SIZE", () => {
    const { session } = setup({}, [[SettingId.MAX_HEADER_LIST_SIZE, 200]]);
    expect(() => session.openStream([...GET, ["x", "y".repeat(200)]], true)).toThrow(
      LocalProtocolError,
    );
    expect(session.nextStreamId).toBe(1);
  });
});

describe("malformed responses are stream errors (RFC 9113 §8.1.1)", () => {
  const cases: [string, HeaderField[], boolean?][] = [
    ["no :status", [["content-type", "a"]]],
    [
      "a :path in a response",
      [
        [":status", "200"],
        [":path", "/"],
      ],
    ],
    [
      "two :status",
      [
        [":status", "200"],
        [":status", "200"],
      ],
    ],
    [
      "pseudo after regular",
      [
        ["a", "b"],
        [":status", "200"],
      ],
    ],
    [
      "an upper-case name",
      [
        [":status", "200"],
        ["Content-Type", "a"],
      ],
    ],
    [
      "a CR in a value",
      [
        [":status", "200"],
        ["x", "a\rb"],
      ],
    ],
    [
      "a value with leading space",
      [
        [":status", "200"],
        ["x", " a"],
      ],
    ],
    [
      "connection-specific field",
      [
        [":status", "200"],
        ["connection", "close"],
      ],
    ],
    [
      "transfer-encoding",
      [
        [":status", "200"],
        ["transfer-encoding", "chunked"],
      ],
    ],
    ["status 101", [[":status", "101"]]],
    ["status 1xx with END_STREAM", [[":status", "100"]], true],
    ["a non-numeric status", [[":status", "2xx"]]],
    [
      "differing content-lengths",
      [
        [":status", "200"],
        ["content-length", "1"],
        ["content-length", "2"],
      ],
    ],
    [
      "content-length with END_STREAM",
      [
        [":status", "200"],
        ["content-length", "3"],
      ],
      true,
    ],
  ];
  it.each(cases)("%s", (_, fields, endStream) => {
    const { session, wire, sent } = setup();
    session.openStream(GET, true);
    sent();
    const events = session.receive(wire.headers(1, fields, { endStream: endStream ?? false }));
    expect(events).toMatchObject([{ type: "stream-error", streamId: 1 }]);
    const e = events[0];
    if (e?.type === "stream-error") expect(e.error.code).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect(sent()).toMatchObject([{ type: FrameType.RST_STREAM, streamId: 1, errorCode: 1 }]);
    expect(session.openStreams).toBe(0);
    // The connection lives on.
    expect(session.openStream(GET, true)).toBe(3);
  });

  it("a body longer or shorter than content-length", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    session.openStream(GET, true);
    const events = session.receive(
      cat(
        wire.response(1, 200, [["content-length", "2"]]),
        wire.data(1, "abc"),
        wire.response(3, 200, [["content-length", "5"]]),
        wire.data(3, "ab", true),
      ),
    );
    expect(events.map((e) => [e.type, "streamId" in e ? e.streamId : 0])).toEqual([
      ["response", 1],
      ["stream-error", 1],
      ["response", 3],
      ["stream-error", 3],
    ]);
  });

  it("content in a HEAD or 204 response", () => {
    const { session, wire } = setup();
    session.openStream([...GET.slice(0, 0), [":method", "HEAD"], ...GET.slice(1)], true, true);
    session.openStream(GET, true);
    const events = session.receive(
      cat(
        wire.response(1, 200, [["content-length", "10"]]),
        wire.data(1, "x", true),
        wire.response(3, 204),
        wire.data(3, "y", true),
      ),
    );
    expect(events.map((e) => e.type)).toEqual([
      "response",
      "stream-error",
      "response",
      "stream-error",
    ]);
  });

  it("a HEAD response with content-length and no body is fine", () => {
    const { session, wire } = setup();
    session.openStream(GET, true, true);
    const events = session.receive(wire.response(1, 200, [["content-length", "10"]], true));
    expect(events).toMatchObject([{ type: "response", endStream: true }]);
  });

  it("trailers without END_STREAM, or with pseudo-header fields", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    session.openStream(GET, true);
    const events = session.receive(
      cat(
        wire.response(1, 200),
        wire.headers(1, [["x", "y"]]),
        wire.response(3, 200),
        wire.headers(3, [[":status", "200"]], { endStream: true }),
      ),
    );
    expect(events.map((e) => e.type)).toEqual([
      "response",
      "stream-error",
      "response",
      "stream-error",
    ]);
  });

  it("DATA before the response head", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    expect(session.receive(wire.data(1, "x"))).toMatchObject([{ type: "stream-error" }]);
  });

  it("a header list over our limit fails that stream only, and HPACK stays in sync", () => {
    const { session, wire } = setup({ maxHeaderListSize: 1000 });
    session.openStream(GET, true);
    session.openStream(GET, true);
    const big: HeaderField[] = [["x-big", "v".repeat(1000)]];
    const events = session.receive(
      cat(
        wire.response(1, 200, [["x-small", "a"], ...big]),
        wire.response(3, 200, [["x-small", "a"]], true), // refers to the dynamic table
      ),
    );
    expect(events.map((e) => e.type)).toEqual(["stream-error", "response"]);
    const first = events[0];
    if (first?.type === "stream-error") {
      expect(first.error.message).toMatch(
        /header list of \d+ octets exceeds SETTINGS_MAX_HEADER_LIST_SIZE \(1000\)/,
      );
    }
    expect(events[1]).toMatchObject({ headers: [["x-small", "a"]] });
  });
});

describe("connection errors (RFC 9113 §5.4.1)", () => {
  it("frames interleaved in a header block", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    const headers = wire.headers(1, [[":status", "200"]]);
    headers[4] = (headers[4] as number) & ~Flag.END_HEADERS;
    connectionError(session.receive(cat(headers, wire.ping())), H2ErrorCode.PROTOCOL_ERROR);
  });

  it("CONTINUATION for another stream, or without HEADERS", () => {
    const { session } = setup();
    session.openStream(GET, true);
    const cont = encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, Uint8Array.from([0x88]));
    connectionError(session.receive(cont), H2ErrorCode.PROTOCOL_ERROR);
    const second = setup();
    second.session.openStream(GET, true);
    second.session.openStream(GET, true);
    const headers = second.wire.headers(1, [[":status", "200"]]);
    headers[4] = (headers[4] as number) & ~Flag.END_HEADERS;
    const other = encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 3, Uint8Array.from([0x88]));
    connectionError(second.session.receive(cat(headers, other)), H2ErrorCode.PROTOCOL_ERROR);
  });

  it("a CONTINUATION flood is cut off (bounded memory)", () => {
    const { session, wire } = setup({ maxHeaderListSize: 16384 });
    session.openStream(GET, true);
    const headers = wire.headers(1, [[":status", "200"]]);
    headers[4] = (headers[4] as number) & ~Flag.END_HEADERS;
    const parts = [headers];
    for (let i = 0; i < 10; i++) {
      parts.push(encodeFrame(FrameType.CONTINUATION, 0, 1, new Uint8Array(16384)));
    }
    connectionError(session.receive(cat(...parts)), H2ErrorCode.COMPRESSION_ERROR);
  });

  it("PUSH_PROMISE although push is disabled", () => {
    const { session } = setup();
    session.openStream(GET, true);
    const push = encodeFrame(
      FrameType.PUSH_PROMISE,
      Flag.END_HEADERS,
      1,
      Uint8Array.from([0, 0, 0, 2, 0x82]),
    );
    expect(connectionError(session.receive(push), H2ErrorCode.PROTOCOL_ERROR)).toMatch(
      /PUSH_PROMISE/,
    );
  });

  it.each([
    ["DATA on a stream never opened", (w: ServerWire) => w.data(3, "x")],
    ["DATA on an even stream", (w: ServerWire) => w.data(2, "x")],
    ["HEADERS on an even stream", (w: ServerWire) => w.response(2, 200)],
    ["HEADERS on a stream never opened", (w: ServerWire) => w.response(5, 200)],
    ["RST_STREAM on an idle stream", (w: ServerWire) => w.rst(3, 0)],
    ["WINDOW_UPDATE on an idle stream", (w: ServerWire) => w.windowUpdate(7, 1)],
    ["WINDOW_UPDATE of 0 on the connection", (w: ServerWire) => w.windowUpdate(0, 0)],
  ])("%s → PROTOCOL_ERROR", (_, frame) => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    connectionError(session.receive(frame(wire)), H2ErrorCode.PROTOCOL_ERROR);
  });

  it("a response on a stream that already ended (stream id reused) → STREAM_CLOSED", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    session.receive(wire.response(1, 200, [], true));
    connectionError(session.receive(wire.response(1, 200, [], true)), H2ErrorCode.STREAM_CLOSED);
  });

  it("connection window overflow → FLOW_CONTROL_ERROR", () => {
    const { session, wire } = setup();
    connectionError(
      session.receive(wire.windowUpdate(0, 2 ** 31 - 1)),
      H2ErrorCode.FLOW_CONTROL_ERROR,
    );
  });

  it("a server ignoring our stream window → FLOW_CONTROL_ERROR", () => {
    const { session, wire } = setup({ initialWindowSize: 100 });
    session.openStream(GET, true);
    const events = session.receive(cat(wire.response(1, 200), wire.data(1, new Uint8Array(101))));
    expect(connectionError(events, H2ErrorCode.FLOW_CONTROL_ERROR)).toMatch(
      /window of stream 1 \(100\)/,
    );
  });

  it("a server ignoring our connection window → FLOW_CONTROL_ERROR", () => {
    const { session, wire } = setup({ connectionWindowSize: 65535 });
    session.openStream(GET, true);
    session.openStream(GET, true);
    const chunk = new Uint8Array(16000);
    const frames = [wire.response(1, 200), wire.response(3, 200)];
    for (let i = 0; i < 3; i++) frames.push(wire.data(1, chunk), wire.data(3, chunk));
    connectionError(session.receive(cat(...frames)), H2ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe("stream lifecycle", () => {
  it("RST_STREAM from the server closes that stream only", () => {
    const { session, wire } = setup();
    session.openStream(GET, true);
    session.openStream(GET, true);
    const events = session.receive(
      cat(wire.rst(1, H2ErrorCode.INTERNAL_ERROR), wire.response(3, 200, [], true)),
    );
    expect(events).toMatchObject([
      { type: "reset", streamId: 1, errorCode: 2 },
      { type: "response", streamId: 3 },
    ]);
    expect(session.openStreams).toBe(0);
  });

  it("RST_STREAM(NO_ERROR) ends a response only when its content-length was received", () => {
    const { session, wire } = setup();
    for (let i = 0; i < 4; i++) session.openStream(GET, true);
    const events = session.receive(
      cat(
        wire.response(1, 200, [["content-length", "3"]]),
        wire.data(1, "abc"),
        wire.rst(1, H2ErrorCode.NO_ERROR),
        wire.response(3, 200, [["content-length", "3"]]),
        wire.data(3, "ab"),
        wire.rst(3, H2ErrorCode.NO_ERROR),
        wire.response(5, 200),
        wire.data(5, "xyz"),
        wire.rst(5, H2ErrorCode.NO_ERROR),
        wire.rst(7, H2ErrorCode.NO_ERROR),
      ),
    );
    const resets = events.filter((e) => e.type === "reset");
    expect(resets.map((e) => e.type === "reset" && [e.streamId, e.endsResponse])).toEqual([
      [1, true],
      [3, false],
      [5, true],
      [7, false],
    ]);
  });

  it("frames for a stream we reset are dropped, and their window returned", () => {
    const { session, wire, sent } = setup({ connectionWindowSize: 65535 });
    session.openStream(GET, true);
    session.receive(wire.response(1, 200));
    sent();
    session.resetStream(1, H2ErrorCode.CANCEL);
    expect(sent()).toMatchObject([{ type: FrameType.RST_STREAM, streamId: 1, errorCode: 8 }]);
    const late = [];
    for (let i = 0; i < 5; i++) late.push(wire.data(1, new Uint8Array(16000)));
    expect(session.receive(cat(...late, wire.rst(1, 0), wire.windowUpdate(1, 5)))).toEqual([]);
    // 80000 octets > 65535: only possible because they were credited back.
    expect(sent().some((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0)).toBe(true);
  });

  it("GOAWAY closes the streams above last_stream_id and stops new ones", () => {
    const { session, wire } = setup();
    for (let i = 0; i < 3; i++) session.openStream(GET, true);
    const events = session.receive(wire.goaway(1, 0, "shutting down"));
    expect(events).toEqual([
      { type: "goaway", lastStreamId: 1, errorCode: 0, debug: "shutting down" },
    ]);
    expect([session.isOpen(1), session.isOpen(3), session.isOpen(5)]).toEqual([true, false, false]);
    expect(session.canOpenStream).toBe(false);
    expect(() => session.openStream(GET, true)).toThrow(LocalProtocolError);
    // Stream 1 still completes; a later GOAWAY cannot raise last_stream_id.
    expect(session.receive(cat(wire.response(1, 200, [], true), wire.goaway(5)))).toMatchObject([
      { type: "response" },
      { type: "goaway", lastStreamId: 1 },
    ]);
  });

  it("DATA after the server's END_STREAM while we still send → STREAM_CLOSED stream error", () => {
    const { session, wire } = setup();
    session.openStream(GET, false);
    session.receive(wire.response(1, 200, [], true));
    expect(session.isOpen(1)).toBe(true); // half-closed (remote): our body may continue
    const events = session.receive(wire.data(1, "x"));
    expect(events).toMatchObject([{ type: "stream-error", streamId: 1 }]);
  });
});

describe("flow control", () => {
  it("sends within the smaller of the stream and connection windows, in max-frame-size pieces", () => {
    const { session, wire, sent } = setup();
    const id = session.openStream(GET, false);
    sent();
    expect(session.sendWindow(id)).toBe(65535);
    session.sendData(id, new Uint8Array(65535), false);
    expect(session.sendWindow(id)).toBe(0);
    expect(() => session.sendData(id, new Uint8Array(1), false)).toThrow(LocalProtocolError);
    const frames = sent();
    expect(frames.map((f) => (f.type === FrameType.DATA ? f.data.length : -1))).toEqual([
      16384, 16384, 16384, 16383,
    ]);
    session.receive(cat(wire.windowUpdate(id, 100000)));
    expect(session.sendWindow(id)).toBe(0); // the connection window is still empty
    expect(session.receive(wire.windowUpdate(0, 10))).toEqual([{ type: "window", streamId: 0 }]);
    expect(session.sendWindow(id)).toBe(10);
    session.sendData(id, new Uint8Array(0), true);
    expect(sent()).toMatchObject([{ type: FrameType.DATA, endStream: true, flowLength: 0 }]);
  });

  it("a SETTINGS_INITIAL_WINDOW_SIZE change moves open streams' windows, even below zero", () => {
    const { session, wire } = setup();
    const id = session.openStream(GET, false);
    session.sendData(id, new Uint8Array(60000), false);
    session.receive(wire.settings([[SettingId.INITIAL_WINDOW_SIZE, 1000]]));
    expect(session.sendWindow(id)).toBe(0); // 1000 - 60000 < 0
    session.receive(wire.windowUpdate(id, 59500));
    expect(session.sendWindow(id)).toBe(500);
  });

  it("a stream window overflow is a stream error; WINDOW_UPDATE 0 on a stream too", () => {
    const { session, wire } = setup();
    session.openStream(GET, false);
    session.openStream(GET, false);
    const events = session.receive(cat(wire.windowUpdate(1, 2 ** 31 - 1), wire.windowUpdate(3, 0)));
    expect(
      events.map((e) => (e.type === "stream-error" ? [e.streamId, e.error.code] : e.type)),
    ).toEqual([
      [1, H2ErrorCode.FLOW_CONTROL_ERROR],
      [3, H2ErrorCode.PROTOCOL_ERROR],
    ]);
  });

  it("returns window only as the application consumes (backpressure), padding at once", () => {
    const { session, wire, sent } = setup({ initialWindowSize: 1000, connectionWindowSize: 70000 });
    session.openStream(GET, true);
    sent();
    session.receive(cat(wire.response(1, 200), wire.data(1, new Uint8Array(600))));
    expect(sent()).toEqual([]); // nothing consumed yet: no WINDOW_UPDATE
    session.consumed(1, 300);
    expect(sent()).toEqual([]); // below half a window
    session.consumed(1, 300);
    expect(sent()).toMatchObject([{ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 600 }]);
    // The stream window is back to 1000. Padding is returned at once: two frames of 200 octets
    // + 256 of padding (the pad-length octet counts too) make 512 owed, over half a window.
    session.receive(wire.paddedData(1, new Uint8Array(200), 255));
    expect(sent()).toEqual([]);
    session.receive(wire.paddedData(1, new Uint8Array(200), 255));
    expect(sent()).toMatchObject([{ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 512 }]);
    session.consumed(1, 1_000_000); // more than delivered: capped at the 400 octets of data
    expect(sent()).toEqual([]);
    session.receive(wire.data(1, new Uint8Array(100)));
    session.consumed(1, 100);
    expect(sent()).toMatchObject([{ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 500 }]);
  });

  it("returns connection window once half of it was consumed", () => {
    const { session, wire, sent } = setup({
      initialWindowSize: 65535,
      connectionWindowSize: 65535,
    });
    session.openStream(GET, true);
    session.openStream(GET, true);
    sent();
    session.receive(
      cat(
        wire.response(1, 200),
        wire.response(3, 200),
        wire.data(1, new Uint8Array(20000)),
        wire.data(3, new Uint8Array(20000)),
      ),
    );
    session.consumed(1, 20000);
    expect(sent()).toEqual([]);
    session.consumed(3, 20000);
    expect(sent()).toMatchObject([
      { type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 40000 },
    ]);
  });
});
