// The demo page end to end in headless Chromium (Debian's /usr/bin/chromium, playwright-core): the
// same upstream, Worker (Miniflare) and page server as `npm start` (demo/start.mjs, on free ports),
// used as a person would: pick a target and a backend, Run, Stop, mistype a URL. Asserts the
// rendered table of pool.connections, the progress and the results with exact values, and takes a
// screenshot: test-results/demo.png, and docs/demo.png (the README's) with UPDATE_SCREENSHOT=1.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Demo, startDemo } from "../demo/start.mjs";
import { chromiumPresent, chromiumSuiteTitle, launchChromium } from "../test/support/chromium.js";

const SCREENSHOT = fileURLToPath(new URL("../test-results/demo.png", import.meta.url));
const README_SCREENSHOT = fileURLToPath(new URL("../docs/demo.png", import.meta.url));

type Row = string[];

describe.skipIf(!chromiumPresent)(chromiumSuiteTitle("demo page in Chromium"), () => {
  let demo: Demo;
  let browser: Browser;
  let page: Page;
  let upstream: string;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchChromium()]);
    upstream = demo.upstream.url;
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(demo.page.url);
    await page.waitForSelector('body[data-run="idle"]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  /** Sets the form as a person would, through the labels. */
  async function setForm(options: {
    url?: string;
    preset?: string;
    backend: "browser fetch" | "through the edge Worker";
    mode?: "concurrent" | "sequential";
    n?: number;
    max?: number;
  }): Promise<void> {
    if (options.preset !== undefined) {
      await page.getByLabel("Target").selectOption({ label: options.preset });
    }
    if (options.url !== undefined) await page.getByLabel("URL", { exact: true }).fill(options.url);
    await page.getByLabel(options.backend).check();
    await page.getByLabel("Mode").selectOption(options.mode ?? "concurrent");
    await page.getByLabel("N requests").fill(String(options.n ?? 12));
    await page.getByLabel("maxConnections").fill(String(options.max ?? 3));
  }

  /** The run state (`body[data-run]`): idle, running, done, stopped, failed. */
  function runState(): Promise<string | undefined> {
    return page.evaluate(() => document.body.dataset.run);
  }

  /** Clicks Run and waits for the batch to end. */
  async function run(): Promise<string | undefined> {
    await page.getByRole("button", { name: "Run" }).click();
    await page.waitForFunction(() => document.body.dataset.run !== "running");
    return runState();
  }

  function connectionRows(): Promise<Row[]> {
    return page.$$eval("#connections tbody tr", (trs) =>
      trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent ?? "")),
    );
  }

  function connectionTitles(): Promise<string[]> {
    return page.$$eval("#connections tbody tr", (trs) =>
      trs.map((tr) => tr.getAttribute("title") ?? ""),
    );
  }

  function resultRows(): Promise<Row[]> {
    return page.$$eval("#results tbody tr", (trs) =>
      trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent ?? "")),
    );
  }

  async function progress(): Promise<{ text: string; value: number; max: number }> {
    return page.$eval("#progress", (bar) => ({
      text: document.getElementById("progress-text")?.textContent ?? "",
      value: (bar as HTMLProgressElement).value,
      max: (bar as HTMLProgressElement).max,
    }));
  }

  const text = (selector: string): Promise<string> =>
    page.$eval(selector, (element) => element.textContent ?? "");

  it("loads with the upstream's targets and no errors", async () => {
    expect(await page.title()).toBe("httpcore2 demo");
    const presets = await page.$$eval("#preset option", (options) =>
      options.map((o) => (o as HTMLOptionElement).value),
    );
    expect(presets).toEqual([
      `${upstream}/slow?ms=200`,
      `${upstream}/bytes?n=1024`,
      `${upstream}/bytes?n=65536`,
      `${upstream}/pattern?n=1048576`,
      `${upstream}/`,
      "",
    ]);
    expect(await page.getByLabel("URL", { exact: true }).inputValue()).toBe(
      `${upstream}/slow?ms=200`,
    );
    expect(await connectionRows()).toEqual([["no connections"]]);
    expect(pageErrors).toEqual([]);
  });

  it("browser fetch: 12 requests over at most 3 lanes, rendered exactly", async () => {
    await setForm({ preset: "/slow?ms=200 (200 ms wait)", backend: "browser fetch" });
    expect(await run()).toBe("done");

    const rows = await connectionRows();
    // 12 concurrent requests, maxConnections 3: the pool opens exactly 3 lanes and queues the rest.
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.slice(0, 4)).toEqual(["AsyncFetchConnection", upstream, "HTTP/1.1", "IDLE"]);
      expect(Number(row[4])).toBeGreaterThanOrEqual(1);
    }
    expect(rows.reduce((sum, row) => sum + Number(row[4]), 0)).toBe(12);
    expect(await text("#connections-total")).toBe("12");
    const reprs = rows.map(
      (row) => `<AsyncFetchConnection ['${upstream}', HTTP/1.1, IDLE, Request Count: ${row[4]}]>`,
    );
    expect(await connectionTitles()).toEqual(reprs);
    expect(await text("#reprs")).toBe(reprs.join("\n"));

    expect(await progress()).toEqual({ text: "12/12", value: 12, max: 12 });
    const results = await resultRows();
    // "waited 200 ms\n" is 14 bytes.
    expect(results.map((r) => [r[0], r[1], r[3]])).toEqual(
      Array.from({ length: 12 }, (_, i) => [String(i), "200", "14"]),
    );
    for (const r of results) expect(Number(r[2])).toBeGreaterThanOrEqual(190);
    expect(await text("#status")).toMatch(/^Done: 12 × 200 in \d+ ms\.$/);
    expect(await page.isHidden("#run-error")).toBe(true);

    // The chart: one solid bar per request; the 9 that waited for a lane also show their wait.
    expect(await page.locator("#chart rect.bar.ok:not(.queued)").count()).toBe(12);
    expect(await page.locator("#chart rect.bar.queued").count()).toBeGreaterThanOrEqual(9);

    mkdirSync(fileURLToPath(new URL("../test-results/", import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    if (process.env.UPDATE_SCREENSHOT === "1") {
      await page.screenshot({ path: README_SCREENSHOT });
    }
  });

  it("through the edge Worker, sequential: one connection, Request Count: 12", async () => {
    await setForm({
      preset: "/bytes?n=1024 (1 KiB)",
      backend: "through the edge Worker",
      mode: "sequential",
    });
    expect(await run()).toBe("done");
    expect(await connectionRows()).toEqual([
      ["AsyncHTTPConnection", upstream, "HTTP/1.1", "IDLE", "12"],
    ]);
    expect(await connectionTitles()).toEqual([
      `<AsyncHTTPConnection ['${upstream}', HTTP/1.1, IDLE, Request Count: 12]>`,
    ]);
    expect(await text("#connections-total")).toBe("12");
    expect(await progress()).toEqual({ text: "12/12", value: 12, max: 12 });
    expect((await resultRows()).map((r) => [r[0], r[1], r[3]])).toEqual(
      Array.from({ length: 12 }, (_, i) => [String(i), "200", "1024"]),
    );
    expect(await page.locator("#chart rect.bar.ok").count()).toBe(12);
  });

  it("through the edge Worker, concurrent: at most 3 connections carrying 12 requests", async () => {
    await setForm({
      url: `${upstream}/slow?ms=50`,
      backend: "through the edge Worker",
      mode: "concurrent",
    });
    expect(await run()).toBe("done");
    const rows = await connectionRows();
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(3);
    for (const row of rows) {
      expect(row.slice(0, 4)).toEqual(["AsyncHTTPConnection", upstream, "HTTP/1.1", "IDLE"]);
    }
    expect(rows.reduce((sum, row) => sum + Number(row[4]), 0)).toBe(12);
    expect(await connectionTitles()).toEqual(
      rows.map(
        (row) => `<AsyncHTTPConnection ['${upstream}', HTTP/1.1, IDLE, Request Count: ${row[4]}]>`,
      ),
    );
    expect(await progress()).toEqual({ text: "12/12", value: 12, max: 12 });
    // "waited 50 ms\n" is 13 bytes.
    expect((await resultRows()).map((r) => [r[0], r[1], r[3]])).toEqual(
      Array.from({ length: 12 }, (_, i) => [String(i), "200", "13"]),
    );
  });

  it("an invalid URL shows an inline error next to the field, and runs nothing", async () => {
    const before = await resultRows();
    await setForm({ url: "not a url", backend: "browser fetch" });
    const urlField = page.getByLabel("URL", { exact: true });
    expect(await run()).toBe("done"); // the previous batch's state: nothing ran
    expect(await text("#url-error")).toBe(
      "“not a url” is not a valid URL: enter an absolute http:// or https:// URL.",
    );
    expect(await urlField.getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("url");
    expect(await resultRows()).toEqual(before);

    await page.getByLabel("N requests").fill("0");
    await run();
    expect(await text("#n-error")).toBe("N must be a whole number from 1 to 100.");

    // Typing a valid URL clears the message.
    await urlField.fill(`${upstream}/bytes?n=1024`);
    expect(await text("#url-error")).toBe("");
    expect(await urlField.getAttribute("aria-invalid")).toBeNull();
    await page.getByLabel("N requests").fill("12");
    expect(await text("#n-error")).toBe("");
  });

  it("a target outside ALLOWED_ORIGINS shows the Worker's 403 inline", async () => {
    await setForm({ url: "http://localhost:1/", backend: "through the edge Worker" });
    expect(await run()).toBe("failed");
    expect(await page.isVisible("#run-error")).toBe(true);
    expect(await text("#run-error")).toBe(
      "The Worker answered 403: target origin http://localhost:1 is not in ALLOWED_ORIGINS",
    );
    expect(await connectionRows()).toEqual([["no connections"]]);
    expect(await resultRows()).toEqual([]);
    expect(await progress()).toEqual({ text: "0/12", value: 0, max: 12 });
  });

  it("Stop aborts a browser-fetch batch and leaves no ACTIVE lanes", async () => {
    await setForm({ url: `${upstream}/slow?ms=5000`, backend: "browser fetch" });
    await page.getByRole("button", { name: "Run" }).click();
    // The live table shows the three lanes at work...
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("#connections tbody td.state")].filter(
          (td) => td.textContent === "ACTIVE",
        ).length === 3,
    );
    expect(await runState()).toBe("running");
    await page.getByRole("button", { name: "Stop" }).click();
    await page.waitForFunction(() => document.body.dataset.run !== "running");
    expect(await runState()).toBe("stopped");

    // The aborted lanes closed and the pool dropped them: nothing ACTIVE (nothing at all) is left.
    expect(await connectionRows()).toEqual([["no connections"]]);
    expect(await text("#connections-total")).toBe("0");
    expect(await text("#status")).toBe("Stopped: 0 done, 12 aborted.");
    expect((await resultRows()).map((r) => [r[0], r[1], r[3]])).toEqual(
      Array.from({ length: 12 }, (_, i) => [String(i), "aborted", "—"]),
    );
    expect(await progress()).toEqual({ text: "0/12", value: 0, max: 12 });
    // The 3 requests on lanes drew a bar from when they went out; the 9 queued ones only a wait.
    expect(await page.locator("#chart rect.bar.aborted:not(.queued)").count()).toBe(3);
    expect(await page.locator("#chart rect.bar.aborted.queued").count()).toBeGreaterThanOrEqual(9);
    expect(await page.isEnabled("#run")).toBe(true);
    expect(await page.isDisabled("#stop")).toBe(true);
  });

  it("Stop aborts a batch in the Worker", async () => {
    await setForm({
      url: `${upstream}/slow?ms=5000`,
      backend: "through the edge Worker",
      mode: "sequential",
      n: 2,
    });
    await page.getByRole("button", { name: "Run" }).click();
    expect(await runState()).toBe("running");
    await page.getByRole("button", { name: "Stop" }).click();
    await page.waitForFunction(() => document.body.dataset.run !== "running");
    expect(await runState()).toBe("stopped");
    expect(await text("#status")).toBe("Stopped: the Worker request was aborted.");
    expect(await connectionRows()).toEqual([["no connections"]]);
    expect(await page.isHidden("#run-error")).toBe(true);
  });

  it("raised no page errors; the console has only the browser's own 403 report", () => {
    expect(pageErrors).toEqual([]);
    for (const message of consoleErrors) {
      expect(message).toMatch(
        /^Failed to load resource: the server responded with a status of 403/,
      );
    }
  });
});
