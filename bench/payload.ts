import * as t from 'io-ts'
import { defineMessage } from '../src/index.js'

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
