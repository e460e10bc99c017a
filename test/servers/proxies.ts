/**
 * Real proxy daemons from Debian for the proxy tests, each on 127.0.0.1 with a port chosen at
 * runtime and its configuration in a temp dir:
 *
 * - squid (one process, three ports): HTTP forward + CONNECT, open and with Basic auth
 *   (`basic_ncsa_auth`, an htpasswd file made with `openssl passwd -apr1`), and an `https_port`
 *   (TLS to the proxy, the test server certificate); no cache, no DNS server but 127.0.0.1,
 *   only loopback destinations;
 * - tinyproxy (two processes): open and with Basic auth; CONNECT allowed to the test ports only;
 * - microsocks (two processes): SOCKS5 without and with username/password auth, outgoing
 *   connections bound to 127.0.0.1;
 * - dante (`danted`): SOCKS5 without auth, external interface 127.0.0.1, loopback targets only.
 *
 * A daemon that is not installed is reported as `null` (its tests skip) unless `CI` is set, where
 * a missing daemon fails the setup. `.ci/run` installs them all.
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  accessSync,
  chownSync,
  constants,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canConnect, freePorts } from "./ports.js";

const CERT_DIR = join(fileURLToPath(new URL(".", import.meta.url)), "..", ".certs");

/** Credentials every authenticating test proxy accepts. */
export const PROXY_USER = "proxyuser";
export const PROXY_PASSWORD = "proxy-secret-p4ss";

/** Ports of the running proxies (null: that daemon is not installed here). */
export interface TestProxies {
  squidPort: number | null;
  squidAuthPort: number | null;
  /** squid's TLS port (an `https://` proxy; certificate for localhost/127.0.0.1 from the test CA). */
  squidTlsPort: number | null;
  tinyproxyPort: number | null;
  tinyproxyAuthPort: number | null;
  socksPort: number | null;
  socksAuthPort: number | null;
  dantePort: number | null;
  /** A port on 127.0.0.1 where nothing listens (connections are refused). */
  deadPort: number;
  close(): Promise<void>;
}

const BINARIES = {
  squid: ["/usr/sbin/squid", "squid"],
  tinyproxy: ["/usr/bin/tinyproxy", "tinyproxy"],
  microsocks: ["/usr/bin/microsocks", "microsocks"],
  danted: ["/usr/sbin/danted", "danted"],
} as const;

/** The first candidate that is an executable file (absolute path) or a command on the PATH. */
function which(candidates: readonly string[]): string | null {
  for (const c of candidates) {
    try {
      if (c.includes("/")) accessSync(c, constants.X_OK);
      else execFileSync("sh", ["-c", `command -v ${c}`], { stdio: "ignore" });
      return c;
    } catch {
      // next
    }
  }
  return null;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  output: string[];
}

function startDaemon(name: string, command: string, args: string[]): Daemon {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  child.on("error", (e) => output.push(String(e)));
  return { name, child, output };
}

