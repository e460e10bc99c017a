// The pool through real proxies from Debian (squid, tinyproxy, microsocks, dante), all on
// 127.0.0.1 and started by test/servers/global-setup.ts, in front of the local test servers.
import { createServer, type Server, type Socket } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AsyncNodeBackend } from "../../src/backends/node.js";
import {
  AsyncConnectionPool,
  ConnectError,
  ConnectTimeout,
  Proxy as HTTPProxy,
  type PoolOptions,
  ProxyError,
  type Response,
} from "../../src/index.js";
import type { EchoBody } from "../servers/handler.js";
import { rejectsWith, reprs } from "../support/mock.js";

const httpPort = inject("httpPort");
const httpsPort = inject("httpsPort");
const ca = inject("caPem");
const [user, password] = inject("proxyAuth");
const deadPort = inject("deadPort");
const HTTP = `http://127.0.0.1:${httpPort}`;
const HTTPS = `https://localhost:${httpsPort}`;
const EMPTY =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";

const pool = (proxy: PoolOptions["proxy"], options: PoolOptions = {}) =>
  new AsyncConnectionPool({
    networkBackend: new AsyncNodeBackend(),
    ssl: { ca },
    proxy,
    ...options,
  });

const echo = (r: Response) => r.json() as EchoBody;
const headerNames = (r: Response) => echo(r).headers.map(([n]) => n.toLowerCase());

