// The frame layer (RFC 9113 §4, §6): layout checks per frame type, splitting across reads, and
// the serialisers.
import { describe, expect, it } from "vitest";
import { H2Error, H2ErrorCode, h2ErrorName } from "../../src/h2/errors.js";
import {
  encodeData,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodeSettings,
  Flag,
  type Frame,
  FrameReader,
  FrameType,
  parseFrame,
} from "../../src/h2/frames.js";
import { cat } from "./h2-support.js";

function readAll(bytes: Uint8Array, split = bytes.length): Frame[] {
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length; at += split) {
    reader.push(bytes.subarray(at, at + split));
    for (let f = reader.next(); f !== null; f = reader.next()) frames.push(f);
  }
  expect(reader.buffered).toBe(0);
  return frames;
}

function errorOf(fn: () => unknown): H2Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(H2Error);
    return e as H2Error;
  }
  throw new Error("expected an H2Error");
}

describe("frame reader", () => {
  it("cuts frames out of any split of the byte stream", () => {
    const bytes = cat(
      encodeSettings([[3, 100]]),
      encodeData(1, new Uint8Array(40000).fill(7), true, 16384),
      encodeGoaway(1, 0, new TextEncoder().encode("bye")),
    );
    for (const split of [1, 2, 7, 9, 100, 16393, bytes.length]) {
      const frames = readAll(bytes, split);
      expect(frames.map((f) => f.type)).toEqual([4, 0, 0, 0, 7]);
      const data = frames.filter((f) => f.type === FrameType.DATA);
      expect(data.reduce((n, f) => n + (f.type === 0 ? f.data.length : 0), 0)).toBe(40000);
      expect(data.map((f) => f.type === 0 && f.endStream)).toEqual([false, false, true]);
    }
  });

  it("hands out payloads as views when a frame arrives whole", () => {
    const bytes = encodeData(1, new Uint8Array([1, 2, 3]), false, 16384);
    const reader = new FrameReader();
    reader.push(bytes);
    const frame = reader.next();
    expect(frame?.type === FrameType.DATA && frame.data.buffer).toBe(bytes.buffer);
  });

  it("refuses a frame over SETTINGS_MAX_FRAME_SIZE before buffering it", () => {
    const reader = new FrameReader(16384);
    reader.push(Uint8Array.from([0x00, 0x40, 0x01, 0, 0, 0, 0, 0, 1])); // 16385 octets announced
    const e = errorOf(() => reader.next());
    expect([e.code, e.streamId]).toEqual([H2ErrorCode.FRAME_SIZE_ERROR, 0]);
  });

  it("ignores the reserved bit of the stream id", () => {
    const f = encodeFrame(FrameType.WINDOW_UPDATE, 0, 3, Uint8Array.from([0, 0, 0, 1]));
    f[5] = (f[5] as number) | 0x80;
    expect(readAll(f)[0]).toMatchObject({ streamId: 3, increment: 1 });
  });
});

