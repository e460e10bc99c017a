// A small local upstream server for the demos: GET /bytes?n=N answers N bytes, /slow?ms=M waits.
import { createServer } from "node:http";

/** Starts the upstream on 127.0.0.1 (port 0 = any free port); resolves with { server, port, url }. */
export async function startUpstream(port = 0) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/bytes") {
      const n = Math.min(Number(url.searchParams.get("n") ?? 1024), 64 * 1024 * 1024);
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": n });
      res.end(Buffer.alloc(n, 0x61));
    } else if (url.pathname === "/slow") {
      const ms = Math.min(Number(url.searchParams.get("ms") ?? 100), 10_000);
      setTimeout(() => res.end(`waited ${ms} ms\n`), ms);
    } else {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("Hello from the httpcore2 demo upstream\n");
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = server.address().port;
  return { server, port: actual, url: `http://127.0.0.1:${actual}` };
}
