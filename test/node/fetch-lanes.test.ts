// The browser-adapted pool scenarios (test/browser/pool-scenarios.ts) over Node's own fetch: the
// same fetch backend and the same assertions the Chromium page runs, minus what only a browser
// does (CORS, refusing streaming uploads over HTTP/1.1).
import { describe, inject, it } from "vitest";
import { AsyncFetchBackend } from "../../src/backends/fetch.js";
import { type LaneScenarioContext, laneScenarios } from "../browser/pool-scenarios.js";

const httpPort = inject("httpPort");

describe("fetch backend lanes over Node's fetch", () => {
  const ctx: LaneScenarioContext = {
    runtime: "node",
    http: `http://127.0.0.1:${httpPort}`,
    other: `http://localhost:${httpPort}`,
    // Node's Resource Timing has no nextHopProtocol.
    httpVersion: "HTTP/unknown",
    backend: (options) => new AsyncFetchBackend(options),
  };
  for (const scenario of laneScenarios) {
    const skip = scenario.skip?.(ctx) || false;
    if (skip) it.skip(`${scenario.name} (${skip})`, () => {});
    else it(scenario.name, () => scenario.run(ctx));
  }
});
