import { describe, expect, it } from 'vitest'
import { JSON_CT, MSGPACK, SerdeSet, createMsgpack, json, msgpack } from '../../src/index.js'
import { MAX_NESTING } from '../../src/serde/nesting.js'

const samples: unknown[] = [
  { seq: 1 },
  { nested: { list: [1, 'two', null, true], deep: { x: -1.5 } } },
  { text: 'héllo wörld 😀 漢字' },
  [],
  'plain',
  0,
  null,
]

describe('serdes', () => {
  it.each(samples.map((s) => [JSON.stringify(s), s]))('msgpack round-trips %s', (_name, value) => {
    expect(msgpack.decode(msgpack.encode(value))).toEqual(value)
  })

  it.each(samples.map((s) => [JSON.stringify(s), s]))('json round-trips %s', (_name, value) => {
    expect(json.decode(json.encode(value))).toEqual(value)
  })

  it('msgpack keeps binary values', () => {
    const bytes = new Uint8Array([0, 1, 2, 255])
    const back = msgpack.decode(msgpack.encode({ bytes })) as { bytes: Uint8Array }
    expect(back.bytes).toBeInstanceOf(Uint8Array)
    expect([...back.bytes]).toEqual([0, 1, 2, 255])
  })

  it('msgpack drops undefined properties like JSON does', () => {
    expect(msgpack.decode(msgpack.encode({ a: 1, b: undefined }))).toEqual({ a: 1 })
  })

  it('createMsgpack makes independent instances with the same content type', () => {
    const other = createMsgpack()
    expect(other.contentType).toBe(MSGPACK)
    expect(other.decode(msgpack.encode({ a: 1 }))).toEqual({ a: 1 })
  })

  it('json writes UTF-8 and rejects bytes that are not UTF-8', () => {
    expect(json.contentType).toBe(JSON_CT)
    expect(Buffer.from(json.encode({ s: 'é' })).toString('utf8')).toBe('{"s":"é"}')
    expect(() => json.decode(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toThrow()
    expect(() => json.decode(new Uint8Array([0xc3]))).toThrow()
    expect(() => json.decode(Buffer.from('{not json'))).toThrow()
  })

  it(`json refuses nesting deeper than ${MAX_NESTING} levels before parsing, and brackets in strings do not count`, () => {
    const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n)
    expect(json.decode(Buffer.from(nested(MAX_NESTING)))).toBeInstanceOf(Array)
    expect(() => json.decode(Buffer.from(nested(MAX_NESTING + 1)))).toThrow(/deeper than 512 levels at byte 512/)
    const started = Date.now()
    expect(() => json.decode(Buffer.from(nested(4_000_000)))).toThrow(/deeper than 512/)
    expect(Date.now() - started).toBeLessThan(1000)
    const inStrings = JSON.stringify({ s: '['.repeat(10_000), t: 'a\\"[[[', u: '{'.repeat(600) })
    expect(json.decode(Buffer.from(inStrings))).toEqual(JSON.parse(inStrings))
  })

  it('json keeps "__proto__" as an own property, never a prototype', () => {
    const value = json.decode(Buffer.from('{"__proto__":{"polluted":1}}')) as Record<string, unknown>
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
  })

  it('msgpack rejects truncated bytes', () => {
    const bytes = msgpack.encode({ text: 'a long enough string' })
    expect(() => msgpack.decode(bytes.subarray(0, bytes.length - 3))).toThrow()
  })

  it('SerdeSet finds serdes by content type and can be extended', () => {
    const set = new SerdeSet()
    expect(set.get(MSGPACK)).toBe(msgpack)
    expect(set.get(JSON_CT)).toBe(json)
    expect(set.get('text/plain')).toBeUndefined()
    const text = { contentType: 'text/plain', encode: (v: unknown) => Buffer.from(String(v)), decode: (b: Uint8Array) => Buffer.from(b).toString() }
    const more = set.with(text)
    expect(more.get('text/plain')).toBe(text)
    expect(set.get('text/plain')).toBeUndefined()
    expect(more.contentTypes().sort()).toEqual([JSON_CT, MSGPACK, 'text/plain'].sort())
  })
})
