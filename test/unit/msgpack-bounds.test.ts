import { encode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { BoundedDecoder, HOOKS_HOLD } from '../../src/serde/bounded-decoder.js'
import { MsgpackBoundsError, msgpackProblem } from '../../src/serde/msgpack-bounds.js'
import { MAX_NESTING } from '../../src/serde/nesting.js'
import { msgpack } from '../../src/index.js'
import { MiB, heldBytes } from '../helpers.js'
import { BOMBS, u16 } from '../helpers/bombs.js'

const SAMPLES: unknown[] = [
  0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31) - 1, 1.5, -0.25, 1e300,
  null, true, false, '', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(70_000), 'héllo ✓',
  new Uint8Array(0), new Uint8Array(300), new Uint8Array(70_000), [], [1, [2, [3, []]]], Array.from({ length: 20 }, (_, i) => i),
  Array.from({ length: 70_000 }, () => 0), {}, { a: 1, b: { c: [1, 'x', null] } }, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  new Date(0), new Date(8_000_000_000_000), { id: 42, name: 'item', tags: ['a', 'b'], at: 1_700_000_000_000 },
]

describe('msgpackProblem: a bounds check that allocates nothing', () => {
  it('passes every well-formed value, of every type and width', () => {
    for (const value of SAMPLES) expect(msgpackProblem(encode(value)), JSON.stringify(value)?.slice(0, 40)).toBeUndefined()
  })

  it('refuses each declared-length bomb as a bomb, naming what was declared', () => {
    for (const [kind, bytes] of Object.entries(BOMBS)) {
      const problem = msgpackProblem(Uint8Array.from(bytes))
      expect(problem, kind).toBeInstanceOf(MsgpackBoundsError)
      expect(problem?.bomb, kind).toBe(true)
      expect(problem?.message, kind).toMatch(/declares \d+ (elements|entries|bytes) at byte \d+, but only \d+ bytes are left/)
    }
  })

  it('finds a bomb nested inside a valid value', () => {
    // { body: [1, 2, <array32 of 2^25-1>] }
    const nested = Uint8Array.from([0x81, 0xa4, ...Buffer.from('body'), 0x93, 0x01, 0x02, ...(BOMBS.array32 as number[])])
    expect(msgpackProblem(nested)?.bomb).toBe(true)
    // Arrays whose counts each fit what is left, nested: each needs its own bytes.
    const chain = Uint8Array.from([0xdd, 0, 0, 0, 40, 0xdd, 0, 0, 0, 30, 0xdd, 0, 0, 0, 20, 0x01])
    expect(msgpackProblem(chain)).toBeInstanceOf(MsgpackBoundsError)
  })

  it(`refuses nesting deeper than ${MAX_NESTING} levels as a bomb, and takes ${MAX_NESTING}`, () => {
    const deep = (levels: number): Uint8Array => Uint8Array.from([...Array<number>(levels).fill(0x91), 0x01])
    expect(msgpackProblem(deep(MAX_NESTING))).toBeUndefined()
    expect(msgpackProblem(deep(MAX_NESTING + 1))?.bomb).toBe(true)
    expect(msgpackProblem(deep(100_000))?.message).toMatch(/deeper than 512/)
  })

  it('refuses every truncation of a valid value, and bytes after it, without throwing', () => {
    const whole = encode({ id: 42, name: 'item', tags: ['a', 'b'], at: 1.5, bin: new Uint8Array(3), when: new Date(0) })
    for (let n = 0; n < whole.length; n++) expect(msgpackProblem(whole.subarray(0, n)), `first ${n} bytes`).toBeInstanceOf(MsgpackBoundsError)
    expect(msgpackProblem(Uint8Array.from([...whole, 0x00]))?.message).toMatch(/1 bytes follow/)
    expect(msgpackProblem(Uint8Array.from([0x92, 0xc1, 0x01]))?.bomb).toBe(false)
  })

  it('checks a range of a larger buffer', () => {
    const inner = encode([1, 2, 3])
    const buf = Uint8Array.from([0xff, ...inner, 0xff])
    expect(msgpackProblem(buf, 1, 1 + inner.length)).toBeUndefined()
    expect(msgpackProblem(buf, 1, inner.length)).toBeInstanceOf(MsgpackBoundsError)
  })
})

