/**
 * The unconsumed received bytes. Zero-copy in the common case: when everything fed so far has
 * been consumed, the next feed is referenced as is. Bytes are copied only when a new feed must
 * join leftover bytes (a head or chunk-size line split across feeds), into a store that grows by
 * doubling so a peer dripping one byte at a time costs linear, not quadratic, time.
 * @module
 */

import { EMPTY_BYTES } from "./chars.js";

/** A FIFO of received bytes that hands out views (`subarray`) of what it holds. */
export class ReceiveBuffer {
  /** The valid bytes; unconsumed ones are `bytes[pos, bytes.length)`. */
  bytes: Uint8Array = EMPTY_BYTES;
  /** Index in {@link bytes} of the first unconsumed byte. */
  pos = 0;
  // Owned backing array when `bytes` is a prefix view of it, so appends can fill its spare room.
  // Views already handed out lie before `pos` and appends only write past the end, so they stay
  // intact; compaction always moves to a new array for the same reason.
  private store: Uint8Array | null = null;

  /** Number of unconsumed bytes. */
  get length(): number {
    return this.bytes.length - this.pos;
  }

  /** Appends `data`, referencing it without a copy when nothing is pending. */
  append(data: Uint8Array): void {
    const pending = this.bytes.length - this.pos;
    if (data.length === 0) return;
    if (pending === 0) {
      this.bytes = data;
      this.pos = 0;
      this.store = null;
      return;
    }
    const used = this.bytes.length;
    const store = this.store;
    if (store !== null && used + data.length <= store.length) {
      store.set(data, used);
      this.bytes = store.subarray(0, used + data.length);
      return;
    }
    const next = new Uint8Array(Math.max(pending + data.length, pending * 2, 256));
    next.set(this.bytes.subarray(this.pos), 0);
    next.set(data, pending);
    this.store = next;
    this.bytes = next.subarray(0, pending + data.length);
    this.pos = 0;
  }

  /** A view of the next `n` unconsumed bytes (at most {@link length}), consuming them. */
  take(n: number): Uint8Array {
    const start = this.pos;
    this.pos = start + n;
    return this.bytes.subarray(start, start + n);
  }

  /** Consumes `n` bytes. */
  skip(n: number): void {
    this.pos += n;
  }

  /** A view of every unconsumed byte (not consumed). */
  rest(): Uint8Array {
    return this.pos === this.bytes.length ? EMPTY_BYTES : this.bytes.subarray(this.pos);
  }
}
