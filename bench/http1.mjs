// Keep-alive HTTP/1.1 on loopback: httpcore2 vs undici (Pool.request, fetch), Node's fetch and
// node:http with a keep-alive Agent, every response body read in full.
import http from "node:http";
import { AsyncConnectionPool } from "httpcore2";
import { Agent, Pool, fetch as undiciFetch } from "undici";
import { bestOf, measure } from "./lib.mjs";

/** Client factories: each returns { once(), close() } for `url` at `connections`. */
export const clients = {
  httpcore2(origin, path, connections) {
    const pool = new AsyncConnectionPool({ maxConnections: connections });
    const url = origin + path;
    return { once: () => pool.request("GET", url), close: () => pool.aclose() };
  },
  "undici Pool.request"(origin, path, connections) {
    const pool = new Pool(origin, { connections, pipelining: 1 });
    return {
      once: async () => {
        const { body } = await pool.request({ path, method: "GET" });
        await body.arrayBuffer();
      },
      close: () => pool.close(),
    };
  },
  "undici fetch"(origin, path, connections) {
    const dispatcher = new Agent({ connections, pipelining: 1 });
    const url = origin + path;
    return {
      once: async () => (await undiciFetch(url, { dispatcher })).arrayBuffer(),
      close: () => dispatcher.close(),
    };
  },
  "Node fetch"(origin, path) {
    const url = origin + path;
    return { once: async () => (await fetch(url)).arrayBuffer(), close: async () => {} };
  },
  "node:http Agent"(origin, path, connections) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const url = new URL(origin + path);
    const options = { host: url.hostname, port: url.port, path, agent };
    return {
      once: () =>
        new Promise((resolve, reject) => {
          http
            .get(options, (res) => {
              const parts = [];
              res.on("data", (c) => parts.push(c));
              res.on("end", () => resolve(Buffer.concat(parts)));
              res.on("error", reject);
            })
            .on("error", reject);
        }),
      close: async () => agent.destroy(),
    };
  },
};

/** Runs every client for each size × concurrency; returns rows for the report. */
export async function benchHttp1(port, { sizes, concurrencies, total, warmup, rounds }) {
  const origin = `http://127.0.0.1:${port}`;
  const rows = [];
  for (const size of sizes) {
    for (const concurrency of concurrencies) {
      const results = {};
      for (const [name, make] of Object.entries(clients)) {
        results[name] = await bestOf(rounds, async () => {
          const client = make(origin, `/bytes/${size}`, concurrency);
          try {
            return await measure(client.once, { concurrency, total, warmup });
          } finally {
            await client.close();
          }
        });
      }
      rows.push({ size, concurrency, results });
    }
  }
  return rows;
}
