/**
 * The error hierarchy, named as in Python httpcore. Every error extends {@link HTTPCoreError}.
 *
 * ```
 * HTTPCoreError
 * ├── TimeoutException → PoolTimeout, ConnectTimeout, ReadTimeout, WriteTimeout
 * ├── NetworkError     → ConnectError, ReadError, WriteError
 * ├── ProtocolError    → RemoteProtocolError, LocalProtocolError
 * ├── UnsupportedProtocol
 * ├── ProxyError
 * └── ConnectionNotAvailable
 * ```
 * @module
 */

/** Base class of every error this package throws on purpose. */
export class HTTPCoreError extends Error {
  constructor(message = "", options?: { cause?: unknown }) {
    super(message, options);
    // `new.target.name` survives minifiers that keep class names, and gives subclasses their own name.
    this.name = new.target.name;
  }
}

/** A timeout elapsed: waiting for a connection, connecting, reading or writing. */
export class TimeoutException extends HTTPCoreError {}
/** No connection became available within the `pool` timeout. */
export class PoolTimeout extends TimeoutException {}
/** Establishing the TCP connection or the TLS handshake took longer than the `connect` timeout. */
export class ConnectTimeout extends TimeoutException {}
/** No bytes arrived within the `read` timeout. */
export class ReadTimeout extends TimeoutException {}
/** A write did not complete within the `write` timeout. */
export class WriteTimeout extends TimeoutException {}

/** The network failed underneath a request. */
export class NetworkError extends HTTPCoreError {}
/** The connection could not be established (refused, unresolvable, TLS failure...). */
export class ConnectError extends NetworkError {}
/** Reading from an established connection failed. */
export class ReadError extends NetworkError {}
/** Writing to an established connection failed. */
export class WriteError extends NetworkError {}

/** The HTTP exchange broke the protocol. */
export class ProtocolError extends HTTPCoreError {}
/** The server sent something that is not valid HTTP, or would be unsafe to accept. */
export class RemoteProtocolError extends ProtocolError {}
/** The request cannot be sent as given (e.g. CR/LF in a header), detected before any byte is written. */
export class LocalProtocolError extends ProtocolError {}

/** The URL's scheme is not one this pool can speak, or an option cannot be honoured. */
export class UnsupportedProtocol extends HTTPCoreError {}
/** A proxy refused or failed to set up the connection. */
export class ProxyError extends HTTPCoreError {}
/** Internal signal: the connection cannot take this request; the pool retries on another one. */
export class ConnectionNotAvailable extends HTTPCoreError {}

/** The reason an aborted signal carries, defaulting to an `AbortError` DOMException. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}
