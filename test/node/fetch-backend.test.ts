// The fetch backend in Node (global fetch = undici) against the real test servers: lanes, reprs,
// maxConnections seen from the server side, timeouts, aborts, error mapping, refused options.
import { describe, expect, inject, it } from "vitest";
import { AsyncFetchBackend, supportsRequestStreams } from "../../src/backends/fetch.js";
import {
  AsyncConnectionPool,
  ConnectError,
  ConnectTimeout,
  PoolTimeout,
  ReadTimeout,
  UnsupportedProtocol,
} from "../../src/index.js";
import { GZIP_PLAIN_TEXT } from "../servers/handler.js";
import { rejectsWith, reprs } from "../support/mock.js";

const httpPort = inject("httpPort");
const httpsPort = inject("httpsPort");
const http = `http://127.0.0.1:${httpPort}`;
const EMPTY =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";
let keys = 0;

function pool(options: ConstructorParameters<typeof AsyncConnectionPool>[0] = {}) {
  return new AsyncConnectionPool({ networkBackend: new AsyncFetchBackend(), ...options });
}

describe("fetch backend in Node", () => {
  it("reuses one lane for sequential requests, with the pool's repr shape", async () => {
    await using p = pool();
    for (let i = 0; i < 3; i++)
      expect((await p.request("GET", `${http}/`)).text()).toBe("Hello, world!");
    // Node's fetch has no Resource Timing nextHopProtocol: the version says it is unknown.
    expect(reprs(p)).toEqual([
      `<AsyncFetchConnection ['${http}', HTTP/unknown, IDLE, Request Count: 3]>`,
    ]);
    expect(p.connections[0]?.toJSON()).toEqual({
      kind: "AsyncFetchConnection",
      origin: http,
      httpVersion: "HTTP/unknown",
      state: "IDLE",
      requestCount: 3,
    });
    expect(String(p)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
  });

  it("shows a lane ACTIVE while its response is open", async () => {
    await using p = pool();
    const r = await p.stream("GET", `${http}/bytes?n=10`);
    expect(reprs(p)).toEqual([
      `<AsyncFetchConnection ['${http}', HTTP/unknown, ACTIVE, Request Count: 1]>`,
    ]);
    expect((await r.aread()).length).toBe(10);
    expect(reprs(p)).toEqual([
      `<AsyncFetchConnection ['${http}', HTTP/unknown, IDLE, Request Count: 1]>`,
    ]);
  });

  it("never has more than maxConnections requests in flight (counted by the server)", async () => {
    await using p = pool({ maxConnections: 2 });
    const key = `fetch-backend-${keys++}`;
    const seen: string[] = [];
    const bodies = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const r = await p.stream("GET", `${http}/inflight?ms=100&key=${key}`);
        seen.push(String(p));
        await r.aread();
        await r.aclose();
        return r.json() as { inFlight: number; max: number };
      }),
    );
    expect(Math.max(...bodies.map((b) => b.max))).toBe(2);
    expect(seen[0]).toBe(
      "<AsyncConnectionPool [Requests: 2 active, 4 queued | Connections: 2 active, 0 idle]>",
    );
    const counts = p.connections.map((c) => c.toJSON().requestCount);
    expect(counts).toHaveLength(2);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it("maps a refused port to ConnectError naming host:port, with the fetch error as cause", async () => {
    await using p = pool();
    const error = await rejectsWith(
      p.request("GET", "http://127.0.0.1:1/"),
      ConnectError,
      "could not connect to 127.0.0.1:1 (network error or blocked by CORS)",
    );
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(String(p)).toBe(EMPTY);
  });

  it("retries a refused connection `retries` times for idempotent requests only", async () => {
    let calls = 0;
    const backend = new AsyncFetchBackend({
      fetch: (request) => {
        calls++;
        return fetch(request);
      },
    });
    await using p = new AsyncConnectionPool({ networkBackend: backend, retries: 1 });
    await expect(p.request("GET", "http://127.0.0.1:1/")).rejects.toBeInstanceOf(ConnectError);
    expect(calls).toBe(2);
    calls = 0;
    await expect(p.request("POST", "http://127.0.0.1:1/", { content: "x" })).rejects.toBeInstanceOf(
      ConnectError,
    );
    expect(calls).toBe(1);
  });

  it("bounds the wait for the head by the read timeout (ReadTimeout) and leaves no lane", async () => {
    await using p = pool();
    await rejectsWith(
      p.request("GET", `${http}/never`, { extensions: { timeout: { read: 0.2 } } }),
      ReadTimeout,
      `timed out reading from 127.0.0.1:${httpPort} after 0.2s`,
    );
    expect(String(p)).toBe(EMPTY);
  });

  it("bounds it by the connect timeout alone when no read timeout is set (ConnectTimeout)", async () => {
    await using p = pool();
    await rejectsWith(
      p.request("GET", `${http}/never`, { extensions: { timeout: { connect: 0.2 } } }),
      ConnectTimeout,
      `timed out connecting to 127.0.0.1:${httpPort} after 0.2s`,
    );
    await rejectsWith(
      p.request("GET", `${http}/never`, { extensions: { timeout: { connect: 0.1, read: 0.2 } } }),
      ReadTimeout,
      `timed out waiting for the response from 127.0.0.1:${httpPort} after 0.3s (connect 0.1s + read 0.2s)`,
    );
  });

  it("applies the read timeout to each gap between body chunks", async () => {
    await using p = pool();
    const r = await p.stream("GET", `${http}/drip?n=5&ms=400`, {
      extensions: { timeout: { read: 0.15 } },
    });
    await rejectsWith(
      r.aread(),
      ReadTimeout,
      `timed out reading from 127.0.0.1:${httpPort} after 0.15s`,
    );
    expect(String(p)).toBe(EMPTY);
  });

  it("raises PoolTimeout while maxConnections lanes are busy", async () => {
    await using p = pool({ maxConnections: 1 });
    const busy = await p.stream("GET", `${http}/slow?ms=200`);
    await rejectsWith(
      p.request("GET", `${http}/`, { extensions: { timeout: { pool: 0.05 } } }),
      PoolTimeout,
      `timed out after 0.05s waiting for a connection to ${http} (1 of 1 connections in use)`,
    );
    expect((await busy.aread()).length).toBe(4);
    await busy.aclose();
    expect(reprs(p)).toEqual([
      `<AsyncFetchConnection ['${http}', HTTP/unknown, IDLE, Request Count: 1]>`,
    ]);
  });

  it("aborts while waiting for the head and while reading the body", async () => {
    await using p = pool();
    const c1 = new AbortController();
    const pending = p.request("GET", `${http}/slow?ms=2000`, { signal: c1.signal });
    setTimeout(() => c1.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(String(p)).toBe(EMPTY);

    const c2 = new AbortController();
    const r = await p.stream("GET", `${http}/drip?n=20&ms=50`, { signal: c2.signal });
    const it = r.aiterStream();
    await it.next();
    const reason = new Error("stop");
    c2.abort(reason);
    await expect(
      (async () => {
        for (;;) if ((await it.next()).done) break;
      })(),
    ).rejects.toBe(reason);
    expect(String(p)).toBe(EMPTY);
    expect((await p.request("GET", `${http}/`)).text()).toBe("Hello, world!");
  });

  it("an early close cancels the body and leaves the lane IDLE", async () => {
    await using p = pool();
    const r = await p.stream("GET", `${http}/stream?n=${8 * 1024 * 1024}`);
    const it = r.aiterStream();
    await it.next();
    await r.aclose();
    expect(reprs(p)).toEqual([
      `<AsyncFetchConnection ['${http}', HTTP/unknown, IDLE, Request Count: 1]>`,
    ]);
  });

  it("returns lower-cased headers, the reason phrase and what the platform reports", async () => {
    await using p = pool();
    const r = await p.request("GET", `${http}/headers?n=2`);
    expect(r.headers.slice(0, 0)).toEqual([]);
    expect(r.headers).toContainEqual(["x-header-0", "value-0"]);
    expect(r.headers).toContainEqual(["content-length", "2"]);
    expect(r.extensions.reasonPhrase).toBe("OK");
    expect(r.extensions.httpVersion).toBe("HTTP/unknown");
    expect(r.extensions.fetchResponse).toEqual({
      url: `${http}/headers?n=2`,
      redirected: false,
      type: "basic",
      decoded: true,
    });
    // gzip arrives decoded by the platform; the header stays as the server sent it.
    const g = await p.request("GET", `${http}/gzip`);
    expect(g.text()).toBe(GZIP_PLAIN_TEXT);
    expect(g.headers).toContainEqual(["content-encoding", "gzip"]);
  });

  it("leaves redirects to the caller (redirect: manual inside the pool)", async () => {
    await using p = pool();
    const r = await p.request("GET", `${http}/redirect?to=/&status=307`);
    expect(r.status).toBe(307);
    expect(r.headers).toContainEqual(["location", "/"]);
  });

  it("sends every body form; streamed bodies are buffered unless streamingUploads is on", async () => {
    await using p = pool();
    const echo = async (
      content: Parameters<typeof p.request>[2] extends infer O
        ? O extends { content?: infer C }
          ? C
          : never
        : never,
    ) => {
      const r = await p.request("POST", `${http}/echo`, { content });
      return r.json() as { body: string; headers: [string, string][] };
    };
    expect((await echo("text")).body).toBe("text");
    expect((await echo(new TextEncoder().encode("bytes"))).body).toBe("bytes");
    async function* parts() {
      yield new TextEncoder().encode("it");
      yield new TextEncoder().encode("erable");
    }
    const iterated = await echo(parts());
    expect(iterated.body).toBe("iterable");
    expect(iterated.headers).toContainEqual(["content-length", "8"]);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("stre"));
        c.enqueue(new TextEncoder().encode("am"));
        c.close();
      },
    });
    expect((await echo(stream)).body).toBe("stream");

    expect(supportsRequestStreams()).toBe(true);
    const streaming = new AsyncFetchBackend({ streamingUploads: true });
    expect(streaming.streamingUploads).toBe(true);
    await using s = new AsyncConnectionPool({ networkBackend: streaming });
    const r = await s.request("POST", `${http}/echo`, { content: parts() });
    const body = r.json() as { body: string; headers: [string, string][] };
    expect(body.body).toBe("iterable");
    expect(body.headers.map(([n]) => n.toLowerCase())).toContain("transfer-encoding");
  });

  it("talks HTTPS with the platform's trust store (the test CA via NODE_EXTRA_CA_CERTS)", async () => {
    await using p = pool();
    expect((await p.request("GET", `https://localhost:${httpsPort}/`)).text()).toBe(
      "Hello, world!",
    );
  });

  it("emits trace events", async () => {
    await using p = pool();
    const events: string[] = [];
    await p.request("GET", `${http}/`, { extensions: { trace: (name) => void events.push(name) } });
    expect(events).toEqual([
      "fetch.send_request.started",
      "fetch.send_request.complete",
      "fetch.receive_response_body.started",
      "fetch.receive_response_body.complete",
      "fetch.response_closed.started",
      "fetch.response_closed.complete",
    ]);
  });

  it("expires idle lanes after keepaliveExpiry", async () => {
    await using p = pool({ keepaliveExpiry: 0.05 });
    await p.request("GET", `${http}/`);
    expect(reprs(p)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 120));
    expect(reprs(p)).toEqual([]);
  });
});

