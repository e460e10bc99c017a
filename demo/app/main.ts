/**
 * The demo page: N requests through an `AsyncConnectionPool`, either in this page (the fetch
 * backend: lanes over the browser's `fetch()`) or in the demo Worker (`/api/fanout`, a pool over
 * `connect()` sockets), with a live table of `pool.connections`, progress, a timing chart and the
 * results. Plain DOM, no dependencies.
 *
 * `httpcore2` resolves by package self-reference through the `browser` export condition
 * (dist/entry/browser.js); see vite.config.ts. The page server (demo/start.mjs) serves
 * `/config.json` and proxies `/api/*` to the Worker, so the Worker is same-origin; the upstream is
 * another origin and answers with CORS headers for loopback pages.
 * @module
 */
import { AsyncConnectionPool, AsyncFetchBackend, type ConnectionSnapshot } from "httpcore2";

/** `/config.json` from the page server. */
interface DemoConfig {
  /** The upstream's origin, e.g. `http://127.0.0.1:8788`. */
  upstream: string;
  /** The Worker's own URL (the page reaches it through `/api` on its own origin). */
  worker: string;
}

/** One request of a batch, as the results table and the chart show it. */
interface Result {
  i: number;
  /** ms from the start of the batch, when known. */
  start: number | null;
  /**
   * ms from the start of the batch when a lane took it (its trace event); null if it never got
   * one (an abort while queued) or, for the Worker, when unknown.
   */
  sent: number | null;
  /** True if `sent` comes from a trace (the page's pool); false for the Worker's results. */
  traced: boolean;
  ms: number;
  status: number | null;
  bytes: number | null;
  /** `ConnectError: …`, `aborted`, …; null on a response. */
  error: string | null;
  aborted: boolean;
}

/** A row of the connections table: the snapshot and the connection's repr. */
interface ConnectionRow {
  snapshot: ConnectionSnapshot;
  repr: string;
}

/** `GET /api/fanout`'s JSON (demo/worker.ts). */
interface FanoutBody {
  after: string[];
  connections: ConnectionSnapshot[];
  results: { i: number; status: number; ms: number; bytes: number }[];
  totalMs: number;
}

type Backend = "browser" | "worker";
type Mode = "concurrent" | "sequential";
type RunState = "loading" | "idle" | "running" | "done" | "stopped" | "failed";

const MAX_N = 100;
const SVG_NS = "http://www.w3.org/2000/svg";
const PRESETS: { path: string; label: string }[] = [
  { path: "/slow?ms=200", label: "/slow?ms=200 (200 ms wait)" },
  { path: "/bytes?n=1024", label: "/bytes?n=1024 (1 KiB)" },
  { path: "/bytes?n=65536", label: "/bytes?n=65536 (64 KiB)" },
  { path: `/pattern?n=${1024 * 1024}`, label: "/pattern?n=1048576 (1 MiB)" },
  { path: "/", label: "/ (a greeting)" },
];

function byId<T extends Element>(id: string, type: abstract new (...args: never[]) => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no #${id} ${type.name}`);
  return element;
}

const form = byId("controls", HTMLFormElement);
const presetSelect = byId("preset", HTMLSelectElement);
const urlInput = byId("url", HTMLInputElement);
const urlError = byId("url-error", HTMLElement);
const modeSelect = byId("mode", HTMLSelectElement);
const nInput = byId("n", HTMLInputElement);
const nError = byId("n-error", HTMLElement);
const maxInput = byId("max", HTMLInputElement);
const maxError = byId("max-error", HTMLElement);
const runButton = byId("run", HTMLButtonElement);
const stopButton = byId("stop", HTMLButtonElement);
const progressBar = byId("progress", HTMLProgressElement);
const progressText = byId("progress-text", HTMLOutputElement);
const statusText = byId("status", HTMLElement);
const runError = byId("run-error", HTMLElement);
const connectionsNote = byId("connections-note", HTMLElement);
const connectionsBody = byId("connections", HTMLTableElement).tBodies[0] as HTMLTableSectionElement;
const connectionsTotal = byId("connections-total", HTMLElement);
const reprs = byId("reprs", HTMLElement);
const chart = byId("chart", SVGSVGElement);
const resultsBody = byId("results", HTMLTableElement).tBodies[0] as HTMLTableSectionElement;

