// A WHATWG-style test set for pool.fetch(), written once and run by vitest in node and workerd
// (over their socket backends and the fetch backend) and inside Chromium by the page harness.
// Framework-free on purpose: the browser page has no vitest.
import type { AsyncConnectionPool, PoolOptions } from "../../src/index.js";
import { equal, match, ok, rejects, type Scenario } from "./assert.js";

/** What a runtime supplies to the scenarios. */
export interface FetchScenarioContext {
  runtime: "node" | "workerd" | "browser";
  /** The test http server; in a browser, the page's own origin. */
  http: string;
  /** The same server under another origin (`localhost` instead of `127.0.0.1`). */
  other: string;
  pool(options?: PoolOptions): AsyncConnectionPool;
  /** The pool runs on the fetch backend: the platform decodes bodies and owns more headers. */
  fetchBackend: boolean;
  /** The platform follows redirects (the fetch backend in a browser). */
  platformRedirects: boolean;
}

interface Echo {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
  bodyLength: number;
}

/** The texts of `/gzip` and `/encode` (test/servers/handler.ts). */
const GZIP_TEXT = "Hello, gzip! ".repeat(64);
const ENCODE_TEXT = "Hello, encodings! ".repeat(64);
const EMPTY =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";
const enc = new TextEncoder();

function headerOf(echo: Echo, name: string): string | undefined {
  return echo.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

async function echoed(r: Response): Promise<Echo> {
  equal(r.status, 200, "status");
  return (await r.json()) as Echo;
}

/** True if `chunk` continues the servers' byte pattern (byte i = i % 251) from `offset`. */
function matchesPattern(chunk: Uint8Array, offset: number): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (offset + i) % 251) return false;
  return true;
}

type S = Scenario<FetchScenarioContext>;

