// `npm start`: the demo Worker (demo/worker.ts) in Miniflare, with a local upstream server.
//
//   PORT           the Worker's port (default 8787; a free port if taken)
//   UPSTREAM_PORT  the upstream's port (default 8788; a free port if taken)
//   CI=true or --check: run a self-check against the Worker, print it and exit (0 = passed).
//
// Miniflare is driven programmatically: the wrangler CLI does not run on Node 20.
import { startWorker } from "./bundle.mjs";
import { patternByte, startUpstream, stopUpstream } from "./upstream.mjs";

const check = process.argv.includes("--check") || isTrue(process.env.CI);

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

function isAddressInUse(err) {
  const text = `${err?.code ?? ""} ${err?.message ?? ""} ${err?.cause?.message ?? ""}`;
  return /EADDRINUSE|address already in use/i.test(text);
}

/** Tries `port`, then any free port when it is taken. */
async function withFallback(what, port, start) {
  try {
    return await start(port);
  } catch (err) {
    if (port === 0 || !isAddressInUse(err)) throw err;
    console.warn(`port ${port} for the ${what} is taken; using a free port instead`);
    return start(0);
  }
}

const upstream = await withFallback("upstream", portFromEnv("UPSTREAM_PORT", 8788), startUpstream);
let worker;
try {
  worker = await withFallback("Worker", portFromEnv("PORT", 8787), (port) =>
    startWorker({ allowedOrigins: upstream.url, port }),
  );
} catch (err) {
  await stopUpstream(upstream);
  throw err;
}
const base = new URL(worker.url).origin;

let stopping = null;
function stop() {
  stopping ??= Promise.allSettled([worker.mf.dispose(), stopUpstream(upstream)]);
  return stopping;
}

/** `/api/...?url=<target>&...` with the target URL-encoded. */
function api(path, target, params = {}) {
  const query = new URLSearchParams({ url: target, ...params });
  return `${base}${path}?${query}`;
}

if (check) {
  process.exitCode = await selfCheck().then(
    () => 0,
    (err) => {
      console.error(`self-check failed: ${err?.stack ?? err}`);
      return 1;
    },
  );
  await stop();
} else {
  const examples = [
    api("/api/fanout", `${upstream.url}/bytes?n=1024`, { n: "20", mode: "sequential" }),
    api("/api/fanout", `${upstream.url}/slow?ms=50`, { n: "12", concurrency: "3" }),
    api("/api/proxy", `${upstream.url}/pattern?n=${5 * 1024 * 1024}`),
    api("/api/fanout", "http://example.com/"),
  ];
  console.log(`httpcore2 demo Worker (Miniflare): ${base}/`);
  console.log(`upstream: ${upstream.url}  (ALLOWED_ORIGINS=${upstream.url})`);
  console.log("");
  console.log("Try:");
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
    // Miniflare is disposed and the upstream closed. Its "exit" hook stays as a safety net, and a
    // second Ctrl-C falls back to the default action.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      console.log(`\n${signal}: disposing Miniflare and closing the upstream`);
      setTimeout(() => process.exit(1), 5000).unref();
      stop().then(() => process.exit(0));
    });
  }
}

async function selfCheck() {
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
}
