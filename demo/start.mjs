// `npm start`: the demo upstream, the demo Worker (demo/worker.ts) in Miniflare, and the demo page
// (demo/app, built with Vite) served by a small local server that also proxies `/api/*` to the
// Worker, so the page and the Worker's API share an origin.
//
//   PORT           the Worker's port (default 8787; a free port if taken)
//   UPSTREAM_PORT  the upstream's port (default 8788; a free port if taken)
//   PAGE_PORT      the page's port (default 5173; a free port if taken)
//   CI=true or --check: run a self-check against the Worker and the page, print it and exit (0 = passed).
//
// Miniflare is driven programmatically: the wrangler CLI does not run on Node 20. The pieces are
// exported for the e2e test (e2e/demo.e2e.test.ts): startDemo(), or buildPage() + startPage().
import { realpathSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startWorker } from "./bundle.mjs";
import { patternByte, startUpstream, stopUpstream } from "./upstream.mjs";

const VITE_CONFIG = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Request headers not to forward to the Worker (hop-by-hop). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Builds the page (demo/app) with Vite and vite.config.ts, in memory.
 * Resolves with a Map from URL path (`/`, `/assets/index-….js`, …) to { body, type }.
 */
export async function buildPage() {
  const { build } = await import("vite");
  const output = await build({
    configFile: VITE_CONFIG,
    logLevel: "warn",
    build: { write: false },
  });
  const outputs = Array.isArray(output) ? output : [output];
  const files = new Map();
  for (const out of outputs) {
    if (!("output" in out)) throw new Error("vite build returned a watcher, not files");
    for (const file of out.output) {
      const body = file.type === "chunk" ? file.code : file.source;
      const type = CONTENT_TYPES[extname(file.fileName)] ?? "application/octet-stream";
      files.set(`/${file.fileName}`, { body, type });
    }
  }
  const index = files.get("/index.html");
  if (index === undefined) throw new Error("vite build produced no index.html");
  files.set("/", index);
  return files;
}

function isAddressInUse(err) {
  const text = `${err?.code ?? ""} ${err?.message ?? ""} ${err?.cause?.message ?? ""}`;
  return /EADDRINUSE|address already in use/i.test(text);
}

/** Forwards `req` to the Worker and streams its answer back; aborts it if the page goes away. */
function proxyToWorker(req, res, workerOrigin) {
  const target = new URL(req.url ?? "/", workerOrigin);
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  headers.host = target.host;
  const forward = httpRequest(target, { method: req.method, headers }, (answer) => {
    const out = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
    }
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  forward.on("error", (err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(502, { "Content-Type": "application/json; charset=utf-8" });
    res.end(`${JSON.stringify({ error: `the Worker is unreachable: ${err.message}` })}\n`);
  });
  // Stop in the page aborts its fetch: pass that on, so the Worker's invocation ends too.
  res.on("close", () => {
    if (!res.writableFinished) forward.destroy();
  });
  req.pipe(forward);
}

/**
 * Serves the built page on `host:port` (0 = any free port): the files from buildPage(),
 * `/config.json` ({ upstream, worker }) and `/api/*` proxied to the Worker.
 * Resolves with { server, port, url } (url: `http://127.0.0.1:<port>/`).
 */
export async function startPage({ files, workerUrl, upstreamUrl, port = 0, host = "127.0.0.1" }) {
  const workerOrigin = new URL(String(workerUrl)).origin;
  const config = `${JSON.stringify({ upstream: upstreamUrl, worker: `${workerOrigin}/` })}\n`;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path.startsWith("/api/")) {
      proxyToWorker(req, res, workerOrigin);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" });
      res.end("method not allowed\n");
      return;
    }
    const file =
      path === "/config.json"
        ? { body: config, type: CONTENT_TYPES[".json"] }
        : (files.get(path) ?? null);
    if (file === null) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      "Content-Type": file.type,
      "Content-Length": Buffer.byteLength(file.body),
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : file.body);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = server.address().port;
  return { server, port: actual, url: `http://${host}:${actual}/` };
}