/** Fails if the password or its Basic encoding appears in `values` (strings, errors, pools). */
function expectNoSecrets(...values: unknown[]): void {
  const basic = Buffer.from(`${user}:${password}`).toString("base64");
  const wrong = Buffer.from(`${user}:wrong-${password}`).toString("base64");
  for (const value of values) {
    const texts =
      value instanceof Error
        ? [value.message, String(value), String(value.stack), inspect(value)]
        : value instanceof AsyncConnectionPool
          ? [String(value), ...reprs(value), JSON.stringify(value.connections)]
          : [String(value), inspect(value)];
    for (const text of texts) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(basic);
      expect(text).not.toContain(wrong);
    }
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const HTTP_PROXIES = [
  // name, open port, auth port, keeps the client connection alive after a forwarded response,
  // the status line for wrong credentials (tinyproxy says 401 once a Proxy-Authorization is sent),
  // the status line for a CONNECT to a port nothing listens on (tinyproxy: not a ConnectPort)
  [
    "squid",
    inject("squidPort"),
    inject("squidAuthPort"),
    true,
    "407 Proxy Authentication Required",
    "503 Service Unavailable",
  ],
  [
    "tinyproxy",
    inject("tinyproxyPort"),
    inject("tinyproxyAuthPort"),
    false,
    "401 Unauthorized",
    "403 Access violation",
  ],
] as const;

describe.each(HTTP_PROXIES)(
  "%s (HTTP proxy)",
  (_name, port, authPort, keepsAlive, wrongAuth, refused) => {
    const skip = port === null || authPort === null;
    const proxyUrl = `http://127.0.0.1:${port}`;
    const authUrl = `http://${user}:${password}@127.0.0.1:${authPort}`;

    it.skipIf(skip)(
      "forwards http:// requests in absolute form; reprs show the proxy",
      async () => {
        await using p = pool(proxyUrl);
        const first = await p.request("GET", `${HTTP}/echo?x=1`);
        expect(first.status).toBe(200);
        expect(echo(first)).toMatchObject({ method: "GET", url: "/echo?x=1" });
        expect(echo(first).headers).toContainEqual(["Host", `127.0.0.1:${httpPort}`]);
        if (keepsAlive) {
          expect(reprs(p)).toEqual([
            `<AsyncForwardHTTPConnection ['${proxyUrl}', HTTP/1.1, IDLE, Request Count: 1]>`,
          ]);
          await p.request("GET", `${HTTP}/`);
          expect(reprs(p)).toEqual([
            `<AsyncForwardHTTPConnection ['${proxyUrl}', HTTP/1.1, IDLE, Request Count: 2]>`,
          ]);
        } else {
          // tinyproxy closes the client connection after each forwarded response (without saying
          // so): the pool notices the EOF while the connection is idle and opens a new one.
          await new Promise((r) => setTimeout(r, 20));
          expect((await p.request("GET", `${HTTP}/`)).text()).toBe("Hello, world!");
          expect(reprs(p)).toEqual([
            `<AsyncForwardHTTPConnection ['${proxyUrl}', HTTP/1.1, IDLE, Request Count: 1]>`,
          ]);
        }
        expect(String(p)).toMatch(/Requests: 0 active, 0 queued/);
      },
    );

    it.skipIf(skip)("tunnels https:// with CONNECT and TLS to the target (test CA)", async () => {
      await using p = pool(proxyUrl);
      for (let i = 1; i <= 2; i++) {
        const r = await p.request("GET", `${HTTPS}/echo`);
        expect(echo(r).headers).toEqual([["Host", `localhost:${httpsPort}`]]);
        expect(reprs(p)).toEqual([
          `<AsyncTunnelHTTPConnection ['${HTTPS}', HTTP/1.1, IDLE, Request Count: ${i}]>`,
        ]);
      }
      const stream = p.connections[0] as unknown as {
        connection: { stream: { getExtraInfo(k: string): unknown } };
      };
      expect(stream.connection.stream.getExtraInfo("ssl_object")).toMatchObject({
        alpnProtocol: "http/1.1",
      });
    });

    it.skipIf(skip)("tunnels plain http:// with CONNECT when asked (tunnelHttp)", async () => {
      await using p = pool({ url: proxyUrl, tunnelHttp: true });
      await p.request("GET", `${HTTP}/`);
      const r = await p.request("GET", `${HTTP}/echo`);
      expect(echo(r).headers).toEqual([["Host", `127.0.0.1:${httpPort}`]]);
      expect(reprs(p)).toEqual([
        `<AsyncTunnelHTTPConnection ['${HTTP}', HTTP/1.1, IDLE, Request Count: 2]>`,
      ]);
    });

    it.skipIf(skip)(
      "with Basic auth: Proxy-Authorization reaches the proxy, never the target",
      async () => {
        await using p = pool(authUrl);
        const forwarded = await p.request("GET", `${HTTP}/echo`);
        expect(forwarded.status).toBe(200);
        expect(headerNames(forwarded)).not.toContain("proxy-authorization");
        const tunnelled = await p.request("GET", `${HTTPS}/echo`);
        expect(tunnelled.status).toBe(200);
        expect(echo(tunnelled).headers).toEqual([["Host", `localhost:${httpsPort}`]]);
        expect(reprs(p)).toContain(
          `<AsyncTunnelHTTPConnection ['${HTTPS}', HTTP/1.1, IDLE, Request Count: 1]>`,
        );
        expectNoSecrets(p);
      },
    );

    it.skipIf(skip)(
      "wrong or missing credentials: 407 when forwarding, ProxyError for CONNECT",
      async () => {
        for (const [proxy, statusLine] of [
          [
            new HTTPProxy(`http://127.0.0.1:${authPort}`, { auth: [user, `wrong-${password}`] }),
            wrongAuth,
          ],
          [`http://127.0.0.1:${authPort}`, "407 Proxy Authentication Required"],
        ] as const) {
          await using p = pool(proxy);
          // Forwarding: a normal response, the caller decides what to do with it.
          const forwarded = await p.request("GET", `${HTTP}/echo`);
          expect(`${forwarded.status} ${forwarded.extensions.reasonPhrase}`).toBe(statusLine);
          const error = await rejectsWith(
            p.request("GET", `${HTTPS}/echo`),
            ProxyError,
            statusLine,
          );
          expect(p.connections.filter((c) => String(c).includes("Tunnel"))).toEqual([]);
          expectNoSecrets(error, p, proxy);
        }
      },
    );

    it.skipIf(skip)(
      "CONNECT to a port the proxy refuses to reach → ProxyError with the status line",
      async () => {
        await using p = pool(proxyUrl);
        await rejectsWith(p.request("GET", `https://localhost:${deadPort}/`), ProxyError, refused);
        expect(p.connections).toEqual([]);
        expect(String(p)).toBe(EMPTY);
      },
    );
  },
);

describe("squid as an https:// proxy (TLS to the proxy)", () => {
  const port = inject("squidTlsPort");
  const url = `https://127.0.0.1:${port}`;
  it.skipIf(port === null)("forwards http:// and tunnels https:// (TLS inside TLS)", async () => {
    await using p = pool({ url, ssl: { ca } });
    await p.request("GET", `${HTTP}/`);
    expect((await p.request("GET", `${HTTP}/echo`)).status).toBe(200);
    const r = await p.request("GET", `${HTTPS}/echo`);
    expect(echo(r).headers).toEqual([["Host", `localhost:${httpsPort}`]]);
    expect(reprs(p)).toEqual([
      `<AsyncForwardHTTPConnection ['${url}', HTTP/1.1, IDLE, Request Count: 2]>`,
      `<AsyncTunnelHTTPConnection ['${HTTPS}', HTTP/1.1, IDLE, Request Count: 1]>`,
    ]);
  });

  it.skipIf(port === null)(
    "proxy.ssl is what verifies the proxy (not the pool's ssl)",
    async () => {
      // The client certificate is no CA: the proxy's certificate cannot be verified with it.
      await using p = pool({ url, ssl: { ca: inject("clientCertPem") } });
      const error = await failure(p.request("GET", `${HTTP}/`));
      expect(error).toBeInstanceOf(ConnectError);
      expect(error.message).toMatch(
        new RegExp(
          `^could not connect to 127\\.0\\.0\\.1:${port} \\(TLS handshake failed: .+\\) \\(proxy: ${url}, target: ${HTTP}\\)$`,
        ),
      );
      expect(p.connections).toEqual([]);
    },
  );
});

const SOCKS_PROXIES = [
  ["microsocks", inject("socksPort")],
  ["dante", inject("dantePort")],
] as const;

describe.each(SOCKS_PROXIES)("%s (SOCKS5, no auth)", (name, port) => {
  it.skipIf(port === null)("http:// and https:// targets, socks5:// and socks5h://", async () => {
    for (const scheme of ["socks5", "socks5h"]) {
      await using p = pool(`${scheme}://127.0.0.1:${port}`);
      for (let i = 1; i <= 2; i++) {
        expect((await p.request("GET", `${HTTP}/`)).text()).toBe("Hello, world!");
        const r = await p.request("GET", `${HTTPS}/echo`);
        expect(echo(r).headers).toEqual([["Host", `localhost:${httpsPort}`]]);
      }
      expect(reprs(p)).toEqual([
        `<AsyncSocks5Connection ['${HTTP}', HTTP/1.1, IDLE, Request Count: 2]>`,
        `<AsyncSocks5Connection ['${HTTPS}', HTTP/1.1, IDLE, Request Count: 2]>`,
      ]);
    }
    expect(name).toBeTruthy();
  });

  it.skipIf(port === null)("a target port that refuses → ProxyError naming the reply", async () => {
    await using p = pool(`socks5://127.0.0.1:${port}`);
    await rejectsWith(
      p.request("GET", `http://127.0.0.1:${deadPort}/`),
      ProxyError,
      "Proxy Server could not connect: Connection refused.",
    );
    expect(p.connections).toEqual([]);
    expect(String(p)).toBe(EMPTY);
  });
});

describe("microsocks with username/password", () => {
  const port = inject("socksAuthPort");
  it.skipIf(port === null)(
    "right credentials work; wrong or missing ones are ProxyErrors",
    async () => {
      {
        await using p = pool(`socks5://${user}:${password}@127.0.0.1:${port}`);
        const r = await p.request("GET", `${HTTPS}/echo`);
        expect(echo(r).headers).toEqual([["Host", `localhost:${httpsPort}`]]);
        expect(reprs(p)).toEqual([
          `<AsyncSocks5Connection ['${HTTPS}', HTTP/1.1, IDLE, Request Count: 1]>`,
        ]);
        expectNoSecrets(p);
      }
      {
        await using p = pool({
          url: `socks5://127.0.0.1:${port}`,
          auth: [user, `wrong-${password}`],
        });
        const error = await rejectsWith(
          p.request("GET", `${HTTP}/`),
          ProxyError,
          "Invalid username/password",
        );
        expect(p.connections).toEqual([]);
        expectNoSecrets(error, p);
      }
      {
        await using p = pool(`socks5://127.0.0.1:${port}`);
        await rejectsWith(
          p.request("GET", `${HTTP}/`),
          ProxyError,
          "Requested NO AUTHENTICATION REQUIRED from proxy server, but got NO ACCEPTABLE METHODS.",
        );
        expect(p.connections).toEqual([]);
      }
    },
  );
});

describe("proxy down, retries, timeouts", () => {
  let silent: Server;
  let silentPort = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: a proxy that hangs in the handshake.
    silent = createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  // Concurrent: each waits out the 0.5 s backoff.
  it.concurrent.each([
    ["http", `${HTTP}/`],
    ["http", `${HTTPS}/`],
    ["socks5", `${HTTPS}/`],
  ])(
    "a %s proxy that refuses: ConnectError naming it, retried with backoff",
    async (scheme, url) => {
      const events: string[] = [];
      await using p = pool(`${scheme}://${user}:${password}@127.0.0.1:${deadPort}`, { retries: 2 });
      const started = performance.now();
      const error = await rejectsWith(
        p.request("GET", url, {
          extensions: { trace: (name) => void events.push(name) },
        }),
        ConnectError,
        `could not connect to 127.0.0.1:${deadPort} (connection refused) (proxy: ${scheme}://127.0.0.1:${deadPort}, target: ${new URL(url).origin})`,
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(450); // sleeps 0 s, then 0.5 s
      expect(events.filter((e) => e === "connection.retry.started")).toHaveLength(2);
      expect(p.connections).toEqual([]);
      expect(String(p)).toBe(EMPTY);
      expectNoSecrets(error, p);
    },
  );

  it.each(["http", "socks5"])(
    "a %s proxy that never answers → ConnectTimeout (connect timeout)",
    async (scheme) => {
      await using p = pool(`${scheme}://127.0.0.1:${silentPort}`);
      const started = performance.now();
      const error = await failure(
        p.request("GET", `${HTTPS}/`, { extensions: { timeout: { connect: 0.2 } } }),
      );
      expect(error).toBeInstanceOf(ConnectTimeout);
      expect(error.message).toMatch(/^timed out (waiting for the proxy|the SOCKS5 handshake)/);
      expect(error.message).toContain(
        `(proxy: ${scheme}://127.0.0.1:${silentPort}, target: ${HTTPS})`,
      );
      expect(performance.now() - started).toBeLessThan(2000);
      expect(p.connections).toEqual([]);
    },
  );

  it("an abort while the proxy hangs releases everything", async () => {
    await using p = pool(`http://127.0.0.1:${silentPort}`);
    const pending = p.request("GET", `${HTTPS}/`, { signal: AbortSignal.timeout(100) });
    await expect(pending).rejects.toMatchObject({ name: "TimeoutError" });
    expect(p.connections).toEqual([]);
    expect(String(p)).toBe(EMPTY);
  });

  it("localAddress and socketOptions are used for the proxy dial", async () => {
    const port = inject("squidPort") ?? inject("tinyproxyPort") ?? inject("socksPort");
    if (port === null) return;
    const scheme = port === inject("socksPort") ? "socks5" : "http";
    await using p = pool(`${scheme}://127.0.0.1:${port}`, {
      localAddress: "127.0.0.1",
      socketOptions: [{ keepAlive: true, initialDelay: 30 }],
    });
    const r = await p.request("GET", `${HTTPS}/`);
    expect(r.status).toBe(200);
    // A local address the host does not have fails the dial: the option really reaches it.
    await using bad = pool(`${scheme}://127.0.0.1:${port}`, { localAddress: "192.0.2.1" });
    await rejectsWith(bad.request("GET", `${HTTPS}/`), ConnectError, /address not available/);
  });
});
