// Proxy connections on the mock backend: httpcore's test_http_proxy.py and test_socks_proxy.py,
// plus what we add (pool options honoured through proxies, exact bytes on the wire, no leaks).
import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  AsyncMockBackend,
  AsyncMockStream,
  type AsyncNetworkStream,
  ConnectError,
  ConnectTimeout,
  Proxy as HTTPProxy,
  Origin,
  ProxyError,
  ReadTimeout,
  type StartTlsOptions,
  UnsupportedProtocol,
} from "../../src/index.js";
import { HELLO, hello, rejectsWith, reprs } from "../support/mock.js";

const EMPTY_POOL =
  "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>";
const SOCKS_NO_AUTH = "\x05\x00";
const SOCKS_SUCCESS = "\x05\x00\x00\x01\xff\x00\x00\x01\x00\x50";
const CREDENTIALS = ["alice", "s3cr3t-pw"] as const;
const BASIC = `Basic ${Buffer.from("alice:s3cr3t-pw").toString("base64")}`;

function latin1(chunks: Uint8Array[]): string {
  let s = "";
  for (const c of chunks) for (const b of c) s += String.fromCharCode(b);
  return s;
}

/** Records startTls options; the mock stream stays plaintext. */
class TlsRecordingStream extends AsyncMockStream {
  readonly tls: StartTlsOptions[] = [];
  override async startTls(opts: StartTlsOptions): Promise<AsyncNetworkStream> {
    this.tls.push(opts);
    return this;
  }
}

class TlsRecordingBackend extends AsyncMockBackend {
  readonly opened: TlsRecordingStream[] = [];
  readonly connectOptions: unknown[] = [];
  constructor(private script: string[]) {
    super([]);
  }
  override async connectTcp(
    host: string,
    port: number,
    opts: Parameters<AsyncMockBackend["connectTcp"]>[2] = {},
  ): Promise<AsyncNetworkStream> {
    this.connects.push([host, port]);
    this.connectOptions.push(opts);
    const s = new TlsRecordingStream([...this.script]);
    this.opened.push(s);
    return s;
  }
}

describe("HTTP forwarding (httpcore test_proxy_forwarding)", () => {
  it("reprs show the proxy origin; only the target origin is handled", async () => {
    const backend = new AsyncMockBackend(HELLO);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: new HTTPProxy("http://localhost:8080/"),
    });
    {
      await using r = await pool.stream("GET", "http://example.com/");
      expect(reprs(pool)).toEqual([
        "<AsyncForwardHTTPConnection ['http://localhost:8080', HTTP/1.1, ACTIVE, Request Count: 1]>",
      ]);
      await r.aread();
    }
    expect(reprs(pool)).toEqual([
      "<AsyncForwardHTTPConnection ['http://localhost:8080', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    const c = pool.connections[0];
    expect(c?.canHandleRequest(new Origin("http", "example.com", 80))).toBe(true);
    expect(c?.canHandleRequest(new Origin("http", "other.com", 80))).toBe(false);
    expect(c?.toJSON()).toEqual({
      kind: "AsyncForwardHTTPConnection",
      origin: "http://example.com:80",
      proxy: "http://localhost:8080",
      httpVersion: "HTTP/1.1",
      state: "IDLE",
      requestCount: 1,
    });
  });

  it("absolute-form target, the target's Host, proxy headers under the request's own", async () => {
    const backend = new AsyncMockBackend(HELLO);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: {
        url: "http://127.0.0.1:3128",
        auth: [...CREDENTIALS],
        headers: { "X-Proxy": "proxy", "X-Both": "proxy" },
      },
    });
    await pool.request("POST", "http://example.com:8080/path?q=1#fragment", {
      headers: { "X-Both": "request" },
      content: "hi",
    });
    expect(backend.connects).toEqual([["127.0.0.1", 3128]]);
    expect(backend.streams[0]?.writtenText).toBe(
      "POST http://example.com:8080/path?q=1 HTTP/1.1\r\n" +
        `Proxy-Authorization: ${BASIC}\r\n` +
        "X-Proxy: proxy\r\n" +
        "Host: example.com:8080\r\n" +
        "X-Both: request\r\n" +
        "Content-Length: 2\r\n\r\nhi",
    );
  });

  it("OPTIONS * goes out as the authority's absolute form; streamed bodies are chunked", async () => {
    const backend = new AsyncMockBackend(hello(2));
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "http://127.0.0.1:3128",
    });
    await pool.request("OPTIONS", "http://example.com/", { extensions: { target: "*" } });
    await pool.request("PUT", "http://example.com/up", {
      content: (async function* () {
        yield new TextEncoder().encode("abc");
      })(),
    });
    const text = latin1(backend.streams.flatMap((s) => s.written));
    expect(text).toContain("OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    expect(text).toContain(
      "PUT http://example.com/up HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
  });

  it("one forward connection per target origin", async () => {
    const backend = new AsyncMockBackend(HELLO);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "http://127.0.0.1:3128",
    });
    await pool.request("GET", "http://a.test/");
    await pool.request("GET", "http://b.test/");
    await pool.request("GET", "http://a.test/");
    expect(reprs(pool)).toEqual([
      "<AsyncForwardHTTPConnection ['http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1]>",
      "<AsyncForwardHTTPConnection ['http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
  });

  it("an https:// proxy gets proxy.ssl, not the pool's ssl or the request's sniHostname", async () => {
    const backend = new TlsRecordingBackend(HELLO as string[]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      ssl: { ca: "TARGET CA" },
      proxy: { url: "https://proxy.test:3129", ssl: { ca: "PROXY CA" } },
    });
    await pool.request("GET", "http://example.com/", {
      extensions: { sniHostname: "target-sni.test" },
    });
    expect(backend.opened[0]?.tls).toEqual([
      { ca: "PROXY CA", alpnProtocols: ["http/1.1"], serverHostname: "proxy.test", timeout: null },
    ]);
  });
});

