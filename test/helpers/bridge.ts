/**
 * What the bridge tests share: message types, envelopes built by hand (so a
 * test knows every field it expects to see again on the far side), and a far
 * side that records what its handlers received.
 */
import * as t from 'io-ts'
import { Registry, defineMessage, msgpack, type Envelope, type HandlerContext, type SeamError } from '../../src/index.js'

export const Order = defineMessage('bridge.Order', t.type({ sku: t.string, qty: t.number }))
export const Note = defineMessage('bridge.Note', t.type({ text: t.string }))
export const Seq = defineMessage('bridge.Seq', t.type({ seq: t.number }))

let n = 0

/** An envelope of `tag` whose body is `value` as msgpack, with every field set to something a test can recognise. */
export function envelopeOf(tag: string, value: unknown, extra: Partial<Envelope> = {}): Envelope {
  n++
  return {
    tag,
    id: `bridge-test-${process.pid}-${n}-${Math.random().toString(36).slice(2)}`,
    ts: 1_700_000_000_000 + n,
    ct: msgpack.contentType,
    corr: undefined,
    replyTo: undefined,
    key: undefined,
    headers: { origin: 'bridge-test', n: String(n) },
    body: msgpack.encode(value),
    ...extra,
  }
}

/** One message as a far-side handler saw it. */
export interface Received {
  readonly tag: string
  readonly value: unknown
  readonly envelope: Envelope
}

/** A registry whose handlers record every Order, Note and Seq they receive, and the errors it reports. */
export function farSide(): { registry: Registry; received: Received[]; errors: SeamError[] } {
  const received: Received[] = []
  const errors: SeamError[] = []
  const registry = new Registry({ onError: (err) => void errors.push(err) })
  const record = (value: unknown, ctx: HandlerContext): void => void received.push({ tag: ctx.tag, value, envelope: ctx.envelope })
  registry.on(Order, record).on(Note, record).on(Seq, record)
  return { registry, received, errors }
}

/** The fields a bridge must leave untouched, as a plain object to compare with toEqual. */
export function untouched(env: Envelope): Record<string, unknown> {
  return { tag: env.tag, id: env.id, ts: env.ts, ct: env.ct, key: env.key, headers: { ...env.headers }, body: Buffer.from(env.body).toString('hex') }
}
