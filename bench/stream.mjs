// Streaming: a large download through pool.stream()/aiterStream() vs reading a raw net socket.
import net from "node:net";
import { AsyncConnectionPool } from "httpcore2";
import { bestOf } from "./lib.mjs";

async function viaPool(port, size) {
  const pool = new AsyncConnectionPool();
  try {
    const t = performance.now();
    const r = await pool.stream("GET", `http://127.0.0.1:${port}/stream/${size}`);
    let total = 0;
    for await (const chunk of r.aiterStream()) total += chunk.length;
    await r.aclose();
    if (total !== size) throw new Error(`pool read ${total} of ${size} bytes`);
    return performance.now() - t;
  } finally {
    await pool.aclose();
  }
}

function viaSocket(port, size) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(`GET /stream/${size} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let total = 0;
    socket.on("data", (chunk) => {
      total += chunk.length;
    });
    socket.on("end", () => {
      // Head plus body: the raw reader does no parsing at all.
      if (total < size) reject(new Error(`socket read ${total} bytes`));
      else resolve(performance.now() - t);
    });
    socket.on("error", reject);
  });
}

export async function benchStream(port, { size, rounds }) {
  const result = {};
  for (const [name, run] of [
    ["httpcore2 stream()", () => viaPool(port, size)],
    ["raw net socket", () => viaSocket(port, size)],
  ]) {
    const best = await bestOf(rounds, async () => {
      const ms = await run();
      return { reqPerSec: size / (ms / 1000), ms };
    });
    result[name] = { mibPerSec: best.reqPerSec / (1024 * 1024), ms: best.ms };
  }
  return result;
}
