// The fetch backend's lanes driven by a fake fetch(): what it asks of the platform (cache,
// redirect, credentials), what it reports back (Resource Timing version, browser-style opaque
// redirects, platform-followed redirects), and closing a lane under a request.
import { afterEach, describe, expect, it, vi } from "vitest";
import { httpVersionOf } from "../../src/backends/fetch/connection.js";
import { AsyncFetchBackend } from "../../src/backends/fetch.js";
import { AsyncConnectionPool, ConnectError } from "../../src/index.js";
import { deferred, rejectsWith, reprs } from "../support/mock.js";

type FakeFetch = (request: Request) => Promise<Response>;

function fakePool(fetch: FakeFetch, platformRedirects = false) {
  const seen: Request[] = [];
  const backend = new AsyncFetchBackend({
    fetch: (request) => {
      seen.push(request);
      return fetch(request);
    },
    platformRedirects,
  });
  return { seen, pool: new AsyncConnectionPool({ networkBackend: backend }) };
}

/** What a browser returns for `redirect: "manual"`: status 0, no headers, type opaqueredirect. */
function opaqueRedirect(): Response {
  const r = new Response(null, { status: 200 });
  Object.defineProperties(r, { status: { value: 0 }, type: { value: "opaqueredirect" } });
  return r;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("fetch backend lanes (fake fetch)", () => {
  it("maps ALPN ids to HTTP versions", () => {
    expect(
      ["http/1.1", "http/1.0", "h2", "h2c", "h3", "h3-29", "", undefined, "spdy/3"].map(
        httpVersionOf,
      ),
    ).toEqual(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/2", "HTTP/3", "HTTP/3", null, null, null]);
  });

  it("reads the HTTP version from Resource Timing when the platform exposes it", async () => {
    const { pool } = fakePool(async () => new Response("ok"));
    const entries = vi
      .spyOn(performance, "getEntriesByName")
      .mockImplementation(() => [
        { startTime: performance.now() + 5, nextHopProtocol: "h2" } as unknown as PerformanceEntry,
      ]);
    const r = await pool.request("GET", "https://example.com/x");
    expect(r.extensions.httpVersion).toBe("HTTP/2");
    expect(entries).toHaveBeenCalledWith("https://example.com/x", "resource");
    expect(reprs(pool)).toEqual([
      "<AsyncFetchConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>",
    ]);
    // An entry older than the request is someone else's.
    entries.mockImplementation(() => [
      { startTime: 0, nextHopProtocol: "h3" } as unknown as PerformanceEntry,
    ]);
    const r2 = await pool.request("GET", "https://example.com/x");
    expect(r2.extensions.httpVersion).toBe("HTTP/unknown");
    // The lane keeps the last version it learnt.
    expect(reprs(pool)).toEqual([
      "<AsyncFetchConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 2]>",
    ]);
  });

  it("asks the platform for no-store and manual redirects; pool.fetch passes cache and credentials", async () => {
    const { seen, pool } = fakePool(async () => new Response("ok"));
    await pool.request("GET", "https://example.com/");
    await (
      await pool.fetch("https://example.com/", { cache: "reload", credentials: "include" })
    ).text();
    expect(seen.map((r) => [r.cache, r.redirect, r.credentials])).toEqual([
      ["no-store", "manual", "same-origin"],
      ["reload", "manual", "include"],
    ]);
  });

  it("turns a browser's opaque redirect into an opaqueredirect Response or a TypeError", async () => {
    const { pool } = fakePool(async () => opaqueRedirect());
    const manual = await pool.fetch("https://example.com/a#f", { redirect: "manual" });
    expect([manual.type, manual.status, manual.url, manual.redirected]).toEqual([
      "opaqueredirect",
      0,
      "https://example.com/a",
      false,
    ]);
    await expect(pool.fetch("https://example.com/a", { redirect: "error" })).rejects.toThrow(
      new TypeError("unexpected redirect from https://example.com/a"),
    );
    const raw = await pool.request("GET", "https://example.com/a");
    expect([raw.status, (raw.extensions.fetchResponse as { type: string }).type]).toEqual([
      0,
      "opaqueredirect",
    ]);
  });

  it("with platform redirects, lets fetch() follow and reports url and redirected", async () => {
    const { seen, pool } = fakePool(async () => {
      const r = new Response("final");
      Object.defineProperties(r, {
        url: { value: "https://example.com/final" },
        redirected: { value: true },
      });
      return r;
    }, true);
    const r = await pool.fetch("https://example.com/start");
    expect([r.status, r.url, r.redirected, await r.text()]).toEqual([
      200,
      "https://example.com/final",
      true,
      "final",
    ]);
    expect(seen[0]?.redirect).toBe("follow");
    await (await pool.fetch("https://example.com/start", { redirect: "error" })).text();
    expect(seen[1]?.redirect).toBe("manual");
  });

  it("does not decode again what the platform decoded", async () => {
    const { pool } = fakePool(
      async () => new Response("already plain", { headers: { "content-encoding": "gzip" } }),
    );
    const r = await pool.fetch("https://example.com/");
    expect(await r.text()).toBe("already plain");
    expect(r.headers.get("content-encoding")).toBe("gzip");
  });

  it("fails a request in flight when the pool closes, and leaves nothing behind", async () => {
    const started = deferred();
    const { pool } = fakePool(
      (request) =>
        new Promise((_, reject) => {
          started.resolve();
          request.signal.addEventListener("abort", () => reject(request.signal.reason));
        }),
    );
    const pending = pool.request("GET", "https://example.com/");
    await started.promise;
    await pool.aclose();
    await rejectsWith(
      pending,
      ConnectError,
      "connection to https://example.com:443 was closed before the response arrived",
    );
    expect(reprs(pool)).toEqual([]);
  });
});
