import { describe, expect, it } from "vitest";
import { LocalProtocolError } from "../../src/errors.js";
import {
  encodeChunk,
  encodeRequestHead,
  LAST_CHUNK,
  latin1Encode,
  validateHeader,
  validateMethod,
  validateTarget,
} from "../../src/h11/index.js";

const text = (u: Uint8Array): string => String.fromCharCode(...u);

/** Asserts `fn` throws a LocalProtocolError whose message is exactly `message`. */
function expectLocal(fn: () => unknown, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LocalProtocolError);
  expect((error as Error).message).toBe(message);
}

describe("encodeRequestHead", () => {
  it("produces the exact bytes of a request head", () => {
    const head = encodeRequestHead("GET", "/path?q=1&r=%20", [
      ["Host", "example.com"],
      ["Accept", "*/*"],
      ["X-Empty", ""],
      ["x-lower", "a\tb c"],
    ]);
    expect(head).toBeInstanceOf(Uint8Array);
    expect(text(head)).toBe(
      "GET /path?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty: \r\nx-lower: a\tb c\r\n\r\n",
    );
  });

  it("encodes without headers, with an absolute-form or asterisk target", () => {
    expect(text(encodeRequestHead("OPTIONS", "*", []))).toBe("OPTIONS * HTTP/1.1\r\n\r\n");
    expect(
      text(encodeRequestHead("CONNECT", "example.com:443", [["Host", "example.com:443"]])),
    ).toBe("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  });

  it("encodes obs-text as latin1, one byte per character", () => {
    const head = encodeRequestHead("GET", "/caf\u00e9", [["X-Name", "Ren\u00e9\u00ff"]]);
    expect(Array.from(head.subarray(8, 9))).toEqual([0xe9]);
    expect(text(head)).toBe("GET /caf\u00e9 HTTP/1.1\r\nX-Name: Ren\u00e9\u00ff\r\n\r\n");
    expect(head.length).toBe(text(head).length);
  });

  it("rejects duplicate Content-Length and Host fields in any casing", () => {
    expectLocal(
      () =>
        encodeRequestHead("POST", "/", [
          ["Content-Length", "5"],
          ["content-length", "9"],
        ]),
      "duplicate Content-Length header",
    );
    expectLocal(
      () =>
        encodeRequestHead("POST", "/", [
          ["Content-Length", "5"],
          ["CONTENT-LENGTH", "5"],
        ]),
      "duplicate Content-Length header",
    );
    expectLocal(
      () =>
        encodeRequestHead("GET", "/", [
          ["Host", "a.example"],
          ["host", "b.example"],
        ]),
      "duplicate Host header",
    );
  });

  it("rejects a non-numeric Content-Length and Content-Length with Transfer-Encoding", () => {
    expectLocal(
      () => encodeRequestHead("POST", "/", [["Content-Length", "+5"]]),
      'invalid Content-Length value "+5"',
    );
    expectLocal(
      () => encodeRequestHead("POST", "/", [["Content-Length", "5, 5"]]),
      'invalid Content-Length value "5, 5"',
    );
    expectLocal(
      () =>
        encodeRequestHead("POST", "/", [
          ["Transfer-Encoding", "chunked"],
          ["Content-Length", "5"],
        ]),
      "both Content-Length and Transfer-Encoding are set",
    );
    expectLocal(
      () => encodeRequestHead("POST", "/", [["Transfer-Encoding", "gzip"]]),
      'unsupported Transfer-Encoding "gzip": chunked must be the final coding',
    );
    expect(text(encodeRequestHead("POST", "/", [["transfer-encoding", "Chunked"]]))).toBe(
      "POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n",
    );
  });

  it("validates method, target and headers before producing anything", () => {
    expectLocal(() => encodeRequestHead("GET\r\n", "/", []), 'invalid HTTP method: "GET\\r\\n"');
    expectLocal(
      () => encodeRequestHead("GET", "/a b", []),
      'invalid character in request target: "/a b"',
    );
    expectLocal(
      () => encodeRequestHead("GET", "/", [["X-Foo", "a\r\nInjected: 1"]]),
      'Illegal header value "a\\r\\nInjected: 1" for header "X-Foo"',
    );
  });
});

describe("validateMethod", () => {
  it.each(["GET", "POST", "M-SEARCH", "PROPFIND", "x!#$%&'*+-.^_`|~1"])("accepts %j", (method) => {
    expect(() => validateMethod(method)).not.toThrow();
  });

  it.each([
    "",
    "GE T",
    "GET\r\n",
    "GET\n",
    "G\rET",
    "G\x00T",
    "GET/",
    "G\u00e9T",
    "G\u2028T",
    "(GET)",
  ])("rejects %j", (method) => {
    expectLocal(() => validateMethod(method), `invalid HTTP method: ${JSON.stringify(method)}`);
  });
});

describe("validateTarget", () => {
  it.each(["/", "*", "/a/b?c=d&e=%20#frag", "http://example.com:8080/x", "/caf\u00e9", "/\u00ff"])(
    "accepts %j",
    (target) => {
      expect(() => validateTarget(target)).not.toThrow();
    },
  );

  it.each([
    "/a b",
    "/a\r\nHost: evil",
    "/a\n",
    "/a\r",
    "/\x00",
    "/\x7f",
    "/\t",
    "/\u0100",
    "/\u2603",
    "/\ud83d\ude00",
  ])("rejects %j", (target) => {
    expectLocal(
      () => validateTarget(target),
      `invalid character in request target: ${JSON.stringify(target)}`,
    );
  });

  it("rejects an empty target", () => {
    expectLocal(() => validateTarget(""), "invalid request target: empty");
  });
});

describe("validateHeader", () => {
  it("accepts tokens and visible values with inner whitespace and obs-text", () => {
    expect(() => validateHeader("X-Custom_Header.1", "a b\tc \u00e9\u00ff")).not.toThrow();
    expect(() => validateHeader("x", "")).not.toThrow();
  });

  it.each(["", "X Foo", "X-Foo\r\n", "X-Foo:", "X\x00", "X\u00e9", "(x)", "X\nY"])(
    "rejects the name %j",
    (name) => {
      expectLocal(() => validateHeader(name, "v"), `Illegal header name ${JSON.stringify(name)}`);
    },
  );

  it.each(["a\r\nb", "a\rb", "a\nb", "\x00", "a\x01", "a\x7f", "a\u0100", "a\u2028", "\r\n"])(
    "rejects the value %j",
    (value) => {
      expectLocal(
        () => validateHeader("x-foo", value),
        `Illegal header value ${JSON.stringify(value)} for header "x-foo"`,
      );
    },
  );

  it("quotes the offending strings with JSON escapes", () => {
    expectLocal(
      () => validateHeader("x-foo", "a\r\nb"),
      'Illegal header value "a\\r\\nb" for header "x-foo"',
    );
    expectLocal(
      () => validateHeader("Host", "\x00"),
      'Illegal header value "\\u0000" for header "Host"',
    );
  });
});

describe("chunked request bodies", () => {
  it("frames a small chunk as one array", () => {
    const parts = encodeChunk(latin1Encode("hello"));
    expect(parts.map(text)).toEqual(["5\r\nhello\r\n"]);
  });

  it("frames a large chunk as size line, the data itself, CRLF", () => {
    const data = new Uint8Array(2000).fill(0x61);
    const parts = encodeChunk(data);
    expect(parts.length).toBe(3);
    expect(text(parts[0] as Uint8Array)).toBe("7d0\r\n");
    expect(parts[1]).toBe(data);
    expect(text(parts[2] as Uint8Array)).toBe("\r\n");
  });

  it("frames 255 and 256 bytes with lower-case hex sizes", () => {
    expect(
      text((encodeChunk(new Uint8Array(255)) as Uint8Array[])[0] as Uint8Array).slice(0, 4),
    ).toBe("ff\r\n");
    expect(
      text((encodeChunk(new Uint8Array(256)) as Uint8Array[])[0] as Uint8Array).slice(0, 5),
    ).toBe("100\r\n");
  });

  it("frames nothing for empty data, since a zero-size chunk would end the body", () => {
    expect(encodeChunk(new Uint8Array(0))).toEqual([]);
  });

  it("ends with the last chunk", () => {
    expect(text(LAST_CHUNK)).toBe("0\r\n\r\n");
  });
});

describe("latin1Encode", () => {
  it("maps code points to bytes", () => {
    expect(Array.from(latin1Encode("A\u00e9\u00ff\x00"))).toEqual([0x41, 0xe9, 0xff, 0x00]);
    expect(latin1Encode("").length).toBe(0);
  });

  it("refuses characters beyond latin1 instead of truncating them", () => {
    expectLocal(() => latin1Encode("a\u010a"), 'cannot encode "\u010a" (U+010A) as latin1');
  });
});
