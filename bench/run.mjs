// `npm run bench`: every benchmark in one run on one local server; prints a table of ratios and
// writes bench/RESULTS.md. Bounded: a few minutes on a 2-core machine.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchHttp2, h2Options, h2Report } from "./h2.mjs";
import { benchHttp1 } from "./http1.mjs";
import { fmt, machine, startServer } from "./lib.mjs";
import { benchStream } from "./stream.mjs";
import { benchWorkerd } from "./workerd.mjs";

const quick = process.argv.includes("--quick");
const server = await startServer();
const lines = [];
const out = (s = "") => {
  lines.push(s);
  console.log(s);
};

try {
  out("# httpcore2 benchmarks");
  out();
  out(`Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`);
  out("Every peer runs in the same process run against the same local server (a child process).");
  out("Ratios are peer ÷ httpcore2 for req/s (below 1.00× means httpcore2 is faster).");
  out();

  const http = await benchHttp1(server.port, {
    sizes: [1024, 64 * 1024],
    concurrencies: [1, 16, 64],
    total: quick ? 1000 : 5000,
    warmup: quick ? 200 : 1000,
    rounds: quick ? 1 : 2,
  });
  out("## HTTP/1.1 keep-alive on loopback");
  out();
  out("| body | conc. | client | req/s | vs httpcore2 | client CPU µs/req | p50 ms | p99 ms |");
  out("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of http) {
    const ours = row.results.httpcore2.reqPerSec;
    for (const [name, r] of Object.entries(row.results)) {
      out(
        `| ${row.size / 1024} KiB | ${row.concurrency} | ${name} | ${fmt.n(r.reqPerSec)} | ${fmt.ratio(r.reqPerSec / ours)} | ${fmt.n(r.cpuMicros)} | ${fmt.ms(r.p50)} | ${fmt.ms(r.p99)} |`,
      );
    }
  }
  out();

  const size = (quick ? 64 : 256) * 1024 * 1024;
  const stream = await benchStream(server.port, { size, rounds: quick ? 1 : 3 });
  out(`## Streaming a ${size / 1024 / 1024} MiB download`);
  out();
  out("| reader | MiB/s | ms | vs raw socket |");
  out("| --- | ---: | ---: | ---: |");
  const rawRate = stream["raw net socket"].mibPerSec;
  for (const [name, r] of Object.entries(stream)) {
    out(
      `| ${name} | ${fmt.n(r.mibPerSec)} | ${fmt.n(r.ms)} | ${((r.mibPerSec / rawRate) * 100).toFixed(0)} % |`,
    );
  }
  out();

  out("## Response parser (messages/s, same bytes)");
  out();
  out("| input | httpcore2 ResponseParser | llhttp (undici wasm) | ours ÷ llhttp |");
  out("| --- | ---: | ---: | ---: |");
  // In its own process: the parser's JIT state must not carry the HTTP benchmarks' feedback.
  const parserRows = JSON.parse(
    execFileSync(process.execPath, [fileURLToPath(new URL("./parser.mjs", import.meta.url))], {
      encoding: "utf8",
    }),
  );
  for (const r of parserRows) {
    out(`| ${r.name} | ${fmt.n(r.ours)} | ${fmt.n(r.llhttp)} | ${fmt.ratio(r.ours / r.llhttp)} |`);
  }
  out();

  const n = 100;
  const workerd = await benchWorkerd(server.port, { n, rounds: quick ? 2 : 10 });
  out(`## workerd (Miniflare): ${n} GETs of 1 KiB inside one Worker invocation`);
  out();
  out("Best of several runs (workerd's clock only moves on I/O, so times are whole milliseconds).");
  out("The raw row is a hand-written request loop on one connect() socket: the floor.");
  out();
  out("| mode | connect() pool ms | fetch() ms | pool speed-up | raw connect() loop ms |");
  out("| --- | ---: | ---: | ---: | ---: |");
  for (const r of workerd) {
    const raw = r.raw ? fmt.ms(r.raw.ms) : "–";
    out(
      `| ${r.mode} | ${fmt.ms(r.pool.ms)} | ${fmt.ms(r.fetch.ms)} | ${fmt.ratio(r.fetch.ms / r.pool.ms)} | ${raw} |`,
    );
  }
  out();

  // HTTP/2 runs its own node:http2 server (TLS, test CA) in a child process.
  const h2 = h2Options(quick);
  for (const line of h2Report(await benchHttp2(h2), h2.streamSize)) out(line);
} finally {
  server.stop();
}

if (!quick) writeFileSync(new URL("./RESULTS.md", import.meta.url), `${lines.join("\n")}\n`);
