// Pool options that only Node can honour, against the real local servers.
import { createHash } from "node:crypto";
import { rootCertificates } from "node:tls";
import { describe, expect, inject, it } from "vitest";
import { AsyncNodeBackend } from "../../src/backends/node.js";
import {
  AsyncConnectionPool,
  type AsyncHTTPConnection,
  ConnectError,
  type PoolOptions,
  ReadTimeout,
  RemoteProtocolError,
} from "../../src/index.js";
import { rejectsWith, reprs } from "../support/mock.js";

const httpPort = inject("httpPort");
const httpsPort = inject("httpsPort");
const rawPort = inject("rawPort");
const ca = inject("caPem");
const http = `http://127.0.0.1:${httpPort}`;
const raw = `http://127.0.0.1:${rawPort}`;
const MiB = 1024 * 1024;
const pool = (options: PoolOptions = {}) =>
  new AsyncConnectionPool({ networkBackend: new AsyncNodeBackend(), ...options });

describe("Node pool options", () => {
  it("uds: every request goes through the unix socket", async () => {
    await using p = pool({ uds: inject("udsPath") });
    const r = await p.request("GET", "http://localhost/");
    expect(r.text()).toBe("Hello, world!");
    expect(reprs(p)).toEqual([
      "<AsyncHTTPConnection ['http://localhost:80', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
  });

  it("localAddress binds the client side", async () => {
    await using p = pool({ localAddress: "127.0.0.1" });
    await using _response = await p.stream("GET", `${http}/`);
    const stream = (p.connections[0] as AsyncHTTPConnection).connection?.stream;
    const clientAddr = stream?.getExtraInfo("client_addr") as [string, number] | undefined;
    expect(clientAddr?.[0]).toBe("127.0.0.1");
  });

  it("socketOptions are applied, and unknown ones refused by name", async () => {
    await using p = pool({
      socketOptions: [{ noDelay: true }, { keepAlive: true, initialDelay: 30 }],
    });
    expect((await p.request("GET", `${http}/`)).status).toBe(200);
    await using bad = pool({ socketOptions: [{ reuseAddress: true }] });
    await rejectsWith(
      bad.request("GET", `${http}/`),
      TypeError,
      'socket option "reuseAddress" is not supported by the node backend',
    );
    expect(reprs(bad)).toEqual([]);
  });

  it("ssl.cert/key present a client certificate", async () => {
    await using p = pool({
      ssl: { ca, cert: inject("clientCertPem"), key: inject("clientKeyPem") },
    });
    const r = await p.request("GET", `https://localhost:${httpsPort}/echo`);
    expect((r.json() as { clientCertSubject: string }).clientCertSubject).toBe(
      "httpcore2 test client",
    );
  });

  it("ssl.rejectUnauthorized: false accepts an untrusted certificate; verification is on by default", async () => {
    await using lax = pool({ ssl: { rejectUnauthorized: false, ca: [] } });
    expect((await lax.request("GET", `https://localhost:${httpsPort}/`)).status).toBe(200);
    // A public root that did not sign the test certificate.
    await using strict = pool({ ssl: { ca: rootCertificates[0] } });
    await rejectsWith(
      strict.request("GET", `https://localhost:${httpsPort}/`),
      ConnectError,
      new RegExp(`^could not connect to localhost:${httpsPort} \\(TLS handshake failed: `),
    );
    expect(reprs(strict)).toEqual([]);
  });

  it("never mutates the caller's TLS options", async () => {
    const ssl = Object.freeze({ ca });
    await using p = pool({ ssl });
    expect((await p.request("GET", `https://localhost:${httpsPort}/`)).status).toBe(200);
    expect(Object.keys(ssl)).toEqual(["ca"]);
  });

  it("sniHostname is the name TLS verifies", async () => {
    await using p = pool({ ssl: { ca } });
    // The certificate covers localhost and 127.0.0.1 but not this name, so verification must fail.
    await rejectsWith(
      p.request("GET", `https://127.0.0.1:${httpsPort}/`, {
        extensions: { sniHostname: "other.invalid" },
      }),
      ConnectError,
      /TLS handshake failed: Hostname\/IP does not match certificate's altnames/,
    );
    expect(
      (
        await p.request("GET", `https://127.0.0.1:${httpsPort}/`, {
          extensions: { sniHostname: "localhost" },
        })
      ).status,
    ).toBe(200);
  });

  it("maxHeaderSize raises the response-head limit", async () => {
    await using small = pool();
    await rejectsWith(
      small.request("GET", `${raw}/big-head?kb=100`),
      RemoteProtocolError,
      /65536-byte limit/,
    );
    await using big = pool({ maxHeaderSize: 200 * 1024 });
    expect((await big.request("GET", `${raw}/big-head?kb=100`)).status).toBe(200);
  });

  it("a 64 MiB body arrives intact (sha256)", async () => {
    await using p = pool();
    const expected = (await p.request("GET", `${http}/sha256?n=${64 * MiB}`)).text();
    const r = await p.request("GET", `${http}/bytes?n=${64 * MiB}`);
    expect(r.content.length).toBe(64 * MiB);
    expect(createHash("sha256").update(r.content).digest("hex")).toBe(expected);
  });

  it("a 16 MiB upload arrives intact (sha256)", async () => {
    await using p = pool();
    const body = new Uint8Array(16 * MiB).map((_, i) => i % 251);
    const r = await p.request("POST", `${http}/upload`, { content: body });
    expect(r.json()).toEqual({
      bytes: 16 * MiB,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
  });

  it("a slow drip between body chunks hits the read timeout", async () => {
    await using p = pool();
    await using r = await p.stream("GET", `${http}/drip?n=5&ms=400`, {
      extensions: { timeout: { read: 0.1 } },
    });
    await rejectsWith(
      r.aread(),
      ReadTimeout,
      `timed out reading from 127.0.0.1:${httpPort} after 0.1s`,
    );
    expect(reprs(p)).toEqual([]);
  });

  it("a server that sends an unsolicited response never gets that connection reused", async () => {
    await using p = pool();
    expect((await p.request("GET", `${raw}/poison`)).status).toBe(200);
    expect(reprs(p)).toEqual([]);
    expect((await p.request("GET", `${raw}/ok`)).status).toBe(200);
  });

  it("retries a refused connection with backoff, then reports it", async () => {
    await using p = pool({ retries: 2 });
    const events: string[] = [];
    await rejectsWith(
      p.request("GET", "http://127.0.0.1:1/", {
        extensions: { trace: (name) => void events.push(name) },
      }),
      ConnectError,
      "could not connect to 127.0.0.1:1 (connection refused)",
    );
    expect(events.filter((e) => e === "connection.connect_tcp.failed").length).toBe(3);
    expect(events.filter((e) => e === "connection.retry.complete").length).toBe(2);
    expect(reprs(p)).toEqual([]);
  });
});
