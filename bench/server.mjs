// The benchmark's upstream, run as a child process so it never shares the client's event loop.
// GET /bytes/<n> answers n bytes (Content-Length); GET /chunked/<n> the same, chunked.
import { createServer } from "node:http";

const bodies = new Map();
const body = (n) => {
  let b = bodies.get(n);
  if (!b) {
    b = Buffer.alloc(n, 0x5f);
    bodies.set(n, b);
  }
  return b;
};

const STREAM_CHUNK = Buffer.alloc(1024 * 1024, 0x61);

const server = createServer((req, res) => {
  const [, kind, arg] = (req.url ?? "/").split("/");
  const n = Number(arg ?? 1024);
  if (kind === "stream") {
    // Large downloads, written with backpressure.
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": n });
    let left = n;
    const pump = () => {
      while (left > 0) {
        const chunk = left >= STREAM_CHUNK.length ? STREAM_CHUNK : STREAM_CHUNK.subarray(0, left);
        left -= chunk.length;
        if (!res.write(chunk)) return res.once("drain", pump);
      }
      res.end();
    };
    pump();
  } else if (kind === "chunked") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(body(n));
  } else {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": n });
    res.end(body(n));
  }
});
server.keepAliveTimeout = 600_000;
server.headersTimeout = 610_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.send?.({ port: server.address().port });
});
process.on("disconnect", () => process.exit(0));
