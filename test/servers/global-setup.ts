/**
 * vitest globalSetup: starts the local test servers and provides their addresses to tests
 * (`inject("httpPort")` etc.; keys declared in `provided-context.d.ts`). Each invocation starts
 * its own servers and closes them in its teardown, so several projects may list this file.
 * @module
 */

import type { TestProject } from "vitest/node";
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
  return async () => {
    await Promise.all([proxies.close(), servers.close()]);
  };
}
