// Debian's Chromium (/usr/bin/chromium), driven by playwright-core without a browser download:
// the launch settings shared by the in-browser tests (test/node/fetch-browser.test.ts,
// e2e/demo.e2e.test.ts). See ../shared/TOOLCHAIN.md.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** True if the Chromium binary is installed; the tests skip without it. */
export const chromiumPresent = existsSync(CHROMIUM);

/** TOOLCHAIN.md's flags for Debian's Chromium in a container. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** `title`, or a title saying why the suite is skipped when Chromium is absent. */
export function chromiumSuiteTitle(title: string): string {
  return chromiumPresent
    ? title
    : `${title}: SKIPPED, ${CHROMIUM} is absent (apt-get install chromium; .ci/run does)`;
}

/** Launches headless Chromium with the flags above. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
