/**
 * `pool.fetch(input, init)`: a WHATWG `fetch()` over any pool and backend, returning the
 * platform's real `Response` objects, so SDKs that take a custom `fetch` run on the pool.
 * Redirects, content decoding and `Response` building happen here; everything below is the pool.
 * @module
 */
import type {
  FetchCacheMode,
  FetchCredentialsMode,
  FetchInitExtension,
  FetchResponseInfo,
} from "../backends/fetch/connection.js";
import {
  Request as PoolRequest,
  type Response as PoolResponse,
  type RequestExtensions,
} from "../models.js";
import { extractBody, type FetchBody } from "./body.js";
import { acceptEncoding, decode, decodingPlan } from "./decode.js";
import {
  type HopRequest,
  isRedirectStatus,
  MAX_REDIRECTS,
  redirectRequest,
  resolveLocation,
} from "./redirect.js";

/** What `pool.fetch()` accepts as its first argument, as `fetch()` does. */
export type FetchInput = string | URL | globalThis.Request;

/**
 * `pool.fetch()`'s options: the standard `RequestInit` fields it uses, plus the pool's request
 * `extensions` (e.g. `{ timeout: { connect: 5, read: 30 } }`). Any `RequestInit` is accepted;
 * `cache` and `credentials` reach the platform only through the fetch backend, and `mode`,
 * `referrer`, `integrity`, `keepalive`, `priority` are ignored.
 */
export interface FetchInit {
  method?: string;
  headers?: HeadersInit;
  /** Any `BodyInit`, or an async iterable of `Uint8Array` (as Node's fetch accepts). */
  body?: BodyInit | AsyncIterable<Uint8Array> | null;
  signal?: AbortSignal | null;
  /** `"follow"` (default), `"manual"` or `"error"`. */
  redirect?: string;
  cache?: FetchCacheMode;
  credentials?: FetchCredentialsMode;
  /** Accepted for compatibility: stream bodies are always half-duplex here. */
  duplex?: "half";
  extensions?: RequestExtensions;
}

/** What the adapter needs of a pool. */
export interface FetchTarget {
  handleAsyncRequest(request: PoolRequest): Promise<PoolResponse>;
}

/** Statuses whose responses have no body, whatever the server sent. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** Bytes read off a redirect's body so its connection can be reused; past this it is closed. */
const DRAIN_LIMIT = 64 * 1024;
const METHODS = new Map(
  ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].map((m) => [m.toLowerCase(), m]),
);
const FORBIDDEN_METHODS = new Set(["connect", "trace", "track"]);

/**
 * Sends `input` through `pool` as `fetch(input, init)` would, following redirects
 * (`follow`, at most 20; `manual`; `error`) and decoding `gzip`/`deflate`/`br` bodies.
 * Rejects with `TypeError` where `fetch()` does (bad URL, body on GET, too many redirects) and
 * with the pool's errors (`ConnectError`, `ReadTimeout`, ...) for network failures; an abort
 * rejects with the signal's reason.
 */
export async function poolFetch(
  pool: FetchTarget,
  input: FetchInput,
  init: FetchInit = {},
): Promise<globalThis.Response> {
  const source = input instanceof globalThis.Request ? input : null;
  const url = parseUrl(
    input instanceof globalThis.Request ? input.url : input instanceof URL ? input.href : input,
  );
  const method = normaliseMethod(init.method ?? source?.method ?? "GET");
  const headers = new Headers(init.headers ?? source?.headers);
  const signal = init.signal ?? source?.signal ?? null;
  const mode = init.redirect ?? source?.redirect ?? "follow";
  if (mode !== "follow" && mode !== "manual" && mode !== "error") {
    throw new TypeError(`redirect must be "follow", "manual" or "error", but got "${mode}".`);
  }

  let extracted: Awaited<ReturnType<typeof extractBody>>;
  if (init.body !== undefined) extracted = await extractBody(init.body);
  // A Request's body is read into memory: its length is unknown otherwise, and bytes can be
  // re-sent on a 307/308. Pass a ReadableStream as init.body to stream instead.
  else if (source !== null && source.body !== null) {
    extracted = await extractBody(new Uint8Array(await source.arrayBuffer()));
  } else extracted = { body: null, contentType: null };
  if (extracted.body !== null && (method === "GET" || method === "HEAD")) {
    throw new TypeError("Request with GET/HEAD method cannot have body.");
  }
  if (extracted.contentType !== null && !headers.has("content-type")) {
    headers.set("content-type", extracted.contentType);
  }
  if (!headers.has("accept")) headers.set("accept", "*/*");
  const codings = acceptEncoding();
  if (codings !== null && !headers.has("accept-encoding")) headers.set("accept-encoding", codings);

  const fetchInit: FetchInitExtension = { redirect: mode };
  // Read loosely: the Workers type library's Request has no `credentials` and fewer cache modes.
  const from = source as { cache?: FetchCacheMode; credentials?: FetchCredentialsMode } | null;
  const cache = init.cache ?? (from?.cache === "default" ? undefined : from?.cache);
  if (cache !== undefined) fetchInit.cache = cache;
  const credentials = init.credentials ?? from?.credentials;
  if (credentials !== undefined) fetchInit.credentials = credentials;
  const extensions: RequestExtensions = { ...init.extensions, fetchInit };

  let hop: HopRequest = { method, url, headers, body: extracted.body };
  signal?.throwIfAborted();
  for (let redirects = 0; ; redirects++) {
    const response = await pool.handleAsyncRequest(
      new PoolRequest(hop.method, withoutFragment(hop.url), {
        headers: [...hop.headers],
        content: hop.body?.content ?? null,
        signal,
        extensions,
      }),
    );
    const info = response.extensions.fetchResponse as FetchResponseInfo | undefined;
    if (info?.type === "opaqueredirect") {
      // A browser hid the redirect (status 0, no Location) and will not say where it goes.
      await response.aclose();
      if (mode === "error") throw new TypeError(`unexpected redirect from ${hop.url.href}`);
      return opaqueRedirect(hop.url);
    }
    const location = isRedirectStatus(response.status)
      ? headerValue(response, "location")
      : undefined;
    if (location === undefined || mode === "manual") {
      const finalUrl = info?.redirected ? new URL(info.url) : hop.url;
      return await toFetchResponse(
        response,
        hop.method,
        finalUrl,
        redirects > 0 || !!info?.redirected,
      );
    }
    try {
      if (mode === "error") throw new TypeError(`unexpected redirect from ${hop.url.href}`);
      if (redirects >= MAX_REDIRECTS) {
        throw new TypeError(`too many redirects (more than ${MAX_REDIRECTS}) from ${url.href}`);
      }
      hop = redirectRequest(hop, response.status, resolveLocation(location, hop.url));
    } catch (error) {
      await drain(response);
      throw error;
    }
    await drain(response);
  }
}

