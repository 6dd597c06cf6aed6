import type * as t from 'io-ts'
import { RESERVED_TAG_PREFIX, tagProblem } from '../channel/envelope.js'
import { SeamError } from '../channel/errors.js'

/**
 * A message type: a stable string tag and the io-ts codec of its values.
 * The tag, not a class or a runtime type id, is what identifies the type on
 * the wire, so it must never change once messages are in flight.
 */
export interface MessageType<Tag extends string = string, A = unknown, O = A> {
  readonly tag: Tag
  readonly codec: t.Type<A, O, unknown>
}

/** The value type of a message type: `TypeOf<typeof Ping>` is `{ seq: number }`. */
export type TypeOf<M> = M extends MessageType<string, infer A, infer _O> ? A : never

/** Any message type; for collections of types whose values are not known statically. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: accepts every MessageType
export type AnyMessageType = MessageType<string, any, any>

/**
 * Defines a message type under `tag` (non-empty, at most 255 UTF-8 bytes;
 * tags starting with `$seam/` are reserved).
 *
 * @throws SeamError `ERR_BAD_ARGUMENT` when the tag or codec is not valid.
 */
export function defineMessage<Tag extends string, A, O>(
  tag: Tag,
  codec: t.Type<A, O, unknown>,
): MessageType<Tag, A, O> {
  const problem = tagProblem(tag)
  if (problem !== undefined) throw new SeamError('ERR_BAD_ARGUMENT', `defineMessage: ${problem} (got ${JSON.stringify(tag)})`)
  if (tag.startsWith(RESERVED_TAG_PREFIX)) {
    throw new SeamError('ERR_BAD_ARGUMENT', `defineMessage: tags starting with "${RESERVED_TAG_PREFIX}" are reserved (got "${tag}")`)
  }
  if (typeof codec?.decode !== 'function' || typeof codec.encode !== 'function') {
    throw new SeamError('ERR_BAD_ARGUMENT', `defineMessage("${tag}"): "codec" must be an io-ts type`)
  }
  return Object.freeze({ tag, codec })
}
