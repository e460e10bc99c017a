import { cloudflareTest } from "@cloudflare/vitest-plugin";
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
          include: ["test/unit/**/*.test.ts", "test/node/**/*.test.ts", "e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/servers/global-setup.ts"],
        },
      },
      {
        // The same servers, reached from inside workerd (Miniflare) over connect(). `inject()` works
        // in these tests, so ports need no bindings. TLS trusts the test CA only when
        // NODE_EXTRA_CA_CERTS is set before Miniflare loads (see docs/cloudflare.md).
        plugins: [
          cloudflareTest({
            miniflare: { compatibilityDate: "2026-07-30", compatibilityFlags: ["nodejs_compat"] },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/workerd/**/*.test.ts"],
          globalSetup: ["./test/servers/global-setup.ts"],
        },
      },
    ],
  },
});
