/**
 * Valid envelopes to start from. A mutation of something valid gets much
 * deeper than random bytes: past the frame decoder, the envelope reader,
 * the tag lookup and the body decoder, into the codec and the handler.
 * Half are written by the library's own writer (the layout the fast-path
 * reader expects), half by @msgpack/msgpack (the generic path: `ct`
 * present, keys in a random order).
 */
import { Encoder } from '@msgpack/msgpack'
import type { Envelope } from '../../src/index.js'
import { EMPTY_HEADERS } from '../../src/channel/envelope.js'
import { envelopeBound, writeEnvelope } from '../../src/transports/stream/wire.js'
import { Boom, Echo, KNOWN_TAGS, Note, Orphan, STRANGE_TAGS } from './messages.js'
import type { Rng } from './rng.js'

const MSGPACK = 'application/msgpack'

// One encoder for every call: @msgpack/msgpack's encode() builds a new one each time, a cost the fuzzer pays per frame.
const encoder = new Encoder({ ignoreUndefined: true })

/** MessagePack bytes of `value` as a Buffer of its own. */
export function encode(value: unknown): Buffer {
  const bytes = encoder.encode(value) // a fresh copy, so a view of it is ours to keep
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}
const JSON_CT = 'application/json'

/** A small random value of any MessagePack type (bins only when `binary`). */
export function randomValue(rng: Rng, depth = 0, binary = true): unknown {
  const roll = rng.int(depth > 3 ? 6 : 9)
  switch (roll) {
    case 0:
      return null
    case 1:
      return rng.chance(0.5)
    case 2:
      return rng.range(-1000, 1000)
    case 3:
      return rng.pick([0.5, -1e300, 1e-300, 2 ** 53 + 2, -(2 ** 63), Number.MAX_VALUE])
    case 4:
      return rng.pick(['', 'a', 'héllo', '😀', 'x'.repeat(rng.range(0, 300)), '\u0000', 'constructor', '__proto__'])
    case 5:
      return binary ? rng.bytes(rng.range(0, 40)) : 'no-bin'
    case 6:
    case 7: {
      const out: unknown[] = []
      for (let i = rng.range(0, 4); i > 0; i--) out.push(randomValue(rng, depth + 1, binary))
      return out
    }
    default: {
      const out: Record<string, unknown> = {}
      for (let i = rng.range(0, 4); i > 0; i--) out[rng.pick(['a', 'b', 'seq', 'data', 'toString', 'valueOf', 'k' + i])] = randomValue(rng, depth + 1, binary)
      return out
    }
  }
}

/**
 * A plausible timestamp drawn from the generator, never the clock: a flipped
 * bit in a timestamp can turn it into a length, so the clock would make the
 * same seed send different frames tomorrow.
 */
export function randomTs(rng: Rng): number {
  return 1_700_000_000_000 + rng.int(1e11)
}

/** A payload for `tag`: usually the right shape, sometimes another type's (ERR_INVALID_PAYLOAD). */
function payload(rng: Rng, tag: string, binary: boolean): unknown {
  const seq = rng.range(0, 1e6)
  const shape = rng.chance(0.9) ? tag : rng.pick(KNOWN_TAGS)
  if (shape === Echo.tag) return { seq, data: randomValue(rng, 0, binary) }
  if (shape === Note.tag) return { text: rng.pick(['hi', '', 'é'.repeat(50)]), n: rng.chance(0.5) ? seq : undefined }
  if (shape === Boom.tag || shape === Orphan.tag) return { seq }
  return randomValue(rng, 0, binary)
}

/** A valid envelope: known tags mostly, requests (`replyTo`) half the time, JSON bodies a tenth. */
export function randomEnvelope(rng: Rng, id: string): Envelope {
  const tag = rng.chance(0.9) ? rng.pick(KNOWN_TAGS) : rng.pick(STRANGE_TAGS)
  const ct = rng.chance(0.1) ? JSON_CT : MSGPACK
  const body = ct === JSON_CT ? Buffer.from(JSON.stringify(payload(rng, tag, false)) ?? 'null') : encode(payload(rng, tag, true))
  const headers: Record<string, string> = {}
  if (rng.chance(0.2)) for (let i = rng.range(1, 3); i > 0; i--) headers[rng.pick(['trace', 'x-user', 'x-seam-code', 'a'])] = rng.pick(['1', '', 'ü'])
  return {
    tag,
    id,
    ts: rng.chance(0.9) ? randomTs(rng) : rng.pick([0, -1, 1.5, 2 ** 53]),
    ct,
    corr: rng.chance(0.03) ? 'c-' + id : undefined,
    replyTo: rng.chance(0.5) ? '' : undefined,
    headers: Object.keys(headers).length > 0 ? headers : EMPTY_HEADERS,
    body,
  }
}

/** The envelope as the library's own writer lays it out (no length prefix). */
export function ownBytes(env: Envelope): Buffer {
  const buf = Buffer.alloc(envelopeBound(env))
  return buf.subarray(0, writeEnvelope(buf, 0, env))
}

/** The envelope through @msgpack/msgpack, fields in a random order, `ct` present (no length prefix). */
export function genericBytes(rng: Rng, env: Envelope): Buffer {
  const fields: [string, unknown][] = Object.entries(env).filter(([, v]) => v !== undefined)
  for (let i = fields.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[fields[i], fields[j]] = [fields[j] as [string, unknown], fields[i] as [string, unknown]]
  }
  return encode(Object.fromEntries(fields))
}

/** A valid envelope's bytes, by either writer. */
export function validBytes(rng: Rng, id: string): Buffer {
  const env = randomEnvelope(rng, id)
  return rng.chance(0.5) ? ownBytes(env) : genericBytes(rng, env)
}
