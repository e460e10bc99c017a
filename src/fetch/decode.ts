/**
 * Content decoding for `pool.fetch()` with the platform's `DecompressionStream`.
 * @module
 */

/** Most content codings in one response; more is a `TypeError` (undici, urllib3 and curl use 5). */
export const MAX_CONTENT_CODINGS = 5;

/** `DecompressionStream` formats by content coding; `br` only where the runtime has one. */
function formatOf(coding: string): string | null {
  if (coding === "gzip" || coding === "x-gzip") return supported("gzip");
  if (coding === "deflate") return supported("deflate");
  if (coding === "br") return supported("brotli") ?? supported("br");
  return null;
}

const support = new Map<string, boolean>();
/** The constructor's format type (named differently in the DOM and Workers type libraries). */
type Format = ConstructorParameters<typeof DecompressionStream>[0];

function supported(format: string): string | null {
  let ok = support.get(format);
  if (ok === undefined) {
    try {
      new DecompressionStream(format as Format);
      ok = true;
    } catch {
      ok = false;
    }
    support.set(format, ok);
  }
  return ok ? format : null;
}

/** The codings this runtime decodes, for a default `Accept-Encoding`. */
export function acceptEncoding(): string | null {
  if (typeof DecompressionStream === "undefined") return null;
  return ["gzip", "deflate", "br"].filter((c) => formatOf(c) !== null).join(", ") || null;
}

/**
 * The `DecompressionStream` formats to apply, in order, for a `Content-Encoding` value; null
 * when the body must pass through undecoded (no codings, or one this runtime cannot decode —
 * then the header stays, as fetch() does for unknown codings).
 * @throws TypeError for more than {@link MAX_CONTENT_CODINGS} codings.
 */
export function decodingPlan(contentEncoding: string | null): string[] | null {
  if (contentEncoding === null) return null;
  const codings = contentEncoding
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "");
  if (codings.length > MAX_CONTENT_CODINGS) {
    throw new TypeError(
      `too many content codings (${codings.length}, at most ${MAX_CONTENT_CODINGS}): ${contentEncoding}`,
    );
  }
  if (typeof DecompressionStream === "undefined") return null;
  const formats: string[] = [];
  // Codings are listed in the order they were applied: undo them last first.
  for (const coding of codings.reverse()) {
    if (coding === "identity") continue;
    const format = formatOf(coding);
    if (format === null) return null;
    formats.push(format);
  }
  return formats.length === 0 ? null : formats;
}

/** Pipes `body` through a decompressor per format (streamed; cancelling reaches the source). */
export function decode(
  body: ReadableStream<Uint8Array>,
  formats: string[],
): ReadableStream<Uint8Array> {
  let stream = body;
  for (const format of formats) {
    stream = stream.pipeThrough(
      new DecompressionStream(format as Format) as unknown as ReadableWritablePair<
        Uint8Array,
        Uint8Array
      >,
    );
  }
  return stream;
}
