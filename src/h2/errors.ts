/**
 * HTTP/2 error codes (RFC 9113 §7) and the error the sans-IO HTTP/2 code throws for what a peer
 * sent wrong.
 * @module
 */
import { RemoteProtocolError } from "../errors.js";

/** HTTP/2 error codes, as sent in RST_STREAM and GOAWAY frames (RFC 9113 §7). */
export const H2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** The name of one of the {@link H2ErrorCode}s. */
export type H2ErrorCodeName = keyof typeof H2ErrorCode;

const NAMES: string[] = [];
for (const [name, code] of Object.entries(H2ErrorCode)) NAMES[code] = name;

/**
 * The name of an HTTP/2 error code, e.g. `PROTOCOL_ERROR`; codes this version does not know
 * (RFC 9113 §7: "MUST NOT trigger any special behavior") read `UNKNOWN_ERROR_0x2a`.
 */
export function h2ErrorName(code: number): string {
  return NAMES[code] ?? `UNKNOWN_ERROR_0x${code.toString(16)}`;
}

/**
 * Something the peer sent breaks HTTP/2 or HPACK. `streamId` 0 is a connection error (RFC 9113
 * §5.4.1: answer with GOAWAY and close); otherwise a stream error (§5.4.2: RST_STREAM that stream
 * only). `code` is the error code to send.
 */
export class H2Error extends RemoteProtocolError {
  /** The {@link H2ErrorCode} to send back. */
  readonly code: number;
  /** 0 for a connection error, else the stream the error is confined to. */
  readonly streamId: number;

  constructor(code: number, message: string, streamId = 0) {
    super(
      streamId === 0
        ? `HTTP/2 connection error ${h2ErrorName(code)}: ${message}`
        : `HTTP/2 stream ${streamId} error ${h2ErrorName(code)}: ${message}`,
    );
    this.code = code;
    this.streamId = streamId;
  }
}
