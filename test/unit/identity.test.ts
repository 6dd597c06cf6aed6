import * as t from 'io-ts'
import { isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodesToItself } from '../../src/registry/identity.js'
import { defineMessage, msgpack, Registry, type Envelope } from '../../src/index.js'

interface Tree {
  value: number
  children: Tree[]
}
const TreeCodec: t.Type<Tree> = t.recursion('Tree', () => t.type({ value: t.number, children: t.array(TreeCodec) }))

const NumberFromString = new t.Type<number, string, unknown>(
  'NumberFromString',
  (u): u is number => typeof u === 'number',
  (u, c) => (typeof u === 'string' && u !== '' && !Number.isNaN(Number(u)) ? t.success(Number(u)) : t.failure(u, c)),
  String,
)

// Each codec with values that pass `is`: for these, decode must give back the very same value.
const plain: [string, t.Mixed, unknown[]][] = [
  ['primitives', t.type({ s: t.string, n: t.number, b: t.boolean, z: t.null, u: t.unknown }), [{ s: 'a', n: 1, b: true, z: null, u: [1] }]],
  ['literal, keyof, union', t.type({ k: t.keyof({ a: null, b: null }), l: t.union([t.literal('x'), t.literal(2)]) }), [{ k: 'a', l: 2 }]],
  ['arrays and tuples', t.type({ a: t.array(t.string), r: t.readonlyArray(t.number), p: t.tuple([t.string, t.number]) }), [{ a: ['x'], r: [1], p: ['y', 2] }]],
  ['partial and intersection', t.intersection([t.type({ id: t.number }), t.partial({ note: t.string })]), [{ id: 1 }, { id: 2, note: 'n' }]],
  ['refinement and brand', t.type({ n: t.Int, r: t.refinement(t.string, (s) => s.length > 0) }), [{ n: 3, r: 'x' }]],
  ['readonly', t.readonly(t.type({ a: t.number })), [{ a: 1 }]],
  ['record with string keys', t.record(t.string, t.number), [{ a: 1, b: 2 }]],
  ['recursion', TreeCodec, [{ value: 1, children: [{ value: 2, children: [] }] }]],
]

// Codecs whose decode changes or strips a value that passes `is`.
const transforming: [string, t.Mixed, unknown][] = [
  ['exact drops unknown keys', t.exact(t.type({ a: t.number })), { a: 1, extra: true }],
  ['strict drops unknown keys', t.strict({ a: t.number }), { a: 1, extra: true }],
  ['a custom Type may transform', t.type({ n: NumberFromString }), { n: 5 }],
  ['a record over a literal domain drops other keys', t.record(t.keyof({ a: null }), t.number), { a: 1, b: 2 }],
  ['nested deep inside a union', t.union([t.string, t.type({ x: t.array(t.exact(t.type({ y: t.number }))) })]), { x: [{ y: 1, z: 2 }] }],
]

describe('decodesToItself', () => {
  it.each(plain)('is true for %s, and decode indeed returns the same value', (_name, codec, values) => {
    expect(decodesToItself(codec)).toBe(true)
    for (const value of values) {
      expect(codec.is(value)).toBe(true)
      const result = codec.decode(value)
      expect(isRight(result) && result.right).toBe(value)
    }
  })

  it.each(transforming)('is false when %s', (_name, codec, value) => {
    expect(decodesToItself(codec)).toBe(false)
    // The reason it must be false: decode gives back something else.
    const result = codec.decode(value)
    expect(isRight(result) ? result.right : 'failed').not.toBe(value)
  })

  it('the registry still runs the real decode for transforming codecs', () => {
    const Stripped = defineMessage('identity.Stripped', t.exact(t.type({ a: t.number })))
    const registry = new Registry().register(Stripped)
    const env: Envelope = { tag: Stripped.tag, id: '1', ts: 0, ct: msgpack.contentType, headers: {}, body: msgpack.encode({ a: 1, secret: 'x' }) }
    const decoded = registry.decode(Stripped, env)
    expect(decoded).toEqual({ ok: true, value: { a: 1 } })
  })

  it('invalid values still fail with the io-ts path, whatever the fast path did', () => {
    const Item = defineMessage('identity.Item', t.type({ seq: t.number }))
    const registry = new Registry().register(Item)
    const env: Envelope = { tag: Item.tag, id: '1', ts: 0, ct: msgpack.contentType, headers: {}, body: msgpack.encode({ seq: 'x' }) }
    const decoded = registry.decode(Item, env)
    expect(decoded.ok).toBe(false)
    if (!decoded.ok) expect(decoded.error.message).toContain('seq: expected number, got "x"')
  })
})
