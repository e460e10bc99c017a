// HTTP/2 scenarios written once and run in the node and workerd projects against real HTTP/2
// servers (test/servers/h2-servers.ts): node:http2 and nghttpd. Each runtime passes its backend
// and the origins it can reach with HTTP/2 (h2c by prior knowledge everywhere; TLS + ALPN on Node).
import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  type AsyncNetworkBackend,
  type PoolOptions,
  RemoteProtocolError,
  type TlsOptions,
} from "../../src/index.js";
import { rejectsWith, reprs } from "../support/mock.js";

/** One HTTP/2 server as a scenario target. */
export interface H2Target {
  /** e.g. `h2c node` */
  name: string;
  /** `http://127.0.0.1:PORT` or `https://localhost:PORT` */
  base: string;
  /** Pool options that make it speak HTTP/2 to this target. */
  options: PoolOptions;
}

/** What a runtime project supplies. */
export interface H2ScenarioRuntime {
  name: "node" | "workerd";
  backend: () => AsyncNetworkBackend;
  ssl: TlsOptions | null;
  /** node:http2 servers (all routes). */
  node: H2Target[];
  /** nghttpd servers (static files + upload echo), when installed. */
  nghttpd: H2Target[];
}

const MiB = 1024 * 1024;
const EMPTY =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";
const dec = new TextDecoder();

/** The servers' byte pattern: byte i = i % 251. */
export function pattern(from: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  let v = from % 251;
  for (let i = 0; i < length; i++) {
    b[i] = v;
    v = v === 250 ? 0 : v + 1;
  }
  return b;
}