async function waitForPorts(daemon: Daemon, ports: number[], logFile?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = await Promise.all(ports.map(canConnect));
    if (ready.every(Boolean)) return;
    if (
      daemon.child.exitCode !== null ||
      daemon.child.signalCode !== null ||
      Date.now() > deadline
    ) {
      let log = daemon.output.join("");
      if (logFile !== undefined) {
        try {
          log += execFileSync("tail", ["-n", "30", logFile]).toString();
        } catch {
          // no log
        }
      }
      throw new Error(`${daemon.name} did not start listening on ${ports.join(", ")}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function proxyUid(): number | null {
  if (process.getuid?.() !== 0) return null;
  try {
    return Number(execFileSync("id", ["-u", "proxy"]).toString().trim());
  } catch {
    return null;
  }
}

function squidConfig(dir: string, open: number, auth: number, tls: number): string {
  return `# httpcore2 test squid: loopback only, no cache, no DNS
http_port 127.0.0.1:${open} name=open
http_port 127.0.0.1:${auth} name=auth
https_port 127.0.0.1:${tls} name=tls tls-cert=${dir}/server.pem tls-key=${dir}/server-key.pem
visible_hostname httpcore2-test
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log none
cache_store_log none
cache deny all
cache_mem 0 MB
coredump_dir ${dir}
dns_nameservers 127.0.0.1
pinger_enable off
icp_port 0
htcp_port 0
digest_generation off
via off
forwarded_for delete
shutdown_lifetime 0 seconds
auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/htpasswd
auth_param basic children 2 startup=1 idle=1
auth_param basic realm httpcore2
acl authport myportname auth
acl localdst dst 127.0.0.0/8 ::1
acl users proxy_auth REQUIRED
http_access deny !localdst
http_access allow authport users
http_access deny authport
http_access allow localhost
http_access deny all
`;
}

function tinyproxyConfig(
  dir: string,
  name: string,
  port: number,
  connectPorts: number[],
  auth: boolean,
): string {
  return `# httpcore2 test tinyproxy ${name}: loopback only
Port ${port}
Listen 127.0.0.1
Timeout 30
MaxClients 50
Allow 127.0.0.1
${connectPorts.map((p) => `ConnectPort ${p}`).join("\n")}
PidFile "${dir}/${name}.pid"
LogFile "${dir}/${name}.log"
LogLevel Error
DisableViaHeader Yes
${auth ? `BasicAuth ${PROXY_USER} ${PROXY_PASSWORD}` : ""}
`;
}

function danteConfig(dir: string, port: number): string {
  return `# httpcore2 test dante: loopback in and out, no auth
logoutput: ${dir}/danted.log
internal: 127.0.0.1 port = ${port}
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }
socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 }
`;
}

/** Starts every installed proxy daemon in front of the test servers on `upstreamPorts`. */
export async function startProxies(upstreamPorts: number[]): Promise<TestProxies> {
  const strict = Boolean(process.env.CI);
  const found = {
    squid: which(BINARIES.squid),
    tinyproxy: which(BINARIES.tinyproxy),
    microsocks: which(BINARIES.microsocks),
    danted: which(BINARIES.danted),
  };
  const missing = Object.entries(found)
    .filter(([, path]) => path === null)
    .map(([name]) => name);
  if (missing.length > 0) {
    const message = `proxy daemons not installed: ${missing.join(", ")} (apt-get install squid tinyproxy microsocks dante-server); their tests are skipped`;
    if (strict) throw new Error(message);
    console.warn(message);
  }

  const dir = mkdtempSync(join(tmpdir(), "httpcore2-proxies-"));
  const [
    squidPort,
    squidAuthPort,
    squidTlsPort,
    tinyPort,
    tinyAuthPort,
    socksPort,
    socksAuthPort,
    dantePort,
    deadPort,
  ] = (await freePorts(9)) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daemons: Daemon[] = [];
  const starting: Promise<void>[] = [];
  const killAll = (): void => {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill("SIGKILL");
  };
  process.once("exit", killAll);

  try {
    if (found.squid !== null) {
      const hash = execFileSync("openssl", ["passwd", "-apr1", PROXY_PASSWORD]).toString().trim();
      writeFileSync(join(dir, "htpasswd"), `${PROXY_USER}:${hash}\n`);
      // The test server's certificate (made by servers.ts before the proxies start).
      copyFileSync(join(CERT_DIR, "server.pem"), join(dir, "server.pem"));
      copyFileSync(join(CERT_DIR, "server-key.pem"), join(dir, "server-key.pem"));
      writeFileSync(
        join(dir, "squid.conf"),
        squidConfig(dir, squidPort, squidAuthPort, squidTlsPort),
      );
      // As root, squid runs as the `proxy` user: it must be able to write its logs and pid file.
      const uid = proxyUid();
      if (uid !== null) {
        chownSync(dir, uid, -1);
        for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, -1);
      }
      const d = startDaemon("squid", found.squid, ["-N", "-f", join(dir, "squid.conf")]);
      daemons.push(d);
      starting.push(
        waitForPorts(d, [squidPort, squidAuthPort, squidTlsPort], join(dir, "cache.log")),
      );
    }
    if (found.tinyproxy !== null) {
      for (const [name, port, auth] of [
        ["tinyproxy", tinyPort, false],
        ["tinyproxy-auth", tinyAuthPort, true],
      ] as const) {
        const conf = join(dir, `${name}.conf`);
        writeFileSync(conf, tinyproxyConfig(dir, name, port, upstreamPorts, auth));
        const d = startDaemon(name, found.tinyproxy, ["-d", "-c", conf]);
        daemons.push(d);
        starting.push(waitForPorts(d, [port], join(dir, `${name}.log`)));
      }
    }
    if (found.microsocks !== null) {
      for (const [name, port, auth] of [
        ["microsocks", socksPort, false],
        ["microsocks-auth", socksAuthPort, true],
      ] as const) {
        const args = ["-i", "127.0.0.1", "-p", String(port), "-b", "127.0.0.1"];
        if (auth) args.push("-u", PROXY_USER, "-P", PROXY_PASSWORD);
        const d = startDaemon(name, found.microsocks, args);
        daemons.push(d);
        starting.push(waitForPorts(d, [port]));
      }
    }
    if (found.danted !== null) {
      const conf = join(dir, "danted.conf");
      writeFileSync(conf, danteConfig(dir, dantePort));
      const d = startDaemon("danted", found.danted, ["-f", conf, "-p", join(dir, "danted.pid")]);
      daemons.push(d);
      starting.push(waitForPorts(d, [dantePort], join(dir, "danted.log")));
    }
    await Promise.all(starting);
  } catch (error) {
    killAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  let closed: Promise<void> | undefined;
  return {
    squidPort: found.squid === null ? null : squidPort,
    squidAuthPort: found.squid === null ? null : squidAuthPort,
    squidTlsPort: found.squid === null ? null : squidTlsPort,
    tinyproxyPort: found.tinyproxy === null ? null : tinyPort,
    tinyproxyAuthPort: found.tinyproxy === null ? null : tinyAuthPort,
    socksPort: found.microsocks === null ? null : socksPort,
    socksAuthPort: found.microsocks === null ? null : socksAuthPort,
    dantePort: found.danted === null ? null : dantePort,
    deadPort,
    close() {
      closed ??= (async () => {
        process.off("exit", killAll);
        await Promise.all(
          daemons.map(
            (d) =>
              new Promise<void>((resolve) => {
                if (d.child.exitCode !== null || d.child.signalCode !== null) return resolve();
                d.child.once("exit", () => resolve());
                d.child.kill("SIGKILL");
              }),
          ),
        );
        rmSync(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
