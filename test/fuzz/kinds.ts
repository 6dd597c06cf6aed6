/**
 * The fuzzer's menu: every kind of hostile input, with its weight. A kind
 * makes one {@link Action}: the bytes of one frame (or of one broken piece
 * of stream) for a raw connection to write.
 *
 * Most kinds are well framed: the server rejects that one message and keeps
 * the connection, unless the frame is what no honest encoder writes (a
 * declared length past the frame's end, nesting past the limit), for which
 * it hangs up. Either way the frame is marked `ends` when the server will
 * close on it, as are the kinds that break the framing itself: such a frame
 * is the last thing written on its connection, and any other close is a bug.
 */
import { helloFrame, isBomb, readEnvelope } from '../../src/transports/stream/wire.js'
import { encode, validBytes } from './envelopes.js'
import { bodyBomb, bombValue, deepNesting, envelopeBomb, hugeNesting, protoKeys, strangeTag, wrongTypes } from './hostile.js'
import * as mp from './mp.js'
import { editBytes, flipBits, spliceBomb, truncate } from './mutate.js'
import type { Rng } from './rng.js'

/** The server's maxFrameBytes (the library's default, set explicitly so the length-prefix kinds aim right). */
export const SERVER_MAX_FRAME_BYTES = 16 * 1024 * 1024

/** What a kind asks a raw connection to do. */
export interface Action {
  readonly kind: string
  /** The bytes for the wire, length prefixes included. */
  readonly bytes: Buffer
  /** The stream is no longer framed after these bytes (or the server will hang up): the last write on the connection. */
  readonly ends: boolean
  /** A new connection whose first bytes these are, in place of a hello; it is ended after them. */
  readonly fresh: boolean
}

/** A 4-byte big-endian length then `content`. */
export function frame(content: Uint8Array, length = content.length): Buffer {
  const out = Buffer.allocUnsafe(4 + content.length)
  out.writeUInt32BE(length >>> 0, 0)
  out.set(content, 4)
  return out
}

/**
 * Whether the server hangs up on this envelope rather than answering it. The
 * library's own reader says so (it refuses bombs with an error `isBomb`
 * recognises): the fuzzer checks that the server does what its reader says,
 * and that nothing else closes a connection.
 */
function serverCloses(content: Buffer): boolean {
  if (content.length === 0) return true // an empty frame is a protocol error
  // Most fuzzed frames throw, and capturing stacks was a tenth of the run's CPU; the
  // call is synchronous, so the server (same process) never runs with the limit at 0.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    readEnvelope(content)
    return false
  } catch (err) {
    return isBomb(err)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** A well-framed action. */
function framed(kind: string, content: Buffer): Action {
  return { kind, bytes: frame(content), ends: serverCloses(content), fresh: false }
}

/** A length prefix that lies: zero, over the limit, or longer or shorter than what follows. */
function lyingPrefix(rng: Rng, id: string): Buffer {
  const content = validBytes(rng, id)
  switch (rng.int(6)) {
    case 0:
      return Buffer.concat([frame(Buffer.alloc(0)), content])
    case 1:
      return frame(content, SERVER_MAX_FRAME_BYTES + 1)
    case 2:
      return frame(content, rng.range(SERVER_MAX_FRAME_BYTES + 1, 0xffffffff))
    case 3:
      return frame(content, content.length + rng.size(SERVER_MAX_FRAME_BYTES - content.length))
    case 4:
      return frame(content, rng.int(content.length))
    default:
      return frame(content).subarray(0, rng.range(1, 3)) // a length cut short
  }
}

/** A hello that is wrong, or something else where the hello belongs, then a few requests. */
function badHello(rng: Rng, id: string): Buffer {
  const valid = helloFrame(SERVER_MAX_FRAME_BYTES).subarray(4)
  const odd = <T>(values: readonly T[]): T => rng.pick(values)
  let first: Buffer
  switch (rng.int(6)) {
    case 0:
      first = frame(rng.pick([flipBits, editBytes, truncate])(rng, valid))
      break
    case 1:
      first = frame(
        mp.obj([
          ['seam', mp.str(odd(['hello', 'hello', 'ping', 'HELLO', '']))],
          ['version', odd([mp.num(2), mp.num(1), mp.num(3), mp.str('2'), mp.nil(), mp.num(2.5)])],
          ['maxFrameBytes', odd([mp.num(0), mp.num(-1), mp.num(1), mp.num(16), mp.num(Number.NaN), mp.str('x'), mp.num(2 ** 53), mp.num(Infinity)])],
          ['heartbeatMs', odd([mp.num(0), mp.num(1), mp.num(-1), mp.num(Number.NaN), mp.num(1e9), mp.str('x')])],
        ]),
      )
      break
    case 2:
      first = frame(Buffer.concat([mp.mapHead(5), valid.subarray(1), mp.str('__proto__'), mp.obj([['polluted', mp.bool(true)]])]))
      break
    case 3:
      first = frame(mp.nest(rng.range(10, 2_000), rng.chance(0.5) ? 'map' : 'array', mp.nil()))
      break
    case 4:
      first = rng.pick([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), rng.bytes(rng.range(1, 64))])
      break
    default:
      first = frame(validBytes(rng, id)) // an envelope before any hello
  }
  const requests = Array.from({ length: rng.int(4) }, (_, i) => frame(validBytes(rng, `${id}.${i}`)))
  return Buffer.concat([first, ...requests])
}

