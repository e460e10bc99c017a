// Integration scenarios written once and run in every runtime project (node, workerd) against
// the real servers of test/servers/global-setup.ts. Each runtime passes its backend and TLS setup.
import { describe, expect, inject, it } from "vitest";
import {
  AsyncConnectionPool,
  type AsyncNetworkBackend,
  ConnectError,
  ConnectTimeout,
  PoolTimeout,
  ReadTimeout,
  RemoteProtocolError,
  type TlsOptions,
} from "../../src/index.js";
import { rejectsWith, reprs } from "../support/mock.js";

/** What a runtime project supplies. */
export interface ScenarioRuntime {
  name: "node" | "workerd";
  backend: () => AsyncNetworkBackend;
  /** TLS options that make the test CA trusted (workerd trusts it through NODE_EXTRA_CA_CERTS). */
  ssl: TlsOptions | null;
}

const MiB = 1024 * 1024;
const EMPTY =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";
const dec = new TextDecoder();

/** True if `chunk` continues the servers' byte pattern (byte i = i % 251) from `offset`. */
function matchesPattern(chunk: Uint8Array, offset: number): boolean {
  let v = offset % 251;
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] !== v) return false;
    v = v === 250 ? 0 : v + 1;
  }
  return true;
}

export function poolScenarios(runtime: ScenarioRuntime): void {
  const httpPort = inject("httpPort");
  const httpsPort = inject("httpsPort");
  const rawPort = inject("rawPort");
  const http = `http://127.0.0.1:${httpPort}`;
  const raw = `http://127.0.0.1:${rawPort}`;
  const pool = (options: ConstructorParameters<typeof AsyncConnectionPool>[0] = {}) =>
    new AsyncConnectionPool({ networkBackend: runtime.backend(), ssl: runtime.ssl, ...options });

  describe(`pool scenarios (${runtime.name})`, () => {
    it("reuses one kept-alive connection for sequential requests", async () => {
      await using p = pool();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await p.request("GET", `${http}/conn`)).text());
      expect(new Set(ids).size).toBe(1);
      expect(reprs(p)).toEqual([
        `<AsyncHTTPConnection ['${http}', HTTP/1.1, IDLE, Request Count: 3]>`,
      ]);
      expect(String(p)).toBe(
        "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
      );
    });

    it("never opens more than maxConnections, and queues the rest FIFO", async () => {
      await using p = pool({ maxConnections: 2 });
      const seen: string[] = [];
      const ids = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const r = await p.stream("GET", `${http}/slow?ms=30`);
          seen.push(String(p));
          await r.aread();
          await r.aclose();
          return r.text();
        }),
      );
      expect(ids.every((t) => t === "slow")).toBe(true);
      // The first head arrives while both connections are busy and four requests wait.
      expect(seen[0]).toBe(
        "<AsyncConnectionPool [Requests: 2 active, 4 queued | Connections: 2 active, 0 idle]>",
      );
      for (const s of seen) {
        expect(s).toMatch(
          /^<AsyncConnectionPool \[Requests: [12] active, [0-4] queued \| Connections: (2 active, 0 idle|1 active, 1 idle)\]>$/,
        );
      }
      const counts = p.connections.map((c) => c.toJSON().requestCount);
      expect(counts.length).toBe(2);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
    });

    it("reads a chunked body exactly", async () => {
      await using p = pool();
      const r = await p.request("GET", `${http}/chunked?n=100000&chunk=777`);
      expect(r.content.length).toBe(100000);
      expect(matchesPattern(r.content, 0)).toBe(true);
      expect(
        r.headers.some(([n, v]) => n.toLowerCase() === "transfer-encoding" && v === "chunked"),
      ).toBe(true);
    });

    it("reads a body delimited by EOF and then drops the connection", async () => {
      await using p = pool();
      const r = await p.request("GET", `${raw}/eof-body`);
      expect(r.text()).toBe("until-eof");
      expect(reprs(p)).toEqual([]);
    });

    it("replaces a keep-alive connection the server closed while idle", async () => {
      await using p = pool();
      expect((await p.request("GET", `${raw}/stale`)).text()).toBe("ok");
      await new Promise((r) => setTimeout(r, 100));
      expect((await p.request("GET", `${raw}/stale`)).text()).toBe("ok");
      expect(reprs(p)).toEqual([
        `<AsyncHTTPConnection ['${raw}', HTTP/1.1, IDLE, Request Count: 1]>`,
      ]);
    });

    it("retries a request that raced a server closing right after its response", async () => {
      await using p = pool();
      for (let i = 0; i < 5; i++) {
        expect((await p.request("POST", `${raw}/stale-immediate`, { content: "x" })).text()).toBe(
          "ok",
        );
      }
    });

    it("fails a truncated body with RemoteProtocolError and keeps nothing", async () => {
      await using p = pool();
      await rejectsWith(
        p.request("GET", `${raw}/truncated`),
        RemoteProtocolError,
        `peer closed connection without sending complete message body (received 5 bytes, expected 13) (origin: ${raw})`,
      );
      expect(String(p)).toBe(EMPTY);
    });

    for (const [path, message] of [
      ["/clte", /Transfer-Encoding and Content-Length/],
      ["/dup-cl", /conflicting Content-Length values/],
      ["/bad-status", /^illegal status line: /],
      ["/big-head?kb=80", /^response head exceeds the 65536-byte limit/],
      ["/obs-fold", /obsolete line folding is not allowed/],
    ] as const) {
      it(`rejects a hostile response: ${path}`, async () => {
        await using p = pool();
        await rejectsWith(p.request("GET", `${raw}${path}`), RemoteProtocolError, message);
        expect(String(p)).toBe(EMPTY);
      });
    }

    it("raises ReadTimeout for a server that never answers", async () => {
      await using p = pool();
      await rejectsWith(
        p.request("GET", `${raw}/never`, { extensions: { timeout: { read: 0.2 } } }),
        ReadTimeout,
        `timed out reading from 127.0.0.1:${rawPort} after 0.2s`,
      );
      expect(String(p)).toBe(EMPTY);
    });

    it("raises ConnectTimeout when the TLS handshake never completes", async () => {
      await using p = pool();
      await rejectsWith(
        p.request("GET", `https://127.0.0.1:${rawPort}/`, {
          extensions: { timeout: { connect: 0.3 } },
        }),
        ConnectTimeout,
        new RegExp(`^timed out .*127\\.0\\.0\\.1:${rawPort} after 0\\.3s$`),
      );
      expect(String(p)).toBe(EMPTY);
    });

    it("raises PoolTimeout when every connection stays busy", async () => {
      await using p = pool({ maxConnections: 1 });
      const busy = await p.stream("GET", `${http}/slow?ms=300`);
      await rejectsWith(
        p.request("GET", `${http}/`, { extensions: { timeout: { pool: 0.05 } } }),
        PoolTimeout,
        `timed out after 0.05s waiting for a connection to ${http} (1 of 1 connections in use)`,
      );
      expect((await busy.aread()).length).toBe(4);
      await busy.aclose();
      expect(String(p)).toBe(
        "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
      );
    });

    it("raises ConnectError naming host:port for a refused connection", async () => {
      await using p = pool();
      await rejectsWith(
        p.request("GET", "http://127.0.0.1:1/"),
        ConnectError,
        /^could not connect to 127\.0\.0\.1:1 \(/,
      );
      expect(String(p)).toBe(EMPTY);
    });

    it("aborts a request waiting for its response and leaves exact counts", async () => {
      await using p = pool();
      const controller = new AbortController();
      const pending = p.request("GET", `${http}/slow?ms=2000`, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(pending).rejects.toMatchObject({ name: "AbortError" });
      expect(String(p)).toBe(EMPTY);
      expect((await p.request("GET", `${http}/`)).text()).toBe("Hello, world!");
    });

    it("streams a 64 MiB body chunk by chunk, byte-exact", async () => {
      await using p = pool();
      await using r = await p.stream("GET", `${http}/stream?n=${64 * MiB}`);
      let total = 0;
      let ok = true;
      for await (const chunk of r.aiterStream()) {
        if (ok && !matchesPattern(chunk, total)) ok = false;
        total += chunk.length;
      }
      expect(total).toBe(64 * MiB);
      expect(ok).toBe(true);
    });

    it("uploads a body and gets it back", async () => {
      await using p = pool();
      const r = await p.request("POST", `${http}/echo`, {
        headers: [
          ["X-Order", "1"],
          ["x-order", "2"],
        ],
        content: "hello, server",
      });
      const echo = r.json() as { method: string; body: string; headers: [string, string][] };
      expect(echo.method).toBe("POST");
      expect(echo.body).toBe("hello, server");
      expect(echo.headers.slice(0, 4)).toEqual([
        ["Host", `127.0.0.1:${httpPort}`],
        ["X-Order", "1"],
        ["x-order", "2"],
        ["Content-Length", "13"],
      ]);
    });

    it("streams a chunked upload from an async iterable", async () => {
      await using p = pool();
      async function* body() {
        for (let i = 0; i < 8; i++) yield new Uint8Array(MiB).fill(i);
      }
      const r = await p.request("POST", `${http}/upload`, { content: body() });
      expect((r.json() as { bytes: number }).bytes).toBe(8 * MiB);
    });

    it("talks TLS to the test server and keeps the connection alive", async () => {
      await using p = pool();
      const https = `https://localhost:${httpsPort}`;
      expect((await p.request("GET", `${https}/`)).text()).toBe("Hello, world!");
      expect((await p.request("GET", `${https}/`)).text()).toBe("Hello, world!");
      expect(reprs(p)).toEqual([
        `<AsyncHTTPConnection ['${https}', HTTP/1.1, IDLE, Request Count: 2]>`,
      ]);
    });

    it("follows the HTTP/1.0 and early-hints shapes", async () => {
      await using p = pool();
      const r10 = await p.request("GET", `${raw}/http10`);
      expect([r10.status, r10.extensions.httpVersion]).toEqual([200, "HTTP/1.0"]);
      const hints = await p.request("GET", `${raw}/early-hints`);
      expect(hints.status).toBe(200);
    });

    it("reads HEAD, 204 and 304 responses without a body", async () => {
      await using p = pool();
      expect((await p.request("HEAD", `${http}/bytes?n=100`)).content.length).toBe(0);
      expect((await p.request("GET", `${http}/status/204`)).content.length).toBe(0);
      expect((await p.request("GET", `${http}/status/304`)).content.length).toBe(0);
      expect(reprs(p)).toEqual([
        `<AsyncHTTPConnection ['${http}', HTTP/1.1, IDLE, Request Count: 3]>`,
      ]);
    });

    it("aborting mid-body closes only that connection", async () => {
      await using p = pool();
      const controller = new AbortController();
      const r = await p.stream("GET", `${http}/stream?n=${16 * MiB}`, {
        signal: controller.signal,
      });
      const it = r.aiterStream();
      await it.next();
      controller.abort();
      await expect(
        (async () => {
          for (;;) if ((await it.next()).done) break;
        })(),
      ).rejects.toMatchObject({ name: "AbortError" });
      expect(String(p)).toBe(EMPTY);
      expect(dec.decode((await p.request("GET", `${http}/`)).content)).toBe("Hello, world!");
    });
  });
}
