// The Cloudflare backend's dial limiter, inside workerd (Miniflare), against the real test servers.
// Workers allow 6 simultaneous dials per invocation; Miniflare does not enforce that, so the
// backend does: the 7th connectTcp waits (FIFO) for a dial to succeed or fail.
//
// A TLS dial to the raw server hangs (it reads the ClientHello and never answers), which keeps a
// dial in progress until its connect timeout. Assertions are on counters and ordering, not on
// wall-clock durations.

import { describe, expect, inject, it } from "vitest";
import type { AsyncNetworkStream } from "../../src/backends/base.js";
import {
  AsyncCloudflareBackend,
  DEFAULT_MAX_CONCURRENT_DIALS,
} from "../../src/backends/cloudflare.js";
import { ConnectError, ConnectTimeout } from "../../src/errors.js";
import { AsyncConnectionPool } from "../../src/index.js";

const httpPort = inject("httpPort");
const rawPort = inject("rawPort");

/** A dial that stays in progress until its timeout. */
function hangingDial(
  backend: AsyncCloudflareBackend,
  timeout: number,
): Promise<AsyncNetworkStream> {
  return backend.connectTcp("127.0.0.1", rawPort, { timeout, tls: {} });
}

/** Lets queued microtasks and already-due callbacks run. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("AsyncCloudflareBackend: at most maxConcurrentDials dials at once", () => {
  it("defaults to 6 and validates the option", () => {
    expect(DEFAULT_MAX_CONCURRENT_DIALS).toBe(6);
    expect(new AsyncCloudflareBackend().maxConcurrentDials).toBe(6);
    expect(new AsyncCloudflareBackend({ maxConcurrentDials: 2 }).maxConcurrentDials).toBe(2);
    expect(new AsyncCloudflareBackend({ maxConcurrentDials: null }).maxConcurrentDials).toBe(
      Number.POSITIVE_INFINITY,
    );
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new AsyncCloudflareBackend({ maxConcurrentDials: bad })).toThrow(RangeError);
    }
  });

  it("holds the 7th and 8th dial until one of the first 6 finishes", async () => {
    const backend = new AsyncCloudflareBackend();
    const order: string[] = [];
    const track = (name: string, dial: Promise<AsyncNetworkStream>) =>
      dial.then(
        async (stream) => {
          order.push(`${name} ok`);
          await stream.aclose();
        },
        (err: unknown) => {
          order.push(`${name} ${(err as Error).name}`);
        },
      );
    // Six dials that hang until 0.4 s, then two that would succeed at once if they could dial.
    const first = Array.from({ length: 6 }, (_, i) => track(`hang${i}`, hangingDial(backend, 0.4)));
    const seventh = track("http7", backend.connectTcp("127.0.0.1", httpPort, { timeout: 10 }));
    const eighth = track("http8", backend.connectTcp("127.0.0.1", httpPort, { timeout: 10 }));
    await tick();
    expect(backend.dialsInProgress).toBe(6);
    expect(backend.dialsWaiting).toBe(2);
    expect(order).toEqual([]);

    await Promise.all([...first, seventh, eighth]);
    // Each plain dial got a slot only once a hanging dial had given up, and they got them in the
    // order they asked: http7 needed one slot to be freed, http8 a second one.
    const timeoutsBefore = (name: string) =>
      order.slice(0, order.indexOf(`${name} ok`)).filter((e) => e.endsWith("ConnectTimeout"))
        .length;
    expect(order.filter((e) => e.endsWith("ConnectTimeout"))).toHaveLength(6);
    expect(timeoutsBefore("http7")).toBeGreaterThanOrEqual(1);
    expect(timeoutsBefore("http8")).toBeGreaterThanOrEqual(2);
    expect(order.indexOf("http7 ok")).toBeLessThan(order.indexOf("http8 ok"));
    expect(backend.dialsInProgress).toBe(0);
    expect(backend.dialsWaiting).toBe(0);
  });

  it("serves waiters first-in, first-out", async () => {
    const backend = new AsyncCloudflareBackend({ maxConcurrentDials: 1 });
    const order: number[] = [];
    const blocker = rejection(hangingDial(backend, 0.3));
    const waiters = [1, 2, 3, 4].map((i) =>
      backend.connectTcp("127.0.0.1", httpPort, { timeout: 10 }).then(async (stream) => {
        order.push(i);
        await stream.aclose();
      }),
    );
    await tick();
    expect(backend.dialsWaiting).toBe(4);
    expect(await blocker).toBeInstanceOf(ConnectTimeout);
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it("frees the slot when a dial fails", async () => {
    const backend = new AsyncCloudflareBackend({ maxConcurrentDials: 1 });
    const refused = rejection(backend.connectTcp("127.0.0.1", 1, { timeout: 5 }));
    const next = backend.connectTcp("127.0.0.1", httpPort, { timeout: 5 });
    expect(await refused).toBeInstanceOf(ConnectError);
    const stream = await next;
    await stream.aclose();
    expect(backend.dialsInProgress).toBe(0);
  });

  it("counts the wait for a slot in the connect timeout", async () => {
    const backend = new AsyncCloudflareBackend({ maxConcurrentDials: 1 });
    let blockerDone = false;
    const blocker = rejection(hangingDial(backend, 5)).finally(() => {
      blockerDone = true;
    });
    const err = await rejection(backend.connectTcp("127.0.0.1", httpPort, { timeout: 0.2 }));
    expect(err).toBeInstanceOf(ConnectTimeout);
    expect((err as Error).message).toBe(
      `timed out connecting to 127.0.0.1:${httpPort} after 0.2s (waiting for a dial slot: 1 dials in progress)`,
    );
    // It gave up while the blocking dial was still in progress, and left the queue.
    expect(blockerDone).toBe(false);
    expect(backend.dialsInProgress).toBe(1);
    expect(backend.dialsWaiting).toBe(0);

    // Aborting a waiter also takes it out of the queue.
    const controller = new AbortController();
    const reason = new Error("stop waiting");
    const aborted = rejection(
      backend.connectTcp("127.0.0.1", httpPort, { timeout: 10, signal: controller.signal }),
    );
    await tick();
    expect(backend.dialsWaiting).toBe(1);
    controller.abort(reason);
    expect(await aborted).toBe(reason);
    expect(backend.dialsWaiting).toBe(0);
    expect(blockerDone).toBe(false);
    expect(backend.dialsInProgress).toBe(1);
    // The blocker is left to time out on its own (5 s) with the test's end; its slot is not needed.
    void blocker;
  });

  it("lets a pool with more connections than dial slots queue behind the limit", async () => {
    // Samples the counters right after each dial was asked for (acquiring a slot is synchronous).
    let peakInProgress = 0;
    let peakWaiting = 0;
    class ProbeBackend extends AsyncCloudflareBackend {
      override connectTcp(
        ...args: Parameters<AsyncCloudflareBackend["connectTcp"]>
      ): Promise<AsyncNetworkStream> {
        const dial = super.connectTcp(...args);
        peakInProgress = Math.max(peakInProgress, this.dialsInProgress);
        peakWaiting = Math.max(peakWaiting, this.dialsWaiting);
        return dial;
      }
    }
    const backend = new ProbeBackend({ maxConcurrentDials: 2 });
    await using pool = new AsyncConnectionPool({ networkBackend: backend, maxConnections: 8 });
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => pool.request("GET", `http://127.0.0.1:${httpPort}/`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(peakInProgress).toBe(2);
    expect(peakWaiting).toBeGreaterThan(0);
    expect(backend.dialsInProgress).toBe(0);
    expect(backend.dialsWaiting).toBe(0);
    const total = pool.connections.reduce((sum, c) => sum + c.toJSON().requestCount, 0);
    expect(total).toBe(8);
  });
});
