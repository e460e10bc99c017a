import { ConnectionNotAvailable } from "../errors.js";

/**
 * A request failed on a reused connection before any response byte arrived: the server had
 * closed it while idle. The pool retries such a request once on a fresh connection.
 * @internal
 */
export class StaleConnection extends ConnectionNotAvailable {
  constructor(readonly original: unknown) {
    super("stale keep-alive connection");
  }
}
