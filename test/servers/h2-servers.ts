/**
 * HTTP/2 servers for the HTTP/2 tests, all on 127.0.0.1:
 *
 * - node:http2 `createSecureServer` with the test certificate, ALPN `h2` + `http/1.1`
 *   (`allowHTTP1`), and a second one offering `h2` only;
 * - node:http2 `createServer`: cleartext HTTP/2 with prior knowledge (h2c);
 * - `nghttpd` from Debian's nghttp2-server, over TLS (padded DATA frames, trailers) and cleartext
 *   (small 64 KiB windows, at most 10 concurrent streams), serving a temp docroot and echoing
 *   uploads. Missing nghttpd → `null` ports (its tests skip) unless `CI` is set.
 *
 * Routes of the node servers (`createH2Handler`): `/hello`, `/session` (which server-side
 * session/connection served the request), `/slow?ms=` (reports the peak of concurrent streams on
 * its session), `/bytes?n=` (the byte pattern i % 251, with backpressure), `/upload` (sha256 and
 * length of the body), `/echo`, `/rst?code=` (RST_STREAM), `/big-headers?size=`,
 * `/goaway?key=&n=` (GOAWAY below in-flight streams, once per key), `/destroy` (the
 * connection is destroyed under its streams), `/trailers`.
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canConnect, freePorts } from "./ports.js";

const CERT_DIR = join(fileURLToPath(new URL(".", import.meta.url)), "..", ".certs");

/** What {@link startH2Servers} returns. */
export interface TestH2Servers {
  /** node:http2 over TLS, ALPN h2 and http/1.1. */
  h2Port: number;
  /** node:http2 over TLS, ALPN h2 only. */
  h2OnlyPort: number;
  /** node:http2 cleartext (h2c, prior knowledge). */
  h2cPort: number;
  /** nghttpd over TLS (padding, trailers); null when nghttpd is not installed. */
  nghttpdPort: number | null;
  /** nghttpd cleartext (64 KiB windows, 10 streams); null when nghttpd is not installed. */
  nghttpdH2cPort: number | null;
  close(): Promise<void>;
}

/** Size of the file nghttpd serves at `/big.bin` (the byte pattern i % 251). */
export const NGHTTPD_BIG_FILE = 16 * 1024 * 1024;

// The allowHTTP1 server hands HTTP/1.1 requests the node:http objects, which share this API
// except `stream` (absent there: checked at runtime).
type AnyRequest = Http2ServerRequest;
type AnyResponse = Http2ServerResponse;

/** The byte pattern the servers use: byte i = i % 251. */
function pattern(from: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let v = from % 251;
  for (let i = 0; i < length; i++) {
    b[i] = v;
    v = v === 250 ? 0 : v + 1;
  }
  return b;
}