/** sha256 as hex, through WebCrypto (same in Node and workerd). */
export async function sha256(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

interface SlowReply {
  session: number;
  stream: number;
  protocol: string;
  peak: number;
}

export function h2Scenarios(runtime: H2ScenarioRuntime): void {
  const pool = (target: H2Target, options: PoolOptions = {}) =>
    new AsyncConnectionPool({
      networkBackend: runtime.backend(),
      ssl: runtime.ssl,
      ...target.options,
      ...options,
    });

  for (const target of runtime.node) {
    const base = target.base;
    describe(`HTTP/2 scenarios (${runtime.name}, ${target.name})`, () => {
      it("speaks HTTP/2: repr, httpVersion, lower-case headers without pseudo-headers", async () => {
        await using p = pool(target);
        const r = await p.request("GET", `${base}/hello`, { headers: { "X-Custom": "1" } });
        expect(r.text()).toBe("Hello, world!");
        expect(r.extensions.httpVersion).toBe("HTTP/2");
        expect(r.headers.every(([n]) => n === n.toLowerCase() && !n.startsWith(":"))).toBe(true);
        expect(r.headers).toContainEqual(["content-type", "text/plain"]);
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 1]>`,
        ]);
        const echo = (
          await p.request("POST", `${base}/echo`, {
            headers: { "X-Custom": "1", Connection: "keep-alive", "Keep-Alive": "5" },
            content: "abc",
          })
        ).json() as { headers: Record<string, string>; length: number; protocol: string };
        expect(echo.protocol).toBe("HTTP/2");
        expect(echo.length).toBe(3);
        expect(echo.headers["x-custom"]).toBe("1");
        expect(echo.headers[":authority"]).toBe(new URL(base).host);
        expect(echo.headers["keep-alive"]).toBeUndefined();
        expect(echo.headers["content-length"]).toBe("3");
      });

      it("multiplexes 100 concurrent requests over exactly one TCP connection", async () => {
        await using p = pool(target);
        const seen: string[] = [];
        const replies = await Promise.all(
          Array.from({ length: 100 }, async () => {
            const r = await p.stream("GET", `${base}/slow?ms=400`);
            seen.push(...reprs(p));
            await r.aread();
            await r.aclose();
            return r.json() as SlowReply;
          }),
        );
        // One server-side session (= one TCP connection) served all 100, all 100 at once.
        expect(new Set(replies.map((r) => r.session)).size).toBe(1);
        expect(Math.max(...replies.map((r) => r.peak))).toBe(100);
        expect(new Set(replies.map((r) => r.stream)).size).toBe(100);
        expect(seen).toContain(
          `<AsyncHTTPConnection ['${base}', HTTP/2, ACTIVE, Request Count: 100]>`,
        );
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 100]>`,
        ]);
        expect(String(p)).toBe(
          "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
        );
      });

      it("downloads 16 MiB through flow control (sha256)", async () => {
        await using p = pool(target);
        const r = await p.request("GET", `${base}/bytes?n=${16 * MiB}`);
        expect(r.content.length).toBe(16 * MiB);
        expect(await sha256(r.content)).toBe(await sha256(pattern(0, 16 * MiB)));
      });

      it("uploads 16 MiB through flow control (sha256), as bytes and as a stream", async () => {
        await using p = pool(target);
        const body = pattern(7, 16 * MiB);
        const expected = await sha256(body);
        const r = (await p.request("POST", `${base}/upload`, { content: body })).json();
        expect(r).toEqual({ length: 16 * MiB, sha256: expected, protocol: "HTTP/2" });
        // A stream of unknown length: END_STREAM on an empty DATA frame at the end.
        async function* chunks() {
          for (let at = 0; at < body.length; at += MiB) yield body.subarray(at, at + MiB);
        }
        const s = (await p.request("POST", `${base}/upload`, { content: chunks() })).json();
        expect(s).toEqual({ length: 16 * MiB, sha256: expected, protocol: "HTTP/2" });
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 2]>`,
        ]);
      });

      it("GOAWAY below in-flight streams: those complete on a new connection", async () => {
        await using p = pool(target);
        const key = Math.random().toString(36).slice(2);
        const replies = await Promise.all(
          Array.from(
            { length: 5 },
            async () =>
              (await p.request("GET", `${base}/goaway?key=${key}&n=5`)).json() as {
                session: number;
                retried: boolean;
              },
          ),
        );
        const first = replies.filter((r) => !r.retried);
        const retried = replies.filter((r) => r.retried);
        expect(first.length).toBe(1);
        expect(retried.length).toBe(4);
        expect(new Set(retried.map((r) => r.session)).size).toBe(1);
        expect(retried[0]?.session).not.toBe(first[0]?.session);
        // The GOAWAY'd connection closed once its last stream ended; one connection remains.
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 4]>`,
        ]);
      });

      it("RST_STREAM fails one stream while the others on the connection succeed", async () => {
        await using p = pool(target);
        const results = await Promise.allSettled([
          p.request("GET", `${base}/slow?ms=100`),
          p.request("GET", `${base}/rst?code=2`),
          p.request("GET", `${base}/slow?ms=100`),
        ]);
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        const error = (results[1] as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(RemoteProtocolError);
        expect(error.message).toMatch(
          /^HTTP\/2 stream \d+ was reset by the server: INTERNAL_ERROR \(0x2\) \(origin: /,
        );
        const sessions = results
          .filter(
            (r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof p.request>>> =>
              r.status === "fulfilled",
          )
          .map((r) => (r.value.json() as SlowReply).session);
        expect(new Set(sessions).size).toBe(1);
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 3]>`,
        ]);
      });

      it("a network error fails the streams on that connection; the pool stays exact", async () => {
        await using p = pool(target);
        const slow = [1, 2, 3].map(() => p.request("GET", `${base}/slow?ms=3000`));
        await new Promise((r) => setTimeout(r, 100));
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, ACTIVE, Request Count: 3]>`,
        ]);
        const results = await Promise.allSettled([...slow, p.request("GET", `${base}/destroy`)]);
        for (const r of results) {
          expect(r.status).toBe("rejected");
          const name = ((r as PromiseRejectedResult).reason as Error).name;
          expect(["ReadError", "RemoteProtocolError"]).toContain(name);
        }
        expect(String(p)).toBe(EMPTY);
        expect((await p.request("GET", `${base}/hello`)).text()).toBe("Hello, world!");
      });

      it("a response header list over the limit fails that request only", async () => {
        await using p = pool(target);
        await rejectsWith(
          p.request("GET", `${base}/big-headers?size=70000`),
          RemoteProtocolError,
          /exceeds SETTINGS_MAX_HEADER_LIST_SIZE \(65536\)/,
        );
        expect((await p.request("GET", `${base}/hello`)).text()).toBe("Hello, world!");
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 2]>`,
        ]);
        // A larger limit lets it through.
        await using big = pool(target, { maxHeaderSize: 256 * 1024 });
        const r = await big.request("GET", `${base}/big-headers?size=70000`);
        expect(r.headers.find(([n]) => n === "x-big")?.[1].length).toBe(70000);
      });

      it("aborting one stream resets it and leaves the others running", async () => {
        await using p = pool(target);
        const controller = new AbortController();
        const aborted = p.request("GET", `${base}/slow?ms=3000`, { signal: controller.signal });
        const others = [1, 2, 3].map(() => p.request("GET", `${base}/slow?ms=200`));
        setTimeout(() => controller.abort(), 50);
        await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
        const replies = (await Promise.all(others)).map((r) => r.json() as SlowReply);
        expect(new Set(replies.map((r) => r.session)).size).toBe(1);
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 4]>`,
        ]);
        expect(String(p)).toBe(
          "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
        );
      });

      it("closing a streamed response early resets its stream; the connection is reused", async () => {
        await using p = pool(target);
        const s = await p.stream("GET", `${base}/bytes?n=${8 * MiB}`);
        const it = s.aiterStream();
        expect(((await it.next()).value as Uint8Array).length).toBeGreaterThan(0);
        await s.aclose();
        const again = (await p.request("GET", `${base}/session`)).json() as { protocol: string };
        expect(again.protocol).toBe("HTTP/2");
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 2]>`,
        ]);
      });

      it("pool.aclose() with streams in flight fails them and leaves nothing", async () => {
        const p = pool(target);
        const s = await p.stream("GET", `${base}/bytes?n=${8 * MiB}`);
        await p.aclose();
        await expect(s.aread()).rejects.toMatchObject({ name: "ReadError" });
        expect(String(p)).toBe(EMPTY);
      });
    });
  }

  for (const target of runtime.nghttpd) {
    const base = target.base;
    describe(`HTTP/2 against nghttpd (${runtime.name}, ${target.name})`, () => {
      it("serves static files and echoes uploads", async () => {
        await using p = pool(target);
        const r = await p.request("GET", `${base}/hello.txt`);
        expect(r.text()).toBe("Hello, world!");
        expect(r.extensions.httpVersion).toBe("HTTP/2");
        const up = pattern(3, 3 * MiB + 17);
        const echo = await p.request("POST", `${base}/hello.txt`, { content: up });
        expect(await sha256(echo.content)).toBe(await sha256(up));
      });

      it("downloads 16 MiB (sha256) and runs 30 requests over one connection", async () => {
        await using p = pool(target);
        const big = await p.request("GET", `${base}/big.bin`);
        expect(big.content.length).toBe(16 * MiB);
        expect(await sha256(big.content)).toBe(await sha256(pattern(0, 16 * MiB)));
        const all = await Promise.all(
          Array.from({ length: 30 }, () => p.request("GET", `${base}/hello.txt`)),
        );
        expect(all.every((r) => dec.decode(r.content) === "Hello, world!")).toBe(true);
        expect(reprs(p)).toEqual([
          `<AsyncHTTPConnection ['${base}', HTTP/2, IDLE, Request Count: 31]>`,
        ]);
      });

      it("a 404 and a missing file do not disturb the connection", async () => {
        await using p = pool(target);
        expect((await p.request("GET", `${base}/missing`)).status).toBe(404);
        expect((await p.request("GET", `${base}/hello.txt`)).status).toBe(200);
        expect(reprs(p).length).toBe(1);
      });
    });
  }
}
