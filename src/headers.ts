/**
 * Header input forms and the headers a request needs on the wire.
 * @module
 */
import type { HeaderList } from "./h11/types.js";
import { describe } from "./url.js";

/** Headers as callers may give them: a record, name/value pairs (order kept), or a `Headers`. */
export type HeadersInit =
  | Record<string, string | number>
  | Iterable<readonly [string, string]>
  | Headers;

/** Turns any accepted header form into a list of `[name, value]` pairs, in order. */
export function normalizeHeaders(input: HeadersInit | null | undefined): HeaderList {
  if (input == null) return [];
  const out: HeaderList = [];
  if (typeof Headers !== "undefined" && input instanceof Headers) {
    input.forEach((value, name) => {
      out.push([name, value]);
    });
    return out;
  }
  if (typeof input !== "object") {
    throw new TypeError(
      `headers must be a record, an array of [name, value] pairs or a Headers, but got ${describe(input)}.`,
    );
  }
  if (Symbol.iterator in input) {
    for (const pair of input as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`headers pairs must be [name, value], but got ${describe(pair)}.`);
      }
      out.push([headerString("name", pair[0]), headerString("value", pair[1])]);
    }
    return out;
  }
  for (const [name, value] of Object.entries(input)) {
    out.push([name, headerString("value", value)]);
  }
  return out;
}

// Coerce numbers, refuse objects: an object's toString could smuggle CR/LF past a type check.
function headerString(what: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && what === "value") return String(value);
  throw new TypeError(`header ${what} must be a string, but got ${describe(value)}.`);
}

/** Index of the first header named `name` (lower-case), or -1. */
export function findHeader(headers: HeaderList, name: string): number {
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (h !== undefined && h[0].length === name.length && h[0].toLowerCase() === name) return i;
  }
  return -1;
}

/** The value of the first header named `name` (lower-case), or `undefined`. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const i = findHeader(headers, name);
  return i === -1 ? undefined : headers[i]?.[1];
}

/** True if a comma-separated header (e.g. `Connection`) contains `token`, case-insensitively. */
export function headerHasToken(headers: HeaderList, name: string, token: string): boolean {
  for (const [n, v] of headers) {
    if (n.length !== name.length || n.toLowerCase() !== name) continue;
    for (const part of v.split(",")) {
      if (part.trim().toLowerCase() === token) return true;
    }
  }
  return false;
}
