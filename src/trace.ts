/**
 * The `trace` request extension: httpcore's event names (`connection.connect_tcp.started`,
 * `http11.receive_response_headers.complete`, ...), called with an info object.
 * @module
 */

/** Receives trace events; may return a promise, which is awaited. */
export type TraceCallback = (
  eventName: string,
  info: Record<string, unknown>,
) => void | Promise<void>;

/**
 * Runs `fn` between `<name>.started` and `<name>.complete` (or `<name>.failed`) events.
 * Without a callback it is just `fn()`, so tracing costs nothing when unused.
 */
export function traced<T>(
  trace: TraceCallback | undefined,
  name: string,
  info: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  // Not an async function: without a callback no extra promise wraps the hot path.
  if (trace === undefined) return fn();
  return tracedCall(trace, name, info, fn);
}

async function tracedCall<T>(
  trace: TraceCallback,
  name: string,
  info: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  await trace(`${name}.started`, info);
  let result: T;
  try {
    result = await fn();
  } catch (exception) {
    await trace(`${name}.failed`, { exception });
    throw exception;
  }
  await trace(`${name}.complete`, { return_value: result });
  return result;
}
