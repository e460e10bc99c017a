/**
 * Entry for Node.js (the `node` export condition): the core, with `node:net`/`node:tls` as the
 * default backend.
 * @module
 */
import { setDefaultNetworkBackend } from "../backends/default.js";
import { AsyncNodeBackend } from "../backends/node.js";

setDefaultNetworkBackend(() => new AsyncNodeBackend());

export { AsyncNodeBackend, AsyncNodeStream } from "../backends/node.js";
export * from "../index.js";
