/**
 * The network stream handed out after `101 Switching Protocols` or a successful `CONNECT`:
 * bytes the parser already buffered past the head come first.
 * @module
 */
import type { AsyncNetworkStream, StartTlsOptions } from "../backends/base.js";

/** Wraps a stream so reads return `leftover` bytes before reading the network. */
export class UpgradeStream implements AsyncNetworkStream {
  #stream: AsyncNetworkStream;
  #leftover: Uint8Array;

  constructor(stream: AsyncNetworkStream, leftover: Uint8Array) {
    this.#stream = stream;
    this.#leftover = leftover;
  }

  async read(maxBytes: number, timeout?: number | null): Promise<Uint8Array> {
    if (this.#leftover.length > 0) {
      const out = this.#leftover.subarray(0, maxBytes);
      this.#leftover = this.#leftover.subarray(out.length);
      return out;
    }
    return this.#stream.read(maxBytes, timeout);
  }

  write(data: Uint8Array, timeout?: number | null): Promise<void> {
    return this.#stream.write(data, timeout);
  }

  aclose(): Promise<void> {
    return this.#stream.aclose();
  }

  startTls(opts: StartTlsOptions): Promise<AsyncNetworkStream> {
    return this.#stream.startTls(opts);
  }

  getExtraInfo(key: string): unknown {
    if (key === "is_readable" && this.#leftover.length > 0) return true;
    return this.#stream.getExtraInfo(key);
  }
}
