import { defineConfig } from "vite";

// The browser demo app (later issue) builds from demo/; tests use vitest.config.ts.
export default defineConfig({
  root: "demo",
});
