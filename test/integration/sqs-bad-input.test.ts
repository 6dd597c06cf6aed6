/**
 * What the SQS transport does with bad input, against a real SQS endpoint:
 * an endpoint that is down or silent, a queue that does not exist, messages
 * a plain producer put on the queue that are not ours to read (no tag, a
 * body that is not base64, not msgpack), messages too large for the queue,
 * headers SQS cannot carry, a batch SQS takes only in part, and the SDK not
 * being installed.
 */
import { SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type SeamError } from '../../src/index.js'
import { expectClientMissing } from '../helpers/missing-module.js'
import { closedPort, silentServer } from '../helpers/silent-server.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'
import { channelUrl, freshQueue, queueCounts, rawSqs, useSqs } from '../helpers/sqs.js'

useSqs()
const open = closedAfterEach()

const Ping = defineMessage('sqs-bad.Ping', t.type({ seq: t.number }))
const Note = defineMessage('sqs-bad.Note', t.type({ text: t.string }))
// What a connect or listen may take beyond connectTimeoutMs on a loaded machine.
const SLACK_MS = 1500

describe('sqs: endpoints and queues that are not there', () => {
  it('a closed loopback port: connect and listen fail with ERR_TRANSPORT within connectTimeoutMs, retriable', async () => {
    const port = await closedPort()
    const url = `sqs://127.0.0.1:${port}/000000000000/orders?region=us-east-1`
    for (const open of [() => connect(url, { connectTimeoutMs: 1500 }), () => listen(url, { connectTimeoutMs: 1500 })]) {
      const started = performance.now()
      const err = await rejection(open())
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.message).toContain(`127.0.0.1:${port}`)
      expect(err.retriable).toBe(true)
      expect(performance.now() - started).toBeLessThan(1500 + SLACK_MS)
    }
  })

  it('a port that accepts TCP but never answers fails within connectTimeoutMs, and no socket is left open', async () => {
    const silent = await silentServer()
    open.push(silent)
    const started = performance.now()
    const err = await rejection(listen(`sqs://127.0.0.1:${silent.port}/000000000000/orders?region=us-east-1`, { connectTimeoutMs: 1000 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain('connectTimeoutMs')
    expect(performance.now() - started).toBeLessThan(1000 + SLACK_MS)
    await waitFor(() => silent.open === 0, 5000, 'the client to close its sockets to the silent server')
  })

  it('a queue that does not exist: connect and listen fail with ERR_TRANSPORT naming it, not retriable', async () => {
    const url = channelUrl('seam-test-no-such-queue')
    for (const open of [() => connect(url), () => listen(url)]) {
      const err = await rejection(open())
      expect(err.code).toBe('ERR_TRANSPORT')
      expect(err.message).toContain('seam-test-no-such-queue')
      expect(err.message).toContain('does not exist')
      expect(err.retriable).toBe(false)
    }
  })

  it('@aws-sdk/client-sqs not installed: connect and listen reject with ERR_TRANSPORT saying how to install it', async () => {
    const q = await freshQueue()
    await expectClientMissing('@aws-sdk/client-sqs', [
      { open: 'connect', url: q.channelUrl },
      { open: 'listen', url: q.channelUrl },
    ])
  }, 20_000)
})

describe('sqs: messages a plain producer put on the queue', () => {
  it('no tag attribute, a body that is not base64, a body that is not msgpack: each reported with its code, none handled', async () => {
    const q = await freshQueue({ visibilityTimeout: 5 })
    const errors = collectErrors()
    const registry = new Registry({ onError: errors.onError })
    const got: number[] = []
    registry.on(Ping, ({ seq }) => void got.push(seq))
    open.push(await listen(q.channelUrl, { registry }))
    const send = (body: string, attributes: Record<string, string>): Promise<unknown> =>
      rawSqs().send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: body, MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])) }))
    await send('{"seq":1}', {})
    await send('%%% not base64 %%%', { 'seam-tag': Ping.tag, 'seam-ct': 'application/msgpack' })
    // 0xc1 is the one byte msgpack never uses.
    await send(Buffer.from([0xc1]).toString('base64'), { 'seam-tag': Ping.tag, 'seam-ct': 'application/msgpack' })
    await waitFor(() => errors.errors.length === 3, 5000, 'three reports')
    const byCode = (code: string): SeamError[] => errors.errors.filter((e) => e.code === code)
    const protocol = byCode('ERR_PROTOCOL').map((e) => e.message)
    expect(protocol).toHaveLength(2)
    expect(protocol).toEqual(expect.arrayContaining([expect.stringContaining('must be base64'), expect.stringContaining('no "seam-tag" attribute')]))
    expect(byCode('ERR_UNDECODABLE')).toHaveLength(1)
    expect(got).toEqual([])
    expect(registry.stats()).toMatchObject({ undecodable: 3, handled: 0 })
  })
})

