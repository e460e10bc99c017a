/**
 * Entry for browsers (the `browser` export condition): the core, with the fetch backend as the
 * default — browsers have no sockets, so the platform's `fetch()` carries the requests.
 * @module
 */
import { setDefaultNetworkBackend } from "../backends/default.js";
import { AsyncFetchBackend } from "../backends/fetch.js";

setDefaultNetworkBackend(() => new AsyncFetchBackend());

export * from "../index.js";
