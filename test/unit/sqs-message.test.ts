import { describe, expect, it } from 'vitest'
import type { Envelope } from '../../src/index.js'
import type { IncomingMessage, OutgoingMessage } from '../../src/transports/sqs/client.js'
import { fromMessage, messageSize, toMessage } from '../../src/transports/sqs/message.js'

const env = (over: Partial<Envelope> = {}): Envelope => ({ tag: 'unit.T', id: 'id-1', ts: 1700000000000, ct: 'application/msgpack', corr: undefined, replyTo: undefined, key: undefined, headers: {}, body: new Uint8Array([0x81, 0xa1, 0x61, 0x01]), ...over })

/** What SQS hands back for what was sent. */
function received(m: OutgoingMessage, system: Record<string, string> = {}): IncomingMessage {
  return { messageId: 'sqs-id', receiptHandle: 'r', body: m.body, attributes: m.attributes, system }
}

describe('sqs message mapping', () => {
  it('round-trips every envelope field, with three attributes for the envelope', () => {
    const e = env({ corr: 'c', replyTo: 'http://q/replies', key: 'k', headers: { a: '1', empty: '', 'x-seam-reason': 'ERR_X: y' } })
    const m = toMessage(e, false)
    expect(Object.keys(m.attributes).sort()).toEqual(['a', 'seam', 'seam-ct', 'seam-tag', 'x-seam-reason'])
    expect(m.body).toBe(Buffer.from(e.body).toString('base64'))
    const back = fromMessage(received(m))
    expect({ ...back, body: new Uint8Array(back.body) }).toEqual({ ...e, headers: { a: '1', empty: '', 'x-seam-reason': 'ERR_X: y' } })
  })

  it('a JSON body travels as text, unless it is not text SQS takes', () => {
    const text = toMessage(env({ ct: 'application/json', body: Buffer.from('{"a":1}') }), false)
    expect(text.body).toBe('{"a":1}')
    const binary = toMessage(env({ ct: 'application/json', body: new Uint8Array([0xff, 0x00, 0x7b]) }), false)
    expect(Buffer.from(fromMessage(received(binary)).body)).toEqual(Buffer.from([0xff, 0x00, 0x7b]))
  })

  it('FIFO: the key is the group and the id the deduplication id; a keyless message is a group of its own', () => {
    expect(toMessage(env({ key: 'k' }), true)).toMatchObject({ groupId: 'k', deduplicationId: 'id-1' })
    expect(toMessage(env(), true)).toMatchObject({ groupId: 'id-1', deduplicationId: 'id-1' })
    // A keyless message read back has no key, whatever its group: it waits for no other.
    expect(fromMessage(received(toMessage(env(), true), { MessageGroupId: 'id-1' })).key).toBeUndefined()
  })

  it('counts the size as SQS does: body plus each attribute\'s name, type and value', () => {
    const m: OutgoingMessage = { body: 'abcd', attributes: { n: { DataType: 'String', StringValue: 'vv' } } }
    expect(messageSize(m)).toBe(4 + 1 + 6 + 2)
  })

  it('a plain producer\'s message: JSON text, SQS\'s id and timestamp, its group as the key', () => {
    const e = fromMessage({ messageId: 'm-1', receiptHandle: 'r', body: '{"a":1}', attributes: { 'seam-tag': { DataType: 'String', StringValue: 'unit.T' } }, system: { SentTimestamp: '123', MessageGroupId: 'g' } })
    expect(e).toMatchObject({ tag: 'unit.T', id: 'm-1', ts: 123, ct: 'application/json', key: 'g', headers: {} })
    expect(Buffer.from(e.body).toString()).toBe('{"a":1}')
  })

  it('refuses to read what is not an envelope, with ERR_PROTOCOL', () => {
    const bad = (m: Partial<IncomingMessage>): unknown => {
      try {
        return fromMessage({ messageId: 'm', receiptHandle: 'r', body: 'x', attributes: {}, system: {}, ...m })
      } catch (err) {
        return (err as { code: string }).code
      }
    }
    expect(bad({})).toBe('ERR_PROTOCOL')
    expect(bad({ attributes: { 'seam-tag': { DataType: 'String', StringValue: 'T' }, 'seam-ct': { DataType: 'String', StringValue: 'application/msgpack' } }, body: 'not base64!' })).toBe('ERR_PROTOCOL')
    expect(bad({ attributes: { 'seam-tag': { DataType: 'String', StringValue: 'T' }, seam: { DataType: 'String', StringValue: '{bad' } } })).toBe('ERR_PROTOCOL')
  })
})
