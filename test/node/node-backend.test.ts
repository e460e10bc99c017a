import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server, Socket } from "node:net";
import { rootCertificates, TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { AsyncNetworkStream } from "../../src/backends/base.js";
import { AsyncNodeBackend, type AsyncNodeStream } from "../../src/backends/node.js";
import {
  ConnectError,
  ConnectTimeout,
  ReadError,
  ReadTimeout,
  WriteError,
  WriteTimeout,
} from "../../src/errors.js";

const backend = new AsyncNodeBackend();
const httpPort = inject("httpPort");
const httpsPort = inject("httpsPort");
const rawPort = inject("rawPort");
const udsPath = inject("udsPath");
const caPem = inject("caPem");
const clientCertPem = inject("clientCertPem");
const clientKeyPem = inject("clientKeyPem");

const encoder = new TextEncoder();

interface Reply {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Sends one HTTP/1.1 request and reads a Content-Length response (test helper, not a parser). */
async function roundTrip(
  stream: AsyncNetworkStream,
  path: string,
  opts: { method?: string; body?: Uint8Array; host?: string; readTimeout?: number | null } = {},
): Promise<Reply> {
  const body = opts.body ?? new Uint8Array(0);
  const head =
    `${opts.method ?? "GET"} ${path} HTTP/1.1\r\nHost: ${opts.host ?? "localhost"}\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;
  await stream.write(encoder.encode(head));
  await stream.write(body);
  let buf = Buffer.alloc(0);
  let headEnd = -1;
  while (headEnd < 0) {
    const chunk = await stream.read(65536, opts.readTimeout ?? 5);
    if (chunk.length === 0) throw new Error(`EOF before response head: ${buf}`);
    buf = Buffer.concat([buf, chunk]);
    headEnd = buf.indexOf("\r\n\r\n");
  }
  const lines = buf.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number((lines[0] ?? "").split(" ")[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? "0");
  const parts: Buffer[] = [buf.subarray(headEnd + 4)];
  let have = parts[0]?.length ?? 0;
  while (have < length) {
    const chunk = await stream.read(65536, opts.readTimeout ?? 5);
    if (chunk.length === 0) throw new Error("EOF in body");
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    have += chunk.length;
  }
  return { status, headers, body: Buffer.concat(parts) };
}

function pattern(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

/** A port nothing listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Whether this process trusts the test CA by default (`NODE_EXTRA_CA_CERTS=test/.certs/ca.pem`). */
function extraCaIsTestCa(): boolean {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  try {
    return path !== undefined && readFileSync(path, "utf8").includes(caPem.trim());
  } catch {
    return false;
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("AsyncNodeBackend over TCP", () => {
  it("does an HTTP/1.1 round trip and reuses the connection", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
    try {
      const reply = await roundTrip(stream, "/");
      expect(reply.status).toBe(200);
      expect(reply.body.toString()).toBe("Hello, world!");
      const first = await roundTrip(stream, "/conn");
      const second = await roundTrip(stream, "/conn");
      expect(first.body.toString()).toMatch(/^conn-\d+$/);
      expect(second.body.toString()).toBe(first.body.toString());

      expect(stream.getExtraInfo("server_addr")).toEqual(["127.0.0.1", httpPort]);
      const client = stream.getExtraInfo("client_addr") as [string, number];
      expect(client[0]).toBe("127.0.0.1");
      expect(Number.isInteger(client[1]) && client[1] > 0).toBe(true);
      expect(stream.getExtraInfo("ssl_object")).toBeNull();
      expect(stream.getExtraInfo("socket")).toBeInstanceOf(Socket);
      expect(stream.getExtraInfo("socket")).not.toBeInstanceOf(TLSSocket);
      expect(stream.getExtraInfo("no-such-key")).toBeNull();
      // The whole response was consumed and the server keeps the connection: not readable.
      expect(stream.getExtraInfo("is_readable")).toBe(false);
    } finally {
      await stream.aclose();
    }
  });

  it("returns at most maxBytes per read and keeps the rest", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort);
    try {
      await stream.write(encoder.encode("GET /bytes?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n"));
      const chunks: Uint8Array[] = [];
      let total = Buffer.alloc(0);
      for (;;) {
        const chunk = await stream.read(7, 5);
        chunks.push(chunk);
        total = Buffer.concat([total, chunk]);
        const headEnd = total.indexOf("\r\n\r\n");
        if (headEnd >= 0 && total.length - headEnd - 4 >= 1000) break;
      }
      expect(chunks.every((c) => c.length >= 1 && c.length <= 7)).toBe(true);
      const body = total.subarray(total.indexOf("\r\n\r\n") + 4);
      expect(body.equals(pattern(1000))).toBe(true);
    } finally {
      await stream.aclose();
    }
  });

  it("pauses the socket while more than 1 MiB is unread, then delivers every byte", async () => {
    const n = 16 * 1024 * 1024;
    const stream = await backend.connectTcp("127.0.0.1", httpPort);
    try {
      await stream.write(encoder.encode(`GET /stream?n=${n} HTTP/1.1\r\nHost: x\r\n\r\n`));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const socket = stream.getExtraInfo("socket") as Socket;
      expect(socket.isPaused()).toBe(true);

      const hash = createHash("sha256");
      let buf = Buffer.alloc(0);
      let headEnd = -1;
      while (headEnd < 0) {
        buf = Buffer.concat([buf, await stream.read(65536, 5)]);
        headEnd = buf.indexOf("\r\n\r\n");
      }
      let received = buf.length - headEnd - 4;
      hash.update(buf.subarray(headEnd + 4));
      while (received < n) {
        const chunk = await stream.read(1024 * 1024, 5);
        expect(chunk.length).toBeGreaterThan(0);
        hash.update(chunk);
        received += chunk.length;
      }
      expect(received).toBe(n);
      const expected = await roundTrip(stream, `/sha256?n=${n}`);
      expect(hash.digest("hex")).toBe(expected.body.toString());
    } finally {
      await stream.aclose();
    }
  });

  it("writes a large body (waiting for drain) and an empty write is a no-op", async () => {
    const body = pattern(8 * 1024 * 1024);
    const stream = await backend.connectTcp("127.0.0.1", httpPort);
    try {
      await expect(stream.write(new Uint8Array(0), 1)).resolves.toBeUndefined();
      const reply = await roundTrip(stream, "/upload", { method: "POST", body });
      expect(JSON.parse(reply.body.toString())).toEqual({
        bytes: body.length,
        sha256: createHash("sha256").update(body).digest("hex"),
      });
    } finally {
      await stream.aclose();
    }
  });

  it("applies socket options and rejects unknown ones", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort, {
      socketOptions: [{ noDelay: false }, { keepAlive: true, initialDelay: 30 }],
    });
    expect((await roundTrip(stream, "/")).status).toBe(200);
    await stream.aclose();

    const err = await rejection(
      backend.connectTcp("127.0.0.1", httpPort, { socketOptions: [{ foo: 1 }] }),
    );
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('socket option "foo" is not supported by the node backend');
    const orphan = await rejection(
      backend.connectTcp("127.0.0.1", httpPort, { socketOptions: [{ initialDelay: 1 }] }),
    );
    expect((orphan as Error).message).toBe(
      'socket option "initialDelay" needs "keepAlive" in the same object',
    );
  });

  it("binds to localAddress, over TCP and TLS", async () => {
    const plain = await backend.connectTcp("127.0.0.1", httpPort, { localAddress: "127.0.0.1" });
    expect((plain.getExtraInfo("client_addr") as [string, number])[0]).toBe("127.0.0.1");
    await plain.aclose();
    const secure = await backend.connectTcp("localhost", httpsPort, {
      localAddress: "127.0.0.1",
      tls: { ca: caPem },
    });
    expect((secure.getExtraInfo("client_addr") as [string, number])[0]).toBe("127.0.0.1");
    expect(secure.getExtraInfo("server_addr")).toEqual(["127.0.0.1", httpsPort]);
    await secure.aclose();
  });

  it("reports a refused connection", async () => {
    const port = await closedPort();
    const err = await rejection(backend.connectTcp("127.0.0.1", port, { timeout: 5 }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `could not connect to 127.0.0.1:${port} (connection refused)`,
    );
    expect(((err as Error).cause as { code: string }).code).toBe("ECONNREFUSED");
  });

  it("times out a read with the exact message and stays usable", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort);
    try {
      await stream.write(encoder.encode("GET /never HTTP/1.1\r\nHost: x\r\n\r\n"));
      const err = await rejection(stream.read(1024, 0.2));
      expect(err).toBeInstanceOf(ReadTimeout);
      expect((err as Error).message).toBe(`timed out reading from 127.0.0.1:${rawPort} after 0.2s`);
      // The reused timer fires again for the next timed read.
      const again = await rejection(stream.read(1024, 0.2));
      expect((again as Error).message).toBe(
        `timed out reading from 127.0.0.1:${rawPort} after 0.2s`,
      );
    } finally {
      await stream.aclose();
    }
  });

  it("does not time out an untimed read after a timed one completed", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort);
    try {
      expect((await roundTrip(stream, "/", { readTimeout: 0.3 })).status).toBe(200);
      const reply = await roundTrip(stream, "/slow?ms=600", { readTimeout: null });
      expect(reply.body.toString()).toBe("slow");
    } finally {
      await stream.aclose();
    }
  });

  it("times out a write when the peer stops reading", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort);
    try {
      await stream.write(encoder.encode("GET /never HTTP/1.1\r\nHost: x\r\n\r\n"));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const err = await rejection(stream.write(new Uint8Array(64 * 1024 * 1024), 0.3));
      expect(err).toBeInstanceOf(WriteTimeout);
      expect((err as Error).message).toBe(`timed out writing to 127.0.0.1:${rawPort} after 0.3s`);
    } finally {
      await stream.aclose();
    }
  });

  it("reports a connection reset as ReadError", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort);
    try {
      await stream.write(encoder.encode("GET /reset HTTP/1.1\r\nHost: x\r\n\r\n"));
      const err = await rejection(stream.read(1024, 5));
      expect(err).toBeInstanceOf(ReadError);
      expect((err as Error).message).toBe(`connection reset by 127.0.0.1:${rawPort}`);
      expect(stream.getExtraInfo("is_readable")).toBe(true);
    } finally {
      await stream.aclose();
    }
  });

  it("reads to EOF, then keeps returning an empty array", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort);
    try {
      await stream.write(encoder.encode("GET /eof-body HTTP/1.1\r\nHost: x\r\n\r\n"));
      let all = Buffer.alloc(0);
      for (;;) {
        const chunk = await stream.read(65536, 5);
        if (chunk.length === 0) break;
        all = Buffer.concat([all, chunk]);
      }
      expect(all.toString()).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-eof");
      expect((await stream.read(10, 1)).length).toBe(0);
    } finally {
      await stream.aclose();
    }
  });

  it("sees an idle keep-alive connection the server closed as readable (stale)", async () => {
    const stream = await backend.connectTcp("127.0.0.1", rawPort);
    try {
      const reply = await roundTrip(stream, "/stale");
      expect(reply.body.toString()).toBe("ok");
      const deadline = Date.now() + 2000;
      while (stream.getExtraInfo("is_readable") === false && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(stream.getExtraInfo("is_readable")).toBe(true);
      expect((await stream.read(10, 1)).length).toBe(0);
    } finally {
      await stream.aclose();
    }
  });

  it("rejects reads and writes after aclose, which is idempotent", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpPort);
    const pending = rejection(stream.read(1024));
    await expect(stream.aclose()).resolves.toBeUndefined();
    await expect(stream.aclose()).resolves.toBeUndefined();
    const pendingErr = await pending;
    expect(pendingErr).toBeInstanceOf(ReadError);
    expect((pendingErr as Error).message).toBe(
      `cannot read from 127.0.0.1:${httpPort}: connection closed`,
    );
    const readErr = await rejection(stream.read(1024));
    expect(readErr).toBeInstanceOf(ReadError);
    expect((readErr as Error).message).toBe(
      `cannot read from 127.0.0.1:${httpPort}: connection closed`,
    );
    const writeErr = await rejection(stream.write(encoder.encode("x")));
    expect(writeErr).toBeInstanceOf(WriteError);
    expect((writeErr as Error).message).toBe(
      `cannot write to 127.0.0.1:${httpPort}: connection closed`,
    );
    expect(stream.getExtraInfo("is_readable")).toBe(true);
    expect((stream.getExtraInfo("socket") as Socket).destroyed).toBe(true);
  });

  it("sleeps for the given number of seconds", async () => {
    const start = performance.now();
    await backend.sleep(0.05);
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
  });
});

describe("AsyncNodeBackend over IPv6", () => {
  let server: Server | undefined;
  let port = 0;

  beforeAll(async () => {
    const s = createServer((socket) => {
      socket.on("error", () => {});
      socket.on("data", () => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nipv6"));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "::1", resolve);
      });
      server = s;
      port = (s.address() as { port: number }).port;
    } catch {
      server = undefined; // no IPv6 loopback on this machine
    }
  });

  afterAll(async () => {
    if (server) await new Promise((resolve) => server?.close(resolve));
  });

  for (const host of ["::1", "[::1]"]) {
    it(`connects to ${host}`, async (ctx) => {
      if (!server) return ctx.skip("no IPv6 loopback");
      const stream = await backend.connectTcp(host, port, { timeout: 5 });
      try {
        const reply = await roundTrip(stream, "/", { host: "[::1]" });
        expect(reply.body.toString()).toBe("ipv6");
        expect(stream.getExtraInfo("server_addr")).toEqual(["::1", port]);
      } finally {
        await stream.aclose();
      }
    });
  }

  it("names IPv6 addresses in brackets in errors", async (ctx) => {
    if (!server) return ctx.skip("no IPv6 loopback");
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "::1", resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await rejection(backend.connectTcp("[::1]", closedPort));
    expect((err as Error).message).toBe(
      `could not connect to [::1]:${closedPort} (connection refused)`,
    );
  });
});

describe("AsyncNodeBackend with TLS", () => {
  it("connects with the test CA, negotiating http/1.1 via ALPN", async () => {
    const tls = Object.freeze({
      ca: caPem,
      alpnProtocols: Object.freeze(["http/1.1"]) as string[],
    });
    const stream = await backend.connectTcp("localhost", httpsPort, { tls, timeout: 5 });
    try {
      expect(stream.getExtraInfo("ssl_object")).toEqual({
        alpnProtocol: "http/1.1",
        version: "TLSv1.3",
      });
      expect(stream.getExtraInfo("socket")).toBeInstanceOf(TLSSocket);
      const reply = await roundTrip(stream, "/");
      expect(reply.status).toBe(200);
      expect(reply.body.toString()).toBe("Hello, world!");
      expect(tls).toEqual({ ca: caPem, alpnProtocols: ["http/1.1"] });
    } finally {
      await stream.aclose();
    }
  });

  it.runIf(extraCaIsTestCa())(
    "uses node's default trust store (NODE_EXTRA_CA_CERTS = the test CA) when no ca is given",
    async () => {
      const stream = await backend.connectTcp("localhost", httpsPort, { tls: {} });
      expect(stream.getExtraInfo("ssl_object")).toEqual({
        alpnProtocol: "http/1.1",
        version: "TLSv1.3",
      });
      await stream.aclose();
    },
  );

  it("verifies an IP address against the certificate (no SNI)", async () => {
    const stream = await backend.connectTcp("127.0.0.1", httpsPort, { tls: { ca: caPem } });
    try {
      expect((await roundTrip(stream, "/")).body.toString()).toBe("Hello, world!");
      expect((stream.getExtraInfo("socket") as TLSSocket).servername).toBe(false);
    } finally {
      await stream.aclose();
    }
  });

  it("fails when the certificate does not chain to a trusted CA", async () => {
    const otherCa = rootCertificates[0] as string; // a public root that did not sign the test cert
    const err = await rejection(
      backend.connectTcp("localhost", httpsPort, { tls: { ca: otherCa }, timeout: 5 }),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `could not connect to localhost:${httpsPort} (TLS handshake failed: self-signed certificate in certificate chain)`,
    );
    expect(((err as Error).cause as { code: string }).code).toBe("SELF_SIGNED_CERT_IN_CHAIN");
  });

  it("fails when the name does not match the certificate", async () => {
    const err = await rejection(
      backend.connectTcp("127.0.0.1", httpsPort, {
        tls: { ca: caPem, serverHostname: "example.com" },
      }),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `could not connect to 127.0.0.1:${httpsPort} (TLS handshake failed: Hostname/IP does not match certificate's altnames: Host: example.com. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1)`,
    );
  });

  it("connects to an untrusted server with rejectUnauthorized: false", async () => {
    const stream = await backend.connectTcp("localhost", httpsPort, {
      tls: { ca: rootCertificates[0] as string, rejectUnauthorized: false },
    });
    try {
      expect((await roundTrip(stream, "/")).body.toString()).toBe("Hello, world!");
    } finally {
      await stream.aclose();
    }
  });

  it("presents a client certificate (mTLS)", async () => {
    const withCert = await backend.connectTcp("localhost", httpsPort, {
      tls: { ca: caPem, cert: clientCertPem, key: clientKeyPem },
    });
    const without = await backend.connectTcp("localhost", httpsPort, { tls: { ca: caPem } });
    try {
      const a = JSON.parse((await roundTrip(withCert, "/echo")).body.toString());
      const b = JSON.parse((await roundTrip(without, "/echo")).body.toString());
      expect(a.clientCertSubject).toBe("httpcore2 test client");
      expect(b.clientCertSubject).toBeNull();
    } finally {
      await withCert.aclose();
      await without.aclose();
    }
  });

  it("times out a TLS handshake the server never answers", async () => {
    const start = performance.now();
    const err = await rejection(
      backend.connectTcp("127.0.0.1", rawPort, { tls: { ca: caPem }, timeout: 0.2 }),
    );
    expect(err).toBeInstanceOf(ConnectTimeout);
    expect((err as Error).message).toBe(`timed out connecting to 127.0.0.1:${rawPort} after 0.2s`);
    expect(performance.now() - start).toBeGreaterThanOrEqual(190);
  });

  it("rejects with the signal's reason when aborted during connect", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 50);
    const err = await rejection(
      backend.connectTcp("127.0.0.1", rawPort, { tls: { ca: caPem }, signal: controller.signal }),
    );
    expect(err).toBe(reason);

    const aborted = AbortSignal.abort(reason);
    expect(await rejection(backend.connectTcp("127.0.0.1", httpPort, { signal: aborted }))).toBe(
      reason,
    );
  });

  it("upgrades a plain TCP connection with startTls", async () => {
    const plain = await backend.connectTcp("127.0.0.1", httpsPort);
    const secure = await plain.startTls({ ca: caPem, serverHostname: "localhost", timeout: 5 });
    try {
      expect(secure.getExtraInfo("ssl_object")).toEqual({
        alpnProtocol: "http/1.1",
        version: "TLSv1.3",
      });
      expect((await roundTrip(secure, "/")).body.toString()).toBe("Hello, world!");
      const err = await rejection(plain.read(10));
      expect(err).toBeInstanceOf(ReadError);
      expect((err as Error).message).toBe(
        `cannot read from 127.0.0.1:${httpsPort}: the stream was upgraded to TLS`,
      );
    } finally {
      await secure.aclose();
    }
    // Closing the TLS stream closes the underlying TCP socket.
    expect((plain.getExtraInfo("socket") as Socket).destroyed).toBe(true);

    // Without serverHostname the connect address (an IP here) is verified.
    const plain2 = await backend.connectTcp("127.0.0.1", httpsPort);
    const secure2 = await plain2.startTls({ ca: caPem });
    expect((await roundTrip(secure2, "/")).status).toBe(200);
    await secure2.aclose();
  });

  it("closes the connection when startTls fails", async () => {
    const plain: AsyncNodeStream = await backend.connectTcp("127.0.0.1", httpsPort);
    const err = await rejection(
      plain.startTls({ ca: rootCertificates[0] as string, serverHostname: "localhost" }),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `could not connect to 127.0.0.1:${httpsPort} (TLS handshake failed: self-signed certificate in certificate chain)`,
    );
    expect((plain.getExtraInfo("socket") as Socket).destroyed).toBe(true);
  });

  it("times out startTls", async () => {
    const plain = await backend.connectTcp("127.0.0.1", rawPort);
    const err = await rejection(plain.startTls({ ca: caPem, timeout: 0.2 }));
    expect(err).toBeInstanceOf(ConnectTimeout);
    expect((err as Error).message).toBe(`timed out connecting to 127.0.0.1:${rawPort} after 0.2s`);
    expect((plain.getExtraInfo("socket") as Socket).destroyed).toBe(true);
  });
});

describe("AsyncNodeBackend over unix sockets", () => {
  it("does a round trip", async () => {
    const stream = await backend.connectUnixSocket(udsPath, { timeout: 5 });
    try {
      const reply = await roundTrip(stream, "/");
      expect(reply.body.toString()).toBe("Hello, world!");
      expect(stream.getExtraInfo("server_addr")).toBe(udsPath);
      expect(stream.getExtraInfo("client_addr")).toBeNull();
    } finally {
      await stream.aclose();
    }
  });

  it("names the path when it cannot connect", async () => {
    const path = `${udsPath}.missing`;
    const err = await rejection(backend.connectUnixSocket(path));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(`could not connect to ${path} (no such socket file)`);
  });
});
