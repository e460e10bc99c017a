/**
 * vitest globalSetup: starts the local test servers and provides their addresses to tests
 * (`inject("httpPort")` etc.; keys declared in `provided-context.d.ts`). Each invocation starts
 * its own servers and closes them in its teardown, so several projects may list this file.
 * @module
 */

import type { TestProject } from "vitest/node";
import { startH2Servers } from "./h2-servers.js";
import { PROXY_PASSWORD, PROXY_USER, startProxies } from "./proxies.js";
import { startServers } from "./servers.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await startServers();
  project.provide("httpPort", servers.httpPort);
  project.provide("httpsPort", servers.httpsPort);
  project.provide("rawPort", servers.rawPort);
  project.provide("udsPath", servers.udsPath);
  project.provide("caPem", servers.caPem);
  project.provide("clientCertPem", servers.clientCertPem);
  project.provide("clientKeyPem", servers.clientKeyPem);
  let proxies: Awaited<ReturnType<typeof startProxies>>;
  try {
    proxies = await startProxies([servers.httpPort, servers.httpsPort]);
  } catch (error) {
    await servers.close();
    throw error;
  }
  project.provide("squidPort", proxies.squidPort);
  project.provide("squidAuthPort", proxies.squidAuthPort);
  project.provide("squidTlsPort", proxies.squidTlsPort);
  project.provide("tinyproxyPort", proxies.tinyproxyPort);
  project.provide("tinyproxyAuthPort", proxies.tinyproxyAuthPort);
  project.provide("socksPort", proxies.socksPort);
  project.provide("socksAuthPort", proxies.socksAuthPort);
  project.provide("dantePort", proxies.dantePort);
  project.provide("deadPort", proxies.deadPort);
  project.provide("proxyAuth", [PROXY_USER, PROXY_PASSWORD]);
  let h2: Awaited<ReturnType<typeof startH2Servers>>;
  try {
    h2 = await startH2Servers();
  } catch (error) {
    await Promise.all([proxies.close(), servers.close()]);
    throw error;
  }
  project.provide("h2Port", h2.h2Port);
  project.provide("h2OnlyPort", h2.h2OnlyPort);
  project.provide("h2cPort", h2.h2cPort);
  project.provide("nghttpdPort", h2.nghttpdPort);
  project.provide("nghttpdH2cPort", h2.nghttpdH2cPort);
  return async () => {
    await Promise.all([proxies.close(), servers.close(), h2.close()]);
  };
}
