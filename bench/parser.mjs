// Parser micro-benchmark: our sans-IO ResponseParser vs llhttp (undici's wasm build) on the same
// bytes. The llhttp glue mirrors undici's client-h1.js: copy into wasm memory, callbacks make
// Buffer views for header fields, values and body.
import { createRequire } from "node:module";
import { ResponseParser } from "../dist/h11/index.js";

const require = createRequire(import.meta.url);

function inputs() {
  const small =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: Tue, 25 Nov 2026 12:00:00 GMT\r\nServer: bench\r\n\r\nHello, world!";
  let many = "HTTP/1.1 200 OK\r\n";
  for (let i = 0; i < 50; i++) many += `X-Header-${i}: value-${i}-${"v".repeat(20)}\r\n`;
  many += "Content-Length: 2\r\n\r\nok";
  let chunked =
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  const piece = "x".repeat(4096);
  for (let i = 0; i < 16; i++) chunked += `1000\r\n${piece}\r\n`;
  chunked += "0\r\n\r\n";
  return { small, "50 headers": many, "chunked 64 KiB": chunked };
}

function ours(bytes) {
  const parser = new ResponseParser({ method: "GET" });
  parser.receiveData(bytes);
  let n = 0;
  for (;;) {
    const e = parser.nextEvent();
    if (e.type === "end") return n;
    if (e.type === "data") n += e.data.length;
    else if (e.type === "need-data" || e.type === "paused") throw new Error(`unexpected ${e.type}`);
  }
}

function makeLlhttp() {
  let mod;
  try {
    mod = new WebAssembly.Module(require("undici/lib/llhttp/llhttp_simd-wasm.js"));
  } catch {
    mod = new WebAssembly.Module(require("undici/lib/llhttp/llhttp-wasm.js"));
  }
  const { TYPE } = require("undici/lib/llhttp/constants.js");
  let current = null;
  let ref = null;
  let ptrBase = 0;
  const view = (at, len) => Buffer.from(ref.buffer, ref.byteOffset + (at - ptrBase), len);
  const instance = new WebAssembly.Instance(mod, {
    env: {
      wasm_on_url: () => 0,
      wasm_on_status: (_p, at, len) => {
        current.status = view(at, len);
        return 0;
      },
      wasm_on_message_begin: () => 0,
      wasm_on_header_field: (_p, at, len) => {
        current.headers.push(view(at, len));
        return 0;
      },
      wasm_on_header_value: (_p, at, len) => {
        current.headers.push(view(at, len));
        return 0;
      },
      wasm_on_headers_complete: (_p, statusCode) => {
        current.statusCode = statusCode;
        return 0;
      },
      wasm_on_body: (_p, at, len) => {
        current.body += view(at, len).length;
        return 0;
      },
      wasm_on_message_complete: () => {
        current.done = true;
        return 0;
      },
    },
  });
  const llhttp = instance.exports;
  let bufPtr = 0;
  let bufSize = 0;
  return (bytes) => {
    const ptr = llhttp.llhttp_alloc(TYPE.RESPONSE);
    if (bytes.length > bufSize) {
      if (bufPtr) llhttp.free(bufPtr);
      bufSize = Math.ceil(bytes.length / 4096) * 4096;
      bufPtr = llhttp.malloc(bufSize);
    }
    new Uint8Array(llhttp.memory.buffer, bufPtr, bufSize).set(bytes);
    current = { headers: [], body: 0, done: false, statusCode: 0, status: null };
    ref = bytes;
    ptrBase = bufPtr;
    const ret = llhttp.llhttp_execute(ptr, bufPtr, bytes.length);
    llhttp.llhttp_free(ptr);
    if (ret !== 0 || !current.done) throw new Error(`llhttp error ${ret}`);
    return current.body;
  };
}

function rate(fn, bytes, seconds = 0.6) {
  for (let i = 0; i < 2000; i++) fn(bytes);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) fn(bytes);
    n += 200;
  }
  return n / seconds;
}

export function benchParser() {
  const llhttp = makeLlhttp();
  const rows = [];
  for (const [name, text] of Object.entries(inputs())) {
    const bytes = Buffer.from(text, "latin1");
    if (ours(bytes) !== llhttp(bytes)) throw new Error(`parsers disagree on ${name}`);
    rows.push({ name, ours: rate(ours, bytes), llhttp: rate(llhttp, bytes) });
  }
  return rows;
}

// `node bench/parser.mjs`: run alone, in a fresh process (no JIT feedback from other benchmarks).
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(benchParser()));
}
