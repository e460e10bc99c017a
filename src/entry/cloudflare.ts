/**
 * Entry for Cloudflare Workers (the `workerd` export condition): the core, with `connect()` from
 * `cloudflare:sockets` as the default backend.
 * @module
 */
import { AsyncCloudflareBackend } from "../backends/cloudflare.js";
import { setDefaultNetworkBackend } from "../backends/default.js";

setDefaultNetworkBackend(() => new AsyncCloudflareBackend());

export {
  AsyncCloudflareBackend,
  type CloudflareBackendOptions,
  DEFAULT_MAX_CONCURRENT_DIALS,
} from "../backends/cloudflare.js";
export * from "../index.js";