let config: DemoConfig = { upstream: "http://127.0.0.1:8788", worker: "" };
/** The running batch's controller; null when idle. */
let running: AbortController | null = null;
/** The last in-page pool, kept open so its table stays as the batch left it. */
let pagePool: AsyncConnectionPool | null = null;

// --- Inputs -------------------------------------------------------------------------------------

function setFieldError(input: HTMLInputElement, slot: HTMLElement, message: string): void {
  slot.textContent = message;
  if (message === "") input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
}

/** The URL field as an absolute http(s) URL, or null after showing why not next to the field. */
function readTarget(): URL | null {
  const raw = urlInput.value.trim();
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    setFieldError(
      urlInput,
      urlError,
      raw === ""
        ? "Enter a URL, e.g. an upstream target from the list."
        : `“${raw}” is not a valid URL: enter an absolute http:// or https:// URL.`,
    );
    return null;
  }
  setFieldError(urlInput, urlError, "");
  return url;
}

/** An integer field in [1, MAX_N], or null after showing why not next to it. */
function readCount(input: HTMLInputElement, slot: HTMLElement, name: string): number | null {
  const value = Number(input.value);
  if (input.value.trim() === "" || !Number.isInteger(value) || value < 1 || value > MAX_N) {
    setFieldError(input, slot, `${name} must be a whole number from 1 to ${MAX_N}.`);
    return null;
  }
  setFieldError(input, slot, "");
  return value;
}

function selectedBackend(): Backend {
  const checked = form.querySelector<HTMLInputElement>('input[name="backend"]:checked');
  return checked?.value === "worker" ? "worker" : "browser";
}

function fillPresets(): void {
  const options = PRESETS.map(({ path, label }) => new Option(label, `${config.upstream}${path}`));
  options.push(new Option("Custom URL (type it below)", ""));
  presetSelect.replaceChildren(...options);
  presetSelect.selectedIndex = 0;
  urlInput.value = presetSelect.value;
}

// --- Rendering ----------------------------------------------------------------------------------

function setRunState(state: RunState, message: string): void {
  document.body.dataset.run = state;
  statusText.textContent = message;
  const busy = state === "running" || state === "loading";
  runButton.disabled = busy;
  stopButton.disabled = state !== "running";
}

function showRunError(message: string): void {
  runError.textContent = message;
  runError.hidden = message === "";
}

function setProgress(done: number, n: number, indeterminate = false): void {
  progressBar.max = n;
  if (indeterminate) progressBar.removeAttribute("value");
  else progressBar.value = done;
  progressBar.textContent = `${done}/${n}`;
  progressText.value = `${done}/${n}`;
}

