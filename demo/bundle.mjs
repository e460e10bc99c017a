// Bundles demo/worker.ts with esbuild and runs it in Miniflare (programmatically: the wrangler CLI
// does not run on Node 20). Used by demo/start.mjs (`npm start`) and test/node/demo-worker.test.ts.
//
// `httpcore2` resolves by package self-reference through the `workerd` export condition, i.e. to
// dist/entry/cloudflare.js: run `npm run build` first. That entry registers the Cloudflare backend
// as the default, a side effect package.json's `sideEffects` must list or esbuild drops it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** `compatibility_date` and `compatibility_flags` from wrangler.toml, so the two never drift. */
export function wranglerSettings() {
  const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
  if (date === undefined) throw new Error("wrangler.toml has no compatibility_date");
  return {
    compatibilityDate: date,
    compatibilityFlags: [...(flags ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]),
  };
}

/** Bundles demo/worker.ts into one ES module (a string) the way wrangler would for workerd. */
export async function bundleWorker() {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error("esbuild produced no output");
  return file.text;
}

/**
 * Bundles the Worker and starts it in Miniflare on 127.0.0.1.
 * `port` 0 picks a free port. Resolves with { mf, url } (url: the Worker's base URL, a URL).
 * Set NODE_EXTRA_CA_CERTS before calling if the Worker must trust a local test CA.
 */
export async function startWorker({ allowedOrigins, port = 0, host = "127.0.0.1" }) {
  const script = await bundleWorker();
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name: "httpcore2-demo",
      modules: true,
      script,
      scriptPath: entry,
      ...wranglerSettings(),
      bindings: { ALLOWED_ORIGINS: allowedOrigins },
      host,
      port,
    }),
  );
  try {
    const url = await mf.ready;
    return { mf, url };
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
}
