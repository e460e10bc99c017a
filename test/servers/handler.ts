/**
 * The request handler shared by the test http, https and unix-socket servers (node:http style).
 *
 * Routes (query parameters in brackets have defaults):
 * - `GET /` → 200 `Hello, world!` (text/plain, Content-Length)
 * - `/echo` (any method) → JSON {@link EchoBody}
 * - `/bytes?n=N` → N pattern bytes (byte i = i % 251), Content-Length
 * - `/chunked?n=N&chunk=K` → the same bytes, chunked, written K bytes at a time
 * - `/stream?n=N` → N pattern bytes with Content-Length, written with backpressure (for 64 MiB+)
 * - `/sha256?n=N` → hex sha256 of the first N pattern bytes
 * - `/upload` → consumes the request body, JSON `{ bytes, sha256 }`
 * - `/slow?ms=M` → `slow` after M ms
 * - `/drip?n=N&ms=M` → headers at once (chunked), then one byte every M ms, N bytes in all
 * - `/close` → `closing` with `Connection: close`
 * - `/status/NNN` → that status (200–599), empty body
 * - `/headers?n=N` → N headers `X-Header-<i>: value-<i>` for i = 0..N-1, body `ok`
 * - `/never` → never responds (the response stays pending until the server closes)
 * - `/conn` → `conn-<n>`, unique per TCP connection (proves keep-alive reuse)
 * - `/redirect?to=URL&status=302` → redirect (300–399) with `Location: URL`, empty body
 * - `/gzip` → gzip-encoded text with `Content-Encoding: gzip` and Content-Length
 * - `/inflight?ms=M&key=K` → `{ inFlight, max }` JSON after M ms: requests of key K in flight now
 *   and the most ever at once (proves a client's concurrency limit from the server side)
 * - `/redirect-chain?n=N&status=302` → N redirects to itself (n-1, n-2, ...), then 200 `done`
 * - `/encode?codings=gzip,deflate,br` → {@link ENCODE_PLAIN_TEXT} encoded with each coding in
 *   order, `Content-Encoding` listing them (unknown names are listed but not applied)
 * - `/cors/<route>` → `<route>` with CORS headers for any origin (`OPTIONS` preflights get 204)
 * - anything else → 404 `Not Found`
 * @module
 */

import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";

/** Pattern bytes are `i % PATTERN_MODULUS`. */
export const PATTERN_MODULUS = 251;
// A whole number of periods (≥ 1 MiB + one period), so any slice of it continues the pattern.
const PATTERN = Buffer.alloc(PATTERN_MODULUS * 4180);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % PATTERN_MODULUS;
const MAX_SLICE = PATTERN.length - PATTERN_MODULUS;

/** The pattern bytes `[offset, offset + length)`; a view of a shared buffer when it fits. */
export function patternBytes(offset: number, length: number): Buffer {
  const start = offset % PATTERN_MODULUS;
  if (length <= MAX_SLICE) return PATTERN.subarray(start, start + length);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (offset + i) % PATTERN_MODULUS;
  return out;
}

const shaCache = new Map<number, string>();
/** Hex sha256 of the first `n` pattern bytes. */
export function patternSha256(n: number): string {
  let hex = shaCache.get(n);
  if (hex === undefined) {
    const hash = createHash("sha256");
    for (let offset = 0; offset < n; offset += MAX_SLICE) {
      hash.update(patternBytes(offset, Math.min(MAX_SLICE, n - offset)));
    }
    hex = hash.digest("hex");
    shaCache.set(n, hex);
  }
  return hex;
}

/** What `/echo` returns. */
export interface EchoBody {
  method: string;
  url: string;
  httpVersion: string;
  /** Request headers in wire order, names as sent. */
  headers: [string, string][];
  /** The request body decoded as UTF-8. */
  body: string;
  bodyLength: number;
  /** CN of the client certificate on the https server (mTLS), else null. */
  clientCertSubject: string | null;
}

/** The handler plus a `close()` that ends what it keeps pending (`/never`, timers). */
export interface TestHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

