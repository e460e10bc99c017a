/**
 * `Request` and `Response`, with httpcore's semantics spelled the JavaScript way.
 * @module
 */
import type { AsyncNetworkStream } from "./backends/base.js";
import { type RequestBody, type RequestContent, toRequestBody } from "./body.js";
import { type WireHead, wireHeaders } from "./connection/wire-headers.js";
import { validateHeader, validateMethod, validateTarget } from "./h11/request-writer.js";
import type { HeaderList } from "./h11/types.js";
import { type HeadersInit, normalizeHeaders } from "./headers.js";
import type { TraceCallback } from "./trace.js";
import { parseRequestUrl, type RequestURL } from "./url.js";

/** Timeouts in seconds; a missing or `null` entry means no timeout. */
export interface TimeoutExtension {
  /** TCP connect and TLS handshake, each. */
  connect?: number | null;
  /** Each network read. */
  read?: number | null;
  /** Each network write. */
  write?: number | null;
  /** Waiting for a connection from the pool (a deadline across retries). */
  pool?: number | null;
}

/** Per-request extensions, as in httpcore. */
export interface RequestExtensions {
  timeout?: TimeoutExtension;
  /** Called with httpcore's trace events. */
  trace?: TraceCallback;
  /** TLS server name to use instead of the URL's host. */
  sniHostname?: string;
  /** Request-target to send instead of the URL's path and query (e.g. `*`). */
  target?: string;
  [key: string]: unknown;
}

/** Options of `pool.request()`, `pool.stream()` and `new Request()`. */
export interface RequestOptions {
  headers?: HeadersInit | null;
  content?: RequestContent | null;
  extensions?: RequestExtensions | null;
  /** Cancels the request at any point; the pool stays consistent. */
  signal?: AbortSignal | null;
}

/** An HTTP request, validated on construction so nothing unsafe ever reaches a socket. */
export class Request {
  readonly method: string;
  readonly url: RequestURL;
  /** The caller's headers, in order; `Host` and framing headers are added on the wire. */
  readonly headers: HeaderList;
  readonly body: RequestBody | null;
  readonly extensions: RequestExtensions;
  readonly signal: AbortSignal | null;
  /** The request-target sent on the wire. */
  readonly target: string;
  /** Wire headers (`Host` first, framing last) and body framing, checked on construction. */
  readonly wire: WireHead;

  constructor(method: string, url: string | URL, options: RequestOptions = {}) {
    if (typeof method !== "string") {
      throw new TypeError(`method must be a string, but got ${typeof method}.`);
    }
    validateMethod(method);
    this.method = method;
    this.url = parseRequestUrl(url);
    this.headers = normalizeHeaders(options.headers);
    for (const [name, value] of this.headers) validateHeader(name, value);
    this.body = toRequestBody(options.content);
    this.extensions = options.extensions ?? {};
    this.signal = options.signal ?? null;
    const target = this.extensions.target;
    if (target !== undefined) {
      if (typeof target !== "string") throw new TypeError("extensions.target must be a string.");
      validateTarget(target);
    }
    this.target = target ?? this.url.target;
    this.wire = wireHeaders(this);
  }

  /** `<Request [GET]>` */
  toString(): string {
    return `<Request [${this.method}]>`;
  }
}

/** Response extensions: `httpVersion`, `reasonPhrase`, and `networkStream` after an upgrade. */
export interface ResponseExtensions {
  httpVersion: string;
  reasonPhrase: string;
  /** The raw stream after a `101 Switching Protocols` or a successful `CONNECT`. */
  networkStream?: AsyncNetworkStream;
  [key: string]: unknown;
}

/** A body that can be iterated once and closed (closing releases the connection). */
export interface ResponseByteStream extends AsyncIterable<Uint8Array> {
  aclose(): Promise<void>;
  /**
   * Optional fast path: the whole rest of the body at once, without per-chunk iteration. It
   * closes the stream itself, whether it succeeds or fails.
   */
  readAll?(): Promise<Uint8Array>;
}

/** Options of `new Response()`. */
export interface ResponseInit {
  headers?: HeadersInit | null;
  /** A complete body. */
  content?: Uint8Array | string | null;
  /** A streaming body; `content` and `stream` are exclusive. */
  stream?: ResponseByteStream | null;
  extensions?: Partial<ResponseExtensions> | null;
}

const EMPTY = new Uint8Array(0);
const RESOLVED: Promise<void> = Promise.resolve();

/** @internal */
export let getStream: (response: Response) => ResponseByteStream | null;
/** @internal */
export let setStream: (response: Response, stream: ResponseByteStream) => void;
/** @internal A response from a parsed head (headers and extensions taken as they are). */
export let createResponse: (
  status: number,
  headers: HeaderList,
  stream: ResponseByteStream,
  extensions: ResponseExtensions,
) => Response;
let trustedInit = false;
const decoder = new TextDecoder();

