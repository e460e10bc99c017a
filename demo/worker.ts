/**
 * The demo Worker: outbound HTTP/1.1 through one httpcore2 `AsyncConnectionPool` per invocation,
 * over `connect()` sockets (the `workerd` export condition makes the Cloudflare backend the
 * default). `npm start` bundles it and runs it in Miniflare with a local upstream.
 *
 * - `GET /api/fanout?url=<target>&n=20&concurrency=6&mode=concurrent|sequential` runs `n`
 *   requests through the pool and returns statuses, timings and `pool.connections` before/after.
 * - `GET /api/proxy?url=<target>` streams the upstream body straight through.
 * - `GET /` describes the endpoints.
 *
 * Targets must be in `ALLOWED_ORIGINS` (comma-separated origins), so the demo is no open proxy.
 * @module
 */

import { AsyncConnectionPool, type Response as PoolResponse } from "httpcore2";

/** Bindings: `[vars]` in wrangler.toml, or Miniflare's `bindings`. */
export interface Env {
  /** Comma-separated origins the demo may call, e.g. `http://127.0.0.1:8788`. */
  ALLOWED_ORIGINS?: string;
}

/** The part of the Workers `ExecutionContext` this Worker uses. */
export interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

const MAX_N = 100;
const DEFAULT_N = 20;
const DEFAULT_CONCURRENCY = 6;

/** Connection-specific headers that must not be copied onto our own response. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** A request the Worker refuses, with the status and JSON error to answer. */
class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method !== "GET") {
        throw new HttpError(405, `method ${request.method} is not allowed; use GET`);
      }
      switch (url.pathname) {
        case "/":
          return home(url, env);
        case "/api/fanout":
          return await fanout(url, env);
        case "/api/proxy":
          return await proxy(url, env, ctx);
        default:
          throw new HttpError(404, `no route for ${url.pathname}; see /`);
      }
    } catch (err) {
      if (err instanceof HttpError) return json({ error: err.message }, err.status);
      // Everything else comes from the pool: a ConnectError, ReadTimeout, RemoteProtocolError...
      return json({ error: describeError(err) }, 502);
    }
  },
};

/** `GET /api/fanout`: n requests through one pool, concurrently or one after another. */
async function fanout(url: URL, env: Env): Promise<Response> {
  const target = allowedTarget(url, env);
  const n = intParam(url, "n", DEFAULT_N, 1, MAX_N);
  const maxConnections = intParam(url, "concurrency", DEFAULT_CONCURRENCY, 1, MAX_N);
  const mode = url.searchParams.get("mode") ?? "concurrent";
  if (mode !== "concurrent" && mode !== "sequential") {
    throw new HttpError(
      400,
      `mode must be "concurrent" or "sequential", not ${JSON.stringify(mode)}`,
    );
  }

  // One pool per invocation: sockets belong to the request that opened them.
  const pool = new AsyncConnectionPool({ maxConnections });
  try {
    const before = pool.connections.map(String);
    const started = performance.now();
    const one = async (i: number): Promise<FanoutResult> => {
      const t0 = performance.now();
      const r = await pool.request("GET", target);
      return { i, status: r.status, ms: round(performance.now() - t0), bytes: r.content.length };
    };
    const results: FanoutResult[] = [];
    if (mode === "sequential") {
      for (let i = 0; i < n; i++) results.push(await one(i));
    } else {
      // allSettled: every request has finished (and released its connection) before we answer.
      const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => one(i)));
      for (const s of settled) {
        if (s.status === "rejected") throw s.reason;
        results.push(s.value);
      }
    }
    const totalMs = round(performance.now() - started);
    // Taken before the pool closes, so the reprs show the connections as the requests left them.
    const after = pool.connections.map(String);
    const connections = pool.connections.map((c) => c.toJSON());
    return json({
      target: target.href,
      n,
      mode,
      maxConnections,
      before,
      after,
      results,
      totalMs,
      connections,
    });
  } finally {
    await pool.aclose();
  }
}

interface FanoutResult {
  i: number;
  status: number;
  ms: number;
  bytes: number;
}

/** `GET /api/proxy`: the upstream response, its body streamed through without buffering. */
async function proxy(url: URL, env: Env, ctx: Context): Promise<Response> {
  const target = allowedTarget(url, env);
  const pool = new AsyncConnectionPool({ maxConnections: 1 });
  let upstream: PoolResponse;
  try {
    upstream = await pool.stream("GET", target);
  } catch (err) {
    await pool.aclose();
    throw err;
  }
  const { body, finished } = passThrough(upstream, pool);
  // Keeps the invocation alive until the body has been sent (or cancelled) and the pool closed.
  ctx.waitUntil(finished);

  const headers = new Headers();
  const named = connectionTokens(upstream);
  for (const [name, value] of upstream.headers) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !named.has(lower)) headers.append(name, value);
  }
  // `encodeBody: "manual"` (workerd): the bytes go out as the upstream sent them, even with a
  // Content-Encoding header, instead of being compressed again.
  const init: ResponseInit & { encodeBody?: "manual" } = {
    status: upstream.status,
    statusText: upstream.extensions.reasonPhrase,
    headers,
    encodeBody: "manual",
  };
  // 204, 205 and 304 must not carry a body.
  const nullBody = [204, 205, 304].includes(upstream.status);
  try {
    const response = new Response(nullBody ? null : body, init);
    if (nullBody) void body.cancel();
    return response;
  } catch (err) {
    // e.g. a status `Response` refuses: close the upstream response and the pool, then answer 502.
    await body.cancel();
    throw err;
  }
}

