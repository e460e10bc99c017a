// A small local upstream server for the demos:
//   GET /bytes?n=N    N bytes of "a" (Content-Length)
//   GET /pattern?n=N  N bytes where byte i is i % 251, sent in 64 KiB chunks (Content-Length)
//   GET /slow?ms=M    waits M ms, then answers
//   anything else     a short text greeting
// Pages served from this machine (the demo page, demo/app) may read it cross-origin: CORS and
// Timing-Allow-Origin (so Resource Timing reports the HTTP version) for loopback origins only.
import { createServer } from "node:http";

const MAX_BYTES = 64 * 1024 * 1024;
const PATTERN_CHUNK = 64 * 1024;

/** Byte `i` of a `/pattern` body. */
export function patternByte(i) {
  return i % 251;
}

function sizeParam(url, fallback) {
  const n = Number(url.searchParams.get("n") ?? fallback);
  return Number.isFinite(n) ? Math.min(Math.max(0, Math.floor(n)), MAX_BYTES) : fallback;
}

/** Writes `n` pattern bytes in chunks, honouring backpressure. */
function sendPattern(res, n) {
  let offset = 0;
  const pump = () => {
    while (offset < n) {
      const size = Math.min(PATTERN_CHUNK, n - offset);
      const chunk = Buffer.allocUnsafe(size);
      for (let j = 0; j < size; j++) chunk[j] = patternByte(offset + j);
      offset += size;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** True for `http(s)://127.0.0.1|localhost|[::1][:port]`, the origins of pages on this machine. */
export function isLoopbackOrigin(origin) {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      LOOPBACK_HOSTS.has(url.hostname) &&
      url.origin === origin
    );
  } catch {
    return false;
  }
}

/** CORS headers for a request from a loopback page; answers preflights. True if it answered. */
function cors(req, res) {
  const origin = req.headers.origin;
  res.setHeader("Vary", "Origin");
  if (origin === undefined || !isLoopbackOrigin(origin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Timing-Allow-Origin", origin);
  if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined) {
    return false;
  }
  const headers = req.headers["access-control-request-headers"];
  res.writeHead(204, {
    "Access-Control-Allow-Methods": "GET, HEAD",
    ...(headers ? { "Access-Control-Allow-Headers": headers } : {}),
    "Access-Control-Max-Age": "600",
  });
  res.end();
  return true;
}

/**
 * Starts the upstream on 127.0.0.1 (port 0 = any free port); resolves with { server, port, url }.
 * Rejects when the port is taken (EADDRINUSE) or cannot be bound.
 */
export async function startUpstream(port = 0) {
  const server = createServer((req, res) => {
    if (cors(req, res)) return;
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/bytes") {
      const n = sizeParam(url, 1024);
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": n });
      res.end(Buffer.alloc(n, 0x61));
    } else if (url.pathname === "/pattern") {
      const n = sizeParam(url, 1024);
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": n });
      sendPattern(res, n);
    } else if (url.pathname === "/slow") {
      const ms = Math.min(Number(url.searchParams.get("ms") ?? 100) || 0, 10_000);
      setTimeout(() => res.end(`waited ${ms} ms\n`), ms);
    } else {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("Hello from the httpcore2 demo upstream\n");
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = server.address().port;
  return { server, port: actual, url: `http://127.0.0.1:${actual}` };
}

/** Closes the upstream and its keep-alive connections. */
export async function stopUpstream(upstream) {
  const closed = new Promise((resolve) => upstream.server.close(() => resolve()));
  upstream.server.closeAllConnections();
  await closed;
}
