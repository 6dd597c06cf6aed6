import { describe, expect, it } from 'vitest'
import type { Envelope } from '../../src/index.js'
import type { StreamEntry } from '../../src/transports/redis/client.js'
import { brokenEntry, copyFields, fromEntry, toFields } from '../../src/transports/redis/entry.js'
import { codeOf } from '../helpers.js'

/** An entry as Redis gives it back for `fields`. */
function entry(fields: readonly (string | Buffer)[], id = '1700000000000-0'): StreamEntry {
  return { id, fields: fields.map((f) => Buffer.from(f)) }
}

const env: Envelope = { tag: 'shop.Order', id: 'e1', ts: 1700000000123, ct: 'application/json', corr: 'c1', replyTo: 'orders.replies.x', key: 'k', headers: { 'trace-id': 't' }, body: new Uint8Array([1, 2, 3]) }

describe('redis entry ↔ envelope', () => {
  it('round-trips every envelope field', () => {
    expect(fromEntry(entry(toFields(env)), 'orders')).toEqual({ ...env, body: Buffer.from([1, 2, 3]) })
  })

  it('leaves out ct when it is msgpack, and what is not set', () => {
    const plain: Envelope = { tag: 't', id: 'i', ts: 1, ct: 'application/msgpack', headers: {}, body: new Uint8Array([9]) }
    const names = toFields(plain).filter((_, i) => i % 2 === 0)
    expect(names).toEqual(['tag', 'id', 'ts', 'body'])
    expect(fromEntry(entry(toFields(plain)), 's').ct).toBe('application/msgpack')
  })

  it("reads a plain client's entry: the id is its place in the stream, the time its entry id's", () => {
    const e = fromEntry(entry(['tag', 'shop.Order', 'body', Buffer.from([1])], '1700000000999-3'), 'orders')
    expect(e).toMatchObject({ tag: 'shop.Order', id: 'orders@1700000000999-3', ts: 1700000000999, headers: {} })
  })

  it('a dead letter keeps every field and adds the reason as a header', () => {
    const copied = fromEntry(entry(copyFields(entry(toFields(env)), { 'x-seam-reason': 'ERR_X: why' })), 'orders.dlq')
    expect(copied.headers).toEqual({ 'trace-id': 't', 'x-seam-reason': 'ERR_X: why' })
    expect(copied.id).toBe('e1')
  })

  it('refuses an entry without a tag or a body with ERR_PROTOCOL', () => {
    expect(codeOf(() => fromEntry(entry(['body', 'x']), 's'))).toBe('ERR_PROTOCOL')
    expect(codeOf(() => fromEntry(entry(['tag', 't']), 's'))).toBe('ERR_PROTOCOL')
    expect(codeOf(() => fromEntry(entry(['tag', 't', 'ts', 'soon', 'body', 'x']), 's'))).toBe('ERR_PROTOCOL')
  })

  it('an entry that is no envelope is delivered broken: its body as it is, or no bytes without one', () => {
    const why = new Error('bad')
    const noTag = entry(['ts', '1', 'body', Buffer.from([7, 8])])
    expect(brokenEntry(noTag, why)).toEqual({ bytes: Buffer.from([7, 8]), error: why })
    expect(brokenEntry(entry(['tag', 't']), why).bytes.length).toBe(0)
  })
})
