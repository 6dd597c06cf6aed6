import * as t from 'io-ts'
import { defineMessage, msgpack } from '../src/index.js'
import { EMPTY_HEADERS, type Envelope } from '../src/channel/envelope.js'
import { newId } from '../src/channel/id.js'
import { envelopeBound, writeEnvelope } from '../src/transports/stream/wire.js'

/** The benchmark payload: about 100 bytes as MessagePack. */
export const ItemCodec = t.type({ id: t.number, name: t.string, tags: t.array(t.string), at: t.number })
export type Item = t.TypeOf<typeof ItemCodec>

/** One-way messages, counted by the receiver. */
export const ItemMsg = defineMessage('bench.Item', ItemCodec)
/** A request the receiver answers with {@link EchoReply}. */
export const Echo = defineMessage('bench.Echo', ItemCodec)
export const EchoReply = defineMessage('bench.EchoReply', ItemCodec)

const TAGS = ['alpha', 'beta', 'gamma', 'delta']
const AT = 1_795_000_000_000

/** A fresh payload per message, as an application would build it; both sides of every comparison use it. */
export function item(i: number): Item {
  return { id: i, name: `customer-${i % 100_000}-order-lines-awaiting-review`, tags: TAGS, at: AT + i }
}

/** The envelope a channel would build for `item(i)`. */
export function itemEnvelope(i: number, id: string = newId()): Envelope {
  return { tag: ItemMsg.tag, id, ts: Date.now(), ct: msgpack.contentType, headers: EMPTY_HEADERS, body: msgpack.encode(ItemCodec.encode(item(i))) }
}

/**
 * The bytes our envelope adds to a frame of this payload: the tag, id and
 * timestamp with their keys, and the body's key and bin header (`ct` is left
 * out for msgpack).
 * The baseline padded by this much (receiver.bench.ts) tells what the
 * envelope costs in bytes alone.
 */
export const ENVELOPE_PAD = envelopeBytes()

function envelopeBytes(): number {
  // As long as our ids are during a run: a 12-character prefix and a 5-digit base-36 counter.
  const env = itemEnvelope(1, 'i'.repeat(17))
  return writeEnvelope(Buffer.alloc(envelopeBound(env)), 0, env) - env.body.length
}