/** Builds the platform `Response`: streamed body, decoded, with `url` and `redirected` set. */
async function toFetchResponse(
  response: PoolResponse,
  method: string,
  url: URL,
  redirected: boolean,
): Promise<globalThis.Response> {
  const status = response.status;
  if (status < 200 || status > 599) {
    await response.aclose();
    throw new TypeError(`a fetch Response cannot have status ${status}`);
  }
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, value);
  let body: ReadableStream<Uint8Array> | null = null;
  if (method === "HEAD" || NULL_BODY_STATUS.has(status)) {
    // Awaited, so the connection is free again before the caller's next request.
    await response.aread();
  } else {
    body = response.body;
    const decoded = (response.extensions.fetchResponse as FetchResponseInfo | undefined)?.decoded;
    if (decoded !== true) {
      let plan: string[] | null;
      try {
        plan = decodingPlan(headers.get("content-encoding"));
      } catch (error) {
        await body.cancel();
        throw error;
      }
      if (plan !== null) {
        body = decode(body, plan);
        headers.delete("content-encoding");
        headers.delete("content-length");
      }
    }
  }
  const result = new globalThis.Response(body, {
    status,
    statusText: response.extensions.reasonPhrase,
    headers,
  });
  return withUrl(result, url, redirected);
}

/** `url` and `redirected` are read-only getters on `Response`: set them on the instance. */
function withUrl(
  response: globalThis.Response,
  url: URL,
  redirected: boolean,
): globalThis.Response {
  const clone = response.clone.bind(response);
  Object.defineProperties(response, {
    url: { value: withoutFragment(url), enumerable: true },
    redirected: { value: redirected, enumerable: true },
    clone: { value: () => withUrl(clone(), url, redirected) },
  });
  return response;
}

/** Stands in for the browser's `opaqueredirect` response (status 0, no headers, no body). */
function opaqueRedirect(url: URL): globalThis.Response {
  const response = globalThis.Response.error();
  Object.defineProperty(response, "type", { value: "opaqueredirect", enumerable: true });
  return withUrl(response, url, false);
}

/** Reads a small redirect body so the connection stays reusable; closes a large one. */
async function drain(response: PoolResponse): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of response.aiterStream()) {
      read += chunk.length;
      if (read > DRAIN_LIMIT) break;
    }
  } catch {
    // The redirect is followed whatever happened to its body.
  } finally {
    await response.aclose();
  }
}

function headerValue(response: PoolResponse, name: string): string | undefined {
  for (const [n, v] of response.headers) if (n.toLowerCase() === name) return v;
  return undefined;
}

function parseUrl(input: string): URL {
  // Relative URLs resolve against the page, as fetch() does in a browser.
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    throw new TypeError(`Failed to parse URL from ${input}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError(
      `Request cannot be constructed from a URL that includes credentials: ${input}`,
    );
  }
  return url;
}

function normaliseMethod(method: string): string {
  const lower = method.toLowerCase();
  if (FORBIDDEN_METHODS.has(lower)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return METHODS.get(lower) ?? method;
}

function withoutFragment(url: URL): string {
  const i = url.href.indexOf("#");
  return i === -1 ? url.href : url.href.slice(0, i);
}

export type { FetchBody };
