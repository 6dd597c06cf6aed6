import { decode, encode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { SeamError, type Envelope } from '../../src/index.js'
import { toEnvelope } from '../../src/channel/envelope.js'
import { PING_FRAME, PROTOCOL_VERSION, envelopeBound, helloFrame, isPing, readEnvelope, readHello, writeEnvelope } from '../../src/transports/stream/wire.js'
import { codeOf } from '../helpers.js'

function write(env: Envelope): Buffer {
  const buf = Buffer.alloc(envelopeBound(env))
  const end = writeEnvelope(buf, 0, env)
  expect(end).toBeLessThanOrEqual(buf.length)
  return buf.subarray(0, end)
}

function base(extra: Partial<Envelope> = {}): Envelope {
  return { tag: 'demo.Ping', id: 'abc123', ts: 1_700_000_000_123, ct: 'application/msgpack', headers: {}, body: new Uint8Array([1, 2, 3]), ...extra }
}

function roundTrip(env: Envelope): Envelope {
  const bytes = write(env)
  // The hand-written bytes must be plain msgpack that any decoder reads the same way.
  const generic = decode(bytes) as Record<string, unknown>
  expect(generic.tag).toBe(env.tag)
  return readEnvelope(bytes)
}

describe('writeEnvelope / readEnvelope', () => {
  it('round-trips every field', () => {
    const env = base({ corr: 'c-1', replyTo: '', key: 'order-17', headers: { a: '1', b: 'two' } })
    const back = roundTrip(env)
    expect(back.key).toBe('order-17')
    // The generic decoder (taken by any frame the fast reader does not know) reads the key too.
    expect(readEnvelope(Buffer.from(encode({ ...env, extra: 1 }))).key).toBe('order-17')
    expect(back.tag).toBe(env.tag)
    expect(back.id).toBe(env.id)
    expect(back.ts).toBe(env.ts)
    expect(back.ct).toBe(env.ct)
    expect(back.corr).toBe('c-1')
    expect(back.replyTo).toBe('')
    expect(back.headers).toEqual({ a: '1', b: 'two' })
    expect([...back.body]).toEqual([1, 2, 3])
  })

  it('leaves out ct when it is msgpack, and reads a frame without ct as msgpack, on both read paths', () => {
    const bytes = write(base())
    expect(Object.keys(decode(bytes) as object)).not.toContain('ct')
    expect(write(base({ ct: 'application/json' })).length - bytes.length).toBe(3 + 1 + 'application/json'.length)
    expect(readEnvelope(bytes).ct).toBe('application/msgpack')
    // An extra field sends the frame down the generic decoder, which implies the same content type.
    const generic = Buffer.from(encode({ tag: 'demo.Ping', id: 'g-1', ts: 1, body: new Uint8Array([1]), extra: 1 }))
    expect(readEnvelope(generic).ct).toBe('application/msgpack')
    expect(readEnvelope(Buffer.from(encode({ tag: 'demo.Ping', id: 'g-2', ts: 1, ct: 'application/json', body: new Uint8Array([1]), extra: 1 }))).ct).toBe('application/json')
  })

  it.each([
    ['of every length the ASCII fast path builds', Array.from({ length: 26 }, (_, n) => 'i'.repeat(n) + (n > 0 ? '' : 'x'))],
    ['with an ASCII prefix and a non-ASCII tail', ['abcdefghijklmnopé', 'id-😀', 'ünïcode-id-000000000000000000']],
    ['longer than the fast path', ['x'.repeat(25), 'y'.repeat(100)]],
  ])('round-trips ids %s', (_name, ids) => {
    for (const id of ids) expect(roundTrip(base({ id, corr: id })).id).toBe(id)
  })

  it('leaves out corr, replyTo, key and empty headers', () => {
    const bytes = write(base())
    expect(Object.keys(decode(bytes) as object).sort()).toEqual(['body', 'id', 'tag', 'ts'])
    const back = readEnvelope(bytes)
    expect(back.corr).toBeUndefined()
    expect(back.replyTo).toBeUndefined()
    expect(back.key).toBeUndefined()
    expect(back.headers).toEqual({})
  })

  it.each([
    ['ASCII', 'demo.Ping'],
    ['31 ASCII chars', 'a'.repeat(31)],
    ['32 ASCII chars', 'a'.repeat(32)],
    ['255 ASCII bytes', 'a'.repeat(255)],
    ['accents', 'démo.Pïng'],
    ['CJK', '漢字.メッセージ'],
    ['emoji', 'ping.😀'],
    ['255 bytes of 3-byte chars', '€'.repeat(85)],
    ['10 two-byte chars', 'é'.repeat(10)],
  ])('round-trips a %s tag', (_name, tag) => {
    expect(roundTrip(base({ tag })).tag).toBe(tag)
  })

  it('round-trips non-ASCII and long headers, and many of them', () => {
    const headers: Record<string, string> = { 'clé': 'välue 😀', long: 'x'.repeat(70_000), empty: '' }
    for (let i = 0; i < 20; i++) headers[`h${i}`] = `v${i}`
    expect(roundTrip(base({ headers })).headers).toEqual(headers)
  })

  it.each([0, 1, 255, 256, 65535, 65536, 100_000])('round-trips a body of %i bytes', (n) => {
    const body = new Uint8Array(n)
    for (let i = 0; i < n; i++) body[i] = (i * 7) & 0xff
    const back = roundTrip(base({ body }))
    expect(back.body.length).toBe(n)
    expect(Buffer.from(back.body).equals(Buffer.from(body))).toBe(true)
  })

  it('writes at an offset into a larger buffer', () => {
    const env = base({ tag: 'ünïcode' })
    const buf = Buffer.alloc(100 + envelopeBound(env), 0xee)
    const end = writeEnvelope(buf, 100, env)
    expect(readEnvelope(buf.subarray(100, end)).tag).toBe('ünïcode')
    expect(readEnvelope(buf, 100, end).tag).toBe('ünïcode')
  })

  it('writes a tag seen before (from its cache) exactly, after the buffer was overwritten', () => {
    const buf = Buffer.alloc(512)
    const msgpackA = base({ tag: 'cache.A' })
    const jsonA = base({ tag: 'cache.A', ct: 'application/json' })
    for (const env of [msgpackA, jsonA, msgpackA, base({ tag: 'cache.B' }), msgpackA, base({ tag: 'cache.A', replyTo: '' })]) {
      buf.fill(0xee)
      const end = writeEnvelope(buf, 7, env)
      const { tag, ct, id } = decode(buf.subarray(7, end)) as Record<string, unknown>
      expect({ tag, ct: ct ?? 'implied', id }).toEqual({ tag: env.tag, ct: env.ct === 'application/msgpack' ? 'implied' : env.ct, id: env.id })
      const back = readEnvelope(buf, 7, end)
      expect([back.tag, back.ct, back.replyTo]).toEqual([env.tag, env.ct, env.replyTo])
    }
  })

  it('reads each frame right when same-length tags alternate, buffers are rewritten and frames come from several buffers', () => {
    // The reader keeps strings by length and the last frame's memory between reads; none of it may leak into the next frame.
    const small = [Buffer.alloc(512), Buffer.alloc(512)]
    const big = Buffer.alloc(70 * 1024)
    const envs = ['cache.A', 'cache.B', 'cache.A', 'cache.C', 'cache.C'].map((tag, i) => base({ tag, id: `id-${i}`, ct: i === 3 ? 'application/jsonx' : 'application/msgpack', body: new Uint8Array([i, i + 1, i + 2]) }))
    for (let round = 0; round < 3; round++) {
      envs.forEach((env, i) => {
        const buf = i === 4 ? big : (small[(i + round) % 2] as Buffer)
        buf.fill(0xee)
        const at = 3 + i
        const end = writeEnvelope(buf, at, env)
        const back = readEnvelope(buf, at, end)
        expect({ tag: back.tag, id: back.id, ct: back.ct, body: [...back.body] }).toEqual({ tag: env.tag, id: env.id, ct: env.ct, body: [...env.body] })
      })
    }
  })

  it('refuses to write an empty or too-long tag', () => {
    expect(codeOf(() => write(base({ tag: '' })))).toBe('ERR_BAD_ARGUMENT')
    expect(codeOf(() => write(base({ tag: 'é'.repeat(128) })))).toBe('ERR_BAD_ARGUMENT')
  })

  it('readEnvelope rejects bytes that are not msgpack with ERR_PROTOCOL', () => {
    expect(codeOf(() => readEnvelope(Buffer.from([0xc1])))).toBe('ERR_PROTOCOL')
    expect(codeOf(() => readEnvelope(Buffer.from([0x85, 0xa3])))).toBe('ERR_PROTOCOL')
  })

  it('readEnvelope rejects a __proto__ key with ERR_PROTOCOL and pollutes nothing', () => {
    const raw = JSON.parse('{"tag":"demo.Ping","id":"1","ct":"application/msgpack","__proto__":{"polluted":true}}') as Record<string, unknown>
    const bytes = encode({ ...raw, body: new Uint8Array(0) })
    expect(codeOf(() => readEnvelope(Buffer.from(bytes)))).toBe('ERR_PROTOCOL')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('toEnvelope', () => {
  const good = { tag: 'demo.Ping', id: '1', ts: 5, ct: 'application/msgpack', body: new Uint8Array(0) }

  it('accepts a minimal envelope; ts defaults to 0, headers to {}', () => {
    const { ts: _ts, ...noTs } = good
    const env = toEnvelope(noTs)
    expect(env.ts).toBe(0)
    expect(env.headers).toEqual({})
    expect(toEnvelope({ ...good, corr: null, replyTo: null, headers: null }).corr).toBeUndefined()
  })

  it('reads a missing ct as the implied one where the wire format has one, and still refuses an empty one', () => {
    expect(toEnvelope({ ...good, ct: undefined }, 'application/msgpack').ct).toBe('application/msgpack')
    expect(codeOf(() => toEnvelope({ ...good, ct: '' }, 'application/msgpack'))).toBe('ERR_PROTOCOL')
  })

  it.each<[string, unknown, RegExp]>([
    ['not a map', 'text', /not a map/],
    ['an array', [1, 2], /not a map/],
    ['null', null, /not a map/],
    ['tag missing', { ...good, tag: undefined }, /"tag" is missing/],
    ['tag empty', { ...good, tag: '' }, /non-empty/],
    ['tag a number', { ...good, tag: 7 }, /tag/],
    ['tag > 255 bytes', { ...good, tag: 'é'.repeat(128) }, /255/],
    ['id missing', { ...good, id: undefined }, /"id"/],
    ['id empty', { ...good, id: '' }, /"id"/],
    ['id a number', { ...good, id: 1 }, /"id"/],
    ['ct missing', { ...good, ct: undefined }, /"ct"/],
    ['ct empty', { ...good, ct: '' }, /"ct"/],
    ['body a string', { ...good, body: 'abc' }, /"body"/],
    ['body missing', { ...good, body: undefined }, /"body"/],
    ['ts a string', { ...good, ts: 'now' }, /"ts"/],
    ['headers an array', { ...good, headers: ['a'] }, /"headers"/],
    ['headers a string', { ...good, headers: 'a=b' }, /"headers"/],
    ['header value a number', { ...good, headers: { a: 1 } }, /header values/],
    ['corr a number', { ...good, corr: 1 }, /"corr"/],
    ['replyTo a map', { ...good, replyTo: {} }, /"replyTo"/],
    ['key a number', { ...good, key: 7 }, /"key"/],
  ])('rejects %s with ERR_PROTOCOL', (_name, raw, message) => {
    let caught: unknown
    try {
      toEnvelope(raw)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(SeamError)
    expect((caught as SeamError).code).toBe('ERR_PROTOCOL')
    expect((caught as SeamError).message).toMatch(message)
  })
})

describe('hello', () => {
  function body(frame: Buffer): Buffer {
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4)
    return frame.subarray(4)
  }

  it('round-trips the version, maxFrameBytes and heartbeatMs', () => {
    expect(decode(body(helloFrame(1234, 500)))).toEqual({ seam: 'hello', version: PROTOCOL_VERSION, maxFrameBytes: 1234, heartbeatMs: 500 })
    expect(readHello(body(helloFrame(1234, 500)))).toEqual({ version: PROTOCOL_VERSION, maxFrameBytes: 1234, heartbeatMs: 500 })
  })

  it('reads a missing or nonsensical heartbeatMs as "sends no pings"', () => {
    for (const heartbeatMs of [undefined, 0, -5, 'often', Number.NaN]) {
      expect(readHello(encode({ seam: 'hello', version: PROTOCOL_VERSION, maxFrameBytes: 10, heartbeatMs })).heartbeatMs).toBe(0)
    }
  })

  it('a wrong version names both versions', () => {
    let caught: SeamError | undefined
    try {
      readHello(encode({ seam: 'hello', version: 99, maxFrameBytes: 10 }))
    } catch (err) {
      caught = err as SeamError
    }
    expect(caught?.code).toBe('ERR_PROTOCOL')
    expect(caught?.message).toContain('99')
    expect(caught?.message).toContain(String(PROTOCOL_VERSION))
  })

  it('tells a ping from an envelope', () => {
    expect(isPing(PING_FRAME, 4, PING_FRAME.length)).toBe(true)
    expect(decode(body(PING_FRAME))).toEqual({ seam: 'ping' })
    const env = write(base())
    expect(isPing(env, 0, env.length)).toBe(false)
    const sameLength = Buffer.from(PING_FRAME.subarray(4))
    sameLength[sameLength.length - 1] = 0x78
    expect(isPing(sameLength, 0, sameLength.length)).toBe(false)
  })

  it('something else than a hello is ERR_PROTOCOL', () => {
    expect(codeOf(() => readHello(encode({ tag: 'x' })))).toBe('ERR_PROTOCOL')
    expect(codeOf(() => readHello(new Uint8Array([0xc1])))).toBe('ERR_PROTOCOL')
  })
})
