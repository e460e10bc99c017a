/**
 * `httpcore2/fetch`: the fetch backend, explicitly — request-level lanes over the platform's
 * `fetch()`. It works wherever `fetch()` does (browsers, Node.js, Workers), which also makes it
 * useful in tests. Importing it changes no default; the `browser` export condition of the root
 * entry makes it the default there.
 * @module
 */
export {
  AsyncFetchBackend,
  AsyncFetchConnection,
  type FetchBackendOptions,
  type FetchCacheMode,
  type FetchCredentialsMode,
  type FetchInitExtension,
  type FetchLaneSettings,
  type FetchRedirectMode,
  type FetchResponseInfo,
  supportsRequestStreams,
  UNKNOWN_HTTP_VERSION,
} from "../backends/fetch.js";
