/**
 * Every error seam-channel raises or reports is a {@link SeamError} with a
 * stable `code`. Codes are part of the public contract: match on `code`, never
 * on the message text. Each code is documented in the README (a test checks).
 */
export const ERROR_CODES = {
  /** A second, different message type was registered under a tag that is taken. */
  ERR_DUPLICATE_TAG: false,
  /** No type (or no handler) is registered for the message's tag. */
  ERR_UNREGISTERED_TAG: false,
  /** The payload decoded but failed its io-ts codec. */
  ERR_INVALID_PAYLOAD: false,
  /** The body could not be decoded at all (bad bytes, unknown content type). */
  ERR_UNDECODABLE: false,
  /** A handler threw or rejected after every retry. */
  ERR_HANDLER_FAILED: false,
  /** The peer broke the wire protocol (bad frame, bad envelope, wrong version). */
  ERR_PROTOCOL: false,
  /** A frame exceeded `maxFrameBytes`. */
  ERR_FRAME_TOO_LARGE: false,
  /** A request got no reply within `timeoutMs`. */
  ERR_TIMEOUT: true,
  /** The channel (or server) is closed or closing. */
  ERR_CLOSED: false,
  /** The URL's scheme is unknown or a part of it is malformed. */
  ERR_BAD_URL: false,
  /** An option or argument has a wrong value. */
  ERR_BAD_ARGUMENT: false,
  /** The connection or broker failed (unreachable, dropped, refused). */
  ERR_TRANSPORT: true,
  /** The bounded outbox is full while the connection is down or slow. */
  ERR_OUTBOX_FULL: true,
  /** The receiver refused this message for this peer (authorization). */
  ERR_FORBIDDEN: false,
} as const satisfies Record<string, boolean>

/** A stable error code; see {@link ERROR_CODES}. */
export type SeamErrorCode = keyof typeof ERROR_CODES

/** Extra facts attached to an error; all optional. */
export interface SeamErrorDetails {
  /** The underlying error. */
  cause?: unknown
  /** The message tag concerned, when there is one. */
  tag?: string
  /** The envelope id concerned, when there is one. */
  id?: string
  /** Overrides the code's default retriability. */
  retriable?: boolean
}

/**
 * The one error class of seam-channel.
 *
 * `retriable` says whether trying the same operation again may succeed
 * (a timeout or a dropped connection) or not (a bad payload).
 */
export class SeamError extends Error {
  override readonly name = 'SeamError'
  readonly code: SeamErrorCode
  readonly retriable: boolean
  readonly tag: string | undefined
  readonly id: string | undefined

  constructor(code: SeamErrorCode, message: string, details: SeamErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.retriable = details.retriable ?? ERROR_CODES[code]
    this.tag = details.tag
    this.id = details.id
  }
}

/** Narrows `err` to a {@link SeamError}, optionally of one code. */
export function isSeamError(err: unknown, code?: SeamErrorCode): err is SeamError {
  return err instanceof SeamError && (code === undefined || err.code === code)
}

/** True when `code` is one of the stable codes (used for codes read off the wire). */
export function isErrorCode(code: unknown): code is SeamErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
}

/** Wraps anything thrown into a SeamError of `code`, keeping SeamErrors as they are. */
export function toSeamError(err: unknown, code: SeamErrorCode, message: string): SeamError {
  if (err instanceof SeamError) return err
  const why = err instanceof Error ? err.message : String(err)
  return new SeamError(code, `${message}: ${why}`, { cause: err })
}
