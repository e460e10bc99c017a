// The sans-IO SOCKS5 handshake, byte by byte (RFC 1928 / RFC 1929), with httpcore's error texts.
import { describe, expect, it } from "vitest";
import { ProxyError, Socks5Handshake } from "../../src/index.js";
import { parseIPv4, parseIPv6 } from "../../src/proxy/ip.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const SUCCESS_V4 = bytes(5, 0, 0, 1, 255, 0, 0, 1, 0, 80); // httpcore's test reply

function expectProxyError(fn: () => unknown, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ProxyError);
  expect((error as Error).message).toBe(message);
}

describe("Socks5Handshake", () => {
  it("no auth, domain name target: greeting, CONNECT, reply", () => {
    const hs = new Socks5Handshake({ host: "example.com", port: 443 });
    expect(hs.state).toBe("new");
    expect(hs.start()).toEqual(bytes(5, 1, 0));
    expect(hs.state).toBe("method");
    const connect = hs.receiveData(bytes(5, 0));
    expect(connect).toEqual(bytes(5, 1, 0, 3, 11, ...ascii("example.com"), 1, 187));
    expect(hs.state).toBe("reply");
    expect(hs.receiveData(SUCCESS_V4)).toEqual(new Uint8Array(0));
    expect(hs.done).toBe(true);
    expect(hs.boundAddress).toEqual({ type: "ipv4", host: "255.0.0.1", port: 80 });
    expect(hs.leftover.length).toBe(0);
  });

  it("IPv4 and IPv6 literals are sent as addresses (brackets or not)", () => {
    const v4 = new Socks5Handshake({ host: "127.0.0.1", port: 8080 });
    v4.start();
    expect(v4.receiveData(bytes(5, 0))).toEqual(bytes(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90));
    for (const host of ["::1", "[::1]"]) {
      const v6 = new Socks5Handshake({ host, port: 1 });
      v6.start();
      expect(v6.receiveData(bytes(5, 0))).toEqual(
        bytes(5, 1, 0, 4, ...new Array(15).fill(0), 1, 0, 1),
      );
    }
  });

  it("username/password auth (RFC 1929)", () => {
    const hs = new Socks5Handshake({ host: "example.com", port: 443, auth: ["user", "päss"] });
    expect(hs.start()).toEqual(bytes(5, 1, 2));
    const authRequest = hs.receiveData(bytes(5, 2));
    // "päss" is 5 UTF-8 bytes.
    expect(authRequest).toEqual(bytes(1, 4, ...ascii("user"), 5, 0x70, 0xc3, 0xa4, 0x73, 0x73));
    expect(hs.state).toBe("auth");
    const connect = hs.receiveData(bytes(1, 0));
    expect(connect[0]).toBe(5);
    expect(connect[3]).toBe(3);
    hs.receiveData(SUCCESS_V4);
    expect(hs.done).toBe(true);
  });

  it("httpcore's error texts", () => {
    const noAuth = new Socks5Handshake({ host: "example.com", port: 443 });
    noAuth.start();
    expectProxyError(
      () => noAuth.receiveData(bytes(5, 2)),
      "Requested NO AUTHENTICATION REQUIRED from proxy server, but got USERNAME/PASSWORD.",
    );
    const refused = new Socks5Handshake({ host: "example.com", port: 443 });
    refused.start();
    expectProxyError(
      () => refused.receiveData(bytes(5, 0xff)),
      "Requested NO AUTHENTICATION REQUIRED from proxy server, but got NO ACCEPTABLE METHODS.",
    );
    const withAuth = new Socks5Handshake({ host: "example.com", port: 443, auth: ["u", "p"] });
    withAuth.start();
    expectProxyError(
      () => withAuth.receiveData(bytes(5, 0)),
      "Requested USERNAME/PASSWORD from proxy server, but got NO AUTHENTICATION REQUIRED.",
    );
    const badCredentials = new Socks5Handshake({
      host: "example.com",
      port: 443,
      auth: ["u", "p"],
    });
    badCredentials.start();
    badCredentials.receiveData(bytes(5, 2));
    expectProxyError(() => badCredentials.receiveData(bytes(1, 1)), "Invalid username/password");
  });

  it.each([
    [1, "General SOCKS server failure"],
    [2, "Connection not allowed by ruleset"],
    [3, "Network unreachable"],
    [4, "Host unreachable"],
    [5, "Connection refused"],
    [6, "TTL expired"],
    [7, "Command not supported"],
    [8, "Address type not supported"],
    [9, "UNKOWN"], // sic, as httpcore
  ])("reply code %i → ProxyError naming it", (code, name) => {
    const hs = new Socks5Handshake({ host: "example.com", port: 443 });
    hs.start();
    hs.receiveData(bytes(5, 0));
    // The error comes as soon as the code is known, before the rest of the reply.
    expectProxyError(
      () => hs.receiveData(bytes(5, code)),
      `Proxy Server could not connect: ${name}.`,
    );
  });

  it("accepts replies split at every byte boundary, and keeps bytes after the reply", () => {
    const reply = bytes(5, 0, 0, 4, ...new Array(15).fill(0), 1, 0x1f, 0x90, 0xaa, 0xbb);
    const script = [bytes(5, 2), bytes(1, 0), reply];
    const all = Uint8Array.from(script.flatMap((b) => [...b]));
    for (let step = 1; step <= all.length; step++) {
      const hs = new Socks5Handshake({ host: "example.com", port: 443, auth: ["u", "p"] });
      const sent: number[][] = [[...hs.start()]];
      for (let i = 0; i < all.length && !hs.done; i += step) {
        const out = hs.receiveData(all.subarray(i, Math.min(all.length, i + step)));
        if (out.length > 0) sent.push([...out]);
      }
      expect(hs.done).toBe(true);
      // Greeting, auth request, CONNECT request (joined when the replies came together).
      expect(sent.flat().length).toBe(3 + 5 + 18);
      expect(hs.boundAddress).toEqual({ type: "ipv6", host: "0:0:0:0:0:0:0:1", port: 8080 });
      // Bytes fed together with the reply's last byte are left for the tunnel.
      const end = all.length - 2;
      const chunkStart = Math.floor((end - 1) / step) * step;
      expect([...hs.leftover]).toEqual([
        ...all.subarray(end, Math.min(all.length, chunkStart + step)),
      ]);
    }
    const whole = new Socks5Handshake({ host: "example.com", port: 443 });
    whole.start();
    whole.receiveData(bytes(5, 0));
    whole.receiveData(reply);
    expect([...whole.leftover]).toEqual([0xaa, 0xbb]);
  });

  it("a domain-name bound address", () => {
    const hs = new Socks5Handshake({ host: "example.com", port: 443 });
    hs.start();
    hs.receiveData(bytes(5, 0));
    hs.receiveData(bytes(5, 0, 0, 3, 4, ...ascii("host"), 0, 1));
    expect(hs.boundAddress).toEqual({ type: "domain", host: "host", port: 1 });
  });

  it("EOF, a non-SOCKS5 server and garbage are ProxyErrors", () => {
    const eof = new Socks5Handshake({ host: "example.com", port: 443 });
    eof.start();
    expectProxyError(
      () => eof.receiveData(new Uint8Array(0)),
      "Proxy Server closed the connection during the SOCKS5 handshake (waiting for the method selection).",
    );
    const http = new Socks5Handshake({ host: "example.com", port: 443 });
    http.start();
    expectProxyError(
      () => http.receiveData(Uint8Array.from(ascii("HTTP/1.1 400 Bad Request\r\n"))),
      "Proxy Server is not a SOCKS5 server (its reply starts with version 72).",
    );
    const atyp = new Socks5Handshake({ host: "example.com", port: 443 });
    atyp.start();
    atyp.receiveData(bytes(5, 0));
    expectProxyError(
      () => atyp.receiveData(bytes(5, 0, 0, 9, 0, 0)),
      "Proxy Server sent an invalid SOCKS5 reply (address type 9).",
    );
  });

  it("rejects what cannot be encoded, before any byte is sent", () => {
    expect(() => new Socks5Handshake({ host: "x".repeat(256), port: 1 })).toThrow(ProxyError);
    expect(() => new Socks5Handshake({ host: "a b", port: 1 })).toThrow(ProxyError);
    expect(() => new Socks5Handshake({ host: "x", port: 65536 })).toThrow(TypeError);
    expect(() => new Socks5Handshake({ host: "x", port: 1, auth: ["", "p"] })).toThrow(
      "The SOCKS5 username must be 1 to 255 bytes long (RFC 1929).",
    );
    expect(() => new Socks5Handshake({ host: "x", port: 1, auth: ["u", "p".repeat(256)] })).toThrow(
      "The SOCKS5 password must be 1 to 255 bytes long (RFC 1929).",
    );
  });

  it("misuse throws plain Errors", () => {
    const hs = new Socks5Handshake({ host: "example.com", port: 443 });
    expect(() => hs.receiveData(bytes(5, 0))).toThrow("start() must be called first");
    hs.start();
    expect(() => hs.start()).toThrow("called twice");
  });
});

describe("IP literal parsing", () => {
  it("IPv4", () => {
    expect(parseIPv4("127.0.0.1")).toEqual(bytes(127, 0, 0, 1));
    for (const bad of ["127.0.0", "256.0.0.1", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", ""]) {
      expect(parseIPv4(bad)).toBeNull();
    }
  });
  it("IPv6", () => {
    expect(parseIPv6("::")).toEqual(new Uint8Array(16));
    expect(parseIPv6("2001:db8::ff00:42:8329")).toEqual(
      bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29),
    );
    expect(parseIPv6("::ffff:1.2.3.4")).toEqual(
      bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4),
    );
    expect(parseIPv6("1:2:3:4:5:6:7:8")?.[15]).toBe(8);
    for (const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "::g",
      "1:2:3:4:5:6:7::8",
      "fe80::1%eth0",
      "1.2.3.4",
    ]) {
      expect(parseIPv6(bad)).toBeNull();
    }
  });
});
