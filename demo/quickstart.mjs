// The README's quick start, run against a local upstream: concurrent downloads through one pool,
// then the pool's connections. Run with `npm start`.
import { AsyncConnectionPool } from "httpcore2";
import { startUpstream } from "./upstream.mjs";

const upstream = await startUpstream(Number(process.env.PORT ?? 0));
const base = upstream.url;

const pool = new AsyncConnectionPool({ maxConnections: 4, keepaliveExpiry: 5 });
try {
  const urls = Array.from({ length: 12 }, (_, i) => `${base}/bytes?n=${1024 * (i + 1)}`);
  const started = performance.now();
  const responses = await Promise.all(urls.map((url) => pool.request("GET", url)));
  const ms = (performance.now() - started).toFixed(1);
  for (const r of responses)
    console.log(r.status, r.extensions.httpVersion, `${r.content.length} bytes`);
  console.log(`${responses.length} downloads in ${ms} ms`);
  console.log(String(pool));
  for (const connection of pool.connections) console.log(String(connection));

  // Streaming: the body arrives in chunks; closing the response frees the connection.
  const s = await pool.stream("GET", `${base}/bytes?n=${1024 * 1024}`);
  let total = 0;
  for await (const chunk of s.aiterStream()) total += chunk.length;
  await s.aclose();
  console.log(`streamed ${total} bytes`);
} finally {
  await pool.aclose();
  upstream.server.close();
}