describe("frame layouts", () => {
  const P = (type: number, flags: number, streamId: number, payload: number[]) =>
    parseFrame(type, flags, streamId, Uint8Array.from(payload));

  it("DATA: padding removed, counted by flow control; bad padding is PROTOCOL_ERROR", () => {
    const f = P(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 1, [2, 65, 66, 0, 0]);
    expect(f).toMatchObject({ data: Uint8Array.from([65, 66]), flowLength: 5, endStream: true });
    expect(P(FrameType.DATA, Flag.PADDED, 1, [0])).toMatchObject({ flowLength: 1 });
    expect(errorOf(() => P(FrameType.DATA, Flag.PADDED, 1, [1])).code).toBe(
      H2ErrorCode.PROTOCOL_ERROR,
    );
    expect(errorOf(() => P(FrameType.DATA, Flag.PADDED, 1, [])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.DATA, 0, 0, [1])).code).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it("HEADERS: padding and priority fields", () => {
    const f = P(
      FrameType.HEADERS,
      Flag.PADDED | Flag.PRIORITY | Flag.END_HEADERS,
      3,
      [1, 0, 0, 0, 3, 16, 0x82, 0],
    );
    expect(f).toMatchObject({ fragment: Uint8Array.from([0x82]), dependsOn: 3, endHeaders: true });
    expect(errorOf(() => P(FrameType.HEADERS, Flag.PRIORITY, 3, [0, 0, 0])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.HEADERS, 0, 0, [])).code).toBe(H2ErrorCode.PROTOCOL_ERROR);
  });

  it("fixed-size frames: PRIORITY (stream error), RST_STREAM, PING, WINDOW_UPDATE, GOAWAY", () => {
    const priority = errorOf(() => P(FrameType.PRIORITY, 0, 5, [0, 0, 0, 1]));
    expect([priority.code, priority.streamId]).toEqual([H2ErrorCode.FRAME_SIZE_ERROR, 5]);
    expect(errorOf(() => P(FrameType.RST_STREAM, 0, 1, [0, 0, 0])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.RST_STREAM, 0, 0, [0, 0, 0, 0])).code).toBe(
      H2ErrorCode.PROTOCOL_ERROR,
    );
    expect(errorOf(() => P(FrameType.PING, 0, 0, [1, 2, 3])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.PING, 0, 1, [0, 0, 0, 0, 0, 0, 0, 0])).code).toBe(
      H2ErrorCode.PROTOCOL_ERROR,
    );
    expect(errorOf(() => P(FrameType.WINDOW_UPDATE, 0, 0, [0, 0, 1])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.GOAWAY, 0, 0, [0, 0, 0, 1])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.GOAWAY, 0, 1, [0, 0, 0, 1, 0, 0, 0, 0])).code).toBe(
      H2ErrorCode.PROTOCOL_ERROR,
    );
    expect(P(FrameType.GOAWAY, 0, 0, [0x80, 0, 0, 7, 0, 0, 0, 2, 104, 105])).toMatchObject({
      lastStreamId: 7,
      errorCode: 2,
    });
  });

  it("SETTINGS: on stream 0 only, multiples of 6, ACK without payload", () => {
    expect(P(FrameType.SETTINGS, 0, 0, [0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0])).toMatchObject({
      ack: false,
      settings: [
        [3, 100],
        [4, 65536],
      ],
    });
    expect(errorOf(() => P(FrameType.SETTINGS, 0, 1, [])).code).toBe(H2ErrorCode.PROTOCOL_ERROR);
    expect(errorOf(() => P(FrameType.SETTINGS, 0, 0, [0, 3, 0])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
    expect(errorOf(() => P(FrameType.SETTINGS, Flag.ACK, 0, [0, 3, 0, 0, 0, 1])).code).toBe(
      H2ErrorCode.FRAME_SIZE_ERROR,
    );
  });

  it("unknown frame types parse as such (to be ignored)", () => {
    expect(P(0x42, 0xff, 9, [1, 2])).toMatchObject({ type: -1, frameType: 0x42, streamId: 9 });
  });
});

describe("serialisers", () => {
  it("split a header block into HEADERS + CONTINUATION, END_STREAM on the first", () => {
    const block = new Uint8Array(40000).fill(0x82);
    const frames = readAll(encodeHeaders(5, block, true, 16384));
    expect(frames.map((f) => [f.type, "endHeaders" in f ? f.endHeaders : null])).toEqual([
      [FrameType.HEADERS, false],
      [FrameType.CONTINUATION, false],
      [FrameType.CONTINUATION, true],
    ]);
    expect(frames[0]).toMatchObject({ endStream: true });
  });

  it("send an empty DATA frame for END_STREAM alone", () => {
    expect(readAll(encodeData(1, new Uint8Array(0), true, 16384))).toMatchObject([
      { type: FrameType.DATA, endStream: true, flowLength: 0 },
    ]);
  });

  it("name error codes", () => {
    expect(h2ErrorName(0x8)).toBe("CANCEL");
    expect(h2ErrorName(0xd)).toBe("HTTP_1_1_REQUIRED");
    expect(h2ErrorName(0x2a)).toBe("UNKNOWN_ERROR_0x2a");
  });
});
