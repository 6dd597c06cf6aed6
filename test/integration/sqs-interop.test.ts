/**
 * The SQS wire format as a plain SDK user sees it, against a real SQS
 * endpoint: a plain consumer reads the tag, content type and body of our
 * messages; a plain producer's message with the tag attribute is dispatched;
 * a plain service answers a request; FIFO messages carry their key and id in
 * SQS's own fields; and concurrent sends leave in SendMessageBatch calls.
 */
import { createServer, request, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { SendMessageCommand } from '@aws-sdk/client-sqs'
import { decode } from '@msgpack/msgpack'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, json, listen } from '../../src/index.js'
import { closedAfterEach, waitFor } from '../helpers.js'
import { freshQueue, rawSqs, receiveRaw, sqsEndpoint, useSqs } from '../helpers/sqs.js'

useSqs()
const open = closedAfterEach()

const Order = defineMessage('interop.Order', t.type({ id: t.string, qty: t.number }))
const Ask = defineMessage('interop.Ask', t.type({ q: t.string }))
const Answer = defineMessage('interop.Answer', t.type({ a: t.string }))

const attr = (value: string): { DataType: string; StringValue: string } => ({ DataType: 'String', StringValue: value })

/** A loopback HTTP proxy in front of the endpoint that counts the SQS actions passing through it (X-Amz-Target). */
async function countingProxy(): Promise<{ port: number; actions: Map<string, number>; close(): Promise<void> }> {
  const upstream = new URL(sqsEndpoint())
  const actions = new Map<string, number>()
  const server: HttpServer = createServer((req, res) => {
    const action = String(req.headers['x-amz-target'] ?? req.url).replace(/^AmazonSQS\./, '')
    actions.set(action, (actions.get(action) ?? 0) + 1)
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up: IncomingMessage) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    actions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

describe('sqs: a plain SDK user', () => {
  it('reads the tag and content type from attributes, and the msgpack body in base64', async () => {
    const q = await freshQueue()
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Order, { id: 'o-1', qty: 3 }, { headers: { 'trace-id': 't-9' } })
    const [m] = await receiveRaw(q, 1, 5000)
    expect(m?.MessageAttributes?.['seam-tag']?.StringValue).toBe('interop.Order')
    expect(m?.MessageAttributes?.['seam-ct']?.StringValue).toBe('application/msgpack')
    expect(m?.MessageAttributes?.['trace-id']?.StringValue).toBe('t-9')
    expect(decode(Buffer.from(m?.Body ?? '', 'base64'))).toEqual({ id: 'o-1', qty: 3 })
    // The other envelope fields, packed in one attribute so that headers keep seven of SQS's ten.
    expect(JSON.parse(m?.MessageAttributes?.seam?.StringValue ?? '')).toMatchObject({ id: expect.any(String), ts: expect.any(Number) })
    expect(Object.keys(m?.MessageAttributes ?? {}).sort()).toEqual(['seam', 'seam-ct', 'seam-tag', 'trace-id'])
  })

  it('reads a JSON body as the text it is', async () => {
    const q = await freshQueue()
    const client = await connect(q.channelUrl, { serde: json })
    open.push(client)
    await client.send(Order, { id: 'o-2', qty: 1 })
    const [m] = await receiveRaw(q, 1, 5000)
    expect(m?.MessageAttributes?.['seam-ct']?.StringValue).toBe('application/json')
    expect(JSON.parse(m?.Body ?? '')).toEqual({ id: 'o-2', qty: 1 })
  })

  it('sends a message with the tag attribute and a JSON body, and it is dispatched', async () => {
    const q = await freshQueue()
    const got: { value: unknown; id: string; headers: Record<string, string> }[] = []
    const registry = new Registry()
    registry.on(Order, (value, ctx) => void got.push({ value, id: ctx.id, headers: { ...ctx.headers } }))
    open.push(await listen(q.channelUrl, { registry }))
    const sent = await rawSqs().send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"id":"o-3","qty":2}', MessageAttributes: { 'seam-tag': attr('interop.Order'), tenant: attr('acme') } }))
    await waitFor(() => got.length === 1, 5000, 'the plain message to be handled')
    // Without an id of ours, SQS's own message id stands in.
    expect(got[0]).toEqual({ value: { id: 'o-3', qty: 2 }, id: sent.MessageId, headers: { tenant: 'acme' } })
  })

  it('answers a request: the reply goes to the queue in replyTo, with the request id as corr', async () => {
    const q = await freshQueue()
    const replies = await freshQueue()
    const client = await connect(q.channelUrl, { sqs: { replyQueue: replies.name } })
    open.push(client)
    const answer = client.request(Ask, { q: 'why' }, { expect: Answer, timeoutMs: 8000 })
    const [m] = await receiveRaw(q, 1, 5000)
    const fields = JSON.parse(m?.MessageAttributes?.seam?.StringValue ?? '{}') as { id: string; replyTo: string }
    expect(fields.replyTo).toBe(replies.url)
    await rawSqs().send(new SendMessageCommand({ QueueUrl: fields.replyTo, MessageBody: '{"a":"because"}', MessageAttributes: { 'seam-tag': attr('interop.Answer'), seam: attr(JSON.stringify({ corr: fields.id })) } }))
    expect(await answer).toEqual({ a: 'because' })
  })

  it('on a FIFO queue, finds the ordering key as MessageGroupId and the envelope id as MessageDeduplicationId', async () => {
    const q = await freshQueue({ fifo: true })
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Order, { id: 'o-4', qty: 1 }, { key: 'customer-7' })
    const [m] = await receiveRaw(q, 1, 5000)
    const fields = JSON.parse(m?.MessageAttributes?.seam?.StringValue ?? '{}') as { id: string }
    expect(m?.Attributes?.MessageGroupId).toBe('customer-7')
    expect(m?.Attributes?.MessageDeduplicationId).toBe(fields.id)
  })
})

describe('sqs: batching', () => {
  it('concurrent sends leave in SendMessageBatch calls of up to ten, never one SendMessage each', async () => {
    const q = await freshQueue()
    const proxy = await countingProxy()
    open.push(proxy)
    const client = await connect(`sqs://127.0.0.1:${proxy.port}/${new URL(q.url).pathname.slice(1)}?region=us-east-1`)
    open.push(client)
    proxy.actions.clear()
    await Promise.all(Array.from({ length: 25 }, (_, i) => client.send(Order, { id: `o-${i}`, qty: i })))
    expect(proxy.actions.get('SendMessage')).toBeUndefined()
    expect(proxy.actions.get('SendMessageBatch')).toBe(3)
    expect(await receiveRaw(q, 25, 5000)).toHaveLength(25)
  })
})
