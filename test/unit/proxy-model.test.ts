// The Proxy model, the pool's `proxy` option forms, Proxy.fromEnv() and NO_PROXY matching.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  AsyncConnectionPool,
  AsyncMockBackend,
  Proxy as HTTPProxy,
  NoProxy,
  UnsupportedProtocol,
} from "../../src/index.js";

describe("Proxy", () => {
  it("parses schemes and default ports; url has no credentials or path", () => {
    expect(new HTTPProxy("http://127.0.0.1:3128/").url).toBe("http://127.0.0.1:3128");
    expect(new HTTPProxy("http://proxy.internal").url).toBe("http://proxy.internal:80");
    expect(new HTTPProxy("HTTPS://Proxy.Internal").url).toBe("https://proxy.internal:443");
    expect(new HTTPProxy("socks5://127.0.0.1").url).toBe("socks5://127.0.0.1:1080");
    expect(new HTTPProxy("socks5h://[::1]:9050").url).toBe("socks5h://[::1]:9050");
    expect(new HTTPProxy(new URL("http://127.0.0.1:8080/some/path?q")).url).toBe(
      "http://127.0.0.1:8080",
    );
    const p = new HTTPProxy("socks5://127.0.0.1:1080");
    expect(p.isSocks).toBe(true);
    expect(p.origin.port).toBe(1080);
    expect(p.auth).toBeNull();
    expect(p.headers).toEqual([]);
  });

  it("auth becomes httpcore's Proxy-Authorization header, prepended", () => {
    const p = new HTTPProxy("http://localhost:8080/", {
      auth: ["username", "password"],
      headers: { "X-Proxy": "1" },
    });
    expect(p.headers).toEqual([
      ["Proxy-Authorization", "Basic dXNlcm5hbWU6cGFzc3dvcmQ="],
      ["X-Proxy", "1"],
    ]);
    expect(p.auth).toEqual(["username", "password"]);
    // UTF-8, as browsers and curl send it.
    expect(new HTTPProxy("http://h", { auth: ["ü", "€"] }).headers[0]?.[1]).toBe(
      `Basic ${Buffer.from("ü:€").toString("base64")}`,
    );
  });

  it("credentials in the URL are taken as auth (percent-decoded) and stripped", () => {
    const p = new HTTPProxy("http://us%40er:p%3Ass@127.0.0.1:3128");
    expect(p.auth).toEqual(["us@er", "p:ss"]);
    expect(p.url).toBe("http://127.0.0.1:3128");
    expect(p.headers[0]?.[1]).toBe(`Basic ${Buffer.from("us@er:p:ss").toString("base64")}`);
    // An explicit auth wins over the URL's.
    expect(new HTTPProxy("socks5://a:b@h", { auth: ["c", "d"] }).auth).toEqual(["c", "d"]);
  });

  it("credentials appear in no string form", () => {
    const p = new HTTPProxy("http://alice:s3cr3t-pw@127.0.0.1:3128", { headers: { a: "b" } });
    const forms = [String(p), JSON.stringify(p), inspect(p), p.url, `${p.origin}`];
    for (const form of forms) {
      expect(form).not.toContain("s3cr3t");
      expect(form).not.toContain("alice");
      expect(form).not.toContain(Buffer.from("alice:s3cr3t-pw").toString("base64"));
    }
    expect(String(p)).toBe("<Proxy ['http://127.0.0.1:3128', auth]>");
    expect(String(new HTTPProxy("socks5://h:1"))).toBe("<Proxy ['socks5://h:1']>");
    expect(JSON.stringify(p)).toBe('{"url":"http://127.0.0.1:3128","auth":true}');
  });

  it("bad input fails loudly, without echoing the URL", () => {
    const bad = (url: unknown, options?: object) => () =>
      new HTTPProxy(url as string, options as never);
    expect(bad("ftp://user:secret@h")).toThrow(
      new UnsupportedProtocol(
        "Proxy URL has an unsupported protocol 'ftp://': use http://, https://, socks5:// or socks5h://.",
      ),
    );
    expect(bad("socks4://h")).toThrow(UnsupportedProtocol);
    expect(bad("127.0.0.1:3128")).toThrow(UnsupportedProtocol);
    expect(bad("http://user:secret@h\r\nX: y")).toThrow(
      "The proxy URL may not contain control characters or spaces.",
    );
    expect(bad("http://user:secret@[::1")).toThrow("The proxy URL could not be parsed.");
    expect(bad(3128)).toThrow(TypeError);
    expect(bad("http://h", { auth: ["only-user"] })).toThrow("[username, password]");
    expect(bad("http://h", { auth: ["a:b", "c"] })).toThrow("may not contain ':'");
    expect(bad("http://h", { ssl: {} })).toThrow("https:// proxies only");
    expect(bad("socks5://h", { headers: { a: "b" } })).toThrow("http:// and https:// proxies");
    expect(bad("socks5://h", { tunnelHttp: true })).toThrow(TypeError);
    expect(bad("socks5://h", { auth: ["", "x"] })).toThrow("1 to 255 bytes");
    expect(bad("http://h", { headers: { a: "b\r\nc: d" } })).toThrow("Illegal header value");
    expect(bad("http://h", { nope: 1 })).toThrow('Unknown Proxy option "nope".');
    for (const url of ["ftp://user:secret@h", "http://user:secret@[::1"]) {
      try {
        bad(url)();
      } catch (e) {
        expect((e as Error).message).not.toContain("secret");
      }
    }
  });

  it("the pool accepts a URL, an object, a Proxy or a selector", async () => {
    const backend = () => new AsyncMockBackend(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    const forms = [
      "http://127.0.0.1:3128",
      new URL("http://127.0.0.1:3128"),
      { url: "http://127.0.0.1:3128", auth: ["u", "p"] as [string, string] },
      new HTTPProxy("http://127.0.0.1:3128"),
      { forUrl: () => new HTTPProxy("http://127.0.0.1:3128") },
    ];
    for (const proxy of forms) {
      const b = backend();
      await using pool = new AsyncConnectionPool({ networkBackend: b, proxy });
      await pool.request("GET", "http://example.com/");
      expect(b.connects).toEqual([["127.0.0.1", 3128]]);
      expect(String(pool.connections[0])).toBe(
        "<AsyncForwardHTTPConnection ['http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1]>",
      );
    }
    expect(() => new AsyncConnectionPool({ networkBackend: backend(), proxy: 1 as never })).toThrow(
      TypeError,
    );
    expect(
      () => new AsyncConnectionPool({ networkBackend: backend(), proxy: "gopher://h" }),
    ).toThrow(UnsupportedProtocol);
    // null/undefined: no proxy.
    const b = backend();
    await using direct = new AsyncConnectionPool({ networkBackend: b, proxy: null });
    await direct.request("GET", "http://example.com/");
    expect(b.connects).toEqual([["example.com", 80]]);
  });
});

describe("Proxy.fromEnv", () => {
  it("picks HTTP_PROXY / HTTPS_PROXY / ALL_PROXY per scheme, lower-case first", () => {
    const routes = HTTPProxy.fromEnv({
      HTTP_PROXY: "http://upper:1",
      http_proxy: "http://lower:2",
      HTTPS_PROXY: "socks5h://user:pw@socks:1080",
    });
    expect(routes.forUrl("http://example.com/")?.url).toBe("http://lower:2");
    expect(routes.forUrl("ws://example.com/")?.url).toBe("http://lower:2");
    expect(routes.forUrl("https://example.com/")?.url).toBe("socks5h://socks:1080");
    expect(routes.forUrl("https://example.com/")?.auth).toEqual(["user", "pw"]);
    expect(routes.forUrl("ftp://example.com/")).toBeNull();
    expect(routes.forUrl("not a url")).toBeNull();
    expect(String(routes)).toBe(
      "<ProxyRoutes [http: 'http://lower:2', https: 'socks5h://socks:1080', no_proxy: no]>",
    );
    const all = HTTPProxy.fromEnv({ ALL_PROXY: "127.0.0.1:3128", https_proxy: "" });
    expect(all.forUrl("https://x/")?.url).toBe("http://127.0.0.1:3128"); // no scheme → http://
    expect(all.forUrl("http://x/")?.url).toBe("http://127.0.0.1:3128");
    expect(HTTPProxy.fromEnv({}).forUrl("http://x/")).toBeNull();
  });

  it("ignores upper-case HTTP_PROXY in a CGI environment (httpoxy)", () => {
    const routes = HTTPProxy.fromEnv({ HTTP_PROXY: "http://evil:1", REQUEST_METHOD: "GET" });
    expect(routes.forUrl("http://example.com/")).toBeNull();
  });

  it("names the variable in errors", () => {
    expect(() => HTTPProxy.fromEnv({ HTTPS_PROXY: "ftp://h" })).toThrow(
      /^HTTPS_PROXY: Proxy URL has an unsupported protocol 'ftp:\/\/'/,
    );
  });

  it("as the pool's proxy option, routes per origin", async () => {
    const backend = new AsyncMockBackend(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    await using pool = new AsyncConnectionPool({
      networkBackend: backend,
      proxy: HTTPProxy.fromEnv({ HTTP_PROXY: "http://127.0.0.1:3128", NO_PROXY: "direct.test" }),
    });
    await pool.request("GET", "http://example.com/");
    await pool.request("GET", "http://direct.test/");
    expect(backend.connects).toEqual([
      ["127.0.0.1", 3128],
      ["direct.test", 80],
    ]);
    expect(pool.connections.map(String)).toEqual([
      "<AsyncForwardHTTPConnection ['http://127.0.0.1:3128', HTTP/1.1, IDLE, Request Count: 1]>",
      "<AsyncHTTPConnection ['http://direct.test:80', HTTP/1.1, IDLE, Request Count: 1]>",
    ]);
  });
});

describe("NO_PROXY", () => {
  const cases: Array<[string, string, number, boolean]> = [
    ["*", "anything.example", 80, true],
    ["example.com", "example.com", 80, true],
    ["example.com", "www.EXAMPLE.com.", 443, true],
    ["example.com", "notexample.com", 80, false],
    [".example.com", "example.com", 80, true],
    [".example.com", "a.b.example.com", 80, true],
    ["*.example.com", "a.example.com", 80, true],
    ["example.com:8080", "example.com", 8080, true],
    ["example.com:8080", "example.com", 80, false],
    ["127.0.0.1", "127.0.0.1", 80, true],
    ["127.0.0.1", "[::ffff:127.0.0.1]", 80, true],
    ["127.0.0.1", "localhost", 80, false], // names are never resolved
    ["localhost", "localhost", 80, true],
    ["127.0.0.1:3000", "127.0.0.1", 3000, true],
    ["127.0.0.1:3000", "127.0.0.1", 3001, false],
    ["10.0.0.0/8", "10.1.2.3", 80, true],
    ["10.0.0.0/8", "11.0.0.1", 80, false],
    ["::1", "[::1]", 80, true],
    ["[::1]", "[0:0::1]", 80, true],
    ["[::1]:8443", "[::1]", 8443, true],
    ["[::1]:8443", "[::1]", 443, false],
    ["fd00::/8", "[fd12:3456::1]", 443, true],
    ["fd00::/8", "[fe80::1]", 443, false],
    ["2001:db8::1", "[2001:0db8:0:0:0:0:0:1]", 80, true],
    ["bücher.example", "xn--bcher-kva.example", 80, true],
    ["", "example.com", 80, false],
    ["foo.com, ,bar.com", "bar.com", 80, true],
    ["foo.com bar.com", "bar.com", 80, true],
  ];
  it.each(cases)("NO_PROXY=%j, host %s:%i → bypass %s", (value, host, port, expected) => {
    expect(new NoProxy(value).matches(host, port)).toBe(expected);
  });

  it("fromEnv applies it per URL, with the URL's default port", () => {
    const routes = HTTPProxy.fromEnv({
      HTTPS_PROXY: "http://p:1",
      NO_PROXY: "internal.test:443, 192.168.0.0/16",
    });
    expect(routes.forUrl("https://internal.test/")).toBeNull();
    expect(routes.forUrl("https://internal.test:8443/")?.url).toBe("http://p:1");
    expect(routes.forUrl("https://192.168.1.20/")).toBeNull();
    expect(routes.forUrl("https://[::ffff:192.168.1.20]/")).toBeNull();
  });
});
