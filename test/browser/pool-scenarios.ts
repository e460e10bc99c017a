// The browser-relevant scenarios of test/scenarios/pool-scenarios.ts, adapted to the fetch
// backend (lanes instead of sockets: `<AsyncFetchConnection [...]>` reprs, the platform's HTTP
// version, CORS) and written framework-free, so the Chromium page runs them as they are; the node
// project runs them too over Node's own fetch.
import {
  AsyncConnectionPool,
  type AsyncFetchBackend,
  type FetchBackendOptions,
  type PoolOptions,
  supportsRequestStreams,
} from "../../src/index.js";
import { equal, eventually, ok, rejects, type Scenario } from "./assert.js";

/** What a runtime supplies to the scenarios. */
export interface LaneScenarioContext {
  runtime: "node" | "browser";
  /** The test http server; in a browser, the page's own origin. */
  http: string;
  /** The same server under another origin (`localhost`), without CORS headers unless `/cors/`. */
  other: string;
  /** The HTTP version lanes report once the platform said (`HTTP/1.1` in Chromium). */
  httpVersion: string;
  backend(options?: FetchBackendOptions): AsyncFetchBackend;
}

const EMPTY =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";
const ONE_IDLE =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>";
const MiB = 1024 * 1024;

function pool(ctx: LaneScenarioContext, options: PoolOptions = {}): AsyncConnectionPool {
  return new AsyncConnectionPool({ networkBackend: ctx.backend(), ...options });
}

function reprs(p: AsyncConnectionPool): string[] {
  return p.connections.map(String);
}

/** `host:port` of a base URL, as error messages name it. */
function where(base: string): string {
  return new URL(base).host;
}

/** Resource Timing fills the version in after the body ended: wait for it where it comes. */
async function versionsKnown(ctx: LaneScenarioContext, p: AsyncConnectionPool): Promise<void> {
  await eventually(
    () => p.connections.every((c) => c.toJSON().httpVersion === ctx.httpVersion),
    `lanes to report ${ctx.httpVersion}: ${reprs(p).join(", ")}`,
  );
}

function matchesPattern(chunk: Uint8Array, offset: number): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (offset + i) % 251) return false;
  return true;
}

type S = Scenario<LaneScenarioContext>;

