// HTTP/2 on Node: the shared scenarios over TLS (ALPN h2) and h2c against node:http2 and nghttpd,
// plus protocol negotiation: ALPN offers per http1/http2, fallback to HTTP/1.1, prior knowledge,
// one connection per origin while the first one connects.
import { describe, expect, inject, it } from "vitest";
import { AsyncNodeBackend } from "../../src/backends/node.js";
import {
  AsyncConnectionPool,
  type AsyncHTTPConnection,
  type PoolOptions,
} from "../../src/index.js";
import { type H2Target, h2Scenarios } from "../scenarios/h2-scenarios.js";
import { reprs } from "../support/mock.js";

const caPem = inject("caPem");
const h2Port = inject("h2Port");
const h2OnlyPort = inject("h2OnlyPort");
const h2cPort = inject("h2cPort");
const httpsPort = inject("httpsPort");
const httpPort = inject("httpPort");
const nghttpdPort = inject("nghttpdPort");
const nghttpdH2cPort = inject("nghttpdH2cPort");

const H2 = `https://localhost:${h2Port}`;
const H2_ONLY = `https://localhost:${h2OnlyPort}`;
const H2C = `http://127.0.0.1:${h2cPort}`;

const nghttpd: H2Target[] = [];
if (nghttpdPort !== null) {
  nghttpd.push({
    name: "nghttpd TLS, padded DATA + trailers",
    base: `https://localhost:${nghttpdPort}`,
    options: { http2: true },
  });
}
if (nghttpdH2cPort !== null) {
  nghttpd.push({
    name: "nghttpd h2c, 64 KiB windows, 10 streams",
    base: `http://127.0.0.1:${nghttpdH2cPort}`,
    options: { http1: false, http2: true },
  });
}

h2Scenarios({
  name: "node",
  backend: () => new AsyncNodeBackend(),
  ssl: { ca: caPem },
  node: [
    { name: "TLS + ALPN h2", base: H2, options: { http2: true } },
    { name: "h2c prior knowledge", base: H2C, options: { http1: false, http2: true } },
  ],
  nghttpd,
});

describe("HTTP/2 negotiation (node)", () => {
  const pool = (options: PoolOptions = {}) =>
    new AsyncConnectionPool({
      networkBackend: new AsyncNodeBackend(),
      ssl: { ca: caPem },
      ...options,
    });

  const alpnOf = (p: AsyncConnectionPool): unknown =>
    (p.connections[0] as AsyncHTTPConnection).connection?.stream.getExtraInfo("ssl_object");

  it("http2: true offers h2 and http/1.1; the server picks h2", async () => {
    await using p = pool({ http2: true });
    const r = await p.request("GET", `${H2}/session`);
    expect(r.extensions.httpVersion).toBe("HTTP/2");
    expect(alpnOf(p)).toMatchObject({ alpnProtocol: "h2" });
    expect(reprs(p)).toEqual([`<AsyncHTTPConnection ['${H2}', HTTP/2, IDLE, Request Count: 1]>`]);
  });

  it("the default (http2: false) offers http/1.1 only, even to an HTTP/2 server", async () => {
    await using p = pool();
    const r = await p.request("GET", `${H2}/session`);
    expect(r.extensions.httpVersion).toBe("HTTP/1.1");
    expect((r.json() as { protocol: string }).protocol).toBe("HTTP/1.1");
    expect(alpnOf(p)).toMatchObject({ alpnProtocol: "http/1.1" });
  });

  it("http2: true falls back to HTTP/1.1 when the server offers only http/1.1", async () => {
    await using p = pool({ http2: true });
    const r = await p.request("GET", `https://localhost:${httpsPort}/`);
    expect(r.extensions.httpVersion).toBe("HTTP/1.1");
    expect(reprs(p)[0]).toMatch(/HTTP\/1\.1, IDLE/);
  });

  it("http1: false over TLS offers h2 only", async () => {
    await using p = pool({ http1: false, http2: true });
    const r = await p.request("GET", `${H2_ONLY}/session`);
    expect(r.extensions.httpVersion).toBe("HTTP/2");
    expect(alpnOf(p)).toMatchObject({ alpnProtocol: "h2" });
  });

  it("http1: false over cleartext speaks HTTP/2 with prior knowledge (h2c)", async () => {
    await using p = pool({ http1: false, http2: true });
    const r = await p.request("GET", `${H2C}/session`);
    expect(r.json()).toMatchObject({ protocol: "HTTP/2" });
    expect(reprs(p)).toEqual([`<AsyncHTTPConnection ['${H2C}', HTTP/2, IDLE, Request Count: 1]>`]);
  });

  it("http2 with http1 over cleartext stays HTTP/1.1 (no h2c upgrade, as httpcore)", async () => {
    await using p = pool({ http2: true });
    const r = await p.request("GET", `http://127.0.0.1:${httpPort}/`);
    expect(r.extensions.httpVersion).toBe("HTTP/1.1");
  });

  it("never mutates the caller's TLS options", async () => {
    const ssl = Object.freeze({ ca: caPem, alpnProtocols: ["http/1.1"] });
    await using p = pool({ http2: true, ssl });
    await p.request("GET", `${H2}/hello`);
    expect(ssl.alpnProtocols).toEqual(["http/1.1"]);
  });

  it("concurrent first requests share one connection while it connects (mayMultiplex)", async () => {
    await using p = pool({ http2: true });
    const replies = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await p.request("GET", `${H2}/session`)).json() as { session: number },
      ),
    );
    expect(new Set(replies.map((r) => r.session)).size).toBe(1);
    expect(reprs(p)).toEqual([`<AsyncHTTPConnection ['${H2}', HTTP/2, IDLE, Request Count: 20]>`]);
  });

  it("queued requests move to new connections when the first one turns out HTTP/1.1", async () => {
    await using p = pool({ http2: true, maxConnections: 4 });
    const all = await Promise.all(
      Array.from({ length: 8 }, () => p.request("GET", `https://localhost:${httpsPort}/`)),
    );
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(p.connections.length).toBeGreaterThan(1);
    expect(p.connections.every((c) => String(c).includes("HTTP/1.1"))).toBe(true);
  });

  it("exposes the connection snapshot for UIs", async () => {
    await using p = pool({ http2: true });
    await p.request("GET", `${H2}/hello`);
    expect(p.connections[0]?.toJSON()).toEqual({
      kind: "AsyncHTTPConnection",
      origin: H2,
      httpVersion: "HTTP/2",
      state: "IDLE",
      requestCount: 1,
    });
  });

  it("keeps trailers and padded DATA from nghttpd out of the body", async () => {
    if (nghttpdPort === null) return;
    await using p = pool({ http2: true });
    const r = await p.request("GET", `https://localhost:${nghttpdPort}/hello.txt`);
    expect(r.text()).toBe("Hello, world!");
  });
});