/** Closes the page server and its keep-alive connections. */
export async function stopPage(page) {
  const closed = new Promise((resolve) => page.server.close(() => resolve()));
  page.server.closeAllConnections();
  await closed;
}

/**
 * Starts the upstream, the Worker (ALLOWED_ORIGINS = the upstream) and the page, in that order.
 * Ports default to 0 (any free port); with `fallback`, a taken port falls back to a free one
 * (`warn` is told). Resolves with { upstream, worker, page, stop() }.
 */
export async function startDemo({
  upstreamPort = 0,
  workerPort = 0,
  pagePort = 0,
  fallback = false,
  warn = console.warn,
} = {}) {
  const withFallback = async (what, port, start) => {
    try {
      return await start(port);
    } catch (err) {
      if (!fallback || port === 0 || !isAddressInUse(err)) throw err;
      warn(`port ${port} for the ${what} is taken; using a free port instead`);
      return start(0);
    }
  };
  const started = [];
  const stopAll = () => Promise.allSettled(started.map((stop) => stop()));
  try {
    // The page builds while the upstream and the Worker come up.
    const files = buildPage();
    files.catch(() => {});
    const upstream = await withFallback("upstream", upstreamPort, startUpstream);
    started.push(() => stopUpstream(upstream));
    const worker = await withFallback("Worker", workerPort, (port) =>
      startWorker({ allowedOrigins: upstream.url, port }),
    );
    started.push(() => worker.mf.dispose());
    const page = await withFallback("page", pagePort, async (port) =>
      startPage({ files: await files, workerUrl: worker.url, upstreamUrl: upstream.url, port }),
    );
    started.push(() => stopPage(page));
    let stopping = null;
    const stop = () => {
      stopping ??= stopAll().then(() => {});
      return stopping;
    };
    return { upstream, worker, page, stop };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

// --- `npm start` --------------------------------------------------------------------------------

function isTrue(value) {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number (0-65535), not ${JSON.stringify(raw)}`);
  }
  return port;
}

function isMain() {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

async function main() {
  const check = process.argv.includes("--check") || isTrue(process.env.CI);
  const demo = await startDemo({
    upstreamPort: portFromEnv("UPSTREAM_PORT", 8788),
    workerPort: portFromEnv("PORT", 8787),
    pagePort: portFromEnv("PAGE_PORT", 5173),
    fallback: true,
  });
  const { upstream, page } = demo;
  const base = new URL(demo.worker.url).origin;

  /** `/api/...?url=<target>&...` with the target URL-encoded. */
  const api = (path, target, params = {}) => {
    const query = new URLSearchParams({ url: target, ...params });
    return `${base}${path}?${query}`;
  };

  if (check) {
    process.exitCode = await selfCheck({ api, upstream, page }).then(
      () => 0,
      (err) => {
        console.error(`self-check failed: ${err?.stack ?? err}`);
        return 1;
      },
    );
    await demo.stop();
    return;
  }

  const examples = [
    api("/api/fanout", `${upstream.url}/bytes?n=1024`, { n: "20", mode: "sequential" }),
    api("/api/fanout", `${upstream.url}/slow?ms=50`, { n: "12", concurrency: "3" }),
    api("/api/proxy", `${upstream.url}/pattern?n=${5 * 1024 * 1024}`),
    api("/api/fanout", "http://example.com/"),
  ];
  console.log(`httpcore2 demo page: ${page.url}   <- open this in a browser`);
  console.log(`demo Worker (Miniflare): ${base}/   (the page reaches it at ${page.url}api/)`);
  console.log(`upstream: ${upstream.url}  (ALLOWED_ORIGINS=${upstream.url})`);
  console.log("");
  console.log("Try the Worker from a shell:");
  console.log(`  curl '${examples[0]}'   # one connection, Request Count: 20`);
  console.log(`  curl '${examples[1]}'   # at most 3 connections`);
  console.log(
    `  curl -o /dev/null -w '%{size_download} bytes\\n' '${examples[2]}'   # streamed through`,
  );
  console.log(`  curl -i '${examples[3]}'   # 403: not in ALLOWED_ORIGINS`);
  console.log("");
  console.log("Ctrl-C to stop.");
  for (const signal of ["SIGINT", "SIGTERM"]) {
    // Miniflare's own exit hook would kill workerd and exit at once (130/143); take over so
    // Miniflare is disposed and the servers closed. Its "exit" hook stays as a safety net, and a
    // second Ctrl-C falls back to the default action.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      console.log(`\n${signal}: disposing Miniflare and closing the page server and the upstream`);
      setTimeout(() => process.exit(1), 5000).unref();
      demo.stop().then(() => process.exit(0));
    });
  }
}