export const laneScenarios: S[] = [
  {
    name: "reuses one lane for sequential requests and shows it like a connection",
    async run(ctx) {
      await using p = pool(ctx);
      for (let i = 0; i < 3; i++) {
        equal((await p.request("GET", `${ctx.http}/conn`)).status, 200, "status");
      }
      await versionsKnown(ctx, p);
      equal(reprs(p), [
        `<AsyncFetchConnection ['${ctx.http}', ${ctx.httpVersion}, IDLE, Request Count: 3]>`,
      ]);
      equal(p.connections[0]?.toJSON(), {
        kind: "AsyncFetchConnection",
        origin: ctx.http,
        httpVersion: ctx.httpVersion,
        state: "IDLE",
        requestCount: 3,
      });
      equal(String(p), ONE_IDLE, "pool");
    },
  },
  {
    name: "never has more than maxConnections requests in flight, and queues the rest FIFO",
    async run(ctx) {
      await using p = pool(ctx, { maxConnections: 2 });
      const key = `lanes-${ctx.runtime}-${Math.random().toString(36).slice(2)}`;
      const seen: string[] = [];
      const bodies = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const r = await p.stream("GET", `${ctx.http}/inflight?ms=100&key=${key}`);
          seen.push(String(p));
          await r.aread();
          await r.aclose();
          return r.json() as { max: number };
        }),
      );
      equal(Math.max(...bodies.map((b) => b.max)), 2, "most requests in flight at the server");
      equal(
        seen[0],
        "<AsyncConnectionPool [Requests: 2 active, 4 queued | Connections: 2 active, 0 idle]>",
      );
      const counts = p.connections.map((c) => c.toJSON().requestCount);
      equal([counts.length, counts.reduce((a, b) => a + b, 0)], [2, 6], "lanes and requests");
    },
  },
  {
    name: "reads a chunked body exactly, with lower-cased headers and the reason phrase",
    async run(ctx) {
      await using p = pool(ctx);
      const r = await p.request("GET", `${ctx.http}/chunked?n=100000&chunk=777`);
      equal([r.content.length, matchesPattern(r.content, 0)], [100000, true], "body");
      equal(r.extensions.reasonPhrase, "OK", "reason phrase");
      ok(
        r.headers.some(([n, v]) => n === "content-type" && v === "application/octet-stream"),
        `lower-cased content-type in ${JSON.stringify(r.headers)}`,
      );
      await versionsKnown(ctx, p);
      equal(r.extensions.httpVersion, ctx.httpVersion, "extensions.httpVersion");
    },
  },
  {
    name: "streams a 16 MiB body chunk by chunk, byte-exact",
    async run(ctx) {
      await using p = pool(ctx);
      await using r = await p.stream("GET", `${ctx.http}/stream?n=${16 * MiB}`);
      let total = 0;
      let pattern = true;
      for await (const chunk of r.aiterStream()) {
        pattern &&= matchesPattern(chunk, total);
        total += chunk.length;
      }
      equal([total, pattern], [16 * MiB, true], "body");
    },
  },
  {
    name: "uploads a streamed body buffered, with a Content-Length, by default",
    async run(ctx) {
      await using p = pool(ctx);
      async function* parts() {
        yield new TextEncoder().encode("hello, ");
        yield new TextEncoder().encode("server");
      }
      const r = await p.request("POST", `${ctx.http}/echo`, { content: parts() });
      const echo = r.json() as { body: string; headers: [string, string][] };
      equal(echo.body, "hello, server", "body");
      equal(
        echo.headers.find(([n]) => n.toLowerCase() === "content-length")?.[1],
        "13",
        "content-length",
      );
    },
  },
  {
    name: "detects streaming uploads, which Chromium refuses over HTTP/1.1 (ConnectError)",
    skip: (ctx) => ctx.runtime !== "browser" && "Chromium's HTTP/1.1 refusal is what this shows",
    async run(ctx) {
      equal(supportsRequestStreams(), true, "supportsRequestStreams()");
      const backend = ctx.backend({ streamingUploads: true });
      equal(backend.streamingUploads, true, "backend.streamingUploads");
      await using p = new AsyncConnectionPool({ networkBackend: backend });
      async function* parts() {
        yield new TextEncoder().encode("streamed");
      }
      await rejects(
        p.request("POST", `${ctx.http}/echo`, { content: parts() }),
        "ConnectError",
        `could not connect to ${where(ctx.http)} (network error or blocked by CORS)`,
      );
      equal(String(p), EMPTY, "pool");
    },
  },
  {
    name: "raises ReadTimeout for a server that never answers, and keeps no lane",
    async run(ctx) {
      await using p = pool(ctx);
      await rejects(
        p.request("GET", `${ctx.http}/never`, { extensions: { timeout: { read: 0.2 } } }),
        "ReadTimeout",
        `timed out reading from ${where(ctx.http)} after 0.2s`,
      );
      equal(String(p), EMPTY, "pool");
    },
  },
  {
    name: "raises PoolTimeout while every lane stays busy",
    async run(ctx) {
      await using p = pool(ctx, { maxConnections: 1 });
      const busy = await p.stream("GET", `${ctx.http}/slow?ms=300`);
      await rejects(
        p.request("GET", `${ctx.http}/`, { extensions: { timeout: { pool: 0.05 } } }),
        "PoolTimeout",
        `timed out after 0.05s waiting for a connection to ${ctx.http} (1 of 1 connections in use)`,
      );
      equal((await busy.aread()).length, 4, "busy body");
      await busy.aclose();
      equal(String(p), ONE_IDLE, "pool");
    },
  },
  {
    name: "raises ConnectError naming host:port for a refused connection",
    async run(ctx) {
      await using p = pool(ctx);
      const error = await rejects(
        p.request("GET", "http://127.0.0.1:1/"),
        "ConnectError",
        "could not connect to 127.0.0.1:1 (network error or blocked by CORS)",
      );
      ok(error.cause instanceof TypeError, "the platform's TypeError as cause");
      equal(String(p), EMPTY, "pool");
    },
  },
  {
    name: "raises ConnectError naming the origin when CORS blocks the response",
    skip: (ctx) => ctx.runtime !== "browser" && "only a browser enforces CORS",
    async run(ctx) {
      await using p = pool(ctx);
      await rejects(
        p.request("GET", `${ctx.other}/`),
        "ConnectError",
        `could not connect to ${where(ctx.other)} (network error or blocked by CORS)`,
      );
      equal(String(p), EMPTY, "pool");
    },
  },
  {
    name: "reaches another origin that allows it (CORS), on a lane of its own",
    async run(ctx) {
      await using p = pool(ctx);
      equal((await p.request("GET", `${ctx.http}/`)).text(), "Hello, world!", "same origin");
      const r = await p.request("POST", `${ctx.other}/cors/echo`, {
        headers: { "x-custom": "yes" },
        content: "cross",
      });
      equal((r.json() as { body: string }).body, "cross", "cross-origin echo");
      await versionsKnown(ctx, p);
      equal(reprs(p), [
        `<AsyncFetchConnection ['${ctx.http}', ${ctx.httpVersion}, IDLE, Request Count: 1]>`,
        `<AsyncFetchConnection ['${ctx.other}', ${ctx.httpVersion}, IDLE, Request Count: 1]>`,
      ]);
    },
  },
  {
    name: "aborts while waiting and mid-body, leaving exact counts",
    async run(ctx) {
      await using p = pool(ctx);
      const c1 = new AbortController();
      const pending = p.request("GET", `${ctx.http}/slow?ms=2000`, { signal: c1.signal });
      setTimeout(() => c1.abort(), 50);
      await rejects(pending, "AbortError");
      equal(String(p), EMPTY, "after an abort while waiting");
      const c2 = new AbortController();
      const r = await p.stream("GET", `${ctx.http}/drip?n=100&ms=20`, { signal: c2.signal });
      const it = r.aiterStream();
      await it.next();
      c2.abort();
      await rejects(
        (async () => {
          for (;;) if ((await it.next()).done) break;
        })(),
        "AbortError",
      );
      equal(String(p), EMPTY, "after an abort mid-body");
      equal((await p.request("GET", `${ctx.http}/`)).text(), "Hello, world!", "pool still works");
    },
  },
  {
    name: "reads HEAD, 204 and 304 responses without a body on one lane",
    async run(ctx) {
      await using p = pool(ctx);
      equal((await p.request("HEAD", `${ctx.http}/bytes?n=100`)).content.length, 0, "HEAD");
      equal((await p.request("GET", `${ctx.http}/status/204`)).content.length, 0, "204");
      equal((await p.request("GET", `${ctx.http}/status/304`)).content.length, 0, "304");
      await versionsKnown(ctx, p);
      equal(reprs(p), [
        `<AsyncFetchConnection ['${ctx.http}', ${ctx.httpVersion}, IDLE, Request Count: 3]>`,
      ]);
    },
  },
  {
    name: "refuses pool options the platform owns, naming them",
    async run(ctx) {
      for (const [options, name] of [
        [{ uds: "/tmp/s.sock" }, "uds"],
        [{ ssl: { ca: "PEM" } }, "ssl.ca"],
        [{ localAddress: "127.0.0.1" }, "localAddress"],
      ] as const) {
        await using p = pool(ctx, options);
        await rejects(
          p.request("GET", `${ctx.http}/`),
          "UnsupportedProtocol",
          new RegExp(`^the fetch backend cannot honour the "${name.replace(".", "\\.")}" option: `),
        );
      }
    },
  },
];