describe('BoundedDecoder and the msgpack serde', () => {
  it('hooks into the installed @msgpack/msgpack (else every decode walks the bytes first, ~100 ns more)', () => {
    expect(HOOKS_HOLD).toBe(true)
  })

  it('decodes strings exactly as @msgpack/msgpack does: ASCII or not, short or long, keys or values, whole or cut off', () => {
    const decoder = new BoundedDecoder()
    const texts = ['', 'a', 'id', 'x'.repeat(24), 'x'.repeat(25), 'customer-12345-order-lines-awaiting-review', 'z'.repeat(200), 'z'.repeat(201), 'é', 'naïve café ✓ 🚀', `${'a'.repeat(30)}\u0080`, '\u007f\u0000tab\t']
    for (const text of texts) {
      expect(decoder.decode(encode(text))).toBe(text)
      expect(decoder.decode(encode({ [text]: text, list: [text, { k: text }] }))).toEqual({ [text]: text, list: [text, { k: text }] })
      const bytes = encode(text)
      if (bytes.length > 1) expect(() => decoder.decode(bytes.subarray(0, bytes.length - 1)), JSON.stringify(text)).toThrow()
    }
  })

  it.each([
    ['hooks', false],
    ['a walk first', true],
  ])('with %s, decodes what @msgpack/msgpack encodes and refuses every bomb as a bomb', (_name, walkFirst) => {
    const decoder = new BoundedDecoder(walkFirst)
    for (const value of SAMPLES) expect(decoder.decode(encode(value))).toEqual(value)
    for (const [kind, bytes] of Object.entries(BOMBS)) {
      let error: unknown
      try {
        decoder.decode(Uint8Array.from(bytes))
      } catch (err) {
        error = err
      }
      expect(error, kind).toBeInstanceOf(MsgpackBoundsError)
      expect((error as MsgpackBoundsError).bomb, kind).toBe(true)
    }
    // Nested containers that each fit what is left, but not all together.
    const levels = 30
    const chain: number[] = []
    for (let k = 0; k < levels; k++) chain.push(0xdc, ...u16(3 * (levels - k - 1) + 1))
    chain.push(0x01)
    expect(() => decoder.decode(Uint8Array.from(chain))).toThrow(MsgpackBoundsError)
    expect(decoder.decode(encode([1, 2]))).toEqual([1, 2])
  })

  it('refuses each bomb at once, and the heap does not grow', () => {
    const before = heldBytes()
    const started = Date.now()
    for (const [kind, bytes] of Object.entries(BOMBS)) {
      for (let i = 0; i < 100; i++) expect(() => msgpack.decode(Uint8Array.from(bytes)), kind).toThrow(MsgpackBoundsError)
    }
    expect(Date.now() - started).toBeLessThan(1000)
    expect(heldBytes() - before).toBeLessThan(2 * MiB)
  })

  it('lets go of a large buffer once decoded, and of its half-built value after a failure', async () => {
    const decoder = new BoundedDecoder()
    let big: Uint8Array | undefined = encode({ data: new Uint8Array(4 * MiB) })
    const bigRef = new WeakRef(big)
    decoder.decode(big)
    // Fails after building part of the value: a __proto__ key is refused by the decoder itself.
    let evil: Uint8Array | undefined = encode([Array.from({ length: 100_000 }, (_, i) => i), JSON.parse('{"__proto__": 1}')])
    const evilRef = new WeakRef(evil)
    expect(() => decoder.decode(evil as Uint8Array)).toThrow(/__proto__/)
    big = undefined
    evil = undefined
    // WeakRefs are cleared only after the turn that created them.
    await new Promise((resolve) => setImmediate(resolve))
    heldBytes()
    expect(bigRef.deref()).toBeUndefined()
    expect(evilRef.deref()).toBeUndefined()
    expect(decoder.decode(encode([1]))).toEqual([1])
  })
})
