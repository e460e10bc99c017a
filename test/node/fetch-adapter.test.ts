// pool.fetch() against the real test servers, over the node:net backend and over the fetch
// backend (Node's own fetch): the WHATWG-style set of test/browser/fetch-scenarios.ts, which the
// workerd project and the Chromium page run too.
import { describe, expect, inject, it } from "vitest";
import { AsyncFetchBackend } from "../../src/backends/fetch.js";
import { AsyncNodeBackend } from "../../src/backends/node.js";
import { AsyncConnectionPool } from "../../src/index.js";
import { type FetchScenarioContext, fetchScenarios } from "../browser/fetch-scenarios.js";

const httpPort = inject("httpPort");
const backends = {
  node: () => new AsyncNodeBackend(),
  fetch: () => new AsyncFetchBackend(),
};

for (const [name, backend] of Object.entries(backends)) {
  describe(`pool.fetch over the ${name} backend`, () => {
    const ctx: FetchScenarioContext = {
      runtime: "node",
      http: `http://127.0.0.1:${httpPort}`,
      other: `http://localhost:${httpPort}`,
      pool: (options = {}) => new AsyncConnectionPool({ networkBackend: backend(), ...options }),
      fetchBackend: name === "fetch",
      platformRedirects: false,
    };
    for (const scenario of fetchScenarios) {
      const skip = scenario.skip?.(ctx) || false;
      if (skip) it.skip(`${scenario.name} (${skip})`, () => {});
      else it(scenario.name, () => scenario.run(ctx));
    }
  });
}

describe("pool.fetch: Node specifics", () => {
  it("talks HTTPS with the pool's TLS options", async () => {
    await using pool = new AsyncConnectionPool({
      networkBackend: new AsyncNodeBackend(),
      ssl: { ca: inject("caPem") },
    });
    const r = await pool.fetch(`https://localhost:${inject("httpsPort")}/`);
    expect([r.status, await r.text()]).toEqual([200, "Hello, world!"]);
  });

  it("an SDK-style caller can take pool.fetch as its fetch", async () => {
    await using pool = new AsyncConnectionPool({ networkBackend: new AsyncNodeBackend() });
    const sdkFetch: typeof fetch = pool.fetch.bind(pool);
    const r = await sdkFetch(`http://127.0.0.1:${httpPort}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hello: "pool" }),
    });
    expect(((await r.json()) as { body: string }).body).toBe('{"hello":"pool"}');
  });
});
