import { describe, expect, it } from 'vitest'
import { EMPTY_HEADERS, type Envelope } from '../../src/channel/envelope.js'
import { json, msgpack } from '../../src/index.js'
import { LINES, envelopeLine, readLine } from '../../src/transports/stdio/json-lines.js'
import { Outbox, type OutboxOutput } from '../../src/transports/stream/outbox.js'
import { codeOf, rejection } from '../helpers.js'

function env(over: Partial<Envelope> = {}): Envelope {
  return { tag: 'demo.Ping', id: 'id-1', ts: 1_700_000_000_000, ct: json.contentType, headers: EMPTY_HEADERS, body: json.encode({ seq: 1 }), ...over }
}

function errorOf(line: string): string {
  try {
    readLine(line)
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`
  }
  return 'no error'
}

describe('stdio JSON lines', () => {
  it('writes one line per envelope, the JSON body as its value, and reads it back unchanged', () => {
    const original = env({ key: 'k', corr: 'c', headers: { trace: 'abc' } })
    const line = envelopeLine(original)
    expect(line.endsWith('\n')).toBe(true)
    expect(line.slice(0, -1)).not.toContain('\n')
    expect(JSON.parse(line)).toEqual({ tag: 'demo.Ping', id: 'id-1', ts: 1_700_000_000_000, key: 'k', corr: 'c', headers: { trace: 'abc' }, body: { seq: 1 } })
    const back = readLine(line.slice(0, -1))
    expect({ ...back, body: Buffer.from(back.body).toString() }).toEqual({ ...original, replyTo: undefined, body: '{"seq":1}' })
  })

  it('carries any other content type byte for byte as base64 with its ct', () => {
    const body = msgpack.encode({ seq: 2, blob: new Uint8Array([0, 10, 13, 255]) })
    const line = envelopeLine(env({ ct: msgpack.contentType, body }))
    expect(JSON.parse(line)).toMatchObject({ ct: 'application/msgpack', bodyBase64: Buffer.from(body).toString('base64') })
    const back = readLine(line)
    expect(back.ct).toBe('application/msgpack')
    expect(Buffer.from(back.body).equals(Buffer.from(body))).toBe(true)
  })

  it('keeps a JSON body with line breaks between its tokens on one line, as the same value', () => {
    const body = Buffer.from('{\n  "seq": 3,\r\n  "text": "a\\nb"\n}')
    const line = envelopeLine(env({ body }))
    expect(line.slice(0, -1)).not.toMatch(/[\r\n]/)
    expect(JSON.parse(Buffer.from(readLine(line).body).toString())).toEqual({ seq: 3, text: 'a\nb' })
  })

  it('an empty body, which is no JSON value, travels as base64', () => {
    const back = readLine(envelopeLine(env({ body: new Uint8Array(0) })))
    expect(back.body.length).toBe(0)
    expect(back.ct).toBe('application/json')
  })

  it('a line written by hand needs only a tag and a body: it gets a fresh id, the time it was read, and the JSON content type', () => {
    const before = Date.now()
    const a = readLine('{"tag":"demo.Ping","body":{"seq":1}}')
    const b = readLine('{"tag":"demo.Ping","body":null}')
    expect(a).toMatchObject({ tag: 'demo.Ping', ct: 'application/json', headers: {} })
    expect(Buffer.from(a.body).toString()).toBe('{"seq":1}')
    expect(Buffer.from(b.body).toString()).toBe('null')
    expect(a.id).not.toBe(b.id)
    expect(a.ts).toBeGreaterThanOrEqual(before)
  })

  it('names what is wrong with a bad line, as ERR_PROTOCOL', () => {
    expect(errorOf('[1,2]')).toBe('ERR_PROTOCOL: malformed JSON line: not a JSON object')
    expect(errorOf('{"body":1}')).toBe('ERR_PROTOCOL: malformed JSON line: "tag" is missing')
    expect(errorOf('{"tag":"","body":1}')).toBe('ERR_PROTOCOL: malformed JSON line: a tag must be a non-empty string')
    expect(errorOf('{"tag":"a"}')).toBe('ERR_PROTOCOL: malformed JSON line: "body" is missing')
    expect(errorOf('{"tag":"a","id":7,"body":1}')).toBe('ERR_PROTOCOL: malformed JSON line: "id" must be a non-empty string')
    expect(errorOf('{"tag":"a","ts":"now","body":1}')).toBe('ERR_PROTOCOL: malformed JSON line: "ts" must be a number')
    expect(errorOf('{"tag":"a","body":1,"bodyBase64":"AA=="}')).toBe('ERR_PROTOCOL: malformed JSON line: a line has "body" or "bodyBase64", not both')
    expect(errorOf('{"tag":"a","bodyBase64":"AA=="}')).toBe('ERR_PROTOCOL: malformed JSON line: "bodyBase64" needs "ct", the content type of its bytes')
    expect(errorOf('{"tag":"a","ct":"x","bodyBase64":"not base64!"}')).toBe('ERR_PROTOCOL: malformed JSON line: "bodyBase64" must be a base64 string')
    expect(errorOf('{"tag":"a","ct":"application/msgpack","body":1}')).toMatch(/^ERR_PROTOCOL: malformed JSON line: a "body" is a JSON value, so "ct" must be application\/json or left out/)
    expect(errorOf('{"tag":"a","headers":{"n":1},"body":1}')).toBe('ERR_PROTOCOL: malformed JSON line: header values must be strings')
    expect(errorOf('{"tag":"a","key":5,"body":1}')).toBe('ERR_PROTOCOL: malformed JSON line: "key" must be a string')
    expect(errorOf('{"tag":"a",')).toMatch(/^ERR_PROTOCOL: malformed JSON line: not JSON \(/)
  })

  it('a header named __proto__ stays a plain header', () => {
    const e = readLine('{"tag":"a","headers":{"__proto__":"x"},"body":1}')
    expect(Object.getPrototypeOf(e.headers)).toBe(Object.prototype)
    expect(Object.hasOwn(e.headers, '__proto__')).toBe(true)
    expect(codeOf(() => readLine('{"tag":"a","headers":{"__proto__":{}},"body":1}'))).toBe('ERR_PROTOCOL')
  })

  it('an Outbox in the json format writes whole lines, one write per turn, and refuses a line over maxFrameBytes naming the stdio option', async () => {
    const writes: string[] = []
    const output: OutboxOutput = { write: (b: Buffer) => (writes.push(b.toString()), true), once: () => output, writableLength: 0 } as unknown as OutboxOutput
    const outbox = new Outbox({ maxMessages: 100, maxBytes: 1 << 20, maxFrameBytes: 200, optionPrefix: 'stdio.' }, LINES)
    outbox.attach(output)
    // Non-ASCII text: the line is written as UTF-8, and measured in its bytes.
    const bodies = [{ seq: 1 }, { seq: 2, text: 'größer → 𝄞' }]
    for (const b of bodies) await outbox.send(env({ body: json.encode(b) }))
    const big = await rejection(outbox.send(env({ body: json.encode({ pad: 'é'.repeat(100) }) })))
    expect(big.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(big.message).toMatch(/^"demo.Ping" encodes to 2\d\d bytes; lines are limited to 200 bytes \(option stdio.maxFrameBytes on both sides\)$/)
    expect(await outbox.drain(1000)).toBe(true)
    expect(writes).toHaveLength(1)
    const lines = writes.join('').split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.map((l) => JSON.parse(Buffer.from(readLine(l).body).toString()) as unknown)).toEqual(bodies)
  })
})
