// HTTP/2 on loopback (TLS + ALPN h2, the test CA): httpcore2 (`http2: true`) vs undici's Client
// (`allowH2: true`, up to 100 streams) vs Node's own http2 client (one session), every response
// body read in full, all against one node:http2 server in a child process. Each client uses one
// connection and multiplexes its concurrent requests over it.
//
//   node bench/h2.mjs [--quick]   (after `npm run build`), or as part of `npm run bench`.

import { execFileSync, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { AsyncConnectionPool } from "httpcore2";
import { Client } from "undici";
import { bestOf, fmt, measure } from "./lib.mjs";

const certDir = fileURLToPath(new URL("../test/.certs/", import.meta.url));

// ---------------------------------------------------------------------------------------------
// The server (this file, forked with --server)

if (process.argv.includes("--server")) {
  const bodies = new Map();
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const server = http2.createSecureServer({
    key: readFileSync(`${certDir}server-key.pem`),
    cert: readFileSync(`${certDir}server.pem`),
  });
  server.on("stream", (stream, headers) => {
    const [, kind, arg] = String(headers[":path"] ?? "/").split("/");
    const n = Number(arg ?? 1024);
    stream.on("error", () => {});
    if (kind === "stream") {
      stream.respond({ ":status": 200, "content-length": n });
      let left = n;
      const pump = () => {
        while (left > 0) {
          const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= c.length;
          if (!stream.write(c)) return stream.once("drain", pump);
        }
        stream.end();
      };
      pump();
      return;
    }
    let body = bodies.get(n);
    if (!body) {
      body = Buffer.alloc(n, 0x5f);
      bodies.set(n, body);
    }
    stream.respond({ ":status": 200, "content-type": "text/plain", "content-length": n });
    stream.end(body);
  });
  server.on("session", (s) => s.on("error", () => {}));
  server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
  process.on("disconnect", () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// The clients

function ca() {
  // Fast no-op when the test CA exists.
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL("../test/servers/make-certs.mjs", import.meta.url))],
    {
      stdio: "ignore",
    },
  );
  return readFileSync(`${certDir}ca.pem`, "utf8");
}

/** Client factories: each returns { once(path), close() } over one HTTP/2 connection. */
const clients = {
  httpcore2(origin, caPem) {
    const pool = new AsyncConnectionPool({ http2: true, ssl: { ca: caPem } });
    return {
      once: (path) => pool.request("GET", origin + path),
      stream: async (path) => {
        let n = 0;
        const r = await pool.stream("GET", origin + path);
        for await (const c of r.aiterStream()) n += c.length;
        return n;
      },
      close: () => pool.aclose(),
    };
  },
  "undici Client allowH2"(origin, caPem) {
    const client = new Client(origin, { allowH2: true, pipelining: 100, connect: { ca: caPem } });
    return {
      once: async (path) => {
        const { body } = await client.request({ path, method: "GET" });
        await body.arrayBuffer();
      },
      stream: async (path) => {
        let n = 0;
        const { body } = await client.request({ path, method: "GET" });
        for await (const c of body) n += c.length;
        return n;
      },
      close: () => client.close(),
    };
  },
  "node:http2 session"(origin, caPem) {
    const session = http2.connect(origin, { ca: caPem });
    session.on("error", () => {});
    const get = (path, onData) =>
      new Promise((resolve, reject) => {
        const req = session.request({ ":path": path });
        req.on("data", onData);
        req.on("end", resolve);
        req.on("error", reject);
        req.end();
      });
    return {
      once: (path) => {
        const parts = [];
        return get(path, (c) => parts.push(c)).then(() => Buffer.concat(parts));
      },
      stream: async (path) => {
        let n = 0;
        await get(path, (c) => {
          n += c.length;
        });
        return n;
      },
      close: () => new Promise((resolve) => session.close(resolve)),
    };
  },
};

