// Test helpers for the HTTP/2 unit tests: the server side of the wire, built from the library's
// own frame serialisers plus an independent HPACK context, and an in-memory network stream whose
// far end is a scriptable HTTP/2 server.
import type { AsyncNetworkStream, StartTlsOptions } from "../../src/backends/base.js";
import { ReadError } from "../../src/errors.js";
import {
  CONNECTION_PREFACE,
  encodeData,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  type Frame,
  FrameReader,
  FrameType,
} from "../../src/h2/frames.js";
import { type HeaderField, HpackDecoder, HpackEncoder } from "../../src/h2/hpack.js";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** Joins byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Builds what a server sends: frames with a server-side HPACK encoder. */
export class ServerWire {
  readonly encoder = new HpackEncoder();
  settings(settings: [number, number][] = []): Uint8Array {
    return encodeSettings(settings);
  }
  settingsAck(): Uint8Array {
    return encodeSettings(null);
  }
  headers(
    streamId: number,
    fields: HeaderField[],
    options: { endStream?: boolean; maxFrameSize?: number } = {},
  ): Uint8Array {
    return encodeHeaders(
      streamId,
      this.encoder.encode(fields),
      options.endStream ?? false,
      options.maxFrameSize ?? 16384,
    );
  }
  /** A response head: `:status` then `fields`. */
  response(
    streamId: number,
    status: number,
    fields: HeaderField[] = [],
    endStream = false,
  ): Uint8Array {
    return this.headers(streamId, [[":status", String(status)], ...fields], { endStream });
  }
  data(streamId: number, data: Uint8Array | string, endStream = false): Uint8Array {
    return encodeData(
      streamId,
      typeof data === "string" ? enc.encode(data) : data,
      endStream,
      16384,
    );
  }
  /** A DATA frame with `pad` octets of padding. */
  paddedData(streamId: number, data: Uint8Array, pad: number, endStream = false): Uint8Array {
    const payload = new Uint8Array(1 + data.length + pad);
    payload[0] = pad;
    payload.set(data, 1);
    return encodeFrame(
      FrameType.DATA,
      Flag.PADDED | (endStream ? Flag.END_STREAM : 0),
      streamId,
      payload,
    );
  }
  rst(streamId: number, code: number): Uint8Array {
    return encodeRstStream(streamId, code);
  }
  goaway(lastStreamId: number, code = 0, debug = ""): Uint8Array {
    return encodeGoaway(lastStreamId, code, enc.encode(debug));
  }
  windowUpdate(streamId: number, increment: number): Uint8Array {
    return encodeWindowUpdate(streamId, increment);
  }
  ping(opaque = new Uint8Array(8), ack = false): Uint8Array {
    return encodePing(opaque, ack);
  }
}

/** What the client sent, as the server sees it. */
export type ClientFrame = Frame & { headers?: HeaderField[] };

/** Parses client output: checks the preface, decodes header blocks. */
export class ClientReader {
  readonly #reader = new FrameReader(1 << 24);
  readonly #decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  #preface = false;
  #buffer: Uint8Array = new Uint8Array(0);
  #block: { streamId: number; parts: Uint8Array[]; frame: Frame } | null = null;

  feed(bytes: Uint8Array): ClientFrame[] {
    const out: ClientFrame[] = [];
    if (!this.#preface) {
      this.#buffer = cat(this.#buffer, bytes);
      if (this.#buffer.length < CONNECTION_PREFACE.length) return out;
      const head = this.#buffer.subarray(0, CONNECTION_PREFACE.length);
      if (dec.decode(head) !== dec.decode(CONNECTION_PREFACE))
        throw new Error("bad client preface");
      this.#preface = true;
      bytes = this.#buffer.subarray(CONNECTION_PREFACE.length);
    }
    this.#reader.push(bytes);
    for (;;) {
      const frame = this.#reader.next();
      if (frame === null) break;
      if (frame.type === FrameType.HEADERS || frame.type === FrameType.CONTINUATION) {
        if (frame.type === FrameType.HEADERS) {
          this.#block = { streamId: frame.streamId, parts: [], frame };
        }
        const block = this.#block;
        if (block === null) throw new Error("CONTINUATION without HEADERS");
        block.parts.push(frame.fragment);
        if (frame.endHeaders) {
          const headers = this.#decoder.decode(cat(...block.parts)).headers;
          out.push({ ...block.frame, headers });
          this.#block = null;
        }
        continue;
      }
      out.push(frame);
    }
    return out;
  }
}

/**
 * An in-memory AsyncNetworkStream whose far end is a scripted HTTP/2 server: every client write
 * is parsed, `onFrame` answers with bytes via `send()`.
 */
export class FakeH2Stream implements AsyncNetworkStream {
  readonly wire = new ServerWire();
  readonly client = new ClientReader();
  /** Every frame the client sent, in order. */
  readonly frames: ClientFrame[] = [];
  /** Raw bytes the client wrote. */
  written = 0;
  closed = false;
  #inbox: Uint8Array[] = [];
  #eof = false;
  #waiter: ((v: Uint8Array | null) => void) | null = null;
  #failWaiter: ((e: unknown) => void) | null = null;
  readonly alpn: string | null;
  onFrame: (frame: ClientFrame, stream: FakeH2Stream) => void = () => {};
  /** Read timeouts the client asked for, in order. */
  readonly readTimeouts: (number | null | undefined)[] = [];

