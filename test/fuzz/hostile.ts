/**
 * Hostile envelopes built field by field: what a careless or malicious peer
 * sends on purpose rather than by a flipped bit. Each function returns the
 * bytes of one frame (no length prefix); every one is well framed, so the
 * server should reject the message and keep the connection.
 */
import { encode, randomTs } from './envelopes.js'
import { Echo, KNOWN_TAGS, Note } from './messages.js'
import * as mp from './mp.js'
import type { Rng } from './rng.js'

type Entry = readonly [string, Buffer]

/** The fields of a plausible request, as encoded entries the generators below replace or add to. */
function requestEntries(rng: Rng, id: string, body: Buffer = mp.bin(encode({ seq: rng.range(0, 999), data: null }))): Entry[] {
  const out: Entry[] = [
    ['tag', mp.str(rng.chance(0.8) ? Echo.tag : rng.pick(KNOWN_TAGS))],
    ['id', mp.str(id)],
    ['ts', mp.num(randomTs(rng))],
    ['replyTo', mp.str('')],
    ['body', body],
  ]
  if (rng.chance(0.5)) out.push(['ct', mp.str('application/msgpack')])
  return out
}

/** `entries` with `name` set to `value` (kept in place if present, else put at a random position). */
function withField(rng: Rng, entries: Entry[], name: string, value: Buffer): Entry[] {
  const at = entries.findIndex(([k]) => k === name)
  if (at >= 0) return entries.map((e, i) => (i === at ? ([name, value] as const) : e))
  const out = [...entries]
  out.splice(rng.int(out.length + 1), 0, [name, value])
  return out
}

/** A declared length: mostly the sizes that once cost an allocation, sometimes anything. */
export function bombLength(rng: Rng): number {
  return rng.pick([0xffffffff, 0x80000000, 0x7fffffff, 2 ** 25 - 1, 2 ** 25, 2 ** 24, 2 ** 24 + rng.int(2 ** 24), 2 ** 22, 2 ** 20, 65_537, 1000, rng.u32()])
}

/** A bomb header of a random kind, sometimes wrapped in a few levels of containers, with a few stray bytes behind it. */
export function bombValue(rng: Rng): Buffer {
  const head = mp.bombHead(rng.pick(['array', 'map', 'str', 'bin', 'ext'] as const), bombLength(rng))
  const levels = rng.chance(0.5) ? 0 : rng.range(1, 8)
  const wrapped = levels === 0 ? head : mp.nest(levels, rng.chance(0.5) ? 'array' : 'map', head)
  return Buffer.concat([wrapped, rng.bytes(rng.int(8))])
}

/** Declared-length bombs in the envelope itself: the top-level map, a field, a header. */
export function envelopeBomb(rng: Rng, id: string): Buffer {
  const where = rng.int(4)
  if (where === 0) return Buffer.concat([mp.bombHead(rng.pick(['map', 'array'] as const), bombLength(rng)), mp.str('tag'), rng.bytes(rng.int(16))])
  const entries = requestEntries(rng, id)
  if (where === 1) {
    // A header map that declares more entries than follow.
    return mp.map(withField(rng, entries, 'headers', Buffer.concat([mp.bombHead('map', bombLength(rng)), mp.str('a')])).map(([k, v]) => [mp.str(k), v]))
  }
  const field = rng.pick(['tag', 'id', 'ct', 'corr', 'replyTo', 'headers', 'body', 'ts', 'extra'])
  const bomb = bombValue(rng)
  // The bomb last, so everything after its header is the frame's end: the reader runs out of bytes inside it.
  return Buffer.concat([mp.mapHead(entries.length + 1), ...entries.filter(([k]) => k !== field).flatMap(([k, v]) => [mp.str(k), v]), mp.str(field), bomb])
}

/** A valid envelope whose body holds the bomb: only the registry's body decoder sees it. */
export function bodyBomb(rng: Rng, id: string): Buffer {
  const bomb = bombValue(rng)
  const body =
    rng.chance(0.3)
      ? bomb
      : Buffer.concat([mp.mapHead(2), mp.str('seq'), mp.num(rng.range(0, 999)), mp.str('data'), rng.chance(0.5) ? bomb : mp.arr([mp.num(1), mp.nil(), bomb])])
  return mp.obj(requestEntries(rng, id, mp.bin(body)))
}

/**
 * Thousands of nested arrays or maps: in the body (msgpack or JSON), in a
 * header, in an extra field, or as the whole envelope. `depth` defaults to
 * what a run can afford by the thousand (readers take ~1-3 µs a level).
 */
export function deepNesting(rng: Rng, id: string, depth = rng.chance(0.9) ? rng.range(100, 3_000) : rng.range(3_000, 20_000)): Buffer {
  const container = rng.chance(0.5) ? 'array' : 'map'
  switch (rng.int(5)) {
    case 0: {
      const data = mp.nest(depth, container, mp.num(1))
      return mp.obj(requestEntries(rng, id, mp.bin(Buffer.concat([mp.mapHead(2), mp.str('seq'), mp.num(1), mp.str('data'), data]))))
    }
    case 1: {
      const json = container === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
      const entries = withField(rng, requestEntries(rng, id, mp.bin(Buffer.from(`{"seq":1,"data":${json}}`))), 'ct', mp.str('application/json'))
      return mp.obj(entries)
    }
    case 2:
      return mp.obj(withField(rng, requestEntries(rng, id), 'headers', mp.obj([['h', mp.nest(depth, container)]])))
    case 3:
      return mp.obj(withField(rng, requestEntries(rng, id), rng.pick(['extra', 'tag', 'body']), mp.nest(depth, container)))
    default:
      return mp.nest(depth, container)
  }
}

