/**
 * The runtime's default network backend. A runtime entry point (chosen by the package's export
 * conditions) registers it, so the core never imports a runtime module itself.
 * @module
 */
import type { AsyncNetworkBackend } from "./base.js";

let factory: (() => AsyncNetworkBackend) | null = null;

/** Registers the backend new pools use when `networkBackend` is not given. */
export function setDefaultNetworkBackend(make: () => AsyncNetworkBackend): void {
  factory = make;
}

/** A new instance of the default backend; throws when the runtime has none. */
export function defaultNetworkBackend(): AsyncNetworkBackend {
  if (factory === null) {
    throw new TypeError(
      "No default network backend for this runtime: pass networkBackend (e.g. from httpcore2/node, httpcore2/cloudflare or httpcore2/mock).",
    );
  }
  return factory();
}
