import { describe, expect, it } from "vitest";
import { AsyncConnectionPool, AsyncMockBackend } from "../../src/index.js";
import { HELLO, hello, reprs } from "../support/mock.js";

describe("keep-alive (httpcore's test_connection_pool_with_keepalive)", () => {
  it("reuses one connection per origin and shows exact reprs", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(hello(2)) });
    {
      const r = await pool.stream("GET", "https://example.com/");
      expect(reprs(pool)).toEqual([
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>",
      ]);
      expect(String(pool)).toBe(
        "<AsyncConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>",
      );
      await r.aread();
      await r.aclose();
    }
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
    {
      await using r = await pool.stream("GET", "https://example.com/");
      expect(reprs(pool)).toEqual([
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 2]>",
      ]);
      await r.aread();
    }
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 2]>",
    ]);
    {
      await using r = await pool.stream("GET", "http://example.com/");
      expect(reprs(pool)).toEqual([
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 2]>",
        "<AsyncHTTPConnection ['http://example.com:80', HTTP/1.1, ACTIVE, Request Count: 1]>",
      ]);
      expect(String(pool)).toBe(
        "<AsyncConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 1 idle]>",
      );
      await r.aread();
    }
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 2 idle]>",
    );
    await pool.aclose();
    expect(reprs(pool)).toEqual([]);
  });

  it("closes the connection after `Connection: close`", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(HELLO) });
    const r = await pool.stream("GET", "https://example.com/", {
      headers: { Connection: "close" },
    });
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>",
    ]);
    await r.aread();
    await r.aclose();
    expect(reprs(pool)).toEqual([]);
  });

  it("keepaliveExpiry: 0 closes at once", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(HELLO),
      keepaliveExpiry: 0,
    });
    const r = await pool.request("GET", "https://example.com/");
    expect(r.status).toBe(200);
    expect(reprs(pool)).toEqual([]);
  });

  it("maxKeepaliveConnections: 0 keeps no idle connection", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(HELLO),
      maxKeepaliveConnections: 0,
    });
    await pool.request("GET", "https://example.com/");
    expect(reprs(pool)).toEqual([]);
  });

  it("maxKeepaliveConnections counts idle connections, not all of them", async () => {
    // httpcore compares the total: with 2 busy + 1 idle and a limit of 1 it evicts the idle one.
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(1)),
      maxKeepaliveConnections: 1,
    });
    const a = await pool.stream("GET", "http://a.example/");
    const b = await pool.stream("GET", "http://b.example/");
    const c = await pool.stream("GET", "http://c.example/");
    await c.aread();
    await c.aclose();
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 2 active, 0 queued | Connections: 2 active, 1 idle]>",
    );
    await a.aread();
    await a.aclose();
    // Now 2 idle > 1 allowed: the oldest idle connection is closed.
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 1 idle]>",
    );
    await b.aclose();
    await pool.aclose();
  });

  it("expires idle connections on a timer, without further pool activity", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(HELLO),
      keepaliveExpiry: 0.05,
    });
    await pool.request("GET", "https://example.com/");
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    await new Promise((r) => setTimeout(r, 120));
    expect(reprs(pool)).toEqual([]);
  });

  it("prints the same via util.inspect", async () => {
    const { inspect } = await import("node:util");
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(HELLO) });
    await pool.request("GET", "https://example.com/");
    expect(inspect(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
    expect(inspect(pool.connections[0])).toBe(
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    );
    expect(pool.connections[0]?.toJSON()).toEqual({
      kind: "AsyncHTTPConnection",
      origin: "https://example.com:443",
      httpVersion: "HTTP/1.1",
      state: "IDLE",
      requestCount: 1,
    });
  });
});