export const fetchScenarios: S[] = [
  {
    name: "returns real Responses with status, statusText, ok, headers and url",
    async run({ pool, http }) {
      await using p = pool();
      const r = await p.fetch(`${http}/headers?n=3`);
      ok(r instanceof Response, "a global Response");
      equal(
        [r.status, r.statusText, r.ok, r.redirected, r.url],
        [200, "OK", true, false, `${http}/headers?n=3`],
      );
      equal(r.headers.get("x-header-1"), "value-1", "x-header-1");
      equal(r.headers.get("content-type"), "text/plain", "content-type");
      equal(await r.text(), "ok", "body");
      const missing = await p.fetch(`${http}/status/404`);
      equal([missing.status, missing.statusText, missing.ok], [404, "Not Found", false]);
      await missing.arrayBuffer();
      const failed = await p.fetch(`${http}/status/503`);
      equal([failed.status, failed.statusText], [503, "Service Unavailable"]);
      await failed.body?.cancel();
      equal(String(p).includes("0 active, 0 queued"), true, String(p));
    },
  },
  {
    name: "reads bodies as json, arrayBuffer, blob and a chunk-by-chunk stream",
    async run({ pool, http }) {
      await using p = pool();
      const json = (await (await p.fetch(`${http}/echo`)).json()) as Echo;
      equal(json.method, "GET", "method");
      const bytes = new Uint8Array(await (await p.fetch(`${http}/bytes?n=1000`)).arrayBuffer());
      equal([bytes.length, matchesPattern(bytes, 0)], [1000, true], "bytes");
      const blob = await (await p.fetch(`${http}/bytes?n=300`)).blob();
      equal(blob.size, 300, "blob size");
      const r = await p.fetch(`${http}/chunked?n=100000&chunk=777`);
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      let total = 0;
      let pattern = true;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pattern &&= matchesPattern(value, total);
        total += value.length;
      }
      equal([total, pattern], [100000, true], "chunked body");
    },
  },
  {
    name: "sends a string body with text/plain;charset=UTF-8 and custom headers in every form",
    async run({ pool, http }) {
      await using p = pool();
      const forms: HeadersInit[] = [
        { "x-custom": "1" },
        [["x-custom", "1"]],
        new Headers({ "X-Custom": "1" }),
      ];
      for (const headers of forms) {
        const echo = await echoed(
          await p.fetch(`${http}/echo`, { method: "POST", body: "héllo", headers }),
        );
        equal([echo.method, echo.body, echo.bodyLength], ["POST", "héllo", 6]);
        equal(headerOf(echo, "content-type"), "text/plain;charset=UTF-8", "content-type");
        equal(headerOf(echo, "x-custom"), "1", "x-custom");
      }
    },
  },
  {
    name: "sends Uint8Array, ArrayBuffer and DataView bodies",
    async run({ pool, http }) {
      await using p = pool();
      const bodies: BodyInit[] = [
        enc.encode("u8 body"),
        enc.encode("buffer body").buffer as ArrayBuffer,
        new DataView(enc.encode("[view body]").buffer, 1, 9),
      ];
      const texts = [];
      for (const body of bodies) {
        const echo = await echoed(await p.fetch(`${http}/echo`, { method: "PUT", body }));
        equal(headerOf(echo, "content-length"), String(echo.bodyLength), "content-length");
        texts.push(echo.body);
      }
      equal(texts, ["u8 body", "buffer body", "view body"]);
    },
  },
  {
    name: "sends Blob, FormData and URLSearchParams bodies with their content types",
    async run({ pool, http }) {
      await using p = pool();
      const blob = await echoed(
        await p.fetch(`${http}/echo`, {
          method: "POST",
          body: new Blob(["{}"], { type: "application/json" }),
        }),
      );
      equal([blob.body, headerOf(blob, "content-type")], ["{}", "application/json"]);
      const params = await echoed(
        await p.fetch(`${http}/echo`, {
          method: "POST",
          body: new URLSearchParams({ q: "a b", n: "1" }),
        }),
      );
      equal(
        [params.body, headerOf(params, "content-type")],
        ["q=a+b&n=1", "application/x-www-form-urlencoded;charset=UTF-8"],
      );
      const form = new FormData();
      form.append("name", "value");
      form.append("file", new Blob(["file text"], { type: "text/plain" }), "a.txt");
      const multipart = await echoed(await p.fetch(`${http}/echo`, { method: "POST", body: form }));
      match(
        headerOf(multipart, "content-type") ?? "",
        /^multipart\/form-data; ?boundary=/,
        "content-type",
      );
      match(multipart.body, /name="name"\r\n\r\nvalue\r\n/, "form field");
      match(
        multipart.body,
        /filename="a.txt"\r\nContent-Type: text\/plain\r\n\r\nfile text\r\n/,
        "file",
      );
    },
  },
  {
    name: "streams a ReadableStream body (a buffered upload on the fetch backend)",
    async run({ pool, http }) {
      await using p = pool();
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (i++ < 3) c.enqueue(new Uint8Array(64 * 1024).fill(i));
          else c.close();
        },
      });
      const r = await p.fetch(`${http}/upload`, {
        method: "POST",
        body,
        duplex: "half",
      } as RequestInit);
      equal(((await r.json()) as { bytes: number }).bytes, 3 * 64 * 1024, "uploaded bytes");
    },
  },
  {
    name: "takes a Request object as input, with init overriding it",
    async run({ pool, http }) {
      await using p = pool();
      const request = new Request(`${http}/echo`, {
        method: "PUT",
        body: "from request",
        headers: { "x-from": "request" },
      });
      const echo = await echoed(await p.fetch(request));
      equal([echo.method, echo.body, headerOf(echo, "x-from")], ["PUT", "from request", "request"]);
      const overridden = await echoed(
        await p.fetch(new Request(`${http}/echo`, { method: "POST", body: "old" }), {
          body: "new",
        }),
      );
      equal([overridden.method, overridden.body], ["POST", "new"]);
    },
  },
  {
    name: "gives HEAD, 204 and 304 responses a null body",
    async run({ pool, http }) {
      await using p = pool();
      const head = await p.fetch(`${http}/bytes?n=100`, { method: "HEAD" });
      equal([head.status, head.body, head.headers.get("content-length")], [200, null, "100"]);
      for (const status of [204, 304]) {
        const r = await p.fetch(`${http}/status/${status}`);
        equal([r.status, r.body], [status, null]);
      }
      equal(p.connections.length, 1, "one connection");
    },
  },
  {
    name: "follows 301/302/303 as GET after a POST and 307/308 with method and body",
    async run({ pool, http }) {
      await using p = pool();
      const expected: Record<number, [string, string]> = {
        301: ["GET", ""],
        302: ["GET", ""],
        303: ["GET", ""],
        307: ["POST", "data"],
        308: ["POST", "data"],
      };
      for (const [status, want] of Object.entries(expected)) {
        const r = await p.fetch(`${http}/redirect?status=${status}&to=/echo`, {
          method: "POST",
          body: "data",
        });
        equal([r.redirected, r.url], [true, `${http}/echo`], `${status} redirect`);
        const echo = await echoed(r);
        equal([echo.method, echo.body], want, `${status} method and body`);
      }
    },
  },
  {
    name: "redirect: manual returns the redirect itself; redirect: error rejects with TypeError",
    async run({ pool, http, platformRedirects }) {
      await using p = pool();
      const r = await p.fetch(`${http}/redirect?status=302&to=/`, { redirect: "manual" });
      // A browser hides the redirect (an opaque response); elsewhere the 302 is visible.
      if (platformRedirects) equal([r.type, r.status], ["opaqueredirect", 0]);
      else equal([r.status, r.headers.get("location"), r.redirected], [302, "/", false]);
      await rejects(p.fetch(`${http}/redirect?to=/`, { redirect: "error" }), "TypeError");
    },
  },
  {
    name: "follows 20 redirects and fails on the 21st",
    async run({ pool, http, platformRedirects }) {
      await using p = pool();
      const r = await p.fetch(`${http}/redirect-chain?n=20`);
      equal(
        [await r.text(), r.redirected, r.url],
        ["done", true, `${http}/redirect-chain?n=0&status=302`],
      );
      // The platform's own limit (20) surfaces as the network error a browser reports.
      await rejects(
        p.fetch(`${http}/redirect-chain?n=21`),
        platformRedirects ? "ConnectError" : "TypeError",
      );
    },
  },
  {
    name: "drops Authorization, Cookie and Proxy-Authorization on a cross-origin redirect only",
    skip: (ctx) =>
      ctx.runtime === "browser" &&
      "a browser follows redirects itself and forbids Cookie/Proxy-Authorization request headers",
    async run({ pool, http, other }) {
      await using p = pool();
      const headers = {
        authorization: "Bearer secret",
        cookie: "session=1",
        "proxy-authorization": "Basic cHJveHk=",
        "x-api": "kept",
      };
      const same = await echoed(await p.fetch(`${http}/redirect?to=/echo`, { headers }));
      for (const name of Object.keys(headers))
        ok(headerOf(same, name) !== undefined, `${name} kept`);
      const target = `${other}/echo`;
      const r = await p.fetch(`${http}/redirect?to=${encodeURIComponent(target)}`, { headers });
      equal([r.redirected, r.url], [true, target]);
      const cross = await echoed(r);
      for (const name of ["authorization", "cookie", "proxy-authorization"]) {
        equal(headerOf(cross, name), undefined, `${name} on the cross-origin hop`);
      }
      equal(headerOf(cross, "x-api"), "kept", "x-api");
    },
  },
  {
    name: "decodes gzip and deflate (stacked too), dropping Content-Encoding and Content-Length",
    async run({ pool, http, fetchBackend }) {
      await using p = pool();
      const gz = await p.fetch(`${http}/gzip`);
      equal(await gz.text(), GZIP_TEXT, "gzip text");
      // The platform decodes under the fetch backend and keeps the headers as fetch() does.
      if (!fetchBackend) {
        equal([gz.headers.get("content-encoding"), gz.headers.get("content-length")], [null, null]);
      }
      const chains = ["deflate", "x-gzip", "gzip,deflate"];
      // undici gives up on a chain with `identity` in it; the socket backends decode it.
      if (!fetchBackend) chains.push("deflate,identity,gzip");
      for (const codings of chains) {
        const r = await p.fetch(`${http}/encode?codings=${codings}`);
        equal(await r.text(), ENCODE_TEXT, `${codings} text`);
      }
    },
  },
  {
    name: "decodes br where DecompressionStream can, else passes it through with its header",
    skip: (ctx) => ctx.fetchBackend && "the platform decides about br under the fetch backend",
    async run({ pool, http }) {
      await using p = pool();
      const r = await p.fetch(`${http}/encode?codings=br`);
      let brotli = true;
      try {
        new DecompressionStream("brotli" as ConstructorParameters<typeof DecompressionStream>[0]);
      } catch {
        brotli = false;
      }
      if (brotli) equal([await r.text(), r.headers.get("content-encoding")], [ENCODE_TEXT, null]);
      else {
        equal(r.headers.get("content-encoding"), "br", "content-encoding kept");
        ok((await r.text()) !== ENCODE_TEXT, "undecoded body");
      }
    },
  },
  {
    name: "refuses more than 5 content codings with TypeError",
    skip: (ctx) => ctx.fetchBackend && "the platform applies its own limit under the fetch backend",
    async run({ pool, http }) {
      await using p = pool();
      await rejects(p.fetch(`${http}/encode?codings=gzip,gzip,gzip,gzip,gzip,gzip`), "TypeError");
      const five = await p.fetch(`${http}/encode?codings=gzip,gzip,gzip,gzip,gzip`);
      equal(await five.text(), ENCODE_TEXT, "five codings");
    },
  },
  {
    name: "rejects with the signal's reason: aborted before, while waiting, and during the body",
    async run({ pool, http }) {
      await using p = pool();
      await rejects(p.fetch(`${http}/`, { signal: AbortSignal.abort() }), "AbortError");
      const c1 = new AbortController();
      setTimeout(() => c1.abort(), 50);
      await rejects(p.fetch(`${http}/slow?ms=3000`, { signal: c1.signal }), "AbortError");
      equal(String(p), EMPTY, "after an abort while waiting");
      const c2 = new AbortController();
      const r = await p.fetch(`${http}/drip?n=100&ms=20`, { signal: c2.signal });
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      c2.abort();
      await rejects(
        (async () => {
          for (;;) if ((await reader.read()).done) break;
        })(),
        "AbortError",
      );
      equal(String(p), EMPTY, "after an abort during the body");
      equal(await (await p.fetch(`${http}/`)).text(), "Hello, world!", "pool still works");
    },
  },
  {
    name: "cancelling a body releases its connection",
    async run({ pool, http }) {
      await using p = pool({ maxConnections: 1 });
      const r = await p.fetch(`${http}/stream?n=${8 * 1024 * 1024}`);
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      await reader.cancel();
      equal(await (await p.fetch(`${http}/`)).text(), "Hello, world!", "next request");
    },
  },
  {
    name: "rejects an unreachable origin with ConnectError naming it",
    async run({ pool }) {
      await using p = pool();
      await rejects(
        p.fetch("http://127.0.0.1:1/"),
        "ConnectError",
        /^could not connect to 127\.0\.0\.1:1 /,
      );
      equal(String(p), EMPTY, "pool after the failure");
    },
  },
  {
    name: "takes the pool's timeouts through init.extensions",
    async run({ pool, http }) {
      await using p = pool();
      await rejects(
        p.fetch(`${http}/never`, { extensions: { timeout: { read: 0.2 } } }),
        "ReadTimeout",
        /^timed out reading from 127\.0\.0\.1:\d+ after 0\.2s$/,
      );
    },
  },
];