/** Nesting as deep as a large frame allows: 0.2 to 2 million levels (at most 6 bytes a level: under the 16 MiB frame limit). */
export function hugeNesting(rng: Rng, id: string): Buffer {
  return deepNesting(rng, id, rng.range(200_000, 2_000_000))
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const

/** A value that pollutes Object.prototype if anything merges it carelessly. */
function polluter(rng: Rng): Buffer {
  const inner = mp.obj([['polluted', mp.bool(true)], ['toString', mp.str('owned')], ['hasOwnProperty', mp.num(1)]])
  return rng.chance(0.5) ? inner : mp.obj([['prototype', inner], ['__proto__', inner], ['constructor', mp.obj([['prototype', inner]])]])
}

/** `__proto__`, `constructor` and `prototype` keys in the envelope, its headers and its body (msgpack and JSON). */
export function protoKeys(rng: Rng, id: string): Buffer {
  const key = rng.pick(PROTO_KEYS)
  const entries = requestEntries(rng, id)
  switch (rng.int(5)) {
    case 0:
      return mp.obj(withField(rng, entries, key, rng.chance(0.5) ? polluter(rng) : mp.str('x')))
    case 1: {
      const headers = mp.obj([[key, rng.chance(0.7) ? mp.str('x') : polluter(rng)], ['toString', mp.str('y')]])
      return mp.obj(withField(rng, entries, 'headers', headers))
    }
    case 2: {
      const data = mp.obj([[key, polluter(rng)], ['a', mp.num(1)]])
      const body = mp.obj([['seq', mp.num(1)], ['data', data], ...(rng.chance(0.3) ? ([[key, polluter(rng)]] as const) : [])])
      return mp.obj(withField(rng, entries, 'body', mp.bin(body)))
    }
    case 3: {
      const json = `{"seq":1,"data":{"${key}":{"polluted":true,"prototype":{"polluted":true}}},"__proto__":{"polluted":true}}`
      return mp.obj(withField(rng, withField(rng, entries, 'body', mp.bin(Buffer.from(json))), 'ct', mp.str('application/json')))
    }
    default:
      // Duplicated fields: whichever wins, the other must not leak anywhere.
      return mp.obj([...entries, [rng.pick(['tag', 'headers', 'body', 'id']), rng.chance(0.5) ? polluter(rng) : mp.str(Note.tag)]])
  }
}

/** Values of every MessagePack type, to put where another type belongs. */
function anyTyped(rng: Rng): Buffer {
  const date = Buffer.from([0xd6, 0xff, 0, 0, 0, 1]) // timestamp ext: decodes to a Date
  return rng.pick([
    mp.nil(), mp.bool(true), mp.bool(false), mp.num(0), mp.num(-1), mp.num(1.5), mp.num(Number.NaN), mp.num(Infinity), mp.num(2 ** 40),
    mp.str(''), mp.str('x'), mp.str('é'), mp.bin(Buffer.alloc(0)), mp.bin(Buffer.from('tag')), mp.arr([]), mp.arr([mp.str('a'), mp.str('b')]),
    mp.obj([]), mp.obj([['a', mp.num(1)]]), mp.map([[mp.num(1), mp.str('int key')]]), Buffer.from([0xd4, 0x01, 0x00]), date,
  ])
}

/** A field with a value of the wrong type, a field missing, an unknown one, or no map at all. */
export function wrongTypes(rng: Rng, id: string): Buffer {
  const entries = requestEntries(rng, id)
  switch (rng.int(6)) {
    case 0:
    case 1:
    case 2:
      return mp.obj(withField(rng, entries, rng.pick(['tag', 'id', 'ts', 'ct', 'corr', 'replyTo', 'headers', 'body']), anyTyped(rng)))
    case 3: {
      const headerValue = rng.chance(0.5) ? anyTyped(rng) : mp.str('ok')
      const headers = rng.chance(0.3)
        ? mp.map([[anyTyped(rng), mp.str('v')]])
        : mp.obj(Array.from({ length: rng.pick([1, 2, 20, 300]) }, (_, i) => [`h${i}`, i === 0 ? headerValue : mp.str('v')] as const))
      return mp.obj(withField(rng, entries, 'headers', headers))
    }
    case 4: {
      const drop = rng.pick(['tag', 'id', 'body', 'ts', 'replyTo'])
      const kept = entries.filter(([k]) => k !== drop)
      return mp.obj(rng.chance(0.5) ? kept : [...kept, [rng.pick(['extra', 'seam', 'version', 'TAG', '']), anyTyped(rng)]])
    }
    default:
      return rng.chance(0.5) ? anyTyped(rng) : mp.obj([['seam', mp.str(rng.pick(['hello', 'ping', 'pong']))], ['version', mp.num(2)]])
  }
}

/** Tags of 255 bytes and more, multi-byte and invalid UTF-8, and empty ones. */
export function strangeTag(rng: Rng, id: string): Buffer {
  const tag: string | Buffer = rng.pick<string | Buffer>([
    'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(rng.range(258, 1000)), 'x'.repeat(rng.pick([65_535, 65_536, 100_000])),
    'é'.repeat(127) + 'x', 'é'.repeat(128), '😀'.repeat(64), '😀'.repeat(63) + 'abc', 'fuzz.Echo\u0000', '',
    Buffer.from([0xff]), Buffer.from([0xc0, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('fuzz.Ech\xc3', 'latin1'), rng.bytes(rng.range(1, 300)),
  ])
  return mp.obj(withField(rng, requestEntries(rng, id), 'tag', mp.str(tag)))
}
