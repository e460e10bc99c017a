/**
 * Starts every local test server: node:http and node:https (routes in `handler.ts`), the raw
 * misbehaving server (`raw-server.ts`) and node:http on a unix socket. All listen on 127.0.0.1
 * (or a socket file in the temp dir) only.
 * @module
 */

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHandler } from "./handler.js";
import { startRawServer } from "./raw-server.js";

/** What {@link startServers} returns. */
export interface TestServers {
  /** node:http on 127.0.0.1. */
  httpPort: number;
  /** node:https on 127.0.0.1 (cert for localhost/127.0.0.1/::1 signed by the test CA; ALPN http/1.1 only; asks for an optional client cert). */
  httpsPort: number;
  /** The raw misbehaving server on 127.0.0.1. */
  rawPort: number;
  /** node:http on this unix socket path. */
  udsPath: string;
  /** The test CA certificate, PEM. */
  caPem: string;
  /** A client certificate signed by the test CA (CN `httpcore2 test client`), PEM. */
  clientCertPem: string;
  clientKeyPem: string;
  /** Closes every server and destroys every open connection. */
  close(): Promise<void>;
}

/** CN of the client certificate, as `/echo` reports it in `clientCertSubject`. */
export const CLIENT_CERT_CN = "httpcore2 test client";

const here = fileURLToPath(new URL(".", import.meta.url));
const certDir = join(here, "..", ".certs");

function tune(server: HttpServer): void {
  // Idle keep-alive connections stay open long enough for any test; the pool closes them.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0;
}

function listen(server: HttpServer, target: number | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (typeof target === "string") server.listen(target, done);
    else server.listen(target, "127.0.0.1", done);
  });
}

function portOf(server: HttpServer): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no port");
  return address.port;
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts all test servers (making the test certificates first if needed). */
export async function startServers(): Promise<TestServers> {
  // Fast no-op when valid certificates exist.
  execFileSync(process.execPath, [join(here, "make-certs.mjs"), certDir], { stdio: "inherit" });
  const read = (name: string): string => readFileSync(join(certDir, name), "utf8");
  const caPem = read("ca.pem");
  const clientCertPem = read("client.pem");
  const clientKeyPem = read("client-key.pem");

  const httpHandler = createHandler();
  const httpsHandler = createHandler();
  const udsHandler = createHandler();

  const http = createHttpServer({ noDelay: true }, httpHandler);
  const https = createHttpsServer(
    {
      key: read("server-key.pem"),
      cert: read("server.pem"),
      ca: caPem,
      requestCert: true, // optional client cert: /echo reports its CN
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
      noDelay: true,
    },
    httpsHandler,
  );
  const uds = createHttpServer(udsHandler);
  for (const server of [http, https, uds]) tune(server);

  const udsPath = join(
    tmpdir(),
    `httpcore2-test-${process.pid}-${randomBytes(4).toString("hex")}.sock`,
  );
  rmSync(udsPath, { force: true });

  const raw = await startRawServer();
  await Promise.all([listen(http, 0), listen(https, 0), listen(uds, udsPath)]);

  let closed: Promise<void> | undefined;
  return {
    httpPort: portOf(http),
    httpsPort: portOf(https),
    rawPort: raw.port,
    udsPath,
    caPem,
    clientCertPem,
    clientKeyPem,
    close() {
      closed ??= (async () => {
        httpHandler.close();
        httpsHandler.close();
        udsHandler.close();
        await Promise.all([closeHttp(http), closeHttp(https), closeHttp(uds), raw.close()]);
        rmSync(udsPath, { force: true });
      })();
      return closed;
    },
  };
}