  constructor(alpn: string | null = "h2") {
    this.alpn = alpn;
  }

  /** Server → client bytes. */
  send(...chunks: Uint8Array[]): void {
    for (const c of chunks) {
      if (c.length === 0) continue;
      const w = this.#waiter;
      if (w !== null) {
        this.#waiter = null;
        this.#failWaiter = null;
        w(c);
      } else this.#inbox.push(c);
    }
  }

  /** The server closes its side. */
  end(): void {
    this.#eof = true;
    const w = this.#waiter;
    this.#waiter = null;
    this.#failWaiter = null;
    w?.(new Uint8Array(0));
  }

  async read(_maxBytes: number, timeout?: number | null): Promise<Uint8Array> {
    this.readTimeouts.push(timeout);
    if (this.closed) throw new ReadError("Connection closed");
    const next = this.#inbox.shift();
    if (next !== undefined) return next;
    if (this.#eof) return new Uint8Array(0);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiter = (v) => resolve(v ?? new Uint8Array(0));
      this.#failWaiter = reject;
    });
  }

  async write(data: Uint8Array, _timeout?: number | null): Promise<void> {
    if (this.closed) throw new ReadError("Connection closed");
    this.written += data.length;
    for (const frame of this.client.feed(data.slice())) {
      this.frames.push(frame);
      this.onFrame(frame, this);
    }
  }

  async aclose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const fail = this.#failWaiter;
    this.#waiter = null;
    this.#failWaiter = null;
    fail?.(new ReadError("Connection closed"));
  }

  async startTls(_opts: StartTlsOptions): Promise<AsyncNetworkStream> {
    return this;
  }

  getExtraInfo(key: string): unknown {
    if (key === "ssl_object") return { alpnProtocol: this.alpn, version: "TLSv1.3" };
    if (key === "is_readable") return this.#inbox.length > 0 || this.#eof;
    return null;
  }
}

/** A well-behaved server: SETTINGS on the preface, ACKs, and `respond` for each request. */
export function scriptedServer(
  respond: (streamId: number, headers: HeaderField[], s: FakeH2Stream, body: Uint8Array) => void,
  options: { settings?: [number, number][]; waitForBody?: boolean } = {},
): FakeH2Stream {
  const stream = new FakeH2Stream();
  const bodies = new Map<number, { headers: HeaderField[]; parts: Uint8Array[] }>();
  let greeted = false;
  stream.onFrame = (frame, s) => {
    if (!greeted) {
      greeted = true;
      s.send(s.wire.settings(options.settings ?? []));
    }
    if (frame.type === FrameType.SETTINGS && !frame.ack) s.send(s.wire.settingsAck());
    if (frame.type === FrameType.HEADERS) {
      const headers = frame.headers ?? [];
      if (frame.endStream) respond(frame.streamId, headers, s, new Uint8Array(0));
      else bodies.set(frame.streamId, { headers, parts: [] });
    }
    if (frame.type === FrameType.DATA) {
      const entry = bodies.get(frame.streamId);
      if (entry === undefined) return;
      entry.parts.push(frame.data);
      if (frame.data.length > 0) {
        s.send(
          s.wire.windowUpdate(0, frame.data.length),
          s.wire.windowUpdate(frame.streamId, frame.data.length),
        );
      }
      if (frame.endStream) {
        bodies.delete(frame.streamId);
        respond(frame.streamId, entry.headers, s, cat(...entry.parts));
      }
    }
  };
  return stream;
}
