// The page side of the in-browser scenarios: bundled by test/node/fetch-browser.test.ts with
// esbuild and loaded from the same origin as the test API. Runs the fetch-backend scenarios in
// the page and reports one result per scenario.
import { AsyncConnectionPool, AsyncFetchBackend } from "../../src/index.js";
import type { Scenario } from "./assert.js";
import { type FetchScenarioContext, fetchScenarios } from "./fetch-scenarios.js";
import { type LaneScenarioContext, laneScenarios } from "./pool-scenarios.js";

/** One scenario's outcome, as the Node side reads it. */
export interface ScenarioResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  detail: string;
  ms: number;
}

/** Where the Node side finds the runner. */
export interface HarnessWindow {
  runScenarios(config: { other: string }): Promise<ScenarioResult[]>;
}

const PER_SCENARIO_MS = 10_000;

async function runAll<C>(
  prefix: string,
  scenarios: Scenario<C>[],
  ctx: C,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const name = `${prefix}: ${scenario.name}`;
    const skip = scenario.skip?.(ctx) || false;
    if (skip) {
      results.push({ name, status: "skipped", detail: skip, ms: 0 });
      continue;
    }
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        scenario.run(ctx),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${PER_SCENARIO_MS} ms`)),
            PER_SCENARIO_MS,
          );
        }),
      ]);
      results.push({ name, status: "passed", detail: "", ms: performance.now() - start });
    } catch (error) {
      const e = error as Error;
      results.push({
        name,
        status: "failed",
        detail: `${e?.name}: ${e?.message}\n${e?.stack ?? ""}`,
        ms: performance.now() - start,
      });
    } finally {
      clearTimeout(timer);
    }
  }
  return results;
}

const harness: HarnessWindow = {
  async runScenarios({ other }) {
    const http = location.origin;
    const fetchCtx: FetchScenarioContext = {
      runtime: "browser",
      http,
      other,
      pool: (options = {}) =>
        new AsyncConnectionPool({ networkBackend: new AsyncFetchBackend(), ...options }),
      fetchBackend: true,
      platformRedirects: new AsyncFetchBackend().platformRedirects,
    };
    const laneCtx: LaneScenarioContext = {
      runtime: "browser",
      http,
      other,
      httpVersion: "HTTP/1.1",
      backend: (options) => new AsyncFetchBackend(options),
    };
    return [
      ...(await runAll("pool", laneScenarios, laneCtx)),
      ...(await runAll("pool.fetch", fetchScenarios, fetchCtx)),
    ];
  },
};
Object.assign(globalThis, harness);
