/**
 * `pool.fetch()` request bodies: every WHATWG `BodyInit` form, turned into what the pool sends.
 * @module
 */
import type { RequestContent } from "../body.js";

/** A request body for the pool, and whether it can be sent again (after a 307/308 redirect). */
export interface FetchBody {
  content: RequestContent;
  /** Bytes can be re-sent; a stream is one-shot. */
  replayable: boolean;
}

/** What {@link extractBody} returns: the body and the `Content-Type` fetch would default to. */
export interface ExtractedBody {
  body: FetchBody | null;
  contentType: string | null;
}

const encoder = new TextEncoder();

/**
 * Extracts a body as `fetch()` does. Strings, buffers, `Blob`, `FormData` and `URLSearchParams`
 * become bytes (replayable); a `ReadableStream` or async iterable stays a one-shot stream.
 */
export async function extractBody(body: unknown): Promise<ExtractedBody> {
  if (body === null || body === undefined) return { body: null, contentType: null };
  if (typeof body === "string") return bytes(encoder.encode(body), "text/plain;charset=UTF-8");
  if (body instanceof URLSearchParams) {
    return bytes(
      encoder.encode(body.toString()),
      "application/x-www-form-urlencoded;charset=UTF-8",
    );
  }
  if (body instanceof ArrayBuffer) return bytes(new Uint8Array(body.slice(0)), null);
  if (ArrayBuffer.isView(body)) {
    // A copy, as fetch() takes one: later writes to the caller's buffer do not change the request.
    const view = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return bytes(view.slice(), null);
  }
  if (typeof Blob !== "undefined" && body instanceof Blob) {
    return bytes(new Uint8Array(await body.arrayBuffer()), body.type === "" ? null : body.type);
  }
  if (typeof FormData !== "undefined" && body instanceof FormData) {
    // The platform's own multipart serialisation (boundary included), through a Request.
    const serialised = new globalThis.Request("http://localhost/", { method: "POST", body });
    return bytes(
      new Uint8Array(await serialised.arrayBuffer()),
      serialised.headers.get("content-type"),
    );
  }
  if (typeof ReadableStream !== "undefined" && body instanceof ReadableStream) {
    return {
      body: { content: body as ReadableStream<Uint8Array>, replayable: false },
      contentType: null,
    };
  }
  if (typeof body === "object" && Symbol.asyncIterator in body) {
    return {
      body: { content: body as AsyncIterable<Uint8Array>, replayable: false },
      contentType: null,
    };
  }
  // fetch() stringifies anything else (numbers, objects with toString).
  return bytes(encoder.encode(String(body)), "text/plain;charset=UTF-8");
}

function bytes(content: Uint8Array, contentType: string | null): ExtractedBody {
  return { body: { content, replayable: true }, contentType };
}
