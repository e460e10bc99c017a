/**
 * The part of workerd's `cloudflare:sockets` module that `src/backends/cloudflare.ts` uses.
 *
 * Declared here instead of pulling in `@cloudflare/workers-types`, whose globals clash with
 * `@types/node` in the main typecheck. The workerd test project (`test/workerd/tsconfig.json`)
 * uses the real workers types and leaves this file out; `cloudflare.ts` therefore derives its
 * types from `connect` alone so it compiles against either declaration.
 */
declare module "cloudflare:sockets" {
  /** Where to dial. IPv6 literals must be bracketed (`[::1]`); workerd refuses a bare `::1`. */
  export interface SocketAddress {
    hostname: string;
    port: number;
  }

  export interface SocketOptions {
    /** `"off"` (default), `"on"` (TLS from the start) or `"starttls"` (plain now, `startTls()` later). */
    secureTransport?: "off" | "on" | "starttls";
    /** `false`: EOF on the readable side also closes the writable side. */
    allowHalfOpen: boolean;
    /** High-water mark of the writable side. */
    highWaterMark?: number | bigint;
  }

  export interface SocketInfo {
    remoteAddress?: string;
    localAddress?: string;
  }

  export interface Socket {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array>;
    /** Resolves once connected (and, for TLS, once the handshake is done). */
    readonly opened: Promise<SocketInfo>;
    /** Settles when the socket closes; may never settle after a peer's EOF (workerd #5653). */
    readonly closed: Promise<void>;
    readonly upgraded: boolean;
    readonly secureTransport: "on" | "off" | "starttls";
    close(): Promise<void>;
    startTls(options?: { expectedServerHostname?: string }): Socket;
  }

  export function connect(address: string | SocketAddress, options?: SocketOptions): Socket;
}
