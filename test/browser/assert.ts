// Framework-free assertions for scenarios that also run inside a browser page (no vitest there).

/** A scenario: a name, an optional reason to skip in a context, and the test itself. */
export interface Scenario<C> {
  name: string;
  /** A reason to skip in this context, or false. */
  skip?: (ctx: C) => string | false;
  run(ctx: C): Promise<void>;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** Deep equality of plain values (arrays, objects, primitives). */
export function equal(actual: unknown, expected: unknown, what = "value"): void {
  if (!same(actual, expected)) {
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** `actual` matches `pattern`. */
export function match(actual: string, pattern: RegExp, what = "value"): void {
  if (!pattern.test(actual))
    throw new Error(`${what}: expected to match ${pattern}, got ${show(actual)}`);
}

/** `condition` holds. */
export function ok(condition: unknown, what: string): void {
  if (!condition) throw new Error(`expected ${what}`);
}

/**
 * Asserts that `promise` rejects with an error whose `name` is `name` (names survive bundling and
 * realms where classes may not) and whose message matches; returns the error.
 */
export async function rejects(
  promise: Promise<unknown>,
  name: string,
  message?: string | RegExp,
): Promise<Error> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected a ${name}, but nothing was thrown`);
  const e = error as Error;
  if (e?.name !== name) throw new Error(`expected ${name}, got ${e?.name}: ${e?.message}`);
  if (message !== undefined) {
    const fits = typeof message === "string" ? e.message === message : message.test(e.message);
    if (!fits)
      throw new Error(`expected ${name} message ${String(message)}, got ${show(e.message)}`);
  }
  return e;
}

/** Waits until `condition()` is true (polling), for values the platform fills in later. */
export async function eventually(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