async function selfCheck({ api, upstream, page }) {
  const n = 5;
  const url = api("/api/fanout", `${upstream.url}/bytes?n=1024`, {
    n: String(n),
    mode: "sequential",
  });
  console.log(`self-check: GET ${url}`);
  const response = await fetch(url);
  const text = await response.text();
  console.log(text.trimEnd());
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  const body = JSON.parse(text);
  const statuses = body.results.map((r) => r.status);
  if (statuses.length !== n || statuses.some((s) => s !== 200)) {
    throw new Error(`expected ${n} × 200, got ${JSON.stringify(statuses)}`);
  }
  const expected = `<AsyncHTTPConnection ['${upstream.url}', HTTP/1.1, IDLE, Request Count: ${n}]>`;
  if (JSON.stringify(body.after) !== JSON.stringify([expected])) {
    throw new Error(`expected after = [${expected}], got ${JSON.stringify(body.after)}`);
  }

  const size = 1024 * 1024;
  const proxied = await fetch(api("/api/proxy", `${upstream.url}/pattern?n=${size}`));
  const bytes = new Uint8Array(await proxied.arrayBuffer());
  if (proxied.status !== 200 || bytes.length !== size) {
    throw new Error(
      `/api/proxy: status ${proxied.status}, ${bytes.length} bytes (expected ${size})`,
    );
  }
  const wrong = bytes.findIndex((b, i) => b !== patternByte(i));
  if (wrong >= 0)
    throw new Error(`/api/proxy: byte ${wrong} is ${bytes[wrong]}, not ${patternByte(wrong)}`);
  console.log(
    `self-check: /api/proxy streamed ${bytes.length} bytes, all as the upstream sent them`,
  );
  console.log("self-check passed: one TCP connection reused for all sequential requests");

  // The page: its HTML and script, its config, and the Worker through the page's /api proxy.
  const html = await fetch(page.url).then(async (r) => ({
    status: r.status,
    text: await r.text(),
  }));
  const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html.text)?.[1];
  if (html.status !== 200 || script === undefined) {
    throw new Error(`page ${page.url}: status ${html.status}, no module script in its HTML`);
  }
  const js = await fetch(new URL(script, page.url));
  if (js.status !== 200 || !(await js.text()).includes("AsyncFetchBackend")) {
    throw new Error(`page script ${script}: status ${js.status} or not the demo bundle`);
  }
  const config = await fetch(new URL("/config.json", page.url)).then((r) => r.json());
  if (config.upstream !== upstream.url) {
    throw new Error(`/config.json names upstream ${config.upstream}, not ${upstream.url}`);
  }
  const viaPage = new URL(
    `/api/fanout?${new URLSearchParams({ url: `${upstream.url}/`, n: "2", mode: "sequential" })}`,
    page.url,
  );
  const fanout = await fetch(viaPage).then(async (r) => ({
    status: r.status,
    body: await r.json(),
  }));
  if (fanout.status !== 200 || fanout.body.results?.length !== 2) {
    throw new Error(`${viaPage}: status ${fanout.status}, ${JSON.stringify(fanout.body)}`);
  }
  const cors = await fetch(`${upstream.url}/bytes?n=1`, {
    headers: { Origin: new URL(page.url).origin },
  });
  await cors.arrayBuffer();
  if (cors.headers.get("access-control-allow-origin") !== new URL(page.url).origin) {
    throw new Error("the upstream sends no CORS header for the page's origin");
  }
  console.log(
    `self-check passed: the page at ${page.url} (script ${script}, /config.json, /api → the Worker, upstream CORS)`,
  );
}

if (isMain()) await main();
