#!/usr/bin/env node
// Creates the test PKI in test/.certs/ with the `openssl` CLI (no npm dependencies):
//   ca.pem / ca-key.pem          test CA (P-256, 10 years)
//   server.pem / server-key.pem  leaf for DNS:localhost, IP:127.0.0.1, IP:::1 (serverAuth)
//   client.pem / client-key.pem  leaf for mTLS tests, CN "httpcore2 test client" (clientAuth)
// Idempotent: when every file exists, parses, chains to the CA and is valid for 30 more days, it
// does nothing (checked with node:crypto, no process spawned). Safe against concurrent runs: a
// lock directory serialises generation and files are renamed into place only when all are made.
//
// Usage: node test/servers/make-certs.mjs [outDir]

import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const DEFAULT_DIR = resolve(here, "..", ".certs");
const FILES = [
  "ca.pem",
  "ca-key.pem",
  "server.pem",
  "server-key.pem",
  "client.pem",
  "client-key.pem",
];
const MIN_REMAINING_MS = 30 * 24 * 3600 * 1000;

/** True when the certificates in `dir` exist, match their keys, chain to the CA and are fresh. */
export function certsAreValid(dir = DEFAULT_DIR) {
  try {
    const read = (name) => readFileSync(join(dir, name), "utf8");
    const ca = new X509Certificate(read("ca.pem"));
    const server = new X509Certificate(read("server.pem"));
    const client = new X509Certificate(read("client.pem"));
    const soon = Date.now() + MIN_REMAINING_MS;
    for (const [cert, keyFile] of [
      [ca, "ca-key.pem"],
      [server, "server-key.pem"],
      [client, "client-key.pem"],
    ]) {
      if (new Date(cert.validTo).getTime() < soon) return false;
      if (!cert.checkPrivateKey(createPrivateKey(read(keyFile)))) return false;
    }
    return (
      ca.ca &&
      server.verify(ca.publicKey) &&
      client.verify(ca.publicKey) &&
      server.checkHost("localhost") !== undefined &&
      server.checkIP("127.0.0.1") !== undefined &&
      server.checkIP("::1") !== undefined
    );
  } catch {
    return false;
  }
}

function openssl(args, cwd) {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function randomSerial() {
  // 16 random bytes, top bit clear so the serial stays positive.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${Buffer.from(bytes).toString("hex")}`;
}

function generate(work) {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca-key.pem",
      "-out",
      "ca.pem",
      "-days",
      "3650",
      "-subj",
      "/O=httpcore2 tests/CN=httpcore2 test CA",
      "-set_serial",
      randomSerial(),
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-addext",
      "subjectKeyIdentifier=hash",
    ],
    work,
  );
  const leaf = (name, subject, extensions) => {
    writeFileSync(join(work, `${name}.ext`), `${extensions.join("\n")}\n`);
    openssl(
      ["req", ...ec, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", subject],
      work,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-set_serial",
        randomSerial(),
        "-days",
        "365",
        "-sha256",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      ],
      work,
    );
  };
  const common = [
    "basicConstraints=critical,CA:FALSE",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid,issuer",
  ];
  leaf("server", "/O=httpcore2 tests/CN=localhost", [
    ...common,
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
  ]);
  leaf("client", "/O=httpcore2 tests/CN=httpcore2 test client", [
    ...common,
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
  ]);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Makes sure valid certificates exist in `dir`; returns true if it had to generate them. */
export function makeCerts(dir = DEFAULT_DIR) {
  if (certsAreValid(dir)) return false;
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, ".lock");
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      // A lock older than 60 s belongs to a crashed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000)
          rmSync(lock, { recursive: true, force: true });
      } catch {}
      sleepSync(50);
    }
  }
  try {
    if (certsAreValid(dir)) return false; // another run made them while we waited
    const work = mkdtempSync(join(dir, ".tmp-"));
    try {
      generate(work);
      for (const name of FILES) renameSync(join(work, name), join(dir, name));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    if (!certsAreValid(dir))
      throw new Error(`make-certs: generated certificates in ${dir} do not verify`);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_DIR;
  if (makeCerts(dir)) console.log(`make-certs: wrote test certificates to ${dir}`);
}
