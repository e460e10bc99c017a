import { describe, expect, it } from "vitest";
import { AsyncConnectionPool, AsyncMockBackend, RemoteProtocolError } from "../../src/index.js";
import { HELLO, rejectsWith, reprs } from "../support/mock.js";

// Connection 1 answers once and then reads EOF (the server closed it while idle).
const scripts = () => [HELLO, HELLO];

describe("stale keep-alive connection", () => {
  it("retries a replayable request once on a new connection", async () => {
    const backend = new AsyncMockBackend(scripts(), { perConnection: true });
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await pool.request("GET", "http://a.com/");
    const r = await pool.request("POST", "http://a.com/", { content: "hello" });
    expect(r.status).toBe(200);
    expect(backend.streams.length).toBe(2);
    expect(backend.streams[0]?.closed).toBe(true);
    expect(backend.streams[1]?.writtenText).toBe(
      "POST / HTTP/1.1\r\nHost: a.com\r\nContent-Length: 5\r\n\r\nhello",
    );
    expect(reprs(pool)).toEqual([
      "<AsyncHTTPConnection ['http://a.com:80', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
  });

  it("does not replay a one-shot streaming body", async () => {
    const backend = new AsyncMockBackend(scripts(), { perConnection: true });
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await pool.request("GET", "http://a.com/");
    async function* body() {
      yield new TextEncoder().encode("once");
    }
    await rejectsWith(
      pool.request("POST", "http://a.com/", { content: body() }),
      RemoteProtocolError,
      "Server disconnected without sending a response. (origin: http://a.com:80)",
    );
    expect(backend.streams.length).toBe(1);
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>",
    );
  });

  it("a fresh connection that disconnects is not retried", async () => {
    const backend = new AsyncMockBackend([[], HELLO], { perConnection: true });
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await rejectsWith(
      pool.request("GET", "http://a.com/"),
      RemoteProtocolError,
      "Server disconnected without sending a response. (origin: http://a.com:80)",
    );
    expect(backend.streams.length).toBe(1);
    expect(reprs(pool)).toEqual([]);
  });
});
