/**
 * The sans-IO HTTP/1.1 client codec: {@link ResponseParser} turns received bytes into events,
 * the writer functions turn a request into bytes. No I/O, timers or runtime modules.
 * @module
 */

export {
  encodeChunk,
  encodeRequestHead,
  LAST_CHUNK,
  latin1Encode,
  validateHeader,
  validateMethod,
  validateTarget,
} from "./request-writer.js";
export {
  DEFAULT_MAX_HEADER_SIZE,
  ResponseParser,
  type ResponseParserState,
} from "./response-parser.js";
export type { HeaderList, ResponseEvent, ResponseHead, ResponseParserOptions } from "./types.js";
