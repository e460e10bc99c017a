// The demo Worker (demo/worker.ts), bundled the way `npm start` does it (esbuild, `workerd` export
// condition → dist/entry/cloudflare.js, so `npm run build` must have run) and served by Miniflare,
// against the demo's local upstream. Checks keep-alive reuse through the returned reprs,
// concurrency limits, streaming pass-through and the allowlist.

import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "../../demo/bundle.mjs";
import { patternByte, startUpstream, stopUpstream, type Upstream } from "../../demo/upstream.mjs";

interface Fanout {
  target: string;
  n: number;
  mode: string;
  maxConnections: number;
  before: string[];
  after: string[];
  results: { i: number; status: number; ms: number; bytes: number }[];
  totalMs: number;
  connections: { origin: string; state: string; requestCount: number }[];
}

let upstream: Upstream;
let mf: Miniflare;
let base: URL;
/** An allowed origin nobody listens on (port 1: refused on 127.0.0.1, as in the backend tests). */
const closedOrigin = "http://127.0.0.1:1";

/** Waits (up to 5 s) until the upstream has no open connections: the Worker closed its pool. */
async function upstreamDrained(): Promise<number> {
  let open = -1;
  for (let i = 0; i < 100; i++) {
    open = await new Promise<number>((resolve, reject) =>
      upstream.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
    );
    if (open === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return open;
}

function api(path: string, target: string, params: Record<string, string> = {}): URL {
  return new URL(`${path}?${new URLSearchParams({ url: target, ...params })}`, base);
}

beforeAll(async () => {
  upstream = await startUpstream(0);
  const worker = await startWorker({ allowedOrigins: `${upstream.url}, ${closedOrigin}` });
  mf = worker.mf;
  base = worker.url;
});

afterAll(async () => {
  await mf?.dispose();
  if (upstream) await stopUpstream(upstream);
});

describe("demo Worker in Miniflare", () => {
  it("reuses one connection for sequential requests (visible in the reprs)", async () => {
    const response = await fetch(
      api("/api/fanout", `${upstream.url}/bytes?n=1024`, { n: "5", mode: "sequential" }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Fanout;
    expect(body.mode).toBe("sequential");
    expect(body.n).toBe(5);
    expect(body.maxConnections).toBe(6);
    expect(body.before).toEqual([]);
    expect(body.results.map((r) => [r.i, r.status, r.bytes])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, 200, 1024]),
    );
    expect(body.after).toEqual([
      `<AsyncHTTPConnection ['${upstream.url}', HTTP/1.1, IDLE, Request Count: 5]>`,
    ]);
    expect(body.connections).toEqual([
      {
        kind: "AsyncHTTPConnection",
        origin: upstream.url,
        httpVersion: "HTTP/1.1",
        state: "IDLE",
        requestCount: 5,
      },
    ]);
  });

  it("keeps concurrent requests within maxConnections", async () => {
    const response = await fetch(
      api("/api/fanout", `${upstream.url}/slow?ms=20`, { n: "12", concurrency: "3" }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Fanout;
    expect(body.mode).toBe("concurrent");
    expect(body.maxConnections).toBe(3);
    expect(body.results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(body.after.length).toBeGreaterThan(0);
    expect(body.after.length).toBeLessThanOrEqual(3);
    for (const repr of body.after) {
      expect(repr).toMatch(
        new RegExp(
          `^<AsyncHTTPConnection \\['${upstream.url}', HTTP/1\\.1, IDLE, Request Count: \\d+\\]>$`,
        ),
      );
    }
    expect(body.connections.reduce((sum, c) => sum + c.requestCount, 0)).toBe(12);
    expect(await upstreamDrained()).toBe(0);
  });

  it("streams a 5 MiB body through /api/proxy byte for byte", async () => {
    const size = 5 * 1024 * 1024;
    const response = await fetch(api("/api/proxy", `${upstream.url}/pattern?n=${size}`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.length).toBe(size);
    let mismatch = -1;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== patternByte(i)) {
        mismatch = i;
        break;
      }
    }
    expect(mismatch).toBe(-1);
    // The pool was closed once the body had been sent.
    expect(await upstreamDrained()).toBe(0);
  });

  it("closes the pool when the client goes away mid-body", async () => {
    const size = 64 * 1024 * 1024;
    const controller = new AbortController();
    const response = await fetch(api("/api/proxy", `${upstream.url}/pattern?n=${size}`), {
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(first.value?.[1]).toBe(patternByte(1));
    controller.abort();
    await reader.cancel().catch(() => {});
    expect(await upstreamDrained()).toBe(0);
  });

  it("refuses a target outside ALLOWED_ORIGINS with 403", async () => {
    const response = await fetch(api("/api/fanout", "http://x:1/"));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: "target origin http://x:1 is not in ALLOWED_ORIGINS",
    });
    const proxied = await fetch(api("/api/proxy", "http://example.com/"));
    expect(proxied.status).toBe(403);
    expect(await proxied.json()).toEqual({
      error: "target origin http://example.com is not in ALLOWED_ORIGINS",
    });
  });

  it("answers 400 for a malformed or missing url and a bad n", async () => {
    const malformed = await fetch(api("/api/fanout", "not a url"));
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'malformed url "not a url"' });

    const missing = await fetch(new URL("/api/proxy", base));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^missing url parameter/);

    for (const n of ["0", "101", "2.5", "x"]) {
      const bad = await fetch(api("/api/fanout", `${upstream.url}/`, { n }));
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        error: `n must be an integer from 1 to 100, not ${JSON.stringify(n)}`,
      });
    }
  });

  it("maps an unreachable allowed origin to 502 ConnectError", async () => {
    for (const path of ["/api/fanout", "/api/proxy"]) {
      const response = await fetch(api(path, `${closedOrigin}/`, { n: "2" }));
      expect(response.status).toBe(502);
      const { error } = (await response.json()) as { error: string };
      expect(error).toBe(
        "ConnectError: could not connect to 127.0.0.1:1 (connection refused, host unreachable or blocked)",
      );
    }
  });

  it("serves a page describing the endpoints", async () => {
    const response = await fetch(base);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await response.text();
    expect(html).toContain("/api/fanout");
    expect(html).toContain("/api/proxy");
    expect(html).toContain(encodeURIComponent(upstream.url));
  });
});
