/**
 * httpcore2: an HTTP connection pool with httpcore's async API, for Node.js, Cloudflare Workers
 * and browsers. This module is the runtime-neutral core; the package's export conditions pick an
 * entry that also registers the runtime's default network backend.
 * @module
 */
export type {
  AsyncNetworkBackend,
  AsyncNetworkStream,
  ConnectTcpOptions,
  ConnectUnixOptions,
  SocketOption,
  SslInfo,
  StartTlsOptions,
  TlsOptions,
} from "./backends/base.js";
export { defaultNetworkBackend, setDefaultNetworkBackend } from "./backends/default.js";
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
} from "./backends/fetch.js";
export {
  AsyncMockBackend,
  AsyncMockStream,
  type MockBackendOptions,
  type MockChunk,
} from "./backends/mock.js";
export type { RequestBody, RequestContent } from "./body.js";
export { AsyncHTTPConnection, type HTTPConnectionOptions } from "./connection/connection.js";
export { AsyncHTTP2Connection, type HTTP2Options } from "./connection/http2.js";
export { AsyncHTTP11Connection, type HTTP11Options } from "./connection/http11.js";
export {
  type AsyncConnectionInterface,
  type ConnectionFactory,
  type ConnectionFactoryOptions,
  type ConnectionSnapshot,
  type ConnectionState,
  isConnectionFactory,
  type PoolConnection,
} from "./connection/interfaces.js";
export { LazyConnection, type ProtocolConnection } from "./connection/lazy.js";
export type { Framing, WireHead } from "./connection/wire-headers.js";
export * from "./errors.js";
export { type FetchInit, type FetchInput, type FetchTarget, poolFetch } from "./fetch/adapter.js";
export { H2ErrorCode, type H2ErrorCodeName, h2ErrorName } from "./h2/errors.js";
export type { HeaderList } from "./h11/types.js";
export type { HeadersInit } from "./headers.js";
export {
  Request,
  type RequestExtensions,
  type RequestOptions,
  Response,
  type ResponseByteStream,
  type ResponseExtensions,
  type ResponseInit,
  type TimeoutExtension,
} from "./models.js";
export type { PoolOptions } from "./pool/options.js";
export { AsyncConnectionPool } from "./pool/pool.js";
export {
  AsyncForwardHTTPConnection,
  AsyncSocks5Connection,
  AsyncTunnelHTTPConnection,
  NoProxy,
  Proxy,
  type ProxyConfig,
  type ProxyConnectionSnapshot,
  type ProxyInput,
  type ProxyOptions,
  ProxyRoutes,
  type ProxyScheme,
  type ProxySelector,
  type Socks5BoundAddress,
  Socks5Handshake,
  type Socks5HandshakeOptions,
  type Socks5State,
} from "./proxy/index.js";
export type { TraceCallback } from "./trace.js";
export { Origin, type RequestURL } from "./url.js";