/** Request handlers shared by the node:http2 servers; sessions are numbered per server. */
function createH2Handler(): {
  handler: (req: AnyRequest, res: AnyResponse) => void;
  onSession: (session: Http2Session) => void;
  close: () => void;
} {
  const ids = new WeakMap<object, number>();
  const active = new WeakMap<object, { now: number; peak: number }>();
  const goaways = new Map<string, { done: boolean; held: AnyResponse[] }>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let next = 0;
  const sessionOf = (req: AnyRequest): object =>
    "stream" in req && req.stream !== undefined ? (req.stream.session ?? req.socket) : req.socket;
  const idOf = (key: object): number => {
    let id = ids.get(key);
    if (id === undefined) {
      id = ++next;
      ids.set(key, id);
    }
    return id;
  };
  const streamIdOf = (req: AnyRequest): number | null =>
    (req.stream as Http2ServerRequest["stream"] | undefined)?.id ?? null;
  const json = (res: AnyResponse, value: unknown, status = 200): void => {
    const body = JSON.stringify(value);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  };
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const handler = (req: AnyRequest, res: AnyResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const q = url.searchParams;
    const key = sessionOf(req);
    const session = idOf(key);
    const protocol = req.httpVersion === "2.0" ? "HTTP/2" : `HTTP/${req.httpVersion}`;
    const load = active.get(key) ?? { now: 0, peak: 0 };
    active.set(key, load);
    load.now++;
    load.peak = Math.max(load.peak, load.now);
    res.on("close", () => load.now--);
    switch (url.pathname) {
      case "/hello": {
        res.writeHead(200, { "content-type": "text/plain", "content-length": 13 });
        res.end("Hello, world!");
        return;
      }
      case "/session":
        json(res, { session, stream: streamIdOf(req), protocol });
        return;
      case "/slow":
        later(Number(q.get("ms") ?? 100), () =>
          json(res, { session, stream: streamIdOf(req), protocol, peak: load.peak }),
        );
        return;
      case "/bytes": {
        const n = Number(q.get("n") ?? 0);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": n });
        let sent = 0;
        const pump = (): void => {
          while (sent < n) {
            const size = Math.min(65536, n - sent);
            const ok = res.write(pattern(sent, size));
            sent += size;
            if (!ok) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      case "/upload": {
        const hash = createHash("sha256");
        let length = 0;
        req.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          length += chunk.length;
        });
        req.on("end", () => json(res, { length, sha256: hash.digest("hex"), protocol }));
        return;
      }
      case "/echo": {
        let length = 0;
        req.on("data", (chunk: Buffer) => {
          length += chunk.length;
        });
        req.on("end", () =>
          json(res, { method: req.method, headers: req.headers, length, protocol, session }),
        );
        return;
      }
      case "/rst": {
        const code = Number(q.get("code") ?? 2);
        const stream = res.stream as Http2ServerResponse["stream"] | undefined;
        if (stream !== undefined) stream.close(code);
        else (res as unknown as { destroy(): void }).destroy();
        return;
      }
      case "/destroy": {
        // The connection dies under every stream on it (no GOAWAY).
        const h2session = (req.stream as Http2ServerRequest["stream"] | undefined)?.session;
        if (h2session !== undefined) h2session.destroy();
        else req.socket.destroy();
        return;
      }
      case "/big-headers": {
        res.setHeader("x-big", "v".repeat(Number(q.get("size") ?? 100000)));
        res.end("big");
        return;
      }
      case "/trailers": {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("with trailers");
        res.addTrailers({ "x-checksum": "abc" });
        res.end();
        return;
      }
      case "/goaway": {
        // Hold `n` streams of one session, then GOAWAY with last_stream_id = the first of them:
        // the client must retry the others elsewhere. Once per key; later requests are served.
        const k = q.get("key") ?? "";
        const n = Number(q.get("n") ?? 5);
        const state = goaways.get(k) ?? { done: false, held: [] };
        goaways.set(k, state);
        if (state.done || req.stream === undefined) {
          json(res, { session, stream: streamIdOf(req), retried: true });
          return;
        }
        state.held.push(res);
        if (state.held.length < n) return;
        state.done = true;
        const first = state.held[0] as AnyResponse;
        const h2session = first.stream.session;
        const last = first.stream.id ?? 0;
        h2session?.goaway(0, last);
        json(first, { session, stream: last, retried: false });
        return;
      }
      default:
        json(res, { error: "not found", path: url.pathname }, 404);
    }
  };
  return {
    handler,
    onSession: (s) => {
      idOf(s);
      s.on("error", () => {});
    },
    close: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

function listen(server: Http2Server | Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const a = server.address();
      if (a === null || typeof a === "string") reject(new Error("no port"));
      else resolve(a.port);
    });
  });
}