describe("fetch backend: what it cannot honour", () => {
  const cases: [string, ConstructorParameters<typeof AsyncConnectionPool>[0], string][] = [
    ["uds", { uds: "/tmp/x.sock" }, "uds"],
    ["localAddress", { localAddress: "127.0.0.1" }, "localAddress"],
    ["socketOptions", { socketOptions: [{ noDelay: true }] }, "socketOptions"],
    ["ssl.ca", { ssl: { ca: "PEM" } }, "ssl.ca"],
    ["ssl.cert", { ssl: { cert: "PEM" } }, "ssl.cert"],
    ["ssl.rejectUnauthorized", { ssl: { rejectUnauthorized: false } }, "ssl.rejectUnauthorized"],
  ];
  for (const [name, options, option] of cases) {
    it(`refuses ${name} at the first request`, async () => {
      await using p = pool(options);
      await rejectsWith(
        p.request("GET", `${http}/`),
        UnsupportedProtocol,
        new RegExp(`^the fetch backend cannot honour the "${option.replace(".", "\\.")}" option: `),
      );
      expect(String(p)).toBe(EMPTY);
    });
  }

  it("refuses sockets, a foreign Host, sniHostname and methods fetch() forbids", async () => {
    const backend = new AsyncFetchBackend();
    await rejectsWith(
      backend.connectTcp("127.0.0.1", 80),
      UnsupportedProtocol,
      "the fetch backend cannot open a TCP connection to 127.0.0.1:80: it has no sockets, the platform's fetch() owns them",
    );
    await expect(backend.connectUnixSocket("/tmp/s")).rejects.toBeInstanceOf(UnsupportedProtocol);
    await using p = pool();
    await rejectsWith(
      p.request("GET", `${http}/`, { headers: { Host: "example.com" } }),
      UnsupportedProtocol,
      `the fetch backend cannot send a Host header ("example.com") other than the URL's authority (127.0.0.1:${httpPort})`,
    );
    await rejectsWith(
      p.request("GET", `${http}/`, { extensions: { sniHostname: "example.com" } }),
      UnsupportedProtocol,
      /"sniHostname" extension/,
    );
    await rejectsWith(
      p.request("CONNECT", `${http}/`),
      UnsupportedProtocol,
      new RegExp(`^the fetch backend cannot send this request to 127\\.0\\.0\\.1:${httpPort}: `),
    );
    // A matching Host header is simply left to the platform.
    const r = await p.request("GET", `${http}/`, { headers: { Host: `127.0.0.1:${httpPort}` } });
    expect(r.status).toBe(200);
    expect(String(p)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
  });
});