/** A hello whose version field is a declared-length bomb: the hello is read by the generic decoder too. */
function bombHello(rng: Rng): Buffer {
  return frame(Buffer.concat([mp.mapHead(4), mp.str('seam'), mp.str('hello'), mp.str('version'), bombValue(rng)]))
}

/** A random value that is valid MessagePack but no envelope. */
function randomMsgpack(rng: Rng): Buffer {
  const v = rng.chance(0.5) ? { tag: rng.bytes(3), id: [1], body: 'x' } : [rng.u32(), rng.bytes(rng.int(100)), { seam: 'ping' }]
  return encode(v)
}

/** One kind of hostile input. */
export interface Kind {
  readonly name: string
  readonly weight: number
  /** Left out unless FUZZ_ONLY names it. */
  readonly optIn?: boolean
  make(rng: Rng, id: string): Action
}

/**
 * Every kind, weighted. Names are what FUZZ_SKIP / FUZZ_ONLY take (a trailing
 * `*` matches a prefix, e.g. `bomb-*`). The weights keep the frames the
 * server hangs up on near 10%: truncation and envelope bombs nearly always
 * end the connection, and each reconnect costs the server about as much as
 * a dozen rejected frames.
 */
export const KINDS: readonly Kind[] = [
  { name: 'valid', weight: 50, make: (rng, id) => framed('valid', validBytes(rng, id)) },
  { name: 'bit-flip', weight: 230, make: (rng, id) => framed('bit-flip', flipBits(rng, validBytes(rng, id))) },
  { name: 'byte-edit', weight: 100, make: (rng, id) => framed('byte-edit', editBytes(rng, validBytes(rng, id))) },
  { name: 'truncate', weight: 15, make: (rng, id) => framed('truncate', truncate(rng, validBytes(rng, id))) },
  { name: 'bomb-envelope', weight: 12, make: (rng, id) => framed('bomb-envelope', envelopeBomb(rng, id)) },
  { name: 'bomb-body', weight: 60, make: (rng, id) => framed('bomb-body', bodyBomb(rng, id)) },
  { name: 'bomb-splice', weight: 8, make: (rng, id) => framed('bomb-splice', spliceBomb(rng, validBytes(rng, id))) },
  { name: 'deep', weight: 10, make: (rng, id) => framed('deep', deepNesting(rng, id)) },
  { name: 'proto-keys', weight: 100, make: (rng, id) => framed('proto-keys', protoKeys(rng, id)) },
  { name: 'wrong-types', weight: 130, make: (rng, id) => framed('wrong-types', wrongTypes(rng, id)) },
  { name: 'strange-tag', weight: 70, make: (rng, id) => framed('strange-tag', strangeTag(rng, id)) },
  { name: 'random-frame', weight: 60, make: (rng) => framed('random-frame', rng.chance(0.7) ? rng.bytes(rng.size(2048)) : randomMsgpack(rng)) },
  // The stream-breaking kinds: each ends its connection.
  { name: 'truncate-stream', weight: 4, make: (rng, id) => ({ kind: 'truncate-stream', bytes: frame(validBytes(rng, id)).subarray(0, -rng.range(1, 8)), ends: true, fresh: false }) },
  { name: 'length-prefix', weight: 6, make: (rng, id) => ({ kind: 'length-prefix', bytes: lyingPrefix(rng, id), ends: true, fresh: false }) },
  { name: 'random-stream', weight: 3, make: (rng) => ({ kind: 'random-stream', bytes: rng.bytes(rng.size(4096)), ends: true, fresh: false }) },
  { name: 'hello', weight: 2, make: (rng, id) => ({ kind: 'hello', bytes: badHello(rng, id), ends: true, fresh: true }) },
  { name: 'bomb-hello', weight: 0.5, make: (rng) => ({ kind: 'bomb-hello', bytes: bombHello(rng), ends: true, fresh: true }) },
  // Opt-in (FUZZ_ONLY=deep-huge): frames of 0.2 to 12 MiB of nesting. Both serdes refuse them now (a JSON body
  // that deep once blocked the server for 8 s), but eight workers each holding a 12 MiB frame in flight exceed
  // the default run's memory and request-count bounds, which are set for small frames.
  { name: 'deep-huge', weight: 1, optIn: true, make: (rng, id) => framed('deep-huge', hugeNesting(rng, id)) },
]

function matches(patterns: ReadonlySet<string>, name: string): boolean {
  for (const p of patterns) if (p === name || (p.endsWith('*') && name.startsWith(p.slice(0, -1)))) return true
  return false
}

/** Picks kinds by weight, among those FUZZ_ONLY / FUZZ_SKIP leave in. */
export class KindPicker {
  readonly kinds: readonly Kind[]
  readonly #total: number

  constructor(skip: ReadonlySet<string>, only: ReadonlySet<string> | undefined) {
    this.kinds = KINDS.filter((k) => (only === undefined ? k.optIn !== true : matches(only, k.name)) && !matches(skip, k.name))
    if (this.kinds.length === 0) throw new Error('FUZZ_ONLY / FUZZ_SKIP leave no kind to run')
    this.#total = this.kinds.reduce((s, k) => s + k.weight, 0)
  }

  /** The next action. */
  next(rng: Rng, id: string): Action {
    let r = rng.float() * this.#total
    for (const k of this.kinds) if ((r -= k.weight) < 0) return k.make(rng, id)
    return (this.kinds[this.kinds.length - 1] as Kind).make(rng, id)
  }
}
