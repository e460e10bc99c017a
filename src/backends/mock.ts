/**
 * A scripted network backend for deterministic tests of pool logic (httpcore's `AsyncMockBackend`).
 * @module
 */
import { ConnectError, ReadError } from "../errors.js";
import type {
  AsyncNetworkBackend,
  AsyncNetworkStream,
  ConnectTcpOptions,
  ConnectUnixOptions,
  StartTlsOptions,
} from "./base.js";

/** Bytes or text (sent as latin1 — every char code must be < 256). */
export type MockChunk = Uint8Array | string;

/** Options of {@link AsyncMockBackend}. */
export interface MockBackendOptions {
  /** ALPN the mock TLS reports: `"h2"` when true, else `"http/1.1"`. */
  http2?: boolean;
  /**
   * `buffer` is a list of scripts, one per connection in order (a connection past the last
   * script fails with ConnectError), instead of one script every connection replays.
   */
  perConnection?: boolean;
}

function toBytes(chunk: MockChunk): Uint8Array {
  if (typeof chunk !== "string") return chunk;
  const out = new Uint8Array(chunk.length);
  for (let i = 0; i < chunk.length; i++) out[i] = chunk.charCodeAt(i) & 0xff;
  return out;
}

/** A stream that replays scripted reads (one element per `read()`), then EOF. */
export class AsyncMockStream implements AsyncNetworkStream {
  #buffer: Uint8Array[];
  #http2: boolean;
  #closed = false;
  /** Everything written to the stream, in order. */
  readonly written: Uint8Array[] = [];

  constructor(buffer: MockChunk[], http2 = false) {
    this.#buffer = buffer.map(toBytes);
    this.#http2 = http2;
  }

  async read(_maxBytes: number, _timeout?: number | null): Promise<Uint8Array> {
    if (this.#closed) throw new ReadError("Connection closed");
    return this.#buffer.shift() ?? new Uint8Array(0);
  }

  async write(data: Uint8Array, _timeout?: number | null): Promise<void> {
    if (data.length > 0) this.written.push(data.slice());
  }

  /** All written bytes as a latin1 string, for assertions. */
  get writtenText(): string {
    let s = "";
    for (const chunk of this.written) for (const b of chunk) s += String.fromCharCode(b);
    return s;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async aclose(): Promise<void> {
    this.#closed = true;
  }

  async startTls(_opts: StartTlsOptions): Promise<AsyncNetworkStream> {
    return this;
  }

  getExtraInfo(key: string): unknown {
    if (key === "ssl_object")
      return { alpnProtocol: this.#http2 ? "h2" : "http/1.1", version: "TLSv1.3" };
    return null;
  }

  toString(): string {
    return "<httpcore2.AsyncMockStream>";
  }
}

/** Every connect returns a new {@link AsyncMockStream} over the scripted chunks. */
export class AsyncMockBackend implements AsyncNetworkBackend {
  #buffer: MockChunk[] | MockChunk[][];
  #options: MockBackendOptions;
  /** The streams handed out, in connect order. */
  readonly streams: AsyncMockStream[] = [];
  /** `[host, port]` (or `[path]`) of each connect, in order. */
  readonly connects: Array<[string, number] | [string]> = [];

  constructor(buffer: MockChunk[] | MockChunk[][], options: MockBackendOptions = {}) {
    this.#buffer = buffer;
    this.#options = options;
  }

  #next(where: string): AsyncMockStream {
    let script: MockChunk[];
    if (this.#options.perConnection) {
      const s = (this.#buffer as MockChunk[][])[this.streams.length];
      if (s === undefined)
        throw new ConnectError(
          `could not connect to ${where} (no script left in the mock backend)`,
        );
      script = s;
    } else {
      script = this.#buffer as MockChunk[];
    }
    const stream = new AsyncMockStream([...script], this.#options.http2);
    this.streams.push(stream);
    return stream;
  }

  async connectTcp(
    host: string,
    port: number,
    opts: ConnectTcpOptions = {},
  ): Promise<AsyncNetworkStream> {
    opts.signal?.throwIfAborted();
    this.connects.push([host, port]);
    return this.#next(`${host}:${port}`);
  }

  async connectUnixSocket(
    path: string,
    opts: ConnectUnixOptions = {},
  ): Promise<AsyncNetworkStream> {
    opts.signal?.throwIfAborted();
    this.connects.push([path]);
    return this.#next(path);
  }

  async sleep(_seconds: number): Promise<void> {}
}
