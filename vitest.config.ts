import { defineConfig } from "vitest/config";

// One `vitest run` drives every project; servers start once in globalSetup and their ports reach
// tests through `provide`/`inject`.
export default defineConfig({
  test: {
    globalSetup: ["./test/servers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        test: {
          name: "node",
          include: ["test/unit/**/*.test.ts", "test/node/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/servers/global-setup.ts"],
        },
      },
    ],
  },
});