describe("CONNECT tunnels (httpcore test_proxy_tunneling*)", () => {
  it("reprs show the target origin; CONNECT carries Host, Accept and the proxy headers only", async () => {
    const backend = new TlsRecordingBackend(["HTTP/1.1 200 OK\r\n\r\n", ...(HELLO as string[])]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      ssl: { ca: "TARGET CA" },
      proxy: { url: `http://${CREDENTIALS.join(":")}@localhost:8080/`, headers: { "X-P": "1" } },
    });
    {
      await using r = await pool.stream("GET", "https://example.com/", {
        headers: { "X-Request": "r" },
      });
      expect(reprs(pool)).toEqual([
        "<AsyncTunnelHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>",
      ]);
      await r.aread();
    }
    expect(reprs(pool)).toEqual([
      "<AsyncTunnelHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    const stream = backend.opened[0] as TlsRecordingStream;
    expect(stream.writtenText).toBe(
      "CONNECT example.com:443 HTTP/1.1\r\n" +
        "Host: example.com:443\r\nAccept: */*\r\n" +
        `Proxy-Authorization: ${BASIC}\r\nX-P: 1\r\n\r\n` +
        // Inside the tunnel: no Proxy-Authorization, no proxy headers.
        "GET / HTTP/1.1\r\nHost: example.com\r\nX-Request: r\r\n\r\n",
    );
    expect(stream.tls).toEqual([
      {
        ca: "TARGET CA",
        alpnProtocols: ["http/1.1"],
        serverHostname: "example.com",
        timeout: null,
      },
    ]);
    expect(pool.connections[0]?.toJSON()).toEqual({
      kind: "AsyncTunnelHTTPConnection",
      origin: "https://example.com:443",
      proxy: "http://localhost:8080",
      httpVersion: "HTTP/1.1",
      state: "IDLE",
      requestCount: 1,
    });
  });

  it("sniHostname names the target's TLS; an IPv6 target is bracketed in CONNECT", async () => {
    const backend = new TlsRecordingBackend(["HTTP/1.1 200 OK\r\n\r\n", ...(HELLO as string[])]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "http://127.0.0.1:3128",
    });
    await pool.request("GET", "https://[::1]:8443/", {
      extensions: { sniHostname: "sni.test" },
    });
    const stream = backend.opened[0] as TlsRecordingStream;
    expect(
      stream.writtenText.startsWith("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"),
    ).toBe(true);
    expect(stream.tls[0]?.serverHostname).toBe("sni.test");
  });

  it("403 → ProxyError('403 Permission Denied') and no connection left", async () => {
    const backend = new AsyncMockBackend([
      "HTTP/1.1 403 Permission Denied\r\nContent-Length: 0\r\n\r\n",
    ]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "http://localhost:8080/",
    });
    await rejectsWith(
      pool.request("GET", "https://example.com/"),
      ProxyError,
      "403 Permission Denied",
    );
    expect(pool.connections).toEqual([]);
    expect(String(pool)).toBe(EMPTY_POOL);
    expect(backend.streams[0]?.closed).toBe(true);
  });

  it("407 → ProxyError naming the status line, never the credentials", async () => {
    const backend = new AsyncMockBackend([
      'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\nContent-Length: 5\r\n\r\nnope!',
    ]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: `http://${CREDENTIALS.join(":")}@localhost:8080/`,
    });
    const error = await rejectsWith(
      pool.request("GET", "https://example.com/"),
      ProxyError,
      "407 Proxy Authentication Required",
    );
    expect(String(error.stack)).not.toContain("s3cr3t");
    expect(pool.connections).toEqual([]);
  });

  it("plain http:// through CONNECT with tunnelHttp (and ws:// always)", async () => {
    const backend = new TlsRecordingBackend([
      "HTTP/1.1 200 Connection established\r\n\r\n",
      ...(HELLO as string[]),
    ]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: { url: "http://127.0.0.1:3128", tunnelHttp: true },
    });
    await pool.request("GET", "http://example.com/");
    expect(reprs(pool)).toEqual([
      "<AsyncTunnelHTTPConnection ['http://example.com:80', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    const stream = backend.opened[0] as TlsRecordingStream;
    expect(stream.tls).toEqual([]);
    expect(stream.writtenText).toBe(
      "CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\nAccept: */*\r\n\r\n" +
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
  });

  it("bytes from the proxy right after 200 are refused", async () => {
    const backend = new AsyncMockBackend(["HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n"]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "http://127.0.0.1:3128",
    });
    await rejectsWith(
      pool.request("GET", "https://example.com/"),
      ProxyError,
      "the proxy http://127.0.0.1:3128 sent 17 unexpected bytes after accepting CONNECT",
    );
    expect(pool.connections).toEqual([]);
  });

  it("a backend that cannot verify another host's TLS → UnsupportedProtocol, no request sent", async () => {
    class NoForeignTls extends AsyncMockStream {
      override async startTls(opts: StartTlsOptions): Promise<AsyncNetworkStream> {
        throw new UnsupportedProtocol(
          `the cloudflare backend cannot honour the "tls.serverHostname" option: not "${opts.serverHostname}"`,
        );
      }
    }
    class Backend extends AsyncMockBackend {
      stream: NoForeignTls | null = null;
      override async connectTcp(): Promise<AsyncNetworkStream> {
        this.stream = new NoForeignTls(["HTTP/1.1 200 OK\r\n\r\n", ...(HELLO as string[])]);
        return this.stream;
      }
    }
    const backend = new Backend([]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "http://127.0.0.1:3128",
      retries: 2,
    });
    const error = await rejectsWith(
      pool.request("GET", "https://example.com/"),
      UnsupportedProtocol,
      /^cannot open TLS to https:\/\/example.com:443 inside the tunnel through the proxy http:\/\/127.0.0.1:3128: this network backend can only start TLS with the host it dialled \(127.0.0.1\), once per socket \(as Cloudflare's connect\(\) does\), and a tunnel is never downgraded to plaintext\./,
    );
    expect(error.cause).toBeInstanceOf(UnsupportedProtocol);
    expect(backend.stream?.writtenText).toBe(
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nAccept: */*\r\n\r\n",
    );
    expect(backend.stream?.closed).toBe(true);
    expect(pool.connections).toEqual([]);
  });
});

describe("SOCKS5 (httpcore test_socks_proxy)", () => {
  it("no auth: reprs show the target", async () => {
    const backend = new AsyncMockBackend([SOCKS_NO_AUTH, SOCKS_SUCCESS, ...HELLO]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "socks5://localhost:8080/",
    });
    {
      await using r = await pool.stream("GET", "https://example.com/");
      expect(reprs(pool)).toEqual([
        "<AsyncSocks5Connection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>",
      ]);
      await r.aread();
    }
    expect(reprs(pool)).toEqual([
      "<AsyncSocks5Connection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    expect(backend.connects).toEqual([["localhost", 8080]]);
    expect(backend.streams[0]?.writtenText).toBe(
      "\x05\x01\x00" +
        "\x05\x01\x00\x03\x0bexample.com\x01\xbb" +
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
  });

  it("username/password auth", async () => {
    const backend = new AsyncMockBackend(["\x05\x02", "\x01\x00", SOCKS_SUCCESS, ...HELLO]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: { url: "socks5://localhost:8080/", auth: ["username", "password"] },
    });
    await pool.request("GET", "https://example.com/");
    expect(reprs(pool)).toEqual([
      "<AsyncSocks5Connection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
    expect(backend.streams[0]?.writtenText.slice(0, 22)).toBe(
      "\x05\x01\x02\x01\x08username\x08password",
    );
  });

  it.each([
    [[SOCKS_NO_AUTH, "\x05\x05"], null, "Proxy Server could not connect: Connection refused."],
    [
      ["\x05\x02"],
      null,
      "Requested NO AUTHENTICATION REQUIRED from proxy server, but got USERNAME/PASSWORD.",
    ],
    [["\x05\x02", "\x01\x01"], ["username", "password"], "Invalid username/password"],
  ] as const)("%j → ProxyError, no connection left", async (script, auth, message) => {
    const backend = new AsyncMockBackend([...script]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: new HTTPProxy("socks5://localhost:8080/", { auth }),
      retries: 3, // a ProxyError is not retried
    });
    await rejectsWith(pool.request("GET", "https://example.com/"), ProxyError, message);
    expect(pool.connections).toEqual([]);
    expect(String(pool)).toBe(EMPTY_POOL);
    expect(backend.connects.length).toBe(1);
    expect(backend.streams[0]?.closed).toBe(true);
  });

  it("a plain http:// target needs no TLS; sniHostname is used for https targets", async () => {
    const backend = new TlsRecordingBackend([SOCKS_NO_AUTH, SOCKS_SUCCESS, ...(HELLO as string[])]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      ssl: { ca: "CA" },
      proxy: "socks5h://127.0.0.1:1080",
    });
    await pool.request("GET", "http://127.0.0.1:8080/");
    await pool.request("GET", "https://10.0.0.1/", { extensions: { sniHostname: "sni.test" } });
    expect(backend.opened[0]?.tls).toEqual([]);
    expect(backend.opened[0]?.writtenText.slice(3, 13)).toBe(
      "\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x90",
    );
    expect(backend.opened[1]?.tls).toEqual([
      { ca: "CA", alpnProtocols: ["http/1.1"], serverHostname: "sni.test", timeout: null },
    ]);
  });
});

describe("trace events", () => {
  it.each([
    [
      "http://127.0.0.1:3128",
      ["HTTP/1.1 200 OK\r\n\r\n"],
      [
        "connection.connect_tcp",
        "http11.send_request_headers",
        "http11.receive_response_headers",
        "proxy.start_tls",
      ],
    ],
    [
      "socks5://127.0.0.1:1080",
      [SOCKS_NO_AUTH, SOCKS_SUCCESS],
      ["socks.connect_tcp", "socks.setup_socks5_connection", "socks.start_tls"],
    ],
  ])("%s → https:// target: httpcore's event names", async (proxy, handshake, setup) => {
    const events: string[] = [];
    const infos: unknown[] = [];
    const backend = new AsyncMockBackend([...handshake, ...HELLO]);
    await using pool = new AsyncConnectionPool({ networkBackend: backend, proxy });
    await pool.request("GET", "https://example.com/", {
      extensions: {
        trace: (name, info) => {
          events.push(name);
          infos.push(info);
        },
      },
    });
    const started = events.filter((e) => e.endsWith(".started")).map((e) => e.slice(0, -8));
    expect(started).toEqual([
      ...setup,
      "http11.send_request_headers",
      "http11.send_request_body",
      "http11.receive_response_headers",
      "http11.receive_response_body",
      "http11.response_closed",
    ]);
    expect(events.filter((e) => e.endsWith(".failed"))).toEqual([]);
  });

  it.each([
    ["https://example.com/", "CONNECT", ["HTTP/1.1 200 OK\r\n\r\n", ...HELLO]],
    ["http://example.com/", "GET", HELLO],
  ])(
    "trace events show %s's request to the proxy with Proxy-Authorization redacted",
    async (url, method, script) => {
      const requests: unknown[] = [];
      const backend = new AsyncMockBackend(script);
      await using pool = new AsyncConnectionPool({
        networkBackend: backend,
        proxy: `http://${CREDENTIALS.join(":")}@127.0.0.1:3128`,
      });
      await pool.request("GET", url, {
        extensions: {
          trace: (name, info) => {
            if (name === "http11.send_request_headers.started") requests.push(info.request);
          },
        },
      });
      const connect = requests[0] as { method: string; headers: [string, string][] };
      expect(connect.method).toBe(method);
      expect(connect.headers).toContainEqual(["Proxy-Authorization", "Basic ***"]);
      expect(JSON.stringify(requests)).not.toContain(BASIC.slice(6));
      // The wire still carries the real header.
      expect(backend.streams[0]?.writtenText).toContain(`Proxy-Authorization: ${BASIC}\r\n`);
    },
  );

  it("the SOCKS5 setup event never carries the credentials", async () => {
    const infos: string[] = [];
    const backend = new AsyncMockBackend(["\x05\x02", "\x01\x00", SOCKS_SUCCESS, ...HELLO]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: `socks5://${CREDENTIALS.join(":")}@127.0.0.1:1080`,
    });
    await pool.request("GET", "http://example.com/", {
      extensions: {
        trace: (name, info) => void infos.push(`${name} ${JSON.stringify(info)}`),
      },
    });
    expect(infos.join("\n")).not.toContain("s3cr3t");
    expect(infos).toContain(
      'socks.setup_socks5_connection.started {"host":"example.com","port":80,"auth":"***"}',
    );
  });
});

describe("pool options through proxies", () => {
  /** Refuses the first `failures` connects. */
  class Flaky extends AsyncMockBackend {
    sleeps: number[] = [];
    constructor(
      script: string[],
      private failures: number,
    ) {
      super(script);
    }
    override async connectTcp(
      host: string,
      port: number,
      opts?: Parameters<AsyncMockBackend["connectTcp"]>[2],
    ): Promise<AsyncNetworkStream> {
      if (this.failures-- > 0) {
        throw new ConnectError(`could not connect to ${host}:${port} (connection refused)`);
      }
      return super.connectTcp(host, port, opts);
    }
    override async sleep(seconds: number): Promise<void> {
      this.sleeps.push(seconds);
    }
  }

  it.each([
    ["http://u:pw@127.0.0.1:3128", "http://example.com/", []],
    ["http://u:pw@127.0.0.1:3128", "https://example.com/", ["HTTP/1.1 200 OK\r\n\r\n"]],
    [
      "socks5://u:pw@127.0.0.1:3128",
      "https://example.com/",
      ["\x05\x02", "\x01\x00", SOCKS_SUCCESS],
    ],
  ])("retries the proxy connect with backoff (%s → %s)", async (proxy, url, handshake) => {
    const backend = new Flaky([...handshake, ...(HELLO as string[])], 2);
    await using pool = new AsyncConnectionPool({ networkBackend: backend, proxy, retries: 2 });
    const r = await pool.request("GET", url);
    expect(r.status).toBe(200);
    expect(backend.sleeps).toEqual([0, 0.5]);

    const failing = new Flaky([], 3);
    await using p2 = new AsyncConnectionPool({ networkBackend: failing, proxy, retries: 2 });
    const error = await rejectsWith(
      p2.request("GET", url),
      ConnectError,
      `could not connect to 127.0.0.1:3128 (connection refused) (proxy: ${proxy.replace("u:pw@", "")}, target: ${new URL(url).protocol}//example.com:${url.startsWith("https") ? 443 : 80})`,
    );
    expect(error.message).not.toContain("pw");
    expect(p2.connections).toEqual([]);
  });

  it("localAddress, socketOptions and uds reach the proxy dial", async () => {
    const backend = new TlsRecordingBackend([SOCKS_NO_AUTH, SOCKS_SUCCESS, ...(HELLO as string[])]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: "socks5://127.0.0.1:1080",
      localAddress: "127.0.0.2",
      socketOptions: [{ noDelay: true }],
    });
    await pool.request("GET", "http://example.com/", { extensions: { timeout: { connect: 3 } } });
    expect(backend.connectOptions[0]).toMatchObject({
      localAddress: "127.0.0.2",
      socketOptions: [{ noDelay: true }],
      timeout: 3,
    });

    const uds = new AsyncMockBackend(["HTTP/1.1 200 OK\r\n\r\n", ...HELLO]);
    await using p2 = new AsyncConnectionPool({
      networkBackend: uds,
      proxy: "http://127.0.0.1:3128",
      uds: "/run/proxy.sock",
    });
    await p2.request("GET", "https://example.com/");
    await p2.request("GET", "http://example.com/");
    expect(uds.connects).toEqual([["/run/proxy.sock"], ["/run/proxy.sock"]]);
  });

  it("the connect timeout covers the handshake: a silent proxy → ConnectTimeout", async () => {
    class Silent extends AsyncMockStream {
      override async read(_max: number, timeout?: number | null): Promise<Uint8Array> {
        await new Promise((r) => setTimeout(r, (timeout ?? 0) * 1000));
        throw new ReadTimeout(`timed out reading from 127.0.0.1:1080 after ${timeout}s`);
      }
    }
    class Backend extends AsyncMockBackend {
      override async connectTcp(): Promise<AsyncNetworkStream> {
        return new Silent([]);
      }
    }
    for (const [proxy, what] of [
      [
        "socks5://127.0.0.1:1080",
        "the SOCKS5 handshake with socks5://127.0.0.1:1080 for example.com:443",
      ],
      [
        "http://127.0.0.1:1080",
        "waiting for the proxy http://127.0.0.1:1080 to open a tunnel to example.com:443",
      ],
    ] as const) {
      await using pool = new AsyncConnectionPool({ networkBackend: new Backend([]), proxy });
      await rejectsWith(
        pool.request("GET", "https://example.com/", { extensions: { timeout: { connect: 0.05 } } }),
        ConnectTimeout,
        `timed out ${what} after 0.05s (proxy: ${proxy}, target: https://example.com:443)`,
      );
      expect(pool.connections).toEqual([]);
    }
  });

  it("an abort during the handshake rejects with the reason and leaves nothing behind", async () => {
    class Hanging extends AsyncMockStream {
      #release: (() => void) | null = null;
      override async read(): Promise<Uint8Array> {
        await new Promise<void>((r) => {
          this.#release = r;
        });
        throw new Error("closed");
      }
      override async aclose(): Promise<void> {
        await super.aclose();
        this.#release?.();
      }
    }
    const streams: Hanging[] = [];
    class Backend extends AsyncMockBackend {
      override async connectTcp(): Promise<AsyncNetworkStream> {
        const s = new Hanging([]);
        streams.push(s);
        return s;
      }
    }
    await using pool = new AsyncConnectionPool({
      networkBackend: new Backend([]),
      proxy: "socks5://127.0.0.1:1080",
    });
    const controller = new AbortController();
    const pending = pool.request("GET", "https://example.com/", { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    expect(reprs(pool)).toEqual(["<AsyncSocks5Connection [CONNECTING]>"]);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
    expect(streams[0]?.closed).toBe(true);
    expect(pool.connections).toEqual([]);
    expect(String(pool)).toBe(EMPTY_POOL);
  });

  it("a proxy connection on a pool with a connection-supplying backend is refused", () => {
    const factory = Object.assign(new AsyncMockBackend([]), {
      createConnection: () => null as never,
    });
    expect(() => new AsyncConnectionPool({ networkBackend: factory, proxy: "http://h:1" })).toThrow(
      UnsupportedProtocol,
    );
  });
});
