/** Monotonic seconds, for keep-alive expiry and pool deadlines. */
export function now(): number {
  return performance.now() / 1000;
}
