import { MSGPACK } from '../serde/msgpack.js'
import { SeamError } from './errors.js'

/**
 * What travels between channels: routing facts plus the serialized payload.
 * A transport moves envelopes and never looks inside `body`.
 */
export interface Envelope {
  /** The message type's stable tag. */
  readonly tag: string
  /** Unique id of this envelope. */
  readonly id: string
  /** Milliseconds since the epoch when it was built. */
  readonly ts: number
  /** Content type of `body`, e.g. `application/msgpack`. */
  readonly ct: string
  /** For a reply: the id of the request it answers. */
  readonly corr?: string | undefined
  /**
   * Set on requests only: where the reply should go (a queue or topic), or
   * `''` for "back over the connection it came on" (TCP, TLS).
   */
  readonly replyTo?: string | undefined
  /**
   * The ordering key it was sent with (`send(T, v, { key })`): messages of
   * one key are handled one at a time, in order. Carried where the transport
   * can (TCP/TLS frames, a Kafka record key, an SQS message group).
   */
  readonly key?: string | undefined
  /** Free string headers; `x-seam-*` are reserved. */
  readonly headers: Readonly<Record<string, string>>
  /** The serde's output for the codec's encoded value. */
  readonly body: Uint8Array
}

/**
 * The default serde's content type. A TCP/TLS frame leaves `ct` out when it
 * is this one: 23 of the envelope's ~80 bytes, on every message of most links.
 */
export const DEFAULT_CONTENT_TYPE = MSGPACK

/** Longest tag, in UTF-8 bytes. */
export const MAX_TAG_BYTES = 255

/** Tags starting with this are the protocol's own (error replies). */
export const RESERVED_TAG_PREFIX = '$seam/'

/** The tag of an error reply; its headers carry `x-seam-code` and `x-seam-message`. */
export const ERROR_TAG = `${RESERVED_TAG_PREFIX}error`

/** Header names starting with this are the library's; `send` refuses them. */
export const RESERVED_HEADER_PREFIX = 'x-seam-'

/** Header names the library writes. */
export const HEADER = {
  code: 'x-seam-code',
  message: 'x-seam-message',
  reason: 'x-seam-reason',
  failedTag: 'x-seam-tag',
} as const

export const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({})
export const EMPTY_BODY = new Uint8Array(0)

/** Why `tag` is not a valid tag, or undefined when it is. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag.length === 0) return 'a tag must be a non-empty string'
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short tags need no byte count.
  if (tag.length * 3 > MAX_TAG_BYTES) {
    const bytes = Buffer.byteLength(tag)
    if (bytes > MAX_TAG_BYTES) return `a tag is at most ${MAX_TAG_BYTES} UTF-8 bytes; this one is ${bytes}`
  }
  return undefined
}

/** The first field of a decoded wire map that is wrong, or undefined when every field is right. */
function envelopeProblem(o: Record<string, unknown>, impliedCt: string | undefined): string | undefined {
  const problem = tagProblem(o.tag)
  if (problem !== undefined) return o.tag === undefined ? '"tag" is missing' : problem
  if (typeof o.id !== 'string' || o.id.length === 0) return '"id" must be a non-empty string'
  if (o.ct === undefined ? impliedCt === undefined : typeof o.ct !== 'string' || o.ct.length === 0) return '"ct" must be a non-empty string'
  if (!(o.body instanceof Uint8Array)) return '"body" must be binary'
  if (o.ts !== undefined && typeof o.ts !== 'number') return '"ts" must be a number'
  if (o.headers !== undefined && o.headers !== null) {
    if (typeof o.headers !== 'object' || Array.isArray(o.headers)) return '"headers" must be a map'
    for (const v of Object.values(o.headers)) if (typeof v !== 'string') return 'header values must be strings'
  }
  for (const field of ['corr', 'replyTo', 'key'] as const) {
    const v = o[field]
    if (v !== undefined && v !== null && typeof v !== 'string') return `"${field}" must be a string`
  }
  return undefined
}

/**
 * Checks a decoded wire object and returns it as an Envelope; a missing `ct`
 * means `impliedCt` where the wire format has one (TCP/TLS frames:
 * {@link DEFAULT_CONTENT_TYPE}). Throws ERR_PROTOCOL naming the first field that is wrong.
 */
export function toEnvelope(raw: unknown, impliedCt?: string): Envelope {
  const o = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : undefined) as Record<string, unknown> | undefined
  const problem = o === undefined ? 'not a map' : envelopeProblem(o, impliedCt)
  if (problem !== undefined || o === undefined) {
    // Keep a readable id so the receiver can still address its error reply and a waiting request fails at once.
    const id = typeof o?.id === 'string' && o.id.length > 0 ? o.id : undefined
    throw new SeamError('ERR_PROTOCOL', `malformed envelope: ${problem}`, { id })
  }
  return {
    tag: o.tag as string,
    id: o.id as string,
    ts: (o.ts ?? 0) as number,
    ct: (o.ct ?? impliedCt) as string,
    corr: (o.corr ?? undefined) as string | undefined,
    replyTo: (o.replyTo ?? undefined) as string | undefined,
    key: (o.key ?? undefined) as string | undefined,
    headers: (o.headers ?? EMPTY_HEADERS) as Record<string, string>,
    body: o.body as Uint8Array,
  }
}
