import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  AsyncMockBackend,
  HTTPCoreError,
  PoolTimeout,
  ReadError,
  UnsupportedProtocol,
} from "../../src/index.js";
import { HELLO, hello, rejectsWith, reprs } from "../support/mock.js";

describe("queueing under maxConnections", () => {
  it("serves 5 origins through 1 connection, closing idle ones to make room", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(HELLO),
      maxConnections: 1,
    });
    const seen: string[][] = [];
    await Promise.all(
      ["a", "b", "c", "d", "e"].map(async (host) => {
        await using r = await pool.stream("GET", `http://${host}.com/`);
        seen.push(reprs(pool));
        await r.aread();
      }),
    );
    expect(seen).toEqual(
      ["a", "b", "c", "d", "e"].map((h) => [
        `<AsyncHTTPConnection ['http://${h}.com:80', HTTP/1.1, ACTIVE, Request Count: 1]>`,
      ]),
    );
  });

  it("serves the same origin FIFO over one kept-alive connection", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(5)),
      maxConnections: 1,
    });
    const order: string[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => {
        await using r = await pool.stream("GET", `https://a.com/${i}`);
        order.push(`${i}:${reprs(pool).join()}:${pool}`);
        await r.aread();
      }),
    );
    expect(order).toEqual(
      [1, 2, 3, 4, 5].map(
        (i) =>
          `${i}:<AsyncHTTPConnection ['https://a.com:443', HTTP/1.1, ACTIVE, Request Count: ${i}]>:` +
          `<AsyncConnectionPool [Requests: 1 active, ${5 - i} queued | Connections: 1 active, 0 idle]>`,
      ),
    );
    await pool.aclose();
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>",
    );
  });

  it("same origin with `Connection: close` opens a new connection each time", async () => {
    const closing = [
      "HTTP/1.1 200 OK\r\n",
      "Connection: close\r\n",
      "Content-Length: 2\r\n\r\n",
      "ok",
    ];
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(closing),
      maxConnections: 1,
    });
    const seen: string[] = [];
    await Promise.all(
      [1, 2, 3].map(async () => {
        await using r = await pool.stream("GET", "https://a.com/");
        seen.push(reprs(pool).join());
        await r.aread();
      }),
    );
    expect(seen).toEqual(
      Array(3).fill(
        "<AsyncHTTPConnection ['https://a.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>",
      ),
    );
    expect(reprs(pool)).toEqual([]);
  });
});

describe("pool timeout", () => {
  it("raises PoolTimeout while the only connection is busy", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(2)),
      maxConnections: 1,
    });
    await using r = await pool.stream("GET", "https://example.com/");
    await rejectsWith(
      pool.request("GET", "https://example.com/", { extensions: { timeout: { pool: 0.01 } } }),
      PoolTimeout,
      "timed out after 0.01s waiting for a connection to https://example.com:443 (1 of 1 connections in use)",
    );
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>",
    );
    await r.aread();
  });

  it("pool: 0 succeeds when a connection is free at once", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(3)),
      maxConnections: 1,
    });
    const ext = { timeout: { pool: 0 } };
    expect((await pool.request("GET", "https://example.com/", { extensions: ext })).status).toBe(
      200,
    );
    expect((await pool.request("GET", "https://example.com/", { extensions: ext })).status).toBe(
      200,
    );
    const r = await pool.stream("GET", "https://example.com/", { extensions: ext });
    await rejectsWith(
      pool.request("GET", "https://example.com/", { extensions: ext }),
      PoolTimeout,
      /^timed out after 0s waiting for a connection to https:\/\/example.com:443/,
    );
    expect(new TextDecoder().decode(await r.aread())).toBe("Hello, world!");
    await r.aclose();
  });
});

describe("closing and bad input", () => {
  it("rejects unsupported and missing schemes", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(HELLO) });
    await rejectsWith(
      pool.request("GET", "ftp://www.example.com/"),
      UnsupportedProtocol,
      "Request URL has an unsupported protocol 'ftp://'.",
    );
    await rejectsWith(
      pool.request("GET", "://www.example.com/"),
      UnsupportedProtocol,
      "Request URL is missing an 'http://' or 'https://' protocol.",
    );
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>",
    );
  });

  it("fails an in-flight body read with ReadError when the pool closes", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend([
        "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n",
        "Hello, world!",
      ]),
    });
    const r = await pool.stream("GET", "https://example.com/");
    await pool.aclose();
    await rejectsWith(r.aread(), ReadError, "Connection closed");
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>",
    );
  });

  it("refuses requests after aclose() and fails queued ones", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(2)),
      maxConnections: 1,
    });
    const busy = await pool.stream("GET", "https://example.com/");
    const queued = pool.request("GET", "https://example.com/");
    await Promise.resolve();
    await pool.aclose();
    await rejectsWith(
      queued,
      HTTPCoreError,
      "Cannot send a request, as the connection pool has been closed.",
    );
    await expect(pool.request("GET", "https://example.com/")).rejects.toThrowError(
      "Cannot send a request, as the connection pool has been closed.",
    );
    await busy.aclose();
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>",
    );
  });

  it("checks constructor options", () => {
    const networkBackend = new AsyncMockBackend([]);
    expect(() => new AsyncConnectionPool({ networkBackend, maxConnections: 0 })).toThrowError(
      new TypeError("maxConnections must be an integer >= 1 or null, but got 0."),
    );
    expect(
      () => new AsyncConnectionPool({ networkBackend, maxConection: 3 } as never),
    ).toThrowError(new TypeError('Unknown AsyncConnectionPool option "maxConection".'));
    expect(
      () => new AsyncConnectionPool({ networkBackend, http1: false, http2: false }),
    ).toThrowError(new TypeError("At least one of http1 and http2 must be enabled."));
    expect(() => new AsyncConnectionPool({ networkBackend, retries: -1 })).toThrowError(
      new TypeError("retries must be a non-negative integer, but got -1."),
    );
  });
});
