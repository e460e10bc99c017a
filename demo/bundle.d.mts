// Types for demo/bundle.mjs (used by test/node/demo-worker.test.ts).
import type { Miniflare } from "miniflare";

/** `compatibility_date` and `compatibility_flags` from wrangler.toml. */
export function wranglerSettings(): { compatibilityDate: string; compatibilityFlags: string[] };

/** Bundles demo/worker.ts into one ES module (as a string) for workerd. */
export function bundleWorker(): Promise<string>;

/** Bundles the Worker and starts it in Miniflare on `host` (default 127.0.0.1). */
export function startWorker(options: {
  /** Comma-separated origins bound as ALLOWED_ORIGINS. */
  allowedOrigins: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}): Promise<{ mf: Miniflare; url: URL }>;
