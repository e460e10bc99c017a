import type { MockChunk } from "../../src/index.js";

/** httpcore's standard mock response, one element per read. */
export const HELLO: MockChunk[] = [
  "HTTP/1.1 200 OK\r\n",
  "Content-Type: plain/text\r\n",
  "Content-Length: 13\r\n",
  "\r\n",
  "Hello, world!",
];

/** `n` copies of the standard response on one connection. */
export function hello(n: number): MockChunk[] {
  return Array.from({ length: n }, () => HELLO).flat();
}

/** A deferred promise (Node 20 has no Promise.withResolvers). */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** String forms of the pool's connections. */
export function reprs(pool: { connections: readonly unknown[] }): string[] {
  return pool.connections.map(String);
}

/** Asserts that `promise` rejects with exactly this class and message; returns the error. */
export async function rejectsWith(
  promise: Promise<unknown>,
  cls: abstract new (...args: never[]) => Error,
  message: string | RegExp,
): Promise<Error> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error)) throw new Error(`expected a ${cls.name}, but nothing was thrown`);
  if (error.constructor !== cls) {
    throw new Error(`expected ${cls.name}, got ${error.constructor.name}: ${error.message}`);
  }
  if (typeof message === "string" ? error.message !== message : !message.test(error.message)) {
    throw new Error(
      `expected ${cls.name} message ${String(message)}, got ${JSON.stringify(error.message)}`,
    );
  }
  return error;
}
