// Shared benchmark helpers: start the upstream, drive a client at a fixed concurrency, summarise.
import { fork } from "node:child_process";
import { cpus } from "node:os";

/** Starts bench/server.mjs in a child process; resolves with { port, stop() }. */
export async function startServer() {
  const child = fork(new URL("./server.mjs", import.meta.url), [], { stdio: "inherit" });
  const port = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.port));
    child.once("error", reject);
  });
  return { port, stop: () => child.kill() };
}

/**
 * Runs `total` calls of `once()` with `concurrency` workers after `warmup` calls.
 * Returns { reqPerSec, cpuMicros, p50, p99 } (latencies in ms, client CPU µs per request).
 */
export async function measure(once, { concurrency, total, warmup }) {
  await drive(once, concurrency, warmup, null);
  const latencies = new Float64Array(total);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await drive(once, concurrency, total, latencies);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort();
  return {
    reqPerSec: total / seconds,
    // Client CPU per request: what the client costs, whatever the server's speed.
    cpuMicros: (used.user + used.system) / total,
    p50: latencies[Math.floor(total * 0.5)],
    p99: latencies[Math.min(total - 1, Math.floor(total * 0.99))],
  };
}

async function drive(once, concurrency, count, latencies) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      await once();
      if (latencies) latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Best of `rounds` runs (the least disturbed by a noisy machine). */
export async function bestOf(rounds, run) {
  let best = null;
  for (let i = 0; i < rounds; i++) {
    const r = await run();
    if (!best || r.reqPerSec > best.reqPerSec) best = r;
  }
  return best;
}

export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, ${process.platform}`;
}

export const fmt = {
  n: (x) => Math.round(x).toLocaleString("en-US"),
  ms: (x) => x.toFixed(2),
  ratio: (x) => `${x.toFixed(2)}×`,
};