/**
 * Wraps a streaming pool response in a pull-based `ReadableStream` (one upstream read per chunk
 * the client takes: backpressure, no buffering). `finished` resolves once the body has ended,
 * failed or been cancelled, and the response and the pool are closed.
 */
function passThrough(
  upstream: PoolResponse,
  pool: AsyncConnectionPool,
): { body: ReadableStream<Uint8Array>; finished: Promise<void> } {
  const chunks = upstream.aiterStream();
  let closing: Promise<void> | null = null;
  const finish = (): Promise<void> => {
    closing ??= upstream
      .aclose()
      .catch(() => {})
      .then(() => pool.aclose())
      .catch(() => {});
    return closing;
  };
  let settle: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const done = (): Promise<void> => finish().then(settle);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) {
            controller.close();
            await done();
          } else {
            controller.enqueue(next.value);
          }
        } catch (err) {
          controller.error(err);
          await done();
        }
      },
      async cancel() {
        await chunks.return?.(undefined).catch(() => {});
        await done();
      },
    },
    { highWaterMark: 0 },
  );
  return { body, finished };
}

/** Header names listed in the upstream's `Connection` header (hop-by-hop as well). */
function connectionTokens(response: PoolResponse): Set<string> {
  const names = new Set<string>();
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) names.add(token.trim().toLowerCase());
  }
  return names;
}

/** The `url` parameter, parsed and checked against `ALLOWED_ORIGINS`. */
function allowedTarget(url: URL, env: Env): URL {
  const raw = url.searchParams.get("url");
  if (raw === null || raw === "") {
    throw new HttpError(400, "missing url parameter, e.g. ?url=http://127.0.0.1:8788/");
  }
  let target: URL;
  try {
    target = new URL(raw);
  } catch {
    throw new HttpError(400, `malformed url ${JSON.stringify(raw)}`);
  }
  if (!allowedOrigins(env).has(target.origin)) {
    throw new HttpError(403, `target origin ${target.origin} is not in ALLOWED_ORIGINS`);
  }
  return target;
}

/** `ALLOWED_ORIGINS` as normalised origins (`http://127.0.0.1:80` → `http://127.0.0.1`). */
function allowedOrigins(env: Env): Set<string> {
  const origins = new Set<string>();
  for (const entry of (env.ALLOWED_ORIGINS ?? "").split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    try {
      const origin = new URL(trimmed).origin;
      if (origin !== "null") origins.add(origin);
    } catch {
      // A malformed entry allows nothing.
    }
  }
  return origins;
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(
      400,
      `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `Error: ${String(err)}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function json(value: unknown, status = 200): Response {
  return new Response(`${JSON.stringify(value, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/** `GET /`: the endpoints, with example links against the first allowed origin. */
function home(url: URL, env: Env): Response {
  const upstream = [...allowedOrigins(env)][0] ?? "http://127.0.0.1:8788";
  const link = (path: string, params: Record<string, string>): string => {
    const href = `${path}?${new URLSearchParams(params)}`;
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(href)}</a></li>`;
  };
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>httpcore2 demo Worker</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head>
<body>
<h1>httpcore2 demo Worker</h1>
<p>Outbound HTTP/1.1 through one <code>AsyncConnectionPool</code> per request, over
<code>connect()</code> sockets. Allowed targets (<code>ALLOWED_ORIGINS</code>):
<code>${escapeHtml([...allowedOrigins(env)].join(", ") || "none")}</code>.</p>
<h2><code>GET /api/fanout?url=&lt;target&gt;&amp;n=20&amp;concurrency=6&amp;mode=concurrent|sequential</code></h2>
<p>Runs <code>n</code> (1–${MAX_N}) requests through a pool of at most <code>concurrency</code> connections and
returns statuses, timings and the pool's connections before and after. In sequential mode every
request reuses one TCP connection.</p>
<ul>
${link("/api/fanout", { url: `${upstream}/bytes?n=1024`, n: "20", mode: "sequential" })}
${link("/api/fanout", { url: `${upstream}/slow?ms=50`, n: "12", concurrency: "3", mode: "concurrent" })}
</ul>
<h2><code>GET /api/proxy?url=&lt;target&gt;</code></h2>
<p>Streams the upstream response body straight through (<code>new Response(stream)</code>), without buffering it.</p>
<ul>
${link("/api/proxy", { url: `${upstream}/pattern?n=${5 * 1024 * 1024}` })}
${link("/api/proxy", { url: `${upstream}/` })}
</ul>
<p>Served from <code>${escapeHtml(url.origin)}</code>.</p>
</body>
</html>
`;
  return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
