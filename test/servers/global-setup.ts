/**
 * vitest globalSetup: starts the local test servers and provides their addresses to tests
 * (`inject("httpPort")` etc.; keys declared in `provided-context.d.ts`). Each invocation starts
 * its own servers and closes them in its teardown, so several projects may list this file.
 * @module
 */

import type { TestProject } from "vitest/node";
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
  return () => servers.close();
}
