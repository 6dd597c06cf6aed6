import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { defineMessage, json, msgpack, Registry, SeamError, type Envelope } from '../../src/index.js'
import { describeErrors } from '../../src/registry/report.js'

const Ping = defineMessage('demo.Ping', t.type({ seq: t.number }))
const User = defineMessage('demo.User', t.type({ user: t.type({ name: t.string, tags: t.array(t.string) }) }))

function envelope(tag: string, value: unknown, ct = 'application/msgpack'): Envelope {
  const body = ct === 'application/json' ? json.encode(value) : msgpack.encode(value)
  return { tag, id: 'id-1', ts: 0, ct, headers: {}, body }
}

function thrown(fn: () => unknown): SeamError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SeamError)
    return err as SeamError
  }
  throw new Error('expected a throw')
}

describe('Registry.register / on', () => {
  it('registering the same type twice is fine', () => {
    const r = new Registry()
    r.register(Ping, Ping)
    r.register(Ping)
    expect(r.tags()).toEqual(['demo.Ping'])
    expect(r.get('demo.Ping')).toBe(Ping)
  })

  it('a second type with the same codec under the same tag is the same type', () => {
    const r = new Registry()
    r.register(Ping)
    r.register(defineMessage('demo.Ping', Ping.codec))
    expect(r.tags()).toEqual(['demo.Ping'])
  })

  it('a different codec under a taken tag throws ERR_DUPLICATE_TAG naming the tag', () => {
    const r = new Registry()
    r.register(Ping)
    const other = defineMessage('demo.Ping', t.type({ seq: t.string }))
    const err = thrown(() => r.register(other))
    expect(err.code).toBe('ERR_DUPLICATE_TAG')
    expect(err.message).toContain('demo.Ping')
    expect(thrown(() => r.on(other, () => undefined)).code).toBe('ERR_DUPLICATE_TAG')
  })

  it('on() registers the type; a second handler is ERR_BAD_ARGUMENT; off() frees the slot', () => {
    const r = new Registry()
    r.on(Ping, () => undefined)
    expect(r.get('demo.Ping')).toBe(Ping)
    const err = thrown(() => r.on(Ping, () => undefined))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain('demo.Ping')
    r.off(Ping)
    expect(() => r.on(Ping, () => undefined)).not.toThrow()
  })

  it('a handler that is not a function is ERR_BAD_ARGUMENT', () => {
    expect(thrown(() => new Registry().on(Ping, 'nope' as never)).code).toBe('ERR_BAD_ARGUMENT')
  })
})

describe('Registry options', () => {
  it.each(['unregistered', 'undecodable', 'invalid', 'failed'])('a bad "%s" policy is ERR_BAD_ARGUMENT naming the option', (option) => {
    const err = thrown(() => new Registry({ [option]: 'explode' } as never))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain(`"${option}"`)
    expect(err.message).toContain('explode')
  })

  it("'dead-letter' without deadLetter is ERR_BAD_ARGUMENT naming deadLetter", () => {
    const err = thrown(() => new Registry({ invalid: 'dead-letter' }))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain('deadLetter')
    expect(() => new Registry({ invalid: 'dead-letter', deadLetter: 'dlq' })).not.toThrow()
  })

  it.each([
    ['retries', -1],
    ['retries', 1.5],
    ['backoffMs', 'fast'],
    ['maxBackoffMs', Number.NaN],
  ])('option %s = %s is ERR_BAD_ARGUMENT naming it', (option, value) => {
    const err = thrown(() => new Registry({ [option]: value } as never))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain(`"${option}"`)
  })

  it('accepts functions and the three named policies', () => {
    const r = new Registry({ unregistered: 'drop', undecodable: 'reject', invalid: () => undefined, failed: 'drop' })
    expect(r.policies.unregistered).toBe('drop')
    expect(typeof r.policies.invalid).toBe('function')
  })
})

describe('Registry.decode', () => {
  const r = new Registry()

  it('decodes a valid msgpack or json body', () => {
    expect(r.decode(Ping, envelope('demo.Ping', { seq: 3 }))).toEqual({ ok: true, value: { seq: 3 } })
    expect(r.decode(Ping, envelope('demo.Ping', { seq: 4 }, 'application/json'))).toEqual({ ok: true, value: { seq: 4 } })
  })

  it('reports io-ts failures as readable paths', () => {
    const d = r.decode(Ping, envelope('demo.Ping', { seq: 'x' }))
    expect(d.ok).toBe(false)
    if (d.ok) return
    expect(d.case).toBe('invalid')
    expect(d.error.code).toBe('ERR_INVALID_PAYLOAD')
    expect(d.error.tag).toBe('demo.Ping')
    expect(d.error.message).toContain('seq: expected number, got "x"')
  })

  it('reports nested paths', () => {
    const d = r.decode(User, envelope('demo.User', { user: { name: 1, tags: ['a', 2] } }))
    expect(d.ok).toBe(false)
    if (d.ok) return
    expect(d.error.message).toContain('user.name: expected string, got 1')
    expect(d.error.message).toContain('user.tags.1: expected string, got 2')
  })

  it('reports a missing field as undefined', () => {
    const d = r.decode(Ping, envelope('demo.Ping', {}))
    expect(d.ok).toBe(false)
    if (!d.ok) expect(d.error.message).toContain('seq: expected number, got undefined')
  })

  it('describeErrors gives exactly `path: expected T, got V` and caps the list', () => {
    const result = Ping.codec.decode({ seq: 'x' })
    if (result._tag !== 'Left') throw new Error('expected a Left')
    expect(describeErrors(result.left)).toBe('seq: expected number, got "x"')
    const many = t.type({ a: t.number, b: t.number, c: t.number, d: t.number, e: t.number, f: t.number, g: t.number }).decode({})
    if (many._tag !== 'Left') throw new Error('expected a Left')
    expect(describeErrors(many.left)).toMatch(/; and 2 more$/)
  })

  it('an unknown content type or unreadable body is undecodable', () => {
    const unknown = r.decode(Ping, { ...envelope('demo.Ping', { seq: 1 }), ct: 'text/plain' })
    expect(unknown.ok).toBe(false)
    if (!unknown.ok) {
      expect(unknown.case).toBe('undecodable')
      expect(unknown.error.code).toBe('ERR_UNDECODABLE')
      expect(unknown.error.message).toContain('text/plain')
    }
    const bad = r.decode(Ping, { ...envelope('demo.Ping', { seq: 1 }), ct: 'application/json', body: new Uint8Array([0xff, 0xfe]) })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.code).toBe('ERR_UNDECODABLE')
    const truncated = r.decode(Ping, { ...envelope('demo.Ping', { seq: 1 }), body: new Uint8Array([0x81, 0xa3]) })
    expect(truncated.ok).toBe(false)
    if (!truncated.ok) expect(truncated.case).toBe('undecodable')
  })

  it('a msgpack body with a __proto__ key never pollutes prototypes', () => {
    // fixmap(1) { "__proto__": { "polluted": true } }
    const body = Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x81, 0xa8]), Buffer.from('polluted'), Buffer.from([0xc3])])
    r.decode(Ping, { ...envelope('demo.Ping', {}), body })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
