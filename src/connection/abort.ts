/**
 * Abort plumbing shared by connections and the pool.
 * @module
 */
import { abortReason } from "../errors.js";

/**
 * Calls `onAbort` once if `signal` aborts; returns the function that detaches the listener.
 * Listeners are always removed when the request settles, so a long-lived signal never leaks them.
 */
export function onAbort(signal: AbortSignal | null | undefined, onAbort: () => void): () => void {
  if (!signal) return noop;
  if (signal.aborted) {
    onAbort();
    return noop;
  }
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** Rejects with the signal's reason as soon as it aborts, else settles like `promise`. */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | null | undefined,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(noop);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const detach = onAbort(signal, () => reject(abortReason(signal)));
    promise.then(
      (value) => {
        detach();
        resolve(value);
      },
      (error: unknown) => {
        detach();
        reject(error);
      },
    );
  });
}

function noop(): void {}
