// The Cloudflare backend inside workerd (Miniflare), against the real local test servers.
// Ports come from the root globalSetup through vitest's `inject`, which works inside workerd.
// TLS trusts the test CA because NODE_EXTRA_CA_CERTS=test/.certs/ca.pem is set before Miniflare starts.

import { describe, expect, inject, it } from "vitest";
import type { AsyncNetworkStream } from "../../src/backends/base.js";
import { AsyncCloudflareBackend } from "../../src/backends/cloudflare.js";
import {
  ConnectError,
  ConnectTimeout,
  ReadError,
  ReadTimeout,
  UnsupportedProtocol,
  WriteError,
  WriteTimeout,
} from "../../src/errors.js";

const httpPort = inject("httpPort");
const httpsPort = inject("httpsPort");
const rawPort = inject("rawPort");
const backend = new AsyncCloudflareBackend();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function request(path: string, close = true): Uint8Array {
  const connection = close ? "Connection: close\r\n" : "";
  return encoder.encode(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n${connection}\r\n`);
}

/** Reads until EOF and returns everything. */
async function readAll(stream: AsyncNetworkStream, maxBytes = 65536): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = await stream.read(maxBytes, 5);
    if (chunk.byteLength === 0) break;
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads until `text` has arrived (keep-alive responses never reach EOF). */
async function readUntil(stream: AsyncNetworkStream, text: string): Promise<string> {
  let got = "";
  while (!got.includes(text)) {
    const chunk = await stream.read(65536, 5);
    if (chunk.byteLength === 0) throw new Error(`EOF before ${JSON.stringify(text)}: ${got}`);
    got += decoder.decode(chunk);
  }
  return got;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

function bodyOf(response: Uint8Array): Uint8Array {
  for (let i = 0; i + 3 < response.byteLength; i++) {
    if (response[i] === 13 && response[i + 1] === 10 && response[i + 2] === 13) {
      if (response[i + 3] === 10) return response.subarray(i + 4);
    }
  }
  throw new Error("no end of head");
}

describe("AsyncCloudflareBackend: connections", () => {
  it("does an HTTP/1.1 round trip over plain TCP", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
    await stream.write(request("/"), 5);
    const text = decoder.decode(await readAll(stream));
    expect(text.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(text).toMatch(/\r\ncontent-length: 13\r\n/i);
    expect(text.endsWith("\r\n\r\nHello, world!")).toBe(true);
    expect(stream.getExtraInfo("ssl_object")).toBeNull();
    expect(stream.getExtraInfo("server_addr")).toEqual(["127.0.0.1", httpPort]);
    expect(stream.getExtraInfo("client_addr")).toBeNull();
    expect(stream.getExtraInfo("socket")).toBeTypeOf("object");
    expect(stream.getExtraInfo("nope")).toBeNull();
    await stream.aclose();
  });

  it("reuses one connection for two requests (keep-alive)", async () => {
    const stream = await backend.connectTcp("localhost", httpPort, { timeout: 5 });
    await stream.write(request("/conn", false), 5);
    const first = await readUntil(stream, "conn-");
    await stream.write(request("/conn", false), 5);
    const second = await readUntil(stream, "conn-");
    const id = (text: string) => /conn-\d+/.exec(text)?.[0];
    expect(id(first)).toBeDefined();
    expect(id(second)).toBe(id(first));
    expect(stream.getExtraInfo("is_readable")).toBe(false);
    await stream.aclose();
  });

  it("reads large bodies byte-exactly with large and small reads", async () => {
    const n = 300_000;
    for (const maxBytes of [65536, 1000, 100_000]) {
      const stream = await backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
      await stream.write(request(`/bytes?n=${n}`), 5);
      const chunks: Uint8Array[] = [];
      for (;;) {
        const chunk = await stream.read(maxBytes, 5);
        if (chunk.byteLength === 0) break;
        expect(chunk.byteLength).toBeLessThanOrEqual(maxBytes);
        chunks.push(chunk);
      }
      // Checked only at the end: a recycled buffer would have overwritten earlier chunks.
      const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.byteLength, 0));
      let offset = 0;
      for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.byteLength;
      }
      const body = bodyOf(all);
      expect(body.byteLength).toBe(n);
      let bad = -1;
      for (let i = 0; i < n; i++) {
        if (body[i] !== i % 251) {
          bad = i;
          break;
        }
      }
      expect(bad).toBe(-1);
      await stream.aclose();
    }
  });

  it("accepts IPv6 literals with or without brackets", async () => {
    // workerd refuses a bare "::1"; the backend brackets it. Whether ::1 is served depends on the
    // test servers, so only the address handling is checked: both spellings behave the same.
    const outcomes = [];
    for (const host of ["::1", "[::1]"]) {
      try {
        const stream = await backend.connectTcp(host, httpPort, { timeout: 5 });
        await stream.write(request("/"), 5);
        outcomes.push(decoder.decode(await readAll(stream)).endsWith("Hello, world!"));
        expect(stream.getExtraInfo("server_addr")).toEqual([host, httpPort]);
        await stream.aclose();
      } catch (err) {
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as Error).message).toBe(
          `could not connect to [::1]:${httpPort} (connection refused, host unreachable or blocked)`,
        );
        outcomes.push("refused");
      }
    }
    expect(outcomes[0]).toBe(outcomes[1]);
  });

  it("speaks direct TLS to the https server", async () => {
    const stream = await backend.connectTcp("localhost", httpsPort, {
      timeout: 5,
      tls: { alpnProtocols: ["h2", "http/1.1"], serverHostname: "localhost" },
    });
    expect(stream.getExtraInfo("ssl_object")).toEqual({ alpnProtocol: null, version: null });
    await stream.write(request("/"), 5);
    const text = decoder.decode(await readAll(stream));
    expect(text.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(text.endsWith("Hello, world!")).toBe(true);
    await stream.aclose();
  });

  it("upgrades a plain connection with startTls()", async () => {
    const plain = await backend.connectTcp("localhost", httpsPort, { timeout: 5 });
    expect(plain.getExtraInfo("ssl_object")).toBeNull();
    const tls = await plain.startTls({ timeout: 5, alpnProtocols: ["http/1.1"] });
    expect(tls.getExtraInfo("ssl_object")).toEqual({ alpnProtocol: null, version: null });
    await tls.write(request("/"), 5);
    expect(decoder.decode(await readAll(tls)).endsWith("Hello, world!")).toBe(true);

    const err = await rejection(plain.read(10, 1));
    expect(err).toBeInstanceOf(ReadError);
    expect((err as Error).message).toBe(
      `could not read from localhost:${httpsPort}: the stream was upgraded to TLS; use the stream startTls() returned`,
    );
    await plain.aclose(); // closing the old stream does not touch the upgraded one
    await tls.aclose();
  });

  it("startTls() after a plain request and times out the handshake", async () => {
    const plain = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    await plain.write(request("/ok", false), 5);
    expect(await readUntil(plain, "\r\n\r\nok")).toContain("200 OK");
    // The raw server reads a ClientHello and never answers it.
    const err = await rejection(plain.startTls({ timeout: 0.3 }));
    expect(err).toBeInstanceOf(ConnectTimeout);
    expect((err as Error).message).toBe(
      `timed out starting TLS with 127.0.0.1:${rawPort} after 0.3s`,
    );
    await plain.aclose();
  });

  it("maps a failed TLS handshake in startTls() to ConnectError", async () => {
    // The plain http server answers the ClientHello with an HTTP 400: the handshake fails.
    const plain = await backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
    const err = await rejection(plain.startTls({ timeout: 5 }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `could not start TLS with 127.0.0.1:${httpPort} (TLS handshake failed)`,
    );
    await plain.aclose();
  });

  it("refuses TLS inside TLS", async () => {
    const stream = await backend.connectTcp("localhost", httpsPort, { timeout: 5, tls: {} });
    const err = await rejection(stream.startTls({}));
    expect(err).toBeInstanceOf(UnsupportedProtocol);
    expect((err as Error).message).toBe(
      `the cloudflare backend cannot start TLS inside TLS with localhost:${httpsPort}: connect() offers one TLS layer per socket`,
    );
    await stream.aclose();
  });
});

describe("AsyncCloudflareBackend: failures and timeouts", () => {
  it("maps a refused connection to ConnectError", async () => {
    const err = await rejection(backend.connectTcp("127.0.0.1", 1, { timeout: 5 }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      "could not connect to 127.0.0.1:1 (connection refused, host unreachable or blocked)",
    );
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it("says TLS may be the cause when a TLS dial fails", async () => {
    // Plain HTTP on the other end: workerd reports it with the same generic error as a refusal.
    const err = await rejection(backend.connectTcp("127.0.0.1", httpPort, { timeout: 5, tls: {} }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `could not connect to 127.0.0.1:${httpPort} (connection refused, host unreachable, blocked or TLS handshake failed)`,
    );
  });

  it("maps an address workerd cannot parse to ConnectError", async () => {
    const err = await rejection(backend.connectTcp("bad host", 80, { timeout: 5 }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      "could not connect to bad host:80 (Specified address is empty string, contains unsupported characters or is too long.)",
    );
  });

  it("times out a TLS handshake nobody answers with ConnectTimeout", async () => {
    const started = Date.now();
    const err = await rejection(
      backend.connectTcp("127.0.0.1", rawPort, { timeout: 0.5, tls: {} }),
    );
    expect(err).toBeInstanceOf(ConnectTimeout);
    expect((err as Error).message).toBe(`timed out connecting to 127.0.0.1:${rawPort} after 0.5s`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("times out a read with ReadTimeout and closes the stream", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    await stream.write(request("/never"), 5);
    const err = await rejection(stream.read(1024, 0.2));
    expect(err).toBeInstanceOf(ReadTimeout);
    expect((err as Error).message).toBe(`timed out reading from 127.0.0.1:${rawPort} after 0.2s`);
    const again = await rejection(stream.read(1024, 0.2));
    expect(again).toBeInstanceOf(ReadError);
    expect((again as Error).message).toBe(
      `could not read from 127.0.0.1:${rawPort}: the stream was closed after a read timed out`,
    );
    expect(stream.getExtraInfo("is_readable")).toBe(true);
    await stream.aclose();
  });

  it("times out a write the peer never drains with WriteTimeout", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    // /never stops reading, so the kernel buffers fill up and a write eventually blocks.
    await stream.write(request("/never", false), 5);
    const chunk = new Uint8Array(1024 * 1024);
    let err: unknown;
    for (let i = 0; i < 256 && err === undefined; i++) {
      err = await stream.write(chunk, 0.3).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(err).toBeInstanceOf(WriteTimeout);
    expect((err as Error).message).toBe(`timed out writing to 127.0.0.1:${rawPort} after 0.3s`);
    const again = await rejection(stream.write(chunk, 0.3));
    expect(again).toBeInstanceOf(WriteError);
    expect((again as Error).message).toBe(
      `could not write to 127.0.0.1:${rawPort}: the stream was closed after a write timed out`,
    );
    await stream.aclose();
  });

  it("returns an empty read at EOF", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    await stream.write(request("/stale-immediate", false), 5);
    const text = decoder.decode(await readAll(stream));
    expect(text.endsWith("\r\n\r\nok")).toBe(true);
    expect((await stream.read(100, 1)).byteLength).toBe(0);
    expect(stream.getExtraInfo("is_readable")).toBe(true);
    await stream.aclose();
  });

  it("reports a stale keep-alive connection as readable", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    await stream.write(request("/stale", false), 5);
    await readUntil(stream, "\r\n\r\nok");
    await backend.sleep(0.1); // the server closes 20 ms after answering
    // The first query starts a background read (socket.closed does not settle on a peer's EOF
    // until someone reads); its result shows up shortly after.
    let readable = stream.getExtraInfo("is_readable");
    for (let i = 0; i < 50 && !readable; i++) {
      await backend.sleep(0.01);
      readable = stream.getExtraInfo("is_readable");
    }
    expect(readable).toBe(true);
    expect((await stream.read(100, 1)).byteLength).toBe(0);
    await stream.aclose();
  });

  it("keeps bytes a background read found for the next read()", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    expect(stream.getExtraInfo("is_readable")).toBe(false); // starts a background read
    await stream.write(request("/ok", false), 5);
    let readable = stream.getExtraInfo("is_readable");
    for (let i = 0; i < 100 && !readable; i++) {
      await backend.sleep(0.01);
      readable = stream.getExtraInfo("is_readable");
    }
    expect(readable).toBe(true);
    let text = "";
    for (;;) {
      const chunk = await stream.read(7, 1); // smaller than what was read in the background
      expect(chunk.byteLength).toBeLessThanOrEqual(7);
      text += decoder.decode(chunk);
      if (text.endsWith("\r\n\r\nok")) break;
    }
    expect(text.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    await stream.aclose();
  });

  it("maps a connection reset to ReadError", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    await stream.write(request("/reset", false), 5);
    const err = await rejection(stream.read(100, 5));
    expect(err).toBeInstanceOf(ReadError);
    expect((err as Error).message).toMatch(
      new RegExp(`^could not read from 127\\.0\\.0\\.1:${rawPort} \\(.+\\)$`),
    );
    await stream.aclose();
  });
});

describe("AsyncCloudflareBackend: cancellation and closing", () => {
  it("rejects with the signal's reason when aborted mid-connect", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 50);
    const err = await rejection(
      backend.connectTcp("127.0.0.1", rawPort, {
        timeout: 5,
        tls: {},
        signal: controller.signal,
      }),
    );
    expect(err).toBe(reason);
  });

  it("rejects at once with an already-aborted signal", async () => {
    const err = await rejection(
      backend.connectTcp("127.0.0.1", httpPort, { signal: AbortSignal.abort() }),
    );
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe("AbortError");
  });

  it("aclose() is idempotent and later reads and writes fail", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
    await Promise.all([stream.aclose(), stream.aclose()]);
    await stream.aclose();
    const readErr = await rejection(stream.read(10, 1));
    expect(readErr).toBeInstanceOf(ReadError);
    expect((readErr as Error).message).toBe(
      `could not read from 127.0.0.1:${httpPort}: the stream is closed`,
    );
    const writeErr = await rejection(stream.write(request("/"), 1));
    expect(writeErr).toBeInstanceOf(WriteError);
    expect((writeErr as Error).message).toBe(
      `could not write to 127.0.0.1:${httpPort}: the stream is closed`,
    );
    expect(stream.getExtraInfo("is_readable")).toBe(true);
  });

  it("aclose() during a pending read makes that read fail with ReadError", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort, { timeout: 5 });
    await stream.write(request("/never"), 5);
    const pending = rejection(stream.read(100, 5));
    await backend.sleep(0.05);
    await stream.aclose();
    const err = await pending;
    expect(err).toBeInstanceOf(ReadError);
    expect((err as Error).message).toBe(
      `could not read from 127.0.0.1:${rawPort}: the stream is closed`,
    );
  });

  it("sleeps", async () => {
    const started = Date.now();
    await backend.sleep(0.05);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });
});

describe("AsyncCloudflareBackend: options connect() cannot honour", () => {
  // Port 1 is closed: if any of these dialled, the error would be a ConnectError instead.
  const cases: [string, Parameters<AsyncCloudflareBackend["connectTcp"]>[2], string][] = [
    [
      "localAddress",
      { localAddress: "127.0.0.1" },
      'the cloudflare backend cannot honour the "localAddress" option: connect() has no source address',
    ],
    [
      "socketOptions",
      { socketOptions: [{ noDelay: true }] },
      'the cloudflare backend cannot honour the "socketOptions.noDelay" option: connect() exposes no socket options (no setNoDelay/setKeepAlive)',
    ],
    [
      "tls.ca",
      { tls: { ca: "-----BEGIN CERTIFICATE-----" } },
      `the cloudflare backend cannot honour the "tls.ca" option: connect() trusts only the runtime's CA store (in Miniflare, add a CA through NODE_EXTRA_CA_CERTS)`,
    ],
    [
      "tls.cert",
      { tls: { cert: "pem", key: "pem" } },
      'the cloudflare backend cannot honour the "tls.cert" option: connect() cannot present a client certificate',
    ],
    [
      "tls.key",
      { tls: { key: "pem" } },
      'the cloudflare backend cannot honour the "tls.key" option: connect() cannot present a client certificate',
    ],
    [
      "tls.rejectUnauthorized",
      { tls: { rejectUnauthorized: false } },
      'the cloudflare backend cannot honour the "tls.rejectUnauthorized" option: connect() always verifies the server certificate and cannot turn verification off',
    ],
    [
      "tls.alpnProtocols",
      { tls: { alpnProtocols: ["h2"] } },
      'the cloudflare backend cannot honour the "tls.alpnProtocols" option: connect() negotiates no ALPN, so TLS connections speak HTTP/1.1 only, which ["h2"] does not offer',
    ],
    [
      "tls.serverHostname",
      { tls: { serverHostname: "example.com" } },
      'the cloudflare backend cannot honour the "tls.serverHostname" option: connect() sends SNI for and verifies the certificate against the dialled host "127.0.0.1" only, not "example.com"',
    ],
  ];

  for (const [name, opts, message] of cases) {
    it(`refuses ${name} before dialling`, async () => {
      const err = await rejection(backend.connectTcp("127.0.0.1", 1, opts));
      expect(err).toBeInstanceOf(UnsupportedProtocol);
      expect((err as Error).message).toBe(message);
    });
  }

  it("accepts what it can honour: empty socketOptions, rejectUnauthorized: true, ALPN with http/1.1", async () => {
    const stream = await backend.connectTcp("localhost", httpsPort, {
      timeout: 5,
      socketOptions: [],
      localAddress: null,
      tls: {
        rejectUnauthorized: true,
        alpnProtocols: ["h2", "http/1.1"],
        serverHostname: "LOCALHOST",
      },
    });
    await stream.aclose();
  });

  it("refuses the same TLS options in startTls()", async () => {
    const plain = await backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
    const err = await rejection(plain.startTls({ ca: "pem" }));
    expect(err).toBeInstanceOf(UnsupportedProtocol);
    expect((err as Error).message).toBe(
      `the cloudflare backend cannot honour the "tls.ca" option: connect() trusts only the runtime's CA store (in Miniflare, add a CA through NODE_EXTRA_CA_CERTS)`,
    );
    const sni = await rejection(plain.startTls({ serverHostname: "localhost" }));
    expect(sni).toBeInstanceOf(UnsupportedProtocol);
    // The refused options left the plain stream usable.
    await plain.write(request("/"), 5);
    expect(decoder.decode(await readAll(plain)).endsWith("Hello, world!")).toBe(true);
    await plain.aclose();
  });

  it("refuses unix sockets", async () => {
    const err = await rejection(backend.connectUnixSocket("/tmp/x.sock", {}));
    expect(err).toBeInstanceOf(UnsupportedProtocol);
    expect((err as Error).message).toBe(
      'the cloudflare backend cannot honour the "uds" option: connect() has no unix sockets',
    );
  });
});
