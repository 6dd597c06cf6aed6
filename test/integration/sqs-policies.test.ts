/**
 * The policies over SQS, against a real SQS endpoint: `reject` makes a
 * message visible again at once so the queue's redrive policy counts it, and
 * on a queue without one it is deleted (or moved to `sqs.deadLetterQueue`)
 * instead of coming back for ever; `dead-letter` forwards it with
 * `x-seam-reason`, then deletes it.
 */
import { decode } from '@msgpack/msgpack'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor } from '../helpers.js'
import { eventually, freshQueue, queueCounts, receiveRaw, useSqs, type TestQueue } from '../helpers/sqs.js'

useSqs()
const open = closedAfterEach()

const Seq = defineMessage('policy.Seq', t.type({ seq: t.number }))
const Other = defineMessage('policy.Other', t.type({ note: t.string }))

/** A server handling Seq only, so an Other is unregistered, and a client of the same queue. */
async function pair(q: TestQueue, options: ConstructorParameters<typeof Registry>[0] = {}, sqs: { deadLetterQueue?: string } = {}): Promise<{ registry: Registry; errors: ReturnType<typeof collectErrors>['errors'] }> {
  const errors = collectErrors()
  const registry = new Registry({ onError: errors.onError, ...options })
  registry.on(Seq, () => undefined)
  open.push(await listen(q.channelUrl, { registry, sqs }))
  const client = await connect(q.channelUrl)
  open.push(client)
  await client.send(Other, { note: 'poison' })
  return { registry, errors: errors.errors }
}

describe('sqs: policies', () => {
  it('reject on a queue with a redrive policy: visible again at once, and moved to its DLQ after maxReceiveCount', async () => {
    const dlq = await freshQueue()
    // A visibility timeout of 30 s: the second receive comes within the test only because reject made it visible at once.
    const q = await freshQueue({ visibilityTimeout: 30, redrive: { deadLetter: dlq, maxReceiveCount: 2 } })
    const { registry, errors } = await pair(q)
    const [dead] = await receiveRaw(dlq, 1, 10_000)
    expect(dead?.MessageAttributes?.['seam-tag']?.StringValue).toBe('policy.Other')
    expect(registry.stats()).toMatchObject({ unregistered: 2, rejected: 2 })
    expect(errors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG', 'ERR_UNREGISTERED_TAG'])
  }, 20_000)

  it('reject on a queue without a redrive policy: reported once, then deleted rather than received for ever', async () => {
    const q = await freshQueue({ visibilityTimeout: 30 })
    const { registry, errors } = await pair(q)
    await waitFor(() => registry.stats().rejected === 1, 5000, 'the rejection')
    await eventually(async () => (await queueCounts(q)).inFlight === 0, 2000, 'the delete')
    expect(await queueCounts(q)).toEqual({ visible: 0, inFlight: 0 })
    expect(errors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG'])
    expect(registry.stats()).toMatchObject({ unregistered: 1, rejected: 1 })
  })

  it('reject on a queue without a redrive policy, with sqs.deadLetterQueue: moved there with x-seam-reason', async () => {
    const dlq = await freshQueue()
    const q = await freshQueue({ visibilityTimeout: 30 })
    const { registry } = await pair(q, {}, { deadLetterQueue: dlq.name })
    const [dead] = await receiveRaw(dlq, 1, 5000)
    expect(dead?.MessageAttributes?.['seam-tag']?.StringValue).toBe('policy.Other')
    expect(dead?.MessageAttributes?.['x-seam-reason']?.StringValue).toMatch(/^ERR_UNREGISTERED_TAG: /)
    await eventually(async () => (await queueCounts(q)).inFlight === 0, 2000, 'the delete')
    expect(await queueCounts(q)).toEqual({ visible: 0, inFlight: 0 })
    expect(registry.stats()).toMatchObject({ rejected: 1 })
  })

  it('dead-letter: the untouched message goes to the deadLetter queue with x-seam-reason, then is deleted', async () => {
    const dlq = await freshQueue()
    const q = await freshQueue({ visibilityTimeout: 30 })
    const { registry } = await pair(q, { unregistered: 'dead-letter', deadLetter: dlq.name })
    const [dead] = await receiveRaw(dlq, 1, 5000)
    expect(dead?.MessageAttributes?.['seam-tag']?.StringValue).toBe('policy.Other')
    expect(dead?.MessageAttributes?.['x-seam-reason']?.StringValue).toMatch(/^ERR_UNREGISTERED_TAG: /)
    // Untouched: the same msgpack body, base64 as the transport sends binary bodies.
    expect(decode(Buffer.from(dead?.Body ?? '', 'base64'))).toEqual({ note: 'poison' })
    await eventually(async () => (await queueCounts(q)).inFlight === 0, 2000, 'the delete')
    expect(await queueCounts(q)).toEqual({ visible: 0, inFlight: 0 })
    expect(registry.stats()).toMatchObject({ unregistered: 1, deadLettered: 1 })
  })
})
