// HTTP/2 inside workerd (Miniflare) over connect(): h2c with prior knowledge against node:http2
// and nghttpd runs the same scenarios as on Node. connect() negotiates no ALPN, so over TLS
// `http2: true` falls back to HTTP/1.1, and HTTP/2 only (`http1: false`) is a clear error.
import { describe, expect, inject, it } from "vitest";
import { AsyncCloudflareBackend } from "../../src/backends/cloudflare.js";
import { AsyncConnectionPool, UnsupportedProtocol } from "../../src/index.js";
import { type H2Target, h2Scenarios } from "../scenarios/h2-scenarios.js";
import { rejectsWith, reprs } from "../support/mock.js";

const h2Port = inject("h2Port");
const h2cPort = inject("h2cPort");
const nghttpdH2cPort = inject("nghttpdH2cPort");

const nghttpd: H2Target[] = [];
if (nghttpdH2cPort !== null) {
  nghttpd.push({
    name: "nghttpd h2c, 64 KiB windows, 10 streams",
    base: `http://127.0.0.1:${nghttpdH2cPort}`,
    options: { http1: false, http2: true },
  });
}

h2Scenarios({
  name: "workerd",
  backend: () => new AsyncCloudflareBackend(),
  ssl: null,
  node: [
    {
      name: "h2c prior knowledge",
      base: `http://127.0.0.1:${h2cPort}`,
      options: { http1: false, http2: true },
    },
  ],
  nghttpd,
});

describe("HTTP/2 over TLS in workerd (no ALPN)", () => {
  const H2 = `https://localhost:${h2Port}`;

  it("http2 with http1 falls back to HTTP/1.1 over TLS", async () => {
    await using p = new AsyncConnectionPool({
      networkBackend: new AsyncCloudflareBackend(),
      http2: true,
    });
    const r = await p.request("GET", `${H2}/session`);
    expect(r.extensions.httpVersion).toBe("HTTP/1.1");
    expect(r.json()).toMatchObject({ protocol: "HTTP/1.1" });
    expect(reprs(p)).toEqual([`<AsyncHTTPConnection ['${H2}', HTTP/1.1, IDLE, Request Count: 1]>`]);
  });

  it("HTTP/2 only over TLS is a clear UnsupportedProtocol: connect() has no ALPN", async () => {
    await using p = new AsyncConnectionPool({
      networkBackend: new AsyncCloudflareBackend(),
      http1: false,
      http2: true,
    });
    await rejectsWith(
      p.request("GET", `${H2}/session`),
      UnsupportedProtocol,
      /^HTTP\/2 over TLS to https:\/\/localhost:\d+ needs ALPN to negotiate "h2", and http1: false leaves no HTTP\/1\.1 fallback: .*connect\(\) negotiates no ALPN/,
    );
    expect(reprs(p)).toEqual([]);
  });
});