/**
 * An HTTP response. From `pool.request()` it is fully read (`content` works at once); from
 * `pool.stream()` the body is read with `aiterStream()`, `aread()` or `body`, and `aclose()`
 * (or `await using`) releases the connection.
 */
export class Response {
  readonly status: number;
  /** `[name, value]` pairs in wire order, names cased as the server sent them. */
  readonly headers: HeaderList;
  readonly extensions: ResponseExtensions;
  #stream: ResponseByteStream | null;
  #content: Uint8Array | null;
  #iterated = false;
  #closed = false;

  static {
    // Lets the pool wrap a response's byte stream without making the stream public.
    getStream = (r) => r.#stream;
    setStream = (r, stream) => {
      r.#stream = stream;
    };
    // Connections build responses from parsed heads: nothing to normalise or copy.
    createResponse = (status, headers, stream, extensions) => {
      trustedInit = true;
      return new Response(status, { headers, stream, extensions });
    };
  }

  constructor(status: number, init: ResponseInit = {}) {
    this.status = status;
    if (trustedInit) {
      trustedInit = false;
      this.headers = init.headers as HeaderList;
      this.extensions = init.extensions as ResponseExtensions;
    } else {
      this.headers = normalizeHeaders(init.headers);
      this.extensions = { httpVersion: "HTTP/1.1", reasonPhrase: "", ...init.extensions };
    }
    this.#stream = init.stream ?? null;
    const content = init.content;
    this.#content =
      typeof content === "string"
        ? new TextEncoder().encode(content)
        : (content ?? (this.#stream === null ? EMPTY : null));
  }

  /** The whole body. Throws on a streaming response until `aread()` has run. */
  get content(): Uint8Array {
    if (this.#content === null) {
      throw new Error(
        "Attempted to access 'response.content' on a streaming response. Call 'await response.aread()' first.",
      );
    }
    return this.#content;
  }

  /** Reads the rest of the body, closes the response and returns the bytes; idempotent. */
  async aread(): Promise<Uint8Array> {
    if (this.#content !== null) return this.#content;
    const stream = this.#stream;
    if (stream?.readAll !== undefined && !this.#iterated) {
      this.#iterated = true;
      // readAll() releases the stream itself, on success and on error.
      this.#closed = true;
      this.#content = await stream.readAll();
      return this.#content;
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this.aiterStream()) {
      parts.push(chunk);
      total += chunk.length;
    }
    this.#content = concat(parts, total);
    return this.#content;
  }

  /** Yields the body as it arrives; can be called once. Closes the response at the end or on error. */
  aiterStream(): AsyncIterableIterator<Uint8Array> {
    if (this.#iterated) {
      throw new Error(
        "Attempted to call 'for await (... of response.aiterStream())' more than once.",
      );
    }
    this.#iterated = true;
    const stream = this.#stream;
    if (stream === null) {
      const content = this.#content;
      let done = content === null || content.length === 0;
      const once: AsyncIterableIterator<Uint8Array> = {
        next: async () => {
          if (done) return { value: undefined, done: true };
          done = true;
          return { value: content as Uint8Array, done: false };
        },
        [Symbol.asyncIterator]: () => once,
      };
      return once;
    }
    // Hand-written rather than a generator: one promise per chunk while streaming.
    const it = stream[Symbol.asyncIterator]();
    const finish = async (): Promise<IteratorReturnResult<undefined>> => {
      await this.aclose();
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next: async () => {
        let result: IteratorResult<Uint8Array>;
        try {
          result = await it.next();
        } catch (error) {
          await this.aclose();
          throw error;
        }
        return result.done ? finish() : result;
      },
      // `break` in `for await` lands here: release the connection.
      return: finish,
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** The body as a WHATWG `ReadableStream` (pull-based; cancelling it closes the response). */
  get body(): ReadableStream<Uint8Array> {
    const iterator = this.aiterStream();
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: async () => {
        await this.aclose();
      },
    });
  }

  /** Releases the connection; unread body bytes make the connection close instead. Idempotent. */
  aclose(): Promise<void> {
    if (this.#closed || this.#stream === null) {
      this.#closed = true;
      return RESOLVED;
    }
    this.#closed = true;
    return this.#stream.aclose();
  }

  /** The body decoded as UTF-8 (needs a read body, like `content`). */
  text(): string {
    return decoder.decode(this.content);
  }

  /** The body parsed as JSON (needs a read body, like `content`). */
  json(): unknown {
    return JSON.parse(this.text());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.aclose();
  }

  /** `<Response [200]>` */
  toString(): string {
    return `<Response [${this.status}]>`;
  }
}

/** Joins byte chunks into one array (no copy for a single chunk). */
export function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