describe('sqs: what SQS cannot carry is refused before sending', () => {
  it('a message over the queue\'s MaximumMessageSize fails with ERR_FRAME_TOO_LARGE naming the limit, and nothing is sent', async () => {
    const small = await freshQueue({ maximumMessageSize: 1024 })
    const client = await connect(small.channelUrl)
    open.push(client)
    const err = await rejection(client.send(Note, { text: 'x'.repeat(2000) }))
    expect(err.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(err.message).toContain('1024')
    await client.send(Note, { text: 'fits' })
    expect(await queueCounts(small)).toEqual({ visible: 1, inFlight: 0 })
    // Without a lower limit, SQS's own: 1 MiB, body (base64 here) and attributes together.
    const big = await freshQueue()
    const other = await connect(big.channelUrl)
    open.push(other)
    const err2 = await rejection(other.send(Note, { text: 'x'.repeat(800 * 1024) }))
    expect(err2.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(err2.message).toContain(String(1024 * 1024))
    expect(await queueCounts(big)).toEqual({ visible: 0, inFlight: 0 })
  })

  it('headers: seven fit beside the envelope and arrive as they were; an eighth, or a name SQS refuses, fails with ERR_BAD_ARGUMENT', async () => {
    const q = await freshQueue()
    const seen: Record<string, string>[] = []
    const registry = new Registry()
    registry.on(Ping, (_, ctx) => void seen.push({ ...ctx.headers }))
    open.push(await listen(q.channelUrl, { registry }))
    const client = await connect(q.channelUrl)
    open.push(client)
    const seven = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`h${i}`, `v${i}`]))
    await client.send(Ping, { seq: 1 }, { headers: seven })
    await waitFor(() => seen.length === 1, 5000, 'the message with seven headers')
    expect(seen[0]).toEqual(seven)
    const eight = await rejection(client.send(Ping, { seq: 2 }, { headers: { ...seven, h7: 'v7' } }))
    expect(eight.code).toBe('ERR_BAD_ARGUMENT')
    expect(eight.message).toContain('at most 7 headers')
    const badName = await rejection(client.send(Ping, { seq: 3 }, { headers: { 'has space': 'v' } }))
    expect(badName.code).toBe('ERR_BAD_ARGUMENT')
    expect(badName.message).toContain('"has space"')
  })

  it('a batch SQS takes in part: only the refused entry\'s send rejects, with SQS\'s error code in cause', async () => {
    const q = await freshQueue()
    const client = await connect(q.channelUrl)
    open.push(client)
    // The queue's limit drops after the channel read it, so SQS itself refuses the large entry of the batch.
    await rawSqs().send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { MaximumMessageSize: '1024' } }))
    const results = await Promise.allSettled([client.send(Note, { text: 'small' }), client.send(Note, { text: 'x'.repeat(3000) }), client.send(Note, { text: 'small too' })])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const err = (results[1] as PromiseRejectedResult).reason as SeamError
    expect(err.code).toBe('ERR_TRANSPORT')
    expect((err.cause as { code?: string }).code).toBe('InvalidParameterValue')
    expect(await queueCounts(q)).toEqual({ visible: 2, inFlight: 0 })
  })
})
