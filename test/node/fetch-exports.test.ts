// The published shape of the fetch backend: under the `browser` export condition the root entry
// defaults to the fetch backend, and `httpcore2/fetch` gives it explicitly without changing any
// default. Run from another directory through `exports`; needs `npm run build` (npm test does it).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "httpcore2-fetch-consumer-"));
  await mkdir(join(dir, "node_modules"));
  await symlink(resolve("."), join(dir, "node_modules", "httpcore2"), "dir");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function node(source: string, conditions: string[] = []): Promise<string> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, source);
  const args = [...conditions.map((c) => `--conditions=${c}`), file];
  const { stdout } = await run(process.execPath, args, { cwd: dir, timeout: 20_000 });
  return stdout.trim();
}

describe("package exports: fetch backend", () => {
  const port = () => inject("httpPort");

  it("the browser condition makes the fetch backend the root entry's default", async () => {
    const out = await node(
      `
      import { AsyncConnectionPool } from "httpcore2";
      const pool = new AsyncConnectionPool();
      const r = await pool.fetch("http://127.0.0.1:${port()}/");
      console.log(r.status, await r.text(), String(pool.connections[0]));
      await pool.aclose();
    `,
      ["browser"],
    );
    expect(out).toBe(
      `200 Hello, world! <AsyncFetchConnection ['http://127.0.0.1:${port()}', HTTP/unknown, IDLE, Request Count: 1]>`,
    );
  });

  it("httpcore2/fetch gives the backend explicitly and leaves the node default alone", async () => {
    const out = await node(`
      import { AsyncFetchBackend, supportsRequestStreams } from "httpcore2/fetch";
      import { AsyncConnectionPool } from "httpcore2";
      const viaFetch = new AsyncConnectionPool({ networkBackend: new AsyncFetchBackend() });
      const byDefault = new AsyncConnectionPool();
      await viaFetch.request("GET", "http://127.0.0.1:${port()}/");
      await byDefault.request("GET", "http://127.0.0.1:${port()}/");
      console.log(typeof supportsRequestStreams, String(viaFetch.connections[0]).split(" ")[0], String(byDefault.connections[0]).split(" ")[0]);
      await viaFetch.aclose();
      await byDefault.aclose();
    `);
    expect(out).toBe("function <AsyncFetchConnection <AsyncHTTPConnection");
  });
});
