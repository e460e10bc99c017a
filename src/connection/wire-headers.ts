/**
 * The headers a request carries on the wire: `Host` first, then the caller's, then framing.
 * @module
 */
import { LocalProtocolError } from "../errors.js";
import type { HeaderList } from "../h11/types.js";
import { findHeader, getHeader } from "../headers.js";
import type { Request } from "../models.js";

/** How the request body is framed. */
export type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

/** Wire headers and body framing of a request. */
export interface WireHead {
  headers: HeaderList;
  framing: Framing;
}

/** Computes the wire headers and body framing of `request`. */
export function wireHeaders(request: Pick<Request, "headers" | "url" | "body">): WireHead {
  const user = request.headers;
  const headers: HeaderList =
    findHeader(user, "host") === -1 ? [["Host", request.url.authority], ...user] : [...user];
  const te = getHeader(user, "transfer-encoding");
  const cl = getHeader(user, "content-length");
  const body = request.body;
  if (te !== undefined) {
    // The client owns framing: only plain chunked is something we can actually produce.
    if (te.trim().toLowerCase() !== "chunked") {
      throw new LocalProtocolError(
        `Transfer-Encoding ${JSON.stringify(te)} is not supported; only "chunked" can be sent.`,
      );
    }
    return { headers, framing: { kind: "chunked" } };
  }
  if (cl !== undefined) {
    if (!/^[0-9]{1,15}$/.test(cl)) {
      throw new LocalProtocolError(`Invalid Content-Length header ${JSON.stringify(cl)}.`);
    }
    const length = Number(cl);
    if (body?.kind === "bytes" && body.bytes.length !== length) {
      throw new LocalProtocolError(
        `Content-Length ${length} does not match the ${body.bytes.length}-byte request body.`,
      );
    }
    return {
      headers,
      framing: length === 0 && body === null ? { kind: "none" } : { kind: "length", length },
    };
  }
  if (body === null) return { headers, framing: { kind: "none" } };
  if (body.kind === "bytes") {
    headers.push(["Content-Length", String(body.bytes.length)]);
    return { headers, framing: { kind: "length", length: body.bytes.length } };
  }
  headers.push(["Transfer-Encoding", "chunked"]);
  return { headers, framing: { kind: "chunked" } };
}
