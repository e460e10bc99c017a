/**
 * Proxies: the {@link Proxy} model, and the connections the pool makes through one.
 * @module
 */
import type { PoolConnection } from "../connection/interfaces.js";
import type { Origin } from "../url.js";
import type { ProxyConnectionOptions } from "./dial.js";
import { AsyncForwardHTTPConnection } from "./forward.js";
import type { Proxy as HTTPProxy } from "./proxy.js";
import { AsyncSocks5Connection } from "./socks5-connection.js";
import { AsyncTunnelHTTPConnection } from "./tunnel.js";

export type { ProxyConnectionOptions } from "./dial.js";
export { AsyncForwardHTTPConnection, absoluteTarget } from "./forward.js";
export { NoProxy } from "./no-proxy.js";
export {
  Proxy,
  type ProxyConfig,
  type ProxyInput,
  type ProxyOptions,
  ProxyRoutes,
  type ProxyScheme,
  type ProxySelector,
  resolveProxyOption,
} from "./proxy.js";
export {
  type Socks5BoundAddress,
  Socks5Handshake,
  type Socks5HandshakeOptions,
  type Socks5State,
} from "./socks5.js";
export { AsyncSocks5Connection } from "./socks5-connection.js";
export { AsyncTunnelHTTPConnection } from "./tunnel.js";
export type { ProxyConnectionSnapshot } from "./tunnelled.js";

/**
 * The connection for `origin` through `proxy`, as httpcore chooses it: SOCKS5 proxies →
 * {@link AsyncSocks5Connection}; HTTP(S) proxies → {@link AsyncForwardHTTPConnection} for `http://`
 * targets (unless `proxy.tunnelHttp`), {@link AsyncTunnelHTTPConnection} (CONNECT) for the rest.
 */
export function createProxyConnection(
  proxy: HTTPProxy,
  origin: Origin,
  options: ProxyConnectionOptions,
): PoolConnection {
  if (proxy.isSocks) return new AsyncSocks5Connection(proxy, origin, options);
  if (origin.scheme === "http" && !proxy.tunnelHttp) {
    return new AsyncForwardHTTPConnection(proxy, origin, options);
  }
  return new AsyncTunnelHTTPConnection(proxy, origin, options);
}
