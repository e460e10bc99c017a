// Types for demo/start.mjs (used by e2e/demo.e2e.test.ts).
import type { Server } from "node:http";
import type { Miniflare } from "miniflare";
import type { Upstream } from "./upstream.mjs";

/** A built page file. */
export interface PageFile {
  body: string | Uint8Array;
  type: string;
}

export interface Page {
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>/` */
  url: string;
}

export interface Demo {
  upstream: Upstream;
  worker: { mf: Miniflare; url: URL };
  page: Page;
  /** Closes the page server, disposes Miniflare and closes the upstream. Idempotent. */
  stop(): Promise<void>;
}

/** Builds demo/app with Vite (vite.config.ts) in memory: URL path → file. */
export function buildPage(): Promise<Map<string, PageFile>>;

/** Serves the built page, `/config.json`, and `/api/*` proxied to the Worker. */
export function startPage(options: {
  files: Map<string, PageFile>;
  workerUrl: URL | string;
  upstreamUrl: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}): Promise<Page>;

/** Closes the page server and its connections. */
export function stopPage(page: Page): Promise<void>;

/** Starts the upstream, the Worker and the page (ports default to 0: any free port). */
export function startDemo(options?: {
  upstreamPort?: number;
  workerPort?: number;
  pagePort?: number;
  /** Fall back to a free port when one is taken (as `npm start` does). */
  fallback?: boolean;
  warn?: (message: string) => void;
}): Promise<Demo>;
