import { AsyncCloudflareBackend } from "../../src/backends/cloudflare.js";
import { poolScenarios } from "../scenarios/pool-scenarios.js";

// TLS trusts the test CA through NODE_EXTRA_CA_CERTS; connect() takes no per-socket CA.
poolScenarios({ name: "workerd", backend: () => new AsyncCloudflareBackend(), ssl: null });
