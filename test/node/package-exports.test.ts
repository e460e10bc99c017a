// The published shape: `import("httpcore2")` from another directory resolves through `exports`
// (node condition → Node backend by default) and the sub-paths load. Needs `npm run build` first,
// which `npm test` does.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "httpcore2-consumer-"));
  await mkdir(join(dir, "node_modules"));
  await symlink(resolve("."), join(dir, "node_modules", "httpcore2"), "dir");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function node(source: string): Promise<string> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, source);
  const { stdout } = await run(process.execPath, [file], { cwd: dir, timeout: 20_000 });
  return stdout.trim();
}

describe("package exports", () => {
  it("the root entry has a default backend under the node condition", async () => {
    const port = inject("httpPort");
    const out = await node(`
      import { AsyncConnectionPool, ConnectError, AsyncNodeBackend } from "httpcore2";
      const pool = new AsyncConnectionPool();
      const r = await pool.request("GET", "http://127.0.0.1:${port}/");
      console.log(r.status, r.text(), String(pool.connections[0]), typeof AsyncNodeBackend, typeof ConnectError);
      await pool.aclose();
    `);
    expect(out).toBe(
      `200 Hello, world! <AsyncHTTPConnection ['http://127.0.0.1:${port}', HTTP/1.1, IDLE, Request Count: 1]> function function`,
    );
  });

  it("sub-path exports load", async () => {
    const out = await node(`
      import { AsyncNodeBackend } from "httpcore2/node";
      import { AsyncMockBackend } from "httpcore2/mock";
      import { AsyncConnectionPool } from "httpcore2";
      const pool = new AsyncConnectionPool({ networkBackend: new AsyncMockBackend(["HTTP/1.1 204 No Content\\r\\n\\r\\n"]) });
      const r = await pool.request("GET", "https://example.com/");
      console.log(typeof AsyncNodeBackend, r.status, r.extensions.reasonPhrase);
    `);
    expect(out).toBe("function 204 No Content");
  });
});
