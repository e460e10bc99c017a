// workerd (Miniflare): inside one Worker, n sequential and n concurrent small GETs to the same
// local origin through our connect() pool vs the Worker's global fetch().
import { fileURLToPath } from "node:url";

async function bundle() {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./worker.mjs", import.meta.url))],
    absWorkingDir: fileURLToPath(new URL("..", import.meta.url)),
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

export async function benchWorkerd(port, { n, rounds }) {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: await bundle(),
      compatibilityDate: "2026-07-30",
      compatibilityFlags: ["nodejs_compat"],
    }),
  );
  try {
    await mf.ready;
    const target = encodeURIComponent(`http://127.0.0.1:${port}/bytes/1024`);
    const rows = [];
    for (const mode of ["sequential", "concurrent"]) {
      const result = {};
      for (const client of mode === "sequential" ? ["pool", "fetch", "raw"] : ["pool", "fetch"]) {
        let best = Number.POSITIVE_INFINITY;
        // Round 0 warms the JIT up and is not counted.
        for (let i = 0; i <= rounds; i++) {
          const res = await mf.dispatchFetch(
            `http://localhost/?client=${client}&mode=${mode}&n=${n}&url=${target}`,
          );
          const { ms } = await res.json();
          if (i > 0) best = Math.min(best, ms);
        }
        result[client] = { ms: best, reqPerSec: n / (best / 1000) };
      }
      rows.push({ mode, n, ...result });
    }
    return rows;
  } finally {
    await mf.dispose();
  }
}
