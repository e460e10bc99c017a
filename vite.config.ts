import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The demo page (demo/app). `npm start` builds it in memory with this config (demo/start.mjs) and
// serves it next to the Worker's API; tests use vitest.config.ts.
//
// `import ... from "httpcore2"` in the page resolves by package self-reference through the
// `browser` export condition (one of Vite's default client conditions) to dist/entry/browser.js,
// exactly as an app that installed the package would get it: run `npm run build` first.
export default defineConfig({
  root: fileURLToPath(new URL("./demo/app", import.meta.url)),
  base: "/",
  logLevel: "warn",
  build: {
    // Only for a manual `npx vite build`; demo/start.mjs builds with `write: false`.
    outDir: fileURLToPath(new URL("./node_modules/.cache/httpcore2-demo", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
});
