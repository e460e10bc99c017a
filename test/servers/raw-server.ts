/**
 * A raw `node:net` server that misbehaves on purpose, chosen by the request path. It parses request
 * heads itself (any method; a `Content-Length` body is skipped, a chunked body ends the connection
 * after the response) and answers with hand-written bytes:
 *
 * - `/ok` → keep-alive `200` `Content-Length: 2` `ok` (the connection stays usable)
 * - `/stale` → the `/ok` response, then FIN 20 ms later without `Connection: close`
 *   (a server closing an idle keep-alive connection); later requests on it are ignored
 * - `/stale-immediate` → the `/ok` response, then FIN at once
 * - `/truncated` → `Content-Length: 13`, body `Hello`, then FIN
 * - `/truncated-chunked` → chunked, one `Hello` chunk, then FIN (no last chunk)
 * - `/never` → reads the head, never answers, stops reading (so writes eventually block)
 * - `/drip-head` → the status line, then one header byte every 100 ms until the socket closes
 * - `/clte` → both `Content-Length: 5` and `Transfer-Encoding: chunked`, then FIN
 * - `/dup-cl` → `Content-Length: 5` and `Content-Length: 6`, body `Hello!`, then FIN
 * - `/big-head?kb=N` → a `X-Big` header line of N KiB (default 64), body `ok`, keep-alive
 * - `/bad-status` → `Wait, this isn't valid HTTP!`, then FIN
 * - `/eof-body` → `HTTP/1.1 200` with neither Content-Length nor Transfer-Encoding, body `until-eof`, FIN
 * - `/http10` → `HTTP/1.0 200 OK`, `Content-Length: 5`, `Hello`, then FIN
 * - `/obs-fold` → a header continued on the next line (obs-fold), body `ok`, then FIN
 * - `/early-hints` → `103 Early Hints` with a `Link`, then `200` `ok`, keep-alive
 * - `/continue` → `100 Continue` at once, `200` `ok` once the request body is in, keep-alive
 * - `/poison` → the `/ok` response immediately followed by an unsolicited second `200` (`poison`)
 * - `/close-after-head` → head with `Content-Length: 100`, then FIN
 * - `/reset` → TCP RST (ECONNRESET on the client)
 * - anything else → keep-alive `404` `Not Found`
 *
 * A connection whose first byte is 0x16 (a TLS ClientHello) is read but never answered, so a TLS
 * handshake against this server hangs (connect-timeout tests).
 * @module
 */

import { createServer, type Socket } from "node:net";

/** A running raw server. */
export interface RawServer {
  port: number;
  /** Closes the listener and destroys every open socket. */
  close(): Promise<void>;
}

const OK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
const NOT_FOUND = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found";
const MAX_HEAD = 1024 * 1024;

interface RawRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentLength: number;
  chunked: boolean;
}

function parseHead(head: string): RawRequest | null {
  const lines = head.split("\r\n");
  const [method, target] = (lines[0] ?? "").split(" ");
  if (!method || !target) return null;
  let contentLength = 0;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") contentLength = Number.parseInt(value, 10) || 0;
    else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
  }
  const url = new URL(target, "http://localhost");
  return { method, path: url.pathname, query: url.searchParams, contentLength, chunked };
}

/** Starts the raw server on `host` (default 127.0.0.1) and an ephemeral port. */
export async function startRawServer(host = "127.0.0.1"): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const timer = (socket: Socket, ms: number, fn: () => void, repeat = false): void => {
    const t = (repeat ? setInterval : setTimeout)(() => {
      if (!repeat) timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    socket.once("close", () => {
      clearTimeout(t);
      timers.delete(t);
    });
  };

  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // clients reset connections on purpose in tests

    let buf: Buffer = Buffer.alloc(0);
    let bodyLeft = 0;
    let onBodyDone: (() => void) | null = null;
    let stopped = false; // no more requests are parsed on this connection

    // Handles one request head; returns false when the connection takes no further requests.
    const route = (req: RawRequest): boolean => {
      switch (req.path) {
        case "/ok":
          socket.write(OK);
          return true;
        case "/stale":
          socket.write(OK);
          timer(socket, 20, () => socket.end());
          return false;
        case "/stale-immediate":
          socket.end(OK);
          return false;
        case "/truncated":
          socket.end("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello");
          return false;
        case "/truncated-chunked":
          socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n");
          return false;
        case "/never":
          socket.pause();
          return false;
        case "/drip-head": {
          socket.write("HTTP/1.1 200 OK\r\n");
          const line = "X-Drip: ";
          let i = 0;
          timer(
            socket,
            100,
            () => {
              if (!socket.destroyed) socket.write(i < line.length ? (line[i] as string) : "a");
              i++;
            },
            true,
          );
          return false;
        }
        case "/clte":
          socket.end(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n0\r\n\r\n",
          );
          return false;
        case "/dup-cl":
          socket.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nHello!");
          return false;
        case "/big-head": {
          const kb = Math.min(Number(req.query.get("kb") ?? 64) || 0, 64 * 1024);
          socket.write(
            `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(kb * 1024)}\r\nContent-Length: 2\r\n\r\nok`,
          );
          return true;
        }
        case "/bad-status":
          socket.end("Wait, this isn't valid HTTP!");
          return false;
        case "/eof-body":
          socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-eof");
          return false;
        case "/http10":
          socket.end("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nHello");
          return false;
        case "/obs-fold":
          socket.end(
            "HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 2\r\n\r\nok",
          );
          return false;
        case "/early-hints":
          socket.write(
            `HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n${OK}`,
          );
          return true;
        case "/continue":
          socket.write("HTTP/1.1 100 Continue\r\n\r\n");
          onBodyDone = () => socket.write(OK);
          return true;
        case "/poison":
          socket.write(`${OK}HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison`);
          return true;
        case "/close-after-head":
          socket.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
          return false;
        case "/reset":
          socket.resetAndDestroy();
          return false;
        default:
          socket.write(NOT_FOUND);
          return true;
      }
    };

    const drain = (): void => {
      while (!stopped) {
        if (bodyLeft > 0 || onBodyDone) {
          const take = Math.min(bodyLeft, buf.length);
          buf = buf.subarray(take);
          bodyLeft -= take;
          if (bodyLeft > 0) return;
          const done = onBodyDone;
          onBodyDone = null;
          done?.();
          continue;
        }
        if (buf.length === 0) return;
        if (buf[0] === 0x16) {
          stopped = true; // TLS handshake record: never answer
          return;
        }
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buf.length > MAX_HEAD) socket.destroy();
          return;
        }
        const req = parseHead(buf.subarray(0, end).toString("latin1"));
        buf = buf.subarray(end + 4);
        if (!req) {
          socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          stopped = true;
          return;
        }
        bodyLeft = req.chunked ? 0 : req.contentLength;
        const keepGoing = route(req);
        if (req.chunked) {
          // This server does not parse chunked request bodies: answer, then close.
          const done = onBodyDone as (() => void) | null;
          onBodyDone = null;
          done?.();
          if (keepGoing) socket.end();
          stopped = true;
        } else if (!keepGoing) {
          stopped = true;
        }
      }
    };

    socket.on("data", (chunk: Buffer) => {
      if (stopped) return;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      drain();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("raw server: no port");

  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}
