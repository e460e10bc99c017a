/**
 * The redirect policy of `pool.fetch()`, in one place (undici's lesson, CVE-2024-30260: a policy
 * applied per API surface leaks where one surface forgets it).
 * @module
 */
import type { FetchBody } from "./body.js";

/** Most redirects followed, as in the fetch standard; one more is a `TypeError`. */
export const MAX_REDIRECTS = 20;

/** Request headers that carry credentials and never go to another origin. */
export const CROSS_ORIGIN_STRIPPED = ["authorization", "cookie", "proxy-authorization"] as const;

/** Headers that describe a body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type"];

/** A request as the redirect loop carries it from hop to hop. */
export interface HopRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: FetchBody | null;
}

/** True for the statuses `fetch()` follows. */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/**
 * Resolves a `Location` header against the current URL; the fragment carries over when the
 * location has none. Throws `TypeError` for an unparseable or non-HTTP location.
 */
export function resolveLocation(location: string, current: URL): URL {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new TypeError(`redirect location ${JSON.stringify(location)} is not a valid URL`);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new TypeError(`redirect location ${JSON.stringify(next.href)} is not an HTTP(S) URL`);
  }
  if (next.username !== "" || next.password !== "") {
    throw new TypeError("redirect location includes credentials");
  }
  if (next.hash === "" && current.hash !== "") next.hash = current.hash;
  return next;
}

/**
 * The request for the next hop, by the fetch standard's rules: 303 (and 301/302 after a POST)
 * become a GET without body; 307/308 keep method and body, which a one-shot stream cannot give
 * (`TypeError`); `Host` is recomputed; credentials stay behind when the origin changes.
 */
export function redirectRequest(previous: HopRequest, status: number, next: URL): HopRequest {
  const headers = new Headers(previous.headers);
  headers.delete("host");
  let method = previous.method;
  let body = previous.body;
  if (
    ((status === 301 || status === 302) && method === "POST") ||
    (status === 303 && method !== "GET" && method !== "HEAD")
  ) {
    method = "GET";
    body = null;
    for (const name of BODY_HEADERS) headers.delete(name);
  }
  if (body !== null && !body.replayable) {
    throw new TypeError(
      `cannot follow the ${status} redirect to ${next.href}: the request body is a one-shot stream`,
    );
  }
  if (next.origin !== previous.url.origin) {
    for (const name of CROSS_ORIGIN_STRIPPED) headers.delete(name);
  }
  return { method, url: next, headers, body };
}
