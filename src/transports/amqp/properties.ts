/**
 * Envelope ↔ AMQP message, as in DESIGN.md: `type` = tag, `messageId` = id,
 * `correlationId`, `replyTo`, `contentType`, `timestamp`, headers as AMQP
 * headers, body = the message body. A plain AMQP client reads the tag and the
 * content type from the broker's own properties, and a message it publishes
 * with a `type` is dispatched by that tag.
 */
import { DEFAULT_CONTENT_TYPE, EMPTY_HEADERS, tagProblem, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { newId } from '../../channel/id.js'
import type { Message, PublishOptions } from './client.js'

/** The ordering key travels as this header: AMQP has no field for it. */
export const KEY_HEADER = 'x-seam-key'

/** The properties to publish `env` with. */
export function toProperties(env: Envelope, persistent: boolean, mandatory: boolean): PublishOptions {
  return {
    type: env.tag,
    messageId: env.id,
    correlationId: env.corr,
    replyTo: env.replyTo,
    contentType: env.ct,
    // AMQP's timestamp is in whole seconds.
    timestamp: Math.floor(env.ts / 1000),
    // No headers table at all when there is nothing in it: an empty one still costs encoding and decoding on every message.
    headers: env.key !== undefined ? { ...env.headers, [KEY_HEADER]: env.key } : isEmpty(env.headers) ? undefined : env.headers,
    persistent,
    mandatory,
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false
  return true
}

/** A header value as a string: AMQP headers may hold numbers, booleans, bytes or tables (e.g. RabbitMQ's `x-death`). */
function headerText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (typeof value === 'object' && value !== null) return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('utf8') : v))
  return String(value)
}

/**
 * Reads a delivered message as an envelope.
 * @throws SeamError `ERR_PROTOCOL` when it has no valid `type` (the tag): nothing can dispatch it.
 */
export function fromMessage(msg: Message): { envelope: Envelope; key: string | undefined } {
  const p = msg.properties
  const problem = tagProblem(p.type)
  if (problem !== undefined) {
    const id = typeof p.messageId === 'string' && p.messageId !== '' ? p.messageId : undefined
    throw new SeamError('ERR_PROTOCOL', `an AMQP message from exchange "${msg.fields.exchange}" with routing key "${msg.fields.routingKey}" has ${p.type === undefined ? 'no "type" property, which must hold the message tag' : `a bad "type" property: ${problem}`}`, { id })
  }
  let headers: Record<string, string> = EMPTY_HEADERS as Record<string, string>
  let key: string | undefined
  if (p.headers !== undefined && p.headers !== null && !isEmpty(p.headers)) {
    headers = {}
    for (const [name, value] of Object.entries(p.headers)) {
      if (value === undefined || value === null) continue
      if (name === KEY_HEADER) key = headerText(value)
      else headers[name] = headerText(value)
    }
  }
  const envelope: Envelope = {
    tag: p.type as string,
    // A plain client may leave messageId out; the envelope needs one for replies and reports.
    id: typeof p.messageId === 'string' && p.messageId !== '' ? p.messageId : newId(),
    ts: typeof p.timestamp === 'number' ? p.timestamp * 1000 : 0,
    ct: typeof p.contentType === 'string' && p.contentType !== '' ? p.contentType : DEFAULT_CONTENT_TYPE,
    corr: typeof p.correlationId === 'string' && p.correlationId !== '' ? p.correlationId : undefined,
    replyTo: typeof p.replyTo === 'string' && p.replyTo !== '' ? p.replyTo : undefined,
    key,
    headers,
    body: msg.content,
  }
  return { envelope, key }
}
