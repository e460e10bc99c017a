import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  AsyncMockBackend,
  type AsyncNetworkBackend,
  type AsyncNetworkStream,
  type ConnectTcpOptions,
} from "../../src/index.js";
import { deferred, HELLO, hello, reprs } from "../support/mock.js";

/** Connects only when told to, so a request can be aborted while its connection is CONNECTING. */
class GatedBackend implements AsyncNetworkBackend {
  readonly gate = deferred();
  readonly started: string[] = [];
  #inner = new AsyncMockBackend(hello(4));
  async connectTcp(
    host: string,
    port: number,
    opts: ConnectTcpOptions = {},
  ): Promise<AsyncNetworkStream> {
    this.started.push(`${host}:${port}`);
    const signal = opts.signal;
    await new Promise<void>((resolve, reject) => {
      this.gate.promise.then(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    return this.#inner.connectTcp(host, port);
  }
  connectUnixSocket(): Promise<AsyncNetworkStream> {
    throw new Error("unused");
  }
  async sleep(): Promise<void> {}
}

const EMPTY_POOL =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";

describe("abort", () => {
  it("an already aborted signal rejects with its reason and touches nothing", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(HELLO) });
    const reason = new Error("stop");
    await expect(
      pool.request("GET", "https://example.com/", { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(String(pool)).toBe(EMPTY_POOL);
  });

  it("aborting while CONNECTING releases the connection (no orphan)", async () => {
    const backend = new GatedBackend();
    const pool = new AsyncConnectionPool({ networkBackend: backend, maxConnections: 1 });
    const controller = new AbortController();
    const pending = pool.request("GET", "http://a.com/", { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 5));
    expect(reprs(pool)).toEqual(["<AsyncHTTPConnection [CONNECTING]>"]);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(String(pool)).toBe(EMPTY_POOL);
    // The slot is really free: the next request gets a connection.
    backend.gate.resolve();
    const r = await pool.request("GET", "http://a.com/");
    expect(r.status).toBe(200);
  });

  it("aborting while queued leaves exact counts", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(2)),
      maxConnections: 1,
    });
    const busy = await pool.stream("GET", "http://a.com/");
    const controller = new AbortController();
    const queued = pool.request("GET", "http://a.com/", { signal: controller.signal });
    await Promise.resolve();
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 1 active, 1 queued | Connections: 1 active, 0 idle]>",
    );
    controller.abort();
    await expect(queued).rejects.toMatchObject({ name: "AbortError" });
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>",
    );
    await busy.aread();
    await busy.aclose();
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
  });

  it("aborting while the body streams closes that connection", async () => {
    const backend = new AsyncMockBackend([
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
      "12345",
    ]);
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    const controller = new AbortController();
    const r = await pool.stream("GET", "http://a.com/", { signal: controller.signal });
    const it = r.aiterStream();
    expect(new TextDecoder().decode((await it.next()).value as Uint8Array)).toBe("12345");
    controller.abort();
    await expect(it.next()).rejects.toMatchObject({ name: "AbortError" });
    expect(backend.streams[0]?.closed).toBe(true);
    expect(String(pool)).toBe(EMPTY_POOL);
  });

  it("an assigned-but-unstarted connection is dropped when its request aborts", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(hello(3)),
      maxConnections: 1,
    });
    const busy = await pool.stream("GET", "http://a.com/");
    const controller = new AbortController();
    const queued = pool.request("GET", "http://b.com/", { signal: controller.signal });
    await Promise.resolve();
    // Releasing `busy` closes nothing yet; assignment gives b.com a fresh connection...
    await busy.aread();
    const closing = busy.aclose();
    // ...and the request aborts before that connection ever starts connecting.
    controller.abort();
    await closing;
    await expect(queued).rejects.toMatchObject({ name: "AbortError" });
    expect(reprs(pool).filter((c) => c.includes("CONNECTING"))).toEqual([]);
    expect(String(pool)).toMatch(/Requests: 0 active, 0 queued/);
  });
});
