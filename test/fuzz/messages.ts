/**
 * The message types the fuzzed server serves. Each exists to make
 * well-formed-but-mutated envelopes reach a different part of dispatch:
 * a handler that replies (reply encoding, with whatever `data` survived the
 * codec), one that only reads, one that always throws (retries and the
 * `failed` policy), and a type registered without a handler.
 */
import * as t from 'io-ts'
import { defineMessage, Registry, type SeamError } from '../../src/index.js'

/** A request: the handler replies with an {@link Echoed} of the same `seq` and `data`. */
export const Echo = defineMessage('fuzz.Echo', t.type({ seq: t.number, data: t.unknown }))
/** The reply to {@link Echo}. */
export const Echoed = defineMessage('fuzz.Echoed', t.type({ seq: t.number, data: t.unknown }))
/** Fire and forget: counted, never answered. */
export const Note = defineMessage('fuzz.Note', t.type({ text: t.string, n: t.union([t.number, t.undefined]) }))
/** Its handler always throws. */
export const Boom = defineMessage('fuzz.Boom', t.type({ seq: t.number }))
/** Registered with no handler. */
export const Orphan = defineMessage('fuzz.Orphan', t.type({ seq: t.number }))

/** Tags the server knows, and a few it does not (reserved and unregistered ones). */
export const KNOWN_TAGS = [Echo.tag, Note.tag, Boom.tag, Orphan.tag, Echoed.tag] as const
export const STRANGE_TAGS = ['fuzz.Unknown', '$seam/error', '$seam/undecodable', '$seam/', 'x', 'fuzz.Echo ', 'FUZZ.ECHO'] as const

/** What the server's handlers saw: evidence that fuzzed frames really reached them. */
export interface HandlerCounts {
  echo: number
  note: number
  boom: number
}

/** The server's registry. Retries are kept short so a throwing handler does not hold messages for seconds. */
export function serverRegistry(onError: (err: SeamError) => void, counts: HandlerCounts): Registry {
  const registry = new Registry({ onError, retries: 1, backoffMs: 1, maxBackoffMs: 1 })
  registry.register(Echoed, Orphan)
  registry.on(Echo, async (m, ctx) => {
    counts.echo++
    await ctx.reply(Echoed, { seq: m.seq, data: m.data })
  })
  registry.on(Note, () => {
    counts.note++
  })
  registry.on(Boom, (m) => {
    counts.boom++
    throw new Error(`boom ${m.seq}`)
  })
  return registry
}