function nghttpdPath(): string | null {
  for (const c of ["/usr/bin/nghttpd", "nghttpd"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${c}`], { stdio: "ignore" });
      return c;
    } catch {
      // next
    }
  }
  return null;
}

/** Starts the node:http2 servers and, when installed, two nghttpd processes. */
export async function startH2Servers(): Promise<TestH2Servers> {
  const key = readFileSync(join(CERT_DIR, "server-key.pem"));
  const cert = readFileSync(join(CERT_DIR, "server.pem"));
  const handlers = [createH2Handler(), createH2Handler(), createH2Handler()] as const;
  // Large header blocks may be sent (node refuses above 64 KiB by default): the client's own
  // SETTINGS_MAX_HEADER_LIST_SIZE must be what stops them.
  const big = { maxSendHeaderBlockLength: 1 << 20 };
  const secure = createSecureServer({ key, cert, allowHTTP1: true, ...big }, handlers[0].handler);
  const secureOnly = createSecureServer(
    { key, cert, allowHTTP1: false, ...big },
    handlers[1].handler,
  );
  const clear = createServer(big, handlers[2].handler);
  const servers = [secure, secureOnly, clear] as const;
  servers.forEach((s, i) => {
    s.on("session", (handlers[i] as (typeof handlers)[number]).onSession);
    // Idle sessions stay open for any test; clients close them.
    s.setTimeout(0);
  });
  const sockets = new Set<{ destroy(): void }>();
  for (const s of servers) {
    s.on("connection", (socket: { destroy(): void; once(e: string, f: () => void): void }) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
  }
  const [h2Port, h2OnlyPort, h2cPort] = (await Promise.all(servers.map(listen))) as [
    number,
    number,
    number,
  ];

  // nghttpd, when available.
  const daemons: ChildProcess[] = [];
  let nghttpdPort: number | null = null;
  let nghttpdH2cPort: number | null = null;
  const docroot = mkdtempSync(join(tmpdir(), "httpcore2-nghttpd-"));
  const binary = nghttpdPath();
  if (binary === null) {
    const message =
      "nghttpd not installed (apt-get install nghttp2-server); its HTTP/2 tests are skipped";
    if (process.env.CI) throw new Error(message);
    console.warn(message);
  } else {
    writeFileSync(join(docroot, "hello.txt"), "Hello, world!");
    writeFileSync(join(docroot, "big.bin"), pattern(0, NGHTTPD_BIG_FILE));
    const [tlsPort, clearPort] = (await freePorts(2)) as [number, number];
    const common = ["-a", "127.0.0.1", "-d", docroot, "--echo-upload"];
    const spawnOne = (args: string[]): ChildProcess => {
      const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
      child.on("error", () => {});
      daemons.push(child);
      return child;
    };
    spawnOne([
      ...common,
      "-b",
      "16",
      "--trailer",
      "x-served-by: nghttpd",
      String(tlsPort),
      join(CERT_DIR, "server-key.pem"),
      join(CERT_DIR, "server.pem"),
    ]);
    spawnOne([...common, "--no-tls", "-m", "10", "-w", "16", "-W", "16", String(clearPort)]);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = await Promise.all([canConnect(tlsPort), canConnect(clearPort)]);
      if (ready.every(Boolean)) break;
      if (daemons.some((d) => d.exitCode !== null) || Date.now() > deadline) {
        for (const d of daemons) d.kill();
        throw new Error(`nghttpd did not start on ${tlsPort}/${clearPort}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    nghttpdPort = tlsPort;
    nghttpdH2cPort = clearPort;
  }

  let closed: Promise<void> | undefined;
  return {
    h2Port,
    h2OnlyPort,
    h2cPort,
    nghttpdPort,
    nghttpdH2cPort,
    close() {
      closed ??= (async () => {
        for (const h of handlers) h.close();
        for (const s of sockets) s.destroy();
        await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
        await Promise.all(
          daemons.map(
            (d) =>
              new Promise<void>((resolve) => {
                if (d.exitCode !== null || d.signalCode !== null) return resolve();
                d.once("exit", () => resolve());
                d.kill("SIGTERM");
              }),
          ),
        );
        rmSync(docroot, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