const GZIP_TEXT = "Hello, gzip! ".repeat(64);
const GZIP_BODY = gzipSync(GZIP_TEXT);
/** The text `/gzip` encodes. */
export const GZIP_PLAIN_TEXT = GZIP_TEXT;
/** The text `/encode` encodes. */
export const ENCODE_PLAIN_TEXT = "Hello, encodings! ".repeat(64);

const ENCODERS: Record<string, (data: Buffer) => Buffer> = {
  gzip: gzipSync,
  "x-gzip": gzipSync,
  deflate: deflateSync,
  br: brotliCompressSync,
  identity: (data) => data,
};

const connIds = new WeakMap<Socket, string>();
let nextConnId = 1;

function connId(socket: Socket): string {
  let id = connIds.get(socket);
  if (id === undefined) {
    id = `conn-${nextConnId++}`;
    connIds.set(socket, id);
  }
  return id;
}

function intParam(url: URL, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new RangeError(`bad ${name}=${raw}`);
  return n;
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType = "text/plain",
  extra: Record<string, string> = {},
): void {
  const buf = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": String(buf.length),
    ...extra,
  });
  res.end(buf);
}

function collect(req: IncomingMessage, onChunk: (chunk: Buffer) => void, onEnd: () => void): void {
  req.on("data", onChunk);
  req.on("end", onEnd);
}

