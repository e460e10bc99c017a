// The fetch backend and pool.fetch() inside real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser download). The page harness (test/browser/harness.ts) is
// bundled with esbuild and served by a local server that also answers the test routes, so the
// page and the API share an origin; `localhost` on the same port is the cross-origin peer.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { fetchScenarios } from "../browser/fetch-scenarios.js";
import type { ScenarioResult } from "../browser/harness.js";
import { laneScenarios } from "../browser/pool-scenarios.js";
import { createHandler } from "../servers/handler.js";
import { chromiumPresent, chromiumSuiteTitle, launchChromium } from "../support/chromium.js";

const HARNESS = fileURLToPath(new URL("../browser/harness.ts", import.meta.url));
const PAGE = `<!doctype html><meta charset="utf-8"><title>httpcore2 scenarios</title>
<script type="module" src="/__harness__/harness.js"></script>`;

/** The names and skip decisions the page will report, known before it runs. */
function expected(): { name: string; skip: string | false }[] {
  const browser = { runtime: "browser" as const, fetchBackend: true, platformRedirects: true };
  const names: { name: string; skip: string | false }[] = [];
  for (const s of laneScenarios) {
    names.push({ name: `pool: ${s.name}`, skip: s.skip?.(browser as never) || false });
  }
  for (const s of fetchScenarios) {
    names.push({ name: `pool.fetch: ${s.name}`, skip: s.skip?.(browser as never) || false });
  }
  return names;
}

describe.skipIf(!chromiumPresent)(
  chromiumSuiteTitle("in Chromium: fetch backend and pool.fetch"),
  () => {
    const handler = createHandler();
    let server: Server;
    let browser: Browser | undefined;
    const results = new Map<string, ScenarioResult>();
    const pageErrors: string[] = [];

    beforeAll(async () => {
      const bundle = await build({
        entryPoints: [HARNESS],
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "esnext",
        write: false,
        logLevel: "silent",
      });
      const script = bundle.outputFiles[0]?.text ?? "";
      server = createServer((req, res) => {
        if (req.url === "/__harness__/") {
          res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
          res.end(PAGE);
        } else if (req.url === "/__harness__/harness.js") {
          res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
          res.end(script);
        } else {
          handler(req, res);
        }
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      browser = await launchChromium();
      const page = await browser.newPage();
      page.on("pageerror", (error) => pageErrors.push(String(error)));
      await page.goto(`http://127.0.0.1:${port}/__harness__/`);
      await page.waitForFunction(() => "runScenarios" in globalThis);
      const list = await page.evaluate(
        (other) =>
          (
            globalThis as unknown as {
              runScenarios(config: { other: string }): Promise<ScenarioResult[]>;
            }
          ).runScenarios({ other }),
        `http://localhost:${port}`,
      );
      for (const result of list) results.set(result.name, result);
      if (process.env.SHOW_BROWSER_RESULTS) console.log(JSON.stringify(list, null, 1));
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      handler.close();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it("loads the harness without page errors and reports every scenario", () => {
      if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join("\n")}`);
      const missing = expected().filter(({ name }) => !results.has(name));
      if (missing.length > 0 || results.size !== expected().length) {
        throw new Error(
          `expected ${expected().length} results, got ${results.size}; missing: ${missing.map((m) => m.name).join(", ")}`,
        );
      }
    });

    for (const { name, skip } of expected()) {
      if (skip) {
        it.skip(`${name} (${skip})`, () => {});
        continue;
      }
      it(name, () => {
        const result = results.get(name);
        if (result === undefined) throw new Error("the page did not report this scenario");
        if (result.status !== "passed") throw new Error(`${result.status}: ${result.detail}`);
      });
    }
  },
);
