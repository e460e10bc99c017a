// Types for demo/upstream.mjs (used by test/node/demo-worker.test.ts).
import type { Server } from "node:http";

export interface Upstream {
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/** Byte `i` of a `/pattern` body (`i % 251`). */
export function patternByte(i: number): number;

/** True for `http(s)://127.0.0.1|localhost|[::1][:port]`: the page origins the upstream allows (CORS). */
export function isLoopbackOrigin(origin: string): boolean;

/** Starts the upstream on 127.0.0.1 (port 0 = any free port). */
export function startUpstream(port?: number): Promise<Upstream>;

/** Closes the upstream and its keep-alive connections. */
export function stopUpstream(upstream: Upstream): Promise<void>;
