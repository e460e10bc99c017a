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
  }
}
