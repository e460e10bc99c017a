// Values test/servers/global-setup.ts provides to every test via `inject(...)`.
export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** node:http on 127.0.0.1. */
    httpPort: number;
    /** node:https on 127.0.0.1 (test CA, ALPN http/1.1, optional client cert). */
    httpsPort: number;
    /** The raw misbehaving server on 127.0.0.1 (see test/servers/raw-server.ts). */
    rawPort: number;
    /** node:http on a unix socket. */
    udsPath: string;
    /** Test CA certificate, PEM. */
    caPem: string;
    /** Client certificate signed by the test CA (CN "httpcore2 test client"), PEM. */
    clientCertPem: string;
    /** Its private key, PEM. */
    clientKeyPem: string;
    // Proxies on 127.0.0.1 (test/servers/proxies.ts); null when the daemon is not installed.
    /** squid, no auth: HTTP forward + CONNECT. */
    squidPort: number | null;
    /** squid with Basic auth (`proxyAuth`). */
    squidAuthPort: number | null;
    /** squid's https_port: an `https://` proxy (test CA certificate for 127.0.0.1/localhost). */
    squidTlsPort: number | null;
    /** tinyproxy, no auth: HTTP forward + CONNECT (to the http and https test ports). */
    tinyproxyPort: number | null;
    /** tinyproxy with Basic auth (`proxyAuth`). */
    tinyproxyAuthPort: number | null;
    /** microsocks SOCKS5, no auth. */
    socksPort: number | null;
    /** microsocks SOCKS5 with username/password (`proxyAuth`). */
    socksAuthPort: number | null;
    /** dante SOCKS5, no auth. */
    dantePort: number | null;
    /** A port on 127.0.0.1 where nothing listens. */
    deadPort: number;
    /** [username, password] every authenticating test proxy accepts. */
    proxyAuth: [string, string];
    // HTTP/2 servers on 127.0.0.1 (test/servers/h2-servers.ts).
    /** node:http2 over TLS (test CA), ALPN h2 + http/1.1 (allowHTTP1). */
    h2Port: number;
    /** node:http2 over TLS (test CA), ALPN h2 only. */
    h2OnlyPort: number;
    /** node:http2 cleartext: HTTP/2 with prior knowledge (h2c). */
    h2cPort: number;
    /** nghttpd over TLS (padded DATA, trailers); null when nghttpd is not installed. */
    nghttpdPort: number | null;
    /** nghttpd cleartext (64 KiB windows, 10 concurrent streams); null when not installed. */
    nghttpdH2cPort: number | null;
  }
}
