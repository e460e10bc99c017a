// Runs inside workerd: the same GETs through our connect() pool and through the Worker's fetch().
import { connect } from "cloudflare:sockets";
import { AsyncConnectionPool } from "httpcore2";

async function timeIt(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function viaPool(url, n, concurrent) {
  const pool = new AsyncConnectionPool({ maxConnections: 6 });
  try {
    return await timeIt(async () => {
      if (concurrent) await Promise.all(Array.from({ length: n }, () => pool.request("GET", url)));
      else for (let i = 0; i < n; i++) await pool.request("GET", url);
    });
  } finally {
    await pool.aclose();
  }
}

async function viaFetch(url, n, concurrent) {
  const once = async () => (await fetch(url)).arrayBuffer();
  return timeIt(async () => {
    if (concurrent) await Promise.all(Array.from({ length: n }, once));
    else for (let i = 0; i < n; i++) await once();
  });
}

// The floor: one hand-written keep-alive request loop on one socket (sequential only).
async function viaRawSocket(target, n) {
  const url = new URL(target);
  const socket = connect(
    { hostname: url.hostname, port: Number(url.port) },
    { allowHalfOpen: false },
  );
  const writer = socket.writable.getWriter();
  const reader = socket.readable.getReader({ mode: "byob" });
  const head = new TextEncoder().encode(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`,
  );
  const expected = Number(url.pathname.split("/").pop());
  let buffer = new ArrayBuffer(65536);
  try {
    return await timeIt(async () => {
      for (let i = 0; i < n; i++) {
        await writer.write(head);
        // The server's head is ~100 bytes; count until the body must be complete.
        let got = 0;
        while (got < expected + 60) {
          const { value, done } = await reader.read(new Uint8Array(buffer));
          if (done) throw new Error("EOF");
          got += value.byteLength;
          buffer = value.buffer;
        }
      }
    });
  } finally {
    socket.close().catch(() => {});
  }
}

export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams;
    const url = params.get("url");
    const n = Number(params.get("n") ?? 100);
    const concurrent = params.get("mode") === "concurrent";
    const client = params.get("client");
    // Date.now()/performance.now() only advance across I/O in workerd, which is what we measure.
    const ms =
      client === "fetch"
        ? await viaFetch(url, n, concurrent)
        : client === "raw"
          ? await viaRawSocket(url, n)
          : await viaPool(url, n, concurrent);
    return Response.json({ ms });
  },
};
