/**
 * How the body of a response is delimited (RFC 9112 §6.3), decided once from the final head.
 * @module
 */

import { RemoteProtocolError } from "../errors.js";
import { isToken, trimOws } from "./chars.js";
import type { ResponseHead } from "./types.js";

/** The body framing of a final (non-1xx) response. */
export type BodyFraming =
  /** No body: HEAD request, 204, 304. */
  | { kind: "none" }
  /** Exactly `length` bytes (Content-Length). */
  | { kind: "length"; length: number }
  /** Chunked transfer coding. */
  | { kind: "chunked" }
  /** Everything until the peer closes (no Content-Length, no Transfer-Encoding). */
  | { kind: "eof" }
  /** 101 Switching Protocols, or a 2xx to CONNECT: the bytes after the head are another protocol. */
  | { kind: "paused" };

/** What {@link bodyFraming} decides. */
export interface FramingDecision {
  framing: BodyFraming;
  /** A `close` token appeared in `Connection` (RFC 9112 §9.6). */
  connectionClose: boolean;
}

/**
 * Decides the framing of a final response to a request with method `method` (upper case), and
 * rejects the header combinations that let a peer smuggle a response (RFC 9112 §6.1, §6.3).
 */
export function bodyFraming(head: ResponseHead, method: string): FramingDecision {
  let contentLength = -1;
  let transferCodings: string[] | null = null;
  let connectionClose = false;
  for (const [name, value] of head.headers) {
    // Only three names matter; comparing lengths first skips the lower-casing of all others.
    if (name.length === 14 && isNamed(name, "content-length")) {
      const length = parseContentLength(value);
      // RFC 9110 §8.6: identical duplicates may be collapsed; differing ones are unrecoverable.
      if (contentLength !== -1 && contentLength !== length) {
        throw new RemoteProtocolError(
          `conflicting Content-Length values (${contentLength} and ${length})`,
        );
      }
      contentLength = length;
    } else if (name.length === 17 && isNamed(name, "transfer-encoding")) {
      transferCodings ??= [];
      for (const coding of value.split(",")) transferCodings.push(trimOws(coding));
    } else if (name.length === 10 && isNamed(name, "connection")) {
      connectionClose ||= hasCloseOption(value);
    }
  }

  const status = head.status;
  // RFC 9112 §6.3 item 2: a 2xx to CONNECT starts a tunnel; its framing headers are ignored.
  if (status === 101 || (method === "CONNECT" && status >= 200 && status < 300)) {
    return { framing: { kind: "paused" }, connectionClose };
  }
  if (transferCodings !== null) {
    // RFC 9112 §6.1 / §6.3 item 3: TE with CL is a smuggling signature; llhttp rejects it too.
    if (contentLength !== -1) {
      throw new RemoteProtocolError(
        "both Transfer-Encoding and Content-Length are present in the response",
      );
    }
    checkTransferCodings(transferCodings);
  }
  // RFC 9112 §6.3 item 1: these responses end at the empty line whatever their headers say.
  if (method === "HEAD" || status === 204 || status === 304) {
    return { framing: { kind: "none" }, connectionClose };
  }
  if (transferCodings !== null) return { framing: { kind: "chunked" }, connectionClose };
  if (contentLength !== -1) {
    return { framing: { kind: "length", length: contentLength }, connectionClose };
  }
  return { framing: { kind: "eof" }, connectionClose };
}

/**
 * Whether `name` (a validated field name or value: no CTLs) equals `lower`, a lower-case
 * name of letters and "-", ignoring case. Setting bit 0x20 lower-cases ASCII letters and leaves
 * "-" alone; of the other characters a field may hold, none maps onto a letter or "-" that way
 * (only CR, which validation rejects, maps onto "-"). No string is allocated.
 */
function isNamed(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

// RFC 9112 §9.6: `close` among the comma-separated Connection options.
function hasCloseOption(value: string): boolean {
  if (value.length === 5) return isNamed(value, "close");
  if (value.indexOf(",") === -1) return false;
  for (const option of value.split(",")) {
    const o = trimOws(option);
    if (o.length === 5 && isNamed(o, "close")) return true;
  }
  return false;
}

// RFC 9112 §6.3 item 4: if chunked is not the final coding, the response length is unknowable
// short of a close, so reject; chunked applied twice (§6.1 "MUST NOT") is rejected too. Empty list
// elements (RFC 9110 §5.6.1 would skip them) are rejected as well: llhttp reads `chunked,` as not
// chunked, and no two parsers on the path may disagree about framing.
function checkTransferCodings(codings: string[]): void {
  const shown = JSON.stringify(codings.join(", "));
  const names = codings.map((coding) => {
    // A coding may carry parameters (`x;a=b`); only its name must be a token.
    const semi = coding.indexOf(";");
    const name = semi === -1 ? coding : trimOws(coding.slice(0, semi));
    if (!isToken(name)) throw new RemoteProtocolError(`invalid Transfer-Encoding: ${shown}`);
    return name.toLowerCase();
  });
  const last = codings.length - 1;
  const chunkedLast = (codings[last] as string).toLowerCase() === "chunked";
  if (!chunkedLast || names.indexOf("chunked") !== last) {
    throw new RemoteProtocolError(
      `unsupported Transfer-Encoding ${shown}: chunked must be the final coding, exactly once`,
    );
  }
}

/**
 * Parses a Content-Length field value: `1*DIGIT`, or a comma list of identical such values
 * (RFC 9110 §8.6). No sign, no inner spaces, at most `Number.MAX_SAFE_INTEGER`.
 */
export function parseContentLength(value: string): number {
  let result = -1;
  let current = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x2c;
    if (c >= 0x30 && c <= 0x39) {
      current = (current === -1 ? 0 : current * 10) + (c - 0x30);
      if (current > Number.MAX_SAFE_INTEGER) throw invalidContentLength(value);
    } else if (c === 0x2c) {
      if (current === -1) throw invalidContentLength(value);
      if (result !== -1 && result !== current) {
        throw new RemoteProtocolError(
          `conflicting Content-Length values (${result} and ${current})`,
        );
      }
      result = current;
      current = -1;
      // Skip OWS after the comma; OWS before it is only allowed right after a value.
      while (i + 1 < value.length && isOws(value.charCodeAt(i + 1))) i++;
    } else if (isOws(c) && current !== -1) {
      // OWS before a comma: "5 , 5". Anything but a comma (or the end) must follow.
      while (i + 1 < value.length && isOws(value.charCodeAt(i + 1))) i++;
      if (i + 1 < value.length && value.charCodeAt(i + 1) !== 0x2c) {
        throw invalidContentLength(value);
      }
    } else {
      throw invalidContentLength(value);
    }
  }
  return result;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function invalidContentLength(value: string): RemoteProtocolError {
  return new RemoteProtocolError(`invalid Content-Length value ${JSON.stringify(value)}`);
}
