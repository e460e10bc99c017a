// pool.fetch() inside workerd over the connect() pool: the WHATWG-style set of
// test/browser/fetch-scenarios.ts against the same real servers the node project uses.
import { describe, inject, it } from "vitest";
import { AsyncCloudflareBackend } from "../../src/backends/cloudflare.js";
import { AsyncConnectionPool } from "../../src/index.js";
import { type FetchScenarioContext, fetchScenarios } from "../browser/fetch-scenarios.js";

const httpPort = inject("httpPort");

describe("pool.fetch over the cloudflare backend (workerd)", () => {
  const ctx: FetchScenarioContext = {
    runtime: "workerd",
    http: `http://127.0.0.1:${httpPort}`,
    other: `http://localhost:${httpPort}`,
    pool: (options = {}) =>
      new AsyncConnectionPool({ networkBackend: new AsyncCloudflareBackend(), ...options }),
    fetchBackend: false,
    platformRedirects: false,
  };
  for (const scenario of fetchScenarios) {
    const skip = scenario.skip?.(ctx) || false;
    if (skip) it.skip(`${scenario.name} (${skip})`, () => {});
    else it(scenario.name, () => scenario.run(ctx));
  }
});