async function startServer() {
  const child = fork(fileURLToPath(import.meta.url), ["--server"], { stdio: "inherit" });
  const port = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.port));
    child.once("error", reject);
  });
  return { port, stop: () => child.kill() };
}

/**
 * Runs every client for each size × concurrency, plus a streamed download; returns
 * `{ rows, stream }` for the report.
 */
export async function benchHttp2({ sizes, concurrencies, total, warmup, rounds, streamSize }) {
  const caPem = ca();
  const server = await startServer();
  const origin = `https://localhost:${server.port}`;
  try {
    const rows = [];
    for (const size of sizes) {
      for (const concurrency of concurrencies) {
        const results = {};
        for (const [name, make] of Object.entries(clients)) {
          results[name] = await bestOf(rounds, async () => {
            const client = make(origin, caPem);
            const path = `/bytes/${size}`;
            try {
              return await measure(() => client.once(path), { concurrency, total, warmup });
            } finally {
              await client.close();
            }
          });
        }
        rows.push({ size, concurrency, results });
      }
    }
    const stream = {};
    for (const [name, make] of Object.entries(clients)) {
      let best = null;
      for (let i = 0; i < rounds; i++) {
        const client = make(origin, caPem);
        try {
          await client.once("/bytes/1024"); // connect first
          const started = performance.now();
          const n = await client.stream(`/stream/${streamSize}`);
          const ms = performance.now() - started;
          if (n !== streamSize) throw new Error(`${name} read ${n} of ${streamSize} bytes`);
          const r = { ms, mibPerSec: streamSize / 1024 / 1024 / (ms / 1000) };
          if (!best || r.mibPerSec > best.mibPerSec) best = r;
        } finally {
          await client.close();
        }
      }
      stream[name] = best;
    }
    return { rows, stream };
  } finally {
    server.stop();
  }
}

/** The report section, as Markdown lines. */
export function h2Report({ rows, stream }, streamSize) {
  const lines = [];
  lines.push("## HTTP/2 over TLS on loopback (one connection per client, multiplexed)");
  lines.push("");
  lines.push(
    "| body | conc. | client | req/s | vs httpcore2 | client CPU µs/req | p50 ms | p99 ms |",
  );
  lines.push("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    const ours = row.results.httpcore2.reqPerSec;
    for (const [name, r] of Object.entries(row.results)) {
      lines.push(
        `| ${row.size / 1024} KiB | ${row.concurrency} | ${name} | ${fmt.n(r.reqPerSec)} | ${fmt.ratio(r.reqPerSec / ours)} | ${fmt.n(r.cpuMicros)} | ${fmt.ms(r.p50)} | ${fmt.ms(r.p99)} |`,
      );
    }
  }
  lines.push("");
  lines.push(`Streaming a ${streamSize / 1024 / 1024} MiB download over HTTP/2 (flow control):`);
  lines.push("");
  lines.push("| client | MiB/s | ms | vs httpcore2 |");
  lines.push("| --- | ---: | ---: | ---: |");
  const ours = stream.httpcore2.mibPerSec;
  for (const [name, r] of Object.entries(stream)) {
    lines.push(
      `| ${name} | ${fmt.n(r.mibPerSec)} | ${fmt.n(r.ms)} | ${fmt.ratio(r.mibPerSec / ours)} |`,
    );
  }
  lines.push("");
  return lines;
}

/** Options for `npm run bench` (full) or `--quick`. */
export function h2Options(quick) {
  return {
    sizes: [1024, 64 * 1024],
    concurrencies: [1, 16, 64],
    total: quick ? 1000 : 5000,
    warmup: quick ? 200 : 1000,
    rounds: quick ? 1 : 2,
    streamSize: (quick ? 16 : 64) * 1024 * 1024,
  };
}

if (!process.argv.includes("--server") && process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = h2Options(process.argv.includes("--quick"));
  const result = await benchHttp2(options);
  for (const line of h2Report(result, options.streamSize)) console.log(line);
}