/** Writes `n` pattern bytes in `chunk`-byte writes, waiting for 'drain' when the buffer is full. */
function pumpPattern(res: ServerResponse, n: number, chunk: number): void {
  let offset = 0;
  const pump = (): void => {
    while (offset < n) {
      if (res.destroyed) return;
      const len = Math.min(chunk, n - offset);
      const ok = res.write(patternBytes(offset, len));
      offset += len;
      if (!ok) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** Creates a fresh handler; each server gets its own so `close()` only touches its requests. */
export function createHandler(): TestHandler {
  const pending = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Map<string, { now: number; max: number }>();

  const later = (res: ServerResponse, ms: number, fn: () => void, repeat = false): void => {
    const timer = (repeat ? setInterval : setTimeout)(() => {
      if (!repeat) timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    res.once("close", () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    try {
      if (path === "/") {
        send(res, 200, "Hello, world!");
      } else if (path === "/echo") {
        const chunks: Buffer[] = [];
        collect(
          req,
          (c) => chunks.push(c),
          () => {
            const body = Buffer.concat(chunks);
            const headers: [string, string][] = [];
            for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
              headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
            }
            let clientCertSubject: string | null = null;
            if (req.socket instanceof TLSSocket) {
              const cn = req.socket.getPeerCertificate()?.subject?.CN;
              clientCertSubject = typeof cn === "string" ? cn : null;
            }
            const echo: EchoBody = {
              method: req.method ?? "",
              url: req.url ?? "",
              httpVersion: req.httpVersion,
              headers,
              body: body.toString("utf8"),
              bodyLength: body.length,
              clientCertSubject,
            };
            send(res, 200, JSON.stringify(echo), "application/json");
          },
        );
      } else if (path === "/bytes") {
        const n = intParam(url, "n", 1024);
        res.writeHead(200, {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(n),
        });
        pumpPattern(res, n, MAX_SLICE);
      } else if (path === "/chunked") {
        const n = intParam(url, "n", 1024);
        const chunk = Math.max(1, intParam(url, "chunk", 1024));
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        pumpPattern(res, n, chunk);
      } else if (path === "/stream") {
        const n = intParam(url, "n", 1024 * 1024);
        res.writeHead(200, {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(n),
        });
        pumpPattern(res, n, 64 * 1024);
      } else if (path === "/sha256") {
        send(res, 200, patternSha256(intParam(url, "n", 1024)));
      } else if (path === "/upload") {
        const hash = createHash("sha256");
        let bytes = 0;
        collect(
          req,
          (c) => {
            bytes += c.length;
            hash.update(c);
          },
          () =>
            send(
              res,
              200,
              JSON.stringify({ bytes, sha256: hash.digest("hex") }),
              "application/json",
            ),
        );
      } else if (path === "/slow") {
        later(res, intParam(url, "ms", 1000), () => send(res, 200, "slow"));
      } else if (path === "/drip") {
        let left = intParam(url, "n", 10);
        const ms = Math.max(1, intParam(url, "ms", 100));
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        res.flushHeaders();
        let offset = 0;
        if (left === 0) res.end();
        else
          later(
            res,
            ms,
            () => {
              res.write(patternBytes(offset++, 1));
              if (--left === 0) res.end();
            },
            true,
          );
      } else if (path === "/close") {
        send(res, 200, "closing", "text/plain", { Connection: "close" });
      } else if (path.startsWith("/status/")) {
        const status = Number(path.slice("/status/".length));
        if (!Number.isInteger(status) || status < 200 || status > 599) {
          send(res, 400, "status must be 200-599");
        } else if (status === 204 || status === 304) {
          res.writeHead(status);
          res.end();
        } else {
          send(res, status, "");
        }
      } else if (path === "/headers") {
        const n = intParam(url, "n", 10, 10_000);
        const headers: string[] = [];
        for (let i = 0; i < n; i++) headers.push(`X-Header-${i}`, `value-${i}`);
        headers.push("Content-Type", "text/plain", "Content-Length", "2");
        res.writeHead(200, headers);
        res.end("ok");
      } else if (path === "/never") {
        pending.add(res);
        res.once("close", () => pending.delete(res));
      } else if (path === "/conn") {
        send(res, 200, connId(req.socket));
      } else if (path === "/redirect") {
        const status = intParam(url, "status", 302);
        if (status < 300 || status > 399) throw new RangeError("status must be 3xx");
        res.writeHead(status, {
          Location: url.searchParams.get("to") ?? "/",
          "Content-Length": "0",
        });
        res.end();
      } else if (path === "/gzip") {
        send(res, 200, GZIP_BODY, "text/plain", { "Content-Encoding": "gzip" });
      } else if (path === "/inflight") {
        const key = url.searchParams.get("key") ?? "";
        let state = inflight.get(key);
        if (state === undefined) {
          state = { now: 0, max: 0 };
          inflight.set(key, state);
        }
        const counter = state;
        counter.now++;
        counter.max = Math.max(counter.max, counter.now);
        let counted = true;
        const done = (): void => {
          if (counted) counter.now--;
          counted = false;
        };
        res.once("close", done);
        later(res, intParam(url, "ms", 50), () => {
          const body = JSON.stringify({ inFlight: counter.now, max: counter.max });
          done();
          send(res, 200, body, "application/json");
        });
      } else if (path === "/redirect-chain") {
        const n = intParam(url, "n", 1, 1000);
        const status = intParam(url, "status", 302);
        if (n === 0) send(res, 200, "done");
        else {
          res.writeHead(status, {
            Location: `/redirect-chain?n=${n - 1}&status=${status}`,
            "Content-Length": "0",
          });
          res.end();
        }
      } else if (path === "/encode") {
        const codings = (url.searchParams.get("codings") ?? "")
          .split(",")
          .map((c) => c.trim())
          .filter((c) => c !== "");
        let body: Buffer = Buffer.from(ENCODE_PLAIN_TEXT);
        for (const coding of codings) body = ENCODERS[coding]?.(body) ?? body;
        send(res, 200, body, "text/plain", { "Content-Encoding": codings.join(", ") });
      } else if (path.startsWith("/cors/")) {
        res.setHeader("Access-Control-Allow-Origin", req.headers.origin ?? "*");
        res.setHeader("Vary", "Origin");
        res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, PATCH");
        res.setHeader(
          "Access-Control-Allow-Headers",
          req.headers["access-control-request-headers"] ?? "*",
        );
        res.setHeader("Access-Control-Expose-Headers", "*");
        res.setHeader("Timing-Allow-Origin", "*");
        if (req.method === "OPTIONS") {
          res.writeHead(204);
          res.end();
        } else {
          req.url = path.slice("/cors".length) + url.search;
          handle(req, res);
        }
      } else {
        send(res, 404, "Not Found");
      }
    } catch (err) {
      if (!res.headersSent) send(res, 400, String(err instanceof Error ? err.message : err));
      else res.destroy();
    }
  };

  return Object.assign(handle, {
    close(): void {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const res of pending) res.socket?.destroy();
      pending.clear();
    },
  });
}
