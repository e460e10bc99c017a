import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  AsyncHTTPConnection,
  AsyncMockBackend,
  AsyncMockStream,
  type AsyncNetworkStream,
  ConnectError,
  Origin,
  RemoteProtocolError,
  Request,
  WriteError,
} from "../../src/index.js";
import { HELLO, rejectsWith } from "../support/mock.js";

/** Fails the first `failures` connects (and/or TLS upgrades) with ConnectError. */
class FlakyBackend extends AsyncMockBackend {
  constructor(
    private connectFailures: number,
    public tlsFailures = 0,
  ) {
    super(HELLO);
  }
  readonly sleeps: number[] = [];
  override async connectTcp(host: string, port: number): Promise<AsyncNetworkStream> {
    if (this.connectFailures-- > 0)
      throw new ConnectError(`could not connect to ${host}:${port} (connection refused)`);
    return new FlakyTlsStream(this);
  }
  override async sleep(seconds: number): Promise<void> {
    this.sleeps.push(seconds);
  }
}

class FlakyTlsStream extends AsyncMockStream {
  constructor(private backend: FlakyBackend) {
    super(HELLO);
  }
  override async startTls(): Promise<AsyncNetworkStream> {
    if (this.backend.tlsFailures-- > 0) throw new ConnectError("TLS handshake failed");
    return this;
  }
}

/** A stream whose writes fail after `limit` bytes, then serves `responses`. */
class WriteLimitStream extends AsyncMockStream {
  #written = 0;
  constructor(
    responses: string[],
    private limit: number,
  ) {
    super(responses);
  }
  override async write(data: Uint8Array): Promise<void> {
    this.#written += data.length;
    if (this.#written > this.limit) throw new WriteError("connection reset by peer");
  }
}

const origin = new Origin("https", "example.com", 443);

describe("AsyncHTTPConnection", () => {
  it("shows CONNECTING, then the HTTP/1.1 state", async () => {
    const connection = new AsyncHTTPConnection(origin, {
      networkBackend: new AsyncMockBackend(HELLO),
    });
    expect(String(connection)).toBe("<AsyncHTTPConnection [CONNECTING]>");
    expect([
      connection.isIdle(),
      connection.isClosed(),
      connection.isAvailable(),
      connection.hasExpired(),
    ]).toEqual([false, false, false, false]);
    const r = await connection.handleAsyncRequest(new Request("GET", "https://example.com/"));
    expect(String(connection)).toBe(
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>",
    );
    await r.aread();
    await r.aclose();
    expect(String(connection)).toBe(
      "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    );
  });

  it("retries connects with exponential backoff 0, 0.5, 1 s", async () => {
    const backend = new FlakyBackend(3);
    const pool = new AsyncConnectionPool({ networkBackend: backend, retries: 3 });
    expect((await pool.request("GET", "https://example.com/")).status).toBe(200);
    expect(backend.sleeps).toEqual([0, 0.5, 1]);
  });

  it("retries failed TLS handshakes too", async () => {
    const backend = new FlakyBackend(0, 2);
    const pool = new AsyncConnectionPool({ networkBackend: backend, retries: 2 });
    expect((await pool.request("GET", "https://example.com/")).status).toBe(200);
  });

  it("without retries the ConnectError reaches the caller and nothing stays in the pool", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new FlakyBackend(1) });
    await rejectsWith(
      pool.request("GET", "https://example.com/"),
      ConnectError,
      "could not connect to example.com:443 (connection refused)",
    );
    expect(pool.connections).toEqual([]);
  });

  it("returns an early response when the server stops reading the body (413)", async () => {
    const stream = new WriteLimitStream(
      [
        "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 37\r\n\r\nRequest body exceeded 1,000,000 bytes",
      ],
      1_000_000,
    );
    const backend = Object.assign(new AsyncMockBackend([]), { connectTcp: async () => stream });
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    async function* body() {
      for (let i = 0; i < 100; i++) yield new Uint8Array(100_000);
    }
    const r = await pool.request("POST", "https://example.com/", { content: body() });
    expect(r.status).toBe(413);
    expect(r.text()).toBe("Request body exceeded 1,000,000 bytes");
    expect(pool.connections).toEqual([]);
  });

  it("a write error with no response is 'Server disconnected without sending a response.'", async () => {
    const stream = new WriteLimitStream([], 1_000_000);
    const backend = Object.assign(new AsyncMockBackend([]), { connectTcp: async () => stream });
    const pool = new AsyncConnectionPool({ networkBackend: backend });
    await rejectsWith(
      pool.request("POST", "https://example.com/", { content: new Uint8Array(10_000_000) }),
      RemoteProtocolError,
      "Server disconnected without sending a response. (origin: https://example.com:443)",
    );
  });

  it("connects through a unix socket when uds is set", async () => {
    const backend = new AsyncMockBackend(HELLO);
    const pool = new AsyncConnectionPool({ networkBackend: backend, uds: "/tmp/example.sock" });
    await pool.request("GET", "http://example.com/");
    expect(backend.connects).toEqual([["/tmp/example.sock"]]);
  });
});

describe("trace extension", () => {
  it("emits httpcore's events in order", async () => {
    const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(HELLO) });
    const events: string[] = [];
    await pool.request("GET", "https://example.com/", {
      extensions: { trace: async (name) => void events.push(name) },
    });
    expect(events).toEqual([
      "connection.connect_tcp.started",
      "connection.connect_tcp.complete",
      "connection.start_tls.started",
      "connection.start_tls.complete",
      "http11.send_request_headers.started",
      "http11.send_request_headers.complete",
      "http11.send_request_body.started",
      "http11.send_request_body.complete",
      "http11.receive_response_headers.started",
      "http11.receive_response_headers.complete",
      "http11.receive_response_body.started",
      "http11.receive_response_body.complete",
      "http11.response_closed.started",
      "http11.response_closed.complete",
    ]);
  });

  it("reports failures", async () => {
    const pool = new AsyncConnectionPool({
      networkBackend: new AsyncMockBackend(["Wait, this isn't valid HTTP!"]),
    });
    const events: string[] = [];
    await expect(
      pool.request("GET", "http://example.com/", {
        extensions: { trace: (name) => void events.push(name) },
      }),
    ).rejects.toBeInstanceOf(RemoteProtocolError);
    expect(events.slice(-3)).toEqual([
      "http11.receive_response_headers.failed",
      "http11.response_closed.started",
      "http11.response_closed.complete",
    ]);
    expect(pool.connections).toEqual([]);
  });
});
