/**
 * Request bodies: the forms callers may pass and how they are sent.
 * @module
 */
import { describe } from "./url.js";

/** A request body. Strings are sent as UTF-8. */
export type RequestContent =
  | string
  | Uint8Array
  | ArrayBuffer
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | ReadableStream<Uint8Array>;

/** A body ready to send: bytes of known size (replayable), or a one-shot stream. */
export type RequestBody =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "stream"; stream: AsyncIterable<Uint8Array> };

const encoder = new TextEncoder();
/** The empty body of a request without content. */
export const EMPTY_BODY: RequestBody = { kind: "bytes", bytes: new Uint8Array(0) };

/** Classifies `content`; `null`/`undefined` means no body. */
export function toRequestBody(content: RequestContent | null | undefined): RequestBody | null {
  if (content == null) return null;
  if (typeof content === "string") return { kind: "bytes", bytes: encoder.encode(content) };
  if (content instanceof Uint8Array) return { kind: "bytes", bytes: content };
  if (content instanceof ArrayBuffer) return { kind: "bytes", bytes: new Uint8Array(content) };
  if (typeof ReadableStream !== "undefined" && content instanceof ReadableStream) {
    return { kind: "stream", stream: readableToIterable(content) };
  }
  if (typeof content === "object" && Symbol.asyncIterator in content) {
    return { kind: "stream", stream: content };
  }
  if (typeof content === "object" && Symbol.iterator in content) {
    return { kind: "stream", stream: syncToAsync(content) };
  }
  throw new TypeError(
    `content must be a string, Uint8Array, ArrayBuffer, (async) iterable of Uint8Array or ReadableStream, but got ${describe(content)}.`,
  );
}

// Not every runtime makes ReadableStream async-iterable yet; a reader works everywhere.
async function* readableToIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* syncToAsync(items: Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* items;
}

/** Checks a body chunk's type so a bad chunk fails clearly instead of writing garbage. */
export function checkChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return encoder.encode(chunk);
  throw new TypeError(`request body chunks must be Uint8Array, but got ${describe(chunk)}.`);
}
