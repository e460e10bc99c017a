/**
 * The repr strings and JSON snapshot every connection shows, in httpcore's shapes.
 * @module
 */
import type { Origin } from "../url.js";
import type { ConnectionSnapshot, ConnectionState } from "./interfaces.js";

/** What a connection reports about itself. */
export interface ConnectionFacts {
  kind: string;
  origin: Origin;
  httpVersion: string;
  state: ConnectionState;
  requestCount: number;
}

/** `'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1` (httpcore's `info()`). */
export function connectionInfo(f: ConnectionFacts): string {
  return `'${f.origin}', ${f.httpVersion}, ${f.state}, Request Count: ${f.requestCount}`;
}

/** `<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>` (no version). */
export function connectionRepr(f: ConnectionFacts): string {
  return `<${f.kind} ['${f.origin}', ${f.state}, Request Count: ${f.requestCount}]>`;
}

/** The plain JSON snapshot for UIs and logs. */
export function connectionSnapshot(f: ConnectionFacts): ConnectionSnapshot {
  return {
    kind: f.kind,
    origin: String(f.origin),
    httpVersion: f.httpVersion,
    state: f.state,
    requestCount: f.requestCount,
  };
}
