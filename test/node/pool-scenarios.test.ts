import { inject } from "vitest";
import { AsyncNodeBackend } from "../../src/backends/node.js";
import { poolScenarios } from "../scenarios/pool-scenarios.js";

poolScenarios({
  name: "node",
  backend: () => new AsyncNodeBackend(),
  ssl: { ca: inject("caPem") },
});