function cell(tag: "td" | "th", text: string, className?: string): HTMLTableCellElement {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

function renderConnections(rows: ConnectionRow[], note: string): void {
  connectionsNote.textContent = note;
  const trs = rows.map(({ snapshot, repr }) => {
    const tr = document.createElement("tr");
    tr.title = repr;
    tr.className = `state-${snapshot.state.toLowerCase().replace(/\s+/g, "-")}`;
    tr.append(
      cell("td", snapshot.kind),
      cell("td", snapshot.origin),
      cell("td", snapshot.httpVersion ?? "—"),
      cell("td", snapshot.state, "state"),
      cell("td", String(snapshot.requestCount), "num"),
    );
    return tr;
  });
  if (trs.length === 0) {
    const tr = document.createElement("tr");
    const td = cell("td", "no connections", "empty");
    td.colSpan = 5;
    tr.append(td);
    trs.push(tr);
  }
  connectionsBody.replaceChildren(...trs);
  connectionsTotal.textContent = String(rows.reduce((sum, r) => sum + r.snapshot.requestCount, 0));
  reprs.textContent = rows.map((r) => r.repr).join("\n");
}

function poolRows(pool: AsyncConnectionPool): ConnectionRow[] {
  return pool.connections.map((c) => ({ snapshot: c.toJSON(), repr: String(c) }));
}

function renderResults(results: Result[]): void {
  const sorted = [...results].sort((a, b) => a.i - b.i);
  resultsBody.replaceChildren(
    ...sorted.map((r) => {
      const tr = document.createElement("tr");
      tr.className =
        r.error === null ? (r.status !== null && r.status < 400 ? "ok" : "bad") : "bad";
      if (r.aborted) tr.className = "aborted";
      const status = cell("td", r.error === null ? String(r.status) : r.error, "status");
      tr.append(
        cell("td", String(r.i), "num"),
        status,
        cell("td", r.ms.toFixed(1), "num"),
        cell("td", r.bytes === null ? "—" : String(r.bytes), "num"),
      );
      return tr;
    }),
  );
  renderChart(sorted);
}

/**
 * One bar per request: from its start (0 when unknown) for its duration; when the lane's trace
 * told when it went out, the wait in the pool's queue before that is drawn lighter.
 */
function renderChart(results: Result[]): void {
  const width = 560;
  const left = 28;
  const axis = 18;
  const bar = results.length > 0 ? Math.max(2, Math.min(14, Math.floor(220 / results.length))) : 0;
  const gap = bar >= 6 ? 3 : 1;
  const height = Math.max(40, results.length * (bar + gap) + axis + 4);
  const total = Math.max(1, ...results.map((r) => (r.start ?? 0) + r.ms));
  const scale = (width - left - 8) / total;
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.setAttribute(
    "aria-label",
    results.length === 0
      ? "No requests yet"
      : `${results.length} requests over ${total.toFixed(0)} ms; the longest took ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms`,
  );
  const nodes: SVGElement[] = [];
  const svg = <K extends keyof SVGElementTagNameMap>(
    tag: K,
    attrs: Record<string, string | number>,
    text?: string,
  ): SVGElementTagNameMap[K] => {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  };
  results.forEach((r, row) => {
    const y = row * (bar + gap) + 2;
    const start = r.start ?? 0;
    const end = start + r.ms;
    // Traced and never sent: it spent its whole life in the pool's queue.
    const sent = r.sent === null ? (r.traced ? end : start) : Math.min(r.sent, end);
    const kind = r.aborted ? "aborted" : r.error === null && (r.status ?? 0) < 400 ? "ok" : "bad";
    const queued = sent - start;
    const title = `#${r.i}: ${r.error ?? r.status} in ${r.ms.toFixed(1)} ms${queued >= 0.05 ? ` (${queued.toFixed(1)} ms queued in the pool)` : ""}`;
    if (queued > 0) {
      const wait = svg("rect", {
        x: left + start * scale,
        y,
        width: queued * scale,
        height: bar,
        class: `bar queued ${kind}`,
      });
      wait.append(svg("title", {}, title));
      nodes.push(wait);
    }
    // A traced request that never got a lane has no second segment.
    if (!(r.traced && r.sent === null)) {
      const rect = svg("rect", {
        x: left + sent * scale,
        y,
        width: Math.max(1.5, (end - sent) * scale),
        height: bar,
        rx: Math.min(2, bar / 2),
        class: `bar ${kind}`,
      });
      rect.append(svg("title", {}, title));
      nodes.push(rect);
    }
    if (bar >= 9) {
      nodes.push(svg("text", { x: left - 4, y: y + bar - 2, class: "label" }, String(r.i)));
    }
  });
  const axisY = height - axis + 4;
  nodes.push(svg("line", { x1: left, x2: width - 8, y1: axisY, y2: axisY, class: "axis" }));
  nodes.push(svg("text", { x: left, y: axisY + 12, class: "tick" }, "0 ms"));
  nodes.push(
    svg("text", { x: width - 8, y: axisY + 12, class: "tick end" }, `${total.toFixed(0)} ms`),
  );
  chart.replaceChildren(...nodes);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function summary(results: Result[], ms: number): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = r.error === null ? String(r.status) : (r.error.split(":")[0] ?? r.error);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(([key, count]) => `${count} × ${key}`);
  return `${parts.join(", ")} in ${ms.toFixed(0)} ms`;
}

// --- Running a batch ----------------------------------------------------------------------------

interface Batch {
  target: URL;
  n: number;
  maxConnections: number;
  mode: Mode;
  signal: AbortSignal;
}

/** The batch in this page: one pool over the fetch backend, rendered live. */
async function runInPage(batch: Batch): Promise<void> {
  const { target, n, maxConnections, mode, signal } = batch;
  await pagePool?.aclose().catch(() => {});
  // Fresh Resource Timing entries, so the lanes can read nextHopProtocol (the buffer holds 250).
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(Math.max(250, 2 * MAX_N));
  const pool = new AsyncConnectionPool({ networkBackend: new AsyncFetchBackend(), maxConnections });
  pagePool = pool;
  const note = `In this page: AsyncFetchBackend lanes over fetch(), maxConnections ${maxConnections}.`;
  const results: Result[] = [];
  let done = 0;
  const refresh = (): void => {
    renderConnections(poolRows(pool), note);
    setProgress(done, n);
  };
  const t0 = performance.now();
  const one = async (i: number): Promise<void> => {
    const start = performance.now() - t0;
    let sent: number | null = null;
    // The fetch lane's trace event says when the request left the pool's queue.
    const trace = (event: string): void => {
      if (event === "fetch.send_request.started" && sent === null) sent = performance.now() - t0;
    };
    try {
      const response = await pool.request("GET", target, { signal, extensions: { trace } });
      results.push({
        i,
        start,
        sent,
        traced: true,
        ms: performance.now() - t0 - start,
        status: response.status,
        bytes: response.content.length,
        error: null,
        aborted: false,
      });
      done++;
    } catch (error) {
      const aborted = signal.aborted;
      if (!aborted) done++;
      const ms = performance.now() - t0 - start;
      results.push({
        i,
        start,
        sent,
        traced: true,
        ms,
        status: null,
        bytes: null,
        error: aborted ? "aborted" : describeError(error),
        aborted,
      });
    }
    renderResults(results);
    refresh();
  };
  const timer = setInterval(refresh, 50);
  refresh();
  try {
    if (mode === "sequential") {
      for (let i = 0; i < n; i++) await one(i);
    } else {
      await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
    }
  } finally {
    clearInterval(timer);
  }
  // Let the pool finish its bookkeeping (closed lanes leave) before the final render.
  await new Promise((resolve) => setTimeout(resolve, 0));
  refresh();
  renderResults(results);
  finish(results, n, performance.now() - t0, signal);
}

/** The batch in the Worker: one `/api/fanout` call; its JSON fills the table and the results. */
async function runThroughWorker(batch: Batch): Promise<void> {
  const { target, n, maxConnections, mode, signal } = batch;
  await pagePool?.aclose().catch(() => {});
  pagePool = null;
  const query = new URLSearchParams({
    url: target.href,
    n: String(n),
    concurrency: String(maxConnections),
    mode,
  });
  renderConnections([], "In the Worker: waiting for its answer…");
  setProgress(0, n, true);
  const t0 = performance.now();
  let status: number;
  let text: string;
  try {
    const response = await fetch(`/api/fanout?${query}`, { signal, cache: "no-store" });
    status = response.status;
    text = await response.text();
  } catch (error) {
    setProgress(0, n);
    if (signal.aborted) {
      renderConnections([], "In the Worker: the batch was stopped; its pool closed with it.");
      setRunState("stopped", "Stopped: the Worker request was aborted.");
    } else {
      renderConnections([], "In the Worker: no answer.");
      showRunError(`Could not reach the Worker: ${describeError(error)}`);
      setRunState("failed", "Failed.");
    }
    return;
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (status !== 200 || !isFanout(body)) {
    const message =
      body !== null && typeof body === "object" && "error" in body
        ? String((body as { error: unknown }).error)
        : text.slice(0, 200);
    setProgress(0, n);
    renderConnections([], "In the Worker: no batch ran.");
    showRunError(`The Worker answered ${status}: ${message}`);
    setRunState("failed", "Failed.");
    return;
  }
  let clock = 0;
  const results: Result[] = body.results.map((r) => {
    // Sequential requests follow each other; concurrent ones have no start time in the JSON.
    const start = mode === "sequential" ? clock : null;
    clock += r.ms;
    return { ...r, start, sent: null, traced: false, error: null, aborted: false };
  });
  renderConnections(
    body.connections.map((snapshot, k) => ({ snapshot, repr: body.after[k] ?? "" })),
    `In the Worker: connect() sockets as the batch left them (${body.totalMs.toFixed(0)} ms in the Worker; its pool is closed now).`,
  );
  setProgress(results.length, n);
  renderResults(results);
  finish(results, n, performance.now() - t0, signal);
}

function isFanout(body: unknown): body is FanoutBody {
  if (body === null || typeof body !== "object") return false;
  const b = body as Partial<FanoutBody>;
  return Array.isArray(b.results) && Array.isArray(b.connections) && Array.isArray(b.after);
}

function finish(results: Result[], n: number, ms: number, signal: AbortSignal): void {
  const aborted = results.filter((r) => r.aborted).length;
  if (signal.aborted) {
    setRunState("stopped", `Stopped: ${n - aborted} done, ${aborted} aborted.`);
    return;
  }
  const failed = results.find((r) => r.error !== null);
  if (failed) showRunError(`Request #${failed.i} failed: ${failed.error}`);
  setRunState(failed ? "failed" : "done", `Done: ${summary(results, ms)}.`);
}

async function run(): Promise<void> {
  if (running !== null) return;
  showRunError("");
  const target = readTarget();
  const n = readCount(nInput, nError, "N");
  const maxConnections = readCount(maxInput, maxError, "maxConnections");
  if (target === null || n === null || maxConnections === null) {
    (target === null ? urlInput : n === null ? nInput : maxInput).focus();
    return;
  }
  const controller = new AbortController();
  running = controller;
  const backend = selectedBackend();
  const mode: Mode = modeSelect.value === "sequential" ? "sequential" : "concurrent";
  resultsBody.replaceChildren();
  renderChart([]);
  setProgress(0, n);
  setRunState(
    "running",
    `Running ${n} ${mode} requests ${backend === "worker" ? "through the Worker" : "in the page"}…`,
  );
  const batch = { target, n, maxConnections, mode, signal: controller.signal };
  try {
    if (backend === "worker") await runThroughWorker(batch);
    else await runInPage(batch);
  } catch (error) {
    showRunError(`Unexpected error: ${describeError(error)}`);
    setRunState("failed", "Failed.");
  } finally {
    running = null;
    stopButton.disabled = true;
    runButton.disabled = false;
  }
}

// --- Wiring -------------------------------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void run();
});
stopButton.addEventListener("click", () => {
  running?.abort(new DOMException("Stopped by the user", "AbortError"));
});
presetSelect.addEventListener("change", () => {
  if (presetSelect.value !== "") urlInput.value = presetSelect.value;
  setFieldError(urlInput, urlError, "");
  urlInput.focus();
});
urlInput.addEventListener("input", () => {
  presetSelect.value = [...presetSelect.options].some((o) => o.value === urlInput.value)
    ? urlInput.value
    : "";
  setFieldError(urlInput, urlError, "");
});
nInput.addEventListener("input", () => setFieldError(nInput, nError, ""));
maxInput.addEventListener("input", () => setFieldError(maxInput, maxError, ""));

async function loadConfig(): Promise<void> {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    const value = (await response.json()) as Partial<DemoConfig>;
    if (typeof value.upstream === "string") config = { ...config, ...value } as DemoConfig;
  } catch {
    showRunError(
      `No /config.json from the page server (run \`npm start\`); assuming the upstream at ${config.upstream}.`,
    );
  }
  fillPresets();
  renderConnections([], "No batch yet.");
  renderChart([]);
  setRunState("idle", "Idle.");
}

void loadConfig();
