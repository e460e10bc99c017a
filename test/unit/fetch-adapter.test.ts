// pool.fetch() on the mock backend: what goes on the wire at each redirect hop (method, body,
// credential headers), the redirect limits and modes, decoding limits, and fetch()'s TypeErrors.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodingPlan } from "../../src/fetch/decode.js";
import { type HopRequest, redirectRequest } from "../../src/fetch/redirect.js";
import { AsyncConnectionPool, AsyncMockBackend, type MockChunk } from "../../src/index.js";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

function redirect(status: number, location: string): string {
  return `HTTP/1.1 ${status} Redirect\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;
}

/** A pool whose n-th connection replays the n-th script. */
function scripted(...scripts: MockChunk[][]) {
  const backend = new AsyncMockBackend(scripts, { perConnection: true });
  return { backend, pool: new AsyncConnectionPool({ networkBackend: backend }) };
}

/** The request heads written on each connection, split per request. */
function sent(backend: AsyncMockBackend): string[] {
  return backend.streams.flatMap((s) =>
    s.writtenText
      .split(/(?=(?:GET|POST|PUT|HEAD|patch) \/\S* HTTP\/1\.1\r\n)/)
      .filter((x) => x !== ""),
  );
}

describe("pool.fetch on the mock backend", () => {
  it("returns a real Response with status, statusText, headers, url and a streamed body", async () => {
    const { backend, pool } = scripted([
      "HTTP/1.1 201 Created\r\nX-A: 1\r\nx-a: 2\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n",
      "hello",
    ]);
    const r = await pool.fetch("https://example.com/path?q=1#frag");
    expect(r).toBeInstanceOf(Response);
    expect([r.status, r.statusText, r.ok, r.redirected, r.url]).toEqual([
      201,
      "Created",
      true,
      false,
      "https://example.com/path?q=1",
    ]);
    expect(r.headers.get("x-a")).toBe("1, 2");
    expect(await r.text()).toBe("hello");
    expect(sent(backend)).toEqual([
      "GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\naccept: */*\r\naccept-encoding: gzip, deflate\r\n\r\n",
    ]);
    expect(String(pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
  });

  it("turns a 303 into a GET without body or content headers", async () => {
    const { backend, pool } = scripted([redirect(303, "/done"), OK]);
    const r = await pool.fetch("https://example.com/form", {
      method: "POST",
      body: "a=1",
      headers: { "content-language": "en", "x-keep": "yes" },
    });
    expect([r.status, r.redirected, r.url]).toEqual([200, true, "https://example.com/done"]);
    expect(sent(backend)).toEqual([
      "POST /form HTTP/1.1\r\nHost: example.com\r\naccept: */*\r\naccept-encoding: gzip, deflate\r\ncontent-language: en\r\ncontent-type: text/plain;charset=UTF-8\r\nx-keep: yes\r\nContent-Length: 3\r\n\r\na=1",
      "GET /done HTTP/1.1\r\nHost: example.com\r\naccept: */*\r\naccept-encoding: gzip, deflate\r\nx-keep: yes\r\n\r\n",
    ]);
  });

  for (const status of [301, 302]) {
    it(`turns a POST into a GET on ${status}, but keeps PUT with its body`, async () => {
      const post = scripted([redirect(status, "/next"), OK]);
      await (await post.pool.fetch("https://example.com/", { method: "POST", body: "x" })).text();
      expect(sent(post.backend)[1]).toMatch(/^GET \/next HTTP\/1\.1\r\n/);
      const put = scripted([redirect(status, "/next"), OK]);
      await (await put.pool.fetch("https://example.com/", { method: "PUT", body: "x" })).text();
      expect(sent(put.backend)[1]).toMatch(
        /^PUT \/next HTTP\/1\.1\r\n[\s\S]*Content-Length: 1\r\n\r\nx$/,
      );
    });
  }

  for (const status of [307, 308]) {
    it(`keeps method and body on ${status}; a one-shot stream body cannot follow`, async () => {
      const { backend, pool } = scripted([redirect(status, "/again"), OK]);
      const r = await pool.fetch("https://example.com/", { method: "POST", body: "payload" });
      expect(r.status).toBe(200);
      expect(sent(backend)[1]).toMatch(/^POST \/again HTTP\/1\.1\r\n[\s\S]*\r\n\r\npayload$/);

      const streamed = scripted([redirect(status, "/again"), OK]);
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("once"));
          c.close();
        },
      });
      await expect(
        streamed.pool.fetch("https://example.com/", {
          method: "POST",
          body,
          duplex: "half",
        } as RequestInit),
      ).rejects.toThrow(
        new TypeError(
          `cannot follow the ${status} redirect to https://example.com/again: the request body is a one-shot stream`,
        ),
      );
      // The redirect's empty body was drained: the connection stays reusable.
      expect(String(streamed.pool)).toBe(
        "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
      );
    });
  }

  it("drops Authorization, Cookie and Proxy-Authorization on a cross-origin hop only", async () => {
    const { backend, pool } = scripted(
      [redirect(302, "https://example.com/same"), redirect(302, "https://other.example/x")],
      [OK],
    );
    const credentials = {
      authorization: "Bearer secret",
      cookie: "session=1",
      "proxy-authorization": "Basic cHJveHk=",
      "x-api": "kept",
    };
    const r = await pool.fetch("https://example.com/start", { headers: credentials });
    expect(r.url).toBe("https://other.example/x");
    const [first, same, cross] = sent(backend);
    for (const head of [first, same]) {
      expect(head).toContain("authorization: Bearer secret\r\n");
      expect(head).toContain("cookie: session=1\r\n");
      expect(head).toContain("proxy-authorization: Basic cHJveHk=\r\n");
    }
    expect(cross).toBe(
      "GET /x HTTP/1.1\r\nHost: other.example\r\naccept: */*\r\naccept-encoding: gzip, deflate\r\nx-api: kept\r\n\r\n",
    );
  });

  it("also treats a scheme or port change as cross-origin", () => {
    const hop: HopRequest = {
      method: "GET",
      url: new URL("https://example.com/"),
      headers: new Headers({ authorization: "a", host: "example.com" }),
      body: null,
    };
    for (const to of ["http://example.com/", "https://example.com:8443/"]) {
      const next = redirectRequest(hop, 302, new URL(to));
      expect([...next.headers]).toEqual([]);
    }
    const same = redirectRequest(hop, 302, new URL("https://example.com/other"));
    expect([...same.headers]).toEqual([["authorization", "a"]]);
  });

  it("follows 20 redirects and refuses the 21st with a TypeError", async () => {
    const hops = (n: number) =>
      Array.from({ length: n }, (_, i) => redirect(302, `/r${i + 1}`)).concat(OK);
    const twenty = scripted(hops(20));
    const r = await twenty.pool.fetch("https://example.com/r0");
    expect([r.status, r.url, r.redirected]).toEqual([200, "https://example.com/r20", true]);
    expect(sent(twenty.backend)).toHaveLength(21);

    const more = scripted(hops(21));
    await expect(more.pool.fetch("https://example.com/r0")).rejects.toThrow(
      new TypeError("too many redirects (more than 20) from https://example.com/r0"),
    );
    expect(String(more.pool)).toBe(
      "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>",
    );
  });

  it("redirect: manual returns the 3xx; redirect: error rejects with TypeError", async () => {
    const manual = scripted([redirect(301, "/elsewhere")]);
    const r = await manual.pool.fetch("https://example.com/", { redirect: "manual" });
    expect([r.status, r.headers.get("location"), r.redirected]).toEqual([301, "/elsewhere", false]);
    const error = scripted([redirect(301, "/elsewhere")]);
    await expect(error.pool.fetch("https://example.com/", { redirect: "error" })).rejects.toThrow(
      new TypeError("unexpected redirect from https://example.com/"),
    );
  });

  it("refuses bad redirect locations with TypeError", async () => {
    for (const [location, message] of [
      ["ftp://example.com/", 'redirect location "ftp://example.com/" is not an HTTP(S) URL'],
      ["https://user:pw@example.com/", "redirect location includes credentials"],
    ]) {
      const { pool } = scripted([redirect(302, location as string)]);
      await expect(pool.fetch("https://example.com/")).rejects.toThrow(new TypeError(message));
    }
  });

  it("decodes gzip, strips Content-Encoding and Content-Length, passes unknown codings through", async () => {
    const gz = gzipSync("decoded text");
    const { pool } = scripted([
      `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`,
      new Uint8Array(gz),
    ]);
    const r = await pool.fetch("https://example.com/");
    expect(r.headers.has("content-encoding")).toBe(false);
    expect(r.headers.has("content-length")).toBe(false);
    expect(await r.text()).toBe("decoded text");

    const unknown = scripted([
      "HTTP/1.1 200 OK\r\nContent-Encoding: zstd-x\r\nContent-Length: 3\r\n\r\nraw",
    ]);
    const u = await unknown.pool.fetch("https://example.com/");
    expect(u.headers.get("content-encoding")).toBe("zstd-x");
    expect(await u.text()).toBe("raw");
  });

  it("refuses more than 5 content codings, and decodes nothing for HEAD, 204 and 304", async () => {
    const six = scripted([
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip, gzip, gzip, gzip, gzip\r\nContent-Length: 0\r\n\r\n",
    ]);
    await expect(six.pool.fetch("https://example.com/")).rejects.toThrow(TypeError);
    expect(() => decodingPlan("gzip,gzip,gzip,gzip,gzip")).not.toThrow();
    expect(decodingPlan("gzip, identity, deflate")).toEqual(["deflate", "gzip"]);
    expect(decodingPlan("identity")).toBeNull();

    const head = scripted([
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 99\r\n\r\n",
    ]);
    const h = await head.pool.fetch("https://example.com/", { method: "HEAD" });
    expect([h.body, h.headers.get("content-encoding")]).toEqual([null, "gzip"]);
    for (const status of [204, 304]) {
      const s = scripted([`HTTP/1.1 ${status} X\r\nContent-Encoding: gzip\r\n\r\n`]);
      const r = await s.pool.fetch("https://example.com/");
      expect([r.status, r.body]).toEqual([status, null]);
    }
  });

  it("serialises every BodyInit form with fetch()'s default Content-Type", async () => {
    const cases: [BodyInit, string | null, string][] = [
      ["text", "text/plain;charset=UTF-8", "text"],
      [
        new URLSearchParams({ a: "1", b: "x y" }),
        "application/x-www-form-urlencoded;charset=UTF-8",
        "a=1&b=x+y",
      ],
      [new TextEncoder().encode("u8"), null, "u8"],
      [new TextEncoder().encode("buf").buffer as ArrayBuffer, null, "buf"],
      [new DataView(new TextEncoder().encode("xviewx").buffer, 1, 4), null, "view"],
      [new Blob(["blob"], { type: "application/x-blob" }), "application/x-blob", "blob"],
    ];
    for (const [body, contentType, text] of cases) {
      const { backend, pool } = scripted([OK]);
      await (await pool.fetch("https://example.com/", { method: "POST", body })).text();
      const head = sent(backend)[0] ?? "";
      if (contentType === null) expect(head).not.toContain("content-type");
      else expect(head).toContain(`content-type: ${contentType}\r\n`);
      expect(head).toContain(`Content-Length: ${text.length}\r\n\r\n${text}`);
    }
    const form = new FormData();
    form.append("field", "value");
    const { backend, pool } = scripted([OK]);
    await (await pool.fetch("https://example.com/", { method: "POST", body: form })).text();
    const head = sent(backend)[0] ?? "";
    expect(head).toMatch(/content-type: multipart\/form-data; boundary=/);
    expect(head).toContain('name="field"\r\n\r\nvalue\r\n');
  });

  it("takes method, headers and body from a Request, with init overriding", async () => {
    const { backend, pool } = scripted([OK, OK]);
    const input = new Request("https://example.com/req", {
      method: "put",
      headers: { "x-from": "request" },
      body: "from request",
    });
    await (await pool.fetch(input)).text();
    await (
      await pool.fetch(new URL("https://example.com/url"), { method: "patch", body: "b" })
    ).text();
    const [first, second] = sent(backend);
    expect(first).toMatch(/^PUT \/req HTTP\/1\.1\r\n/);
    expect(first).toContain("x-from: request\r\n");
    expect(first).toContain("Content-Length: 12\r\n\r\nfrom request");
    // Only the six standard methods are upper-cased, as fetch() does.
    expect(second).toMatch(/^patch \/url HTTP\/1\.1\r\n/);
  });

  it("rejects with TypeError where fetch() does", async () => {
    const { pool } = scripted([OK]);
    await expect(pool.fetch("https://example.com/", { body: "x" })).rejects.toThrow(
      new TypeError("Request with GET/HEAD method cannot have body."),
    );
    await expect(pool.fetch("not a url")).rejects.toThrow(TypeError);
    await expect(pool.fetch("https://u:p@example.com/")).rejects.toThrow(TypeError);
    await expect(pool.fetch("https://example.com/", { method: "TRACE" })).rejects.toThrow(
      new TypeError("'TRACE' HTTP method is unsupported."),
    );
    await expect(
      pool.fetch("https://example.com/", { redirect: "nope" as RequestRedirect }),
    ).rejects.toThrow(TypeError);
  });

  it("rejects with the signal's reason when aborted before sending", async () => {
    const { backend, pool } = scripted([OK]);
    const reason = new Error("cancelled");
    await expect(
      pool.fetch("https://example.com/", { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(backend.streams).toHaveLength(0);
  });

  it("passes the pool's extensions through init.extensions", async () => {
    const { pool } = scripted([OK]);
    const events: string[] = [];
    await (
      await pool.fetch("https://example.com/", {
        extensions: { trace: (name) => void events.push(name) },
      })
    ).text();
    expect(events).toContain("http11.send_request_headers.started");
  });
});
