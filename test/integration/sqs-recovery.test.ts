/**
 * The SQS endpoint goes away and comes back on the same port: a listener's
 * pollers report the failure, back off instead of spinning, and consume
 * again once it is back; a send made meanwhile waits and goes through. The
 * endpoint is a fauxqs this file starts and stops itself (a new one keeps
 * nothing of the last one's queues, so the test makes the queue again).
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs'
import { startFauxqs } from 'fauxqs'
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'

const Note = defineMessage('sqs-recovery.Note', t.type({ seq: t.number }))

type Fauxqs = Awaited<ReturnType<typeof startFauxqs>>
let endpoint: Fauxqs | undefined
const open = closedAfterEach()
afterEach(async () => {
  await endpoint?.stop()
  endpoint = undefined
})

async function start(port: number): Promise<Fauxqs> {
  endpoint = await startFauxqs({ port, logger: false, host: 'localhost' })
  return endpoint
}

async function makeQueue(port: number, name: string): Promise<void> {
  const sdk = new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'seam-test', secretAccessKey: 'seam-test' } })
  try {
    await sdk.send(new CreateQueueCommand({ QueueName: name }))
  } finally {
    sdk.destroy()
  }
}

describe('sqs: the endpoint goes away and comes back on the same port', () => {
  it('the listener reports it, backs off, and consumes again; a send made meanwhile goes through once it is back', async () => {
    const { port } = await start(0)
    const name = `seam-test-recovery-${Date.now().toString(36)}`
    await makeQueue(port, name)
    const url = `sqs://127.0.0.1:${port}/000000000000/${name}?region=us-east-1&waitTimeSeconds=1`
    const got: number[] = []
    const errors = collectErrors()
    const registry = new Registry({ onError: errors.onError })
    registry.on(Note, (n) => void got.push(n.seq))
    const reconnect = { initialDelayMs: 100, maxDelayMs: 400 }
    open.push(await listen(url, { registry, onError: errors.onError, sqs: { pollers: 2, reconnect } }))
    const sender = await connect(url, { sqs: { reconnect } })
    open.push(sender)
    await sender.send(Note, { seq: 1 })
    await waitFor(() => got.length === 1, 10_000, 'the message sent before the outage')

    await (endpoint as Fauxqs).stop()
    endpoint = undefined
    const down = performance.now()
    await waitFor(() => errors.errors.length >= 2, 10_000, 'the pollers to report the failure')
    expect(errors.errors[0]?.code).toBe('ERR_TRANSPORT')
    expect(errors.errors[0]?.retriable).toBe(true)
    expect(errors.errors[0]?.message).toContain(name)
    // A send while it is away waits for it rather than failing.
    let sent = false
    const meanwhile = sender.send(Note, { seq: 2 }).then(() => void (sent = true))
    // Two pollers backing off from 100 ms up to 400 ms: at most two reports per 100 ms, where a tight loop would make hundreds.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const reports = errors.errors.length
    expect(reports).toBeLessThan(2 * Math.ceil((performance.now() - down) / 100))
    expect(sent).toBe(false)

    await start(port)
    await makeQueue(port, name)
    await within(meanwhile, 10_000, 'the send made during the outage')
    await sender.send(Note, { seq: 3 })
    await waitFor(() => got.includes(2) && got.includes(3), 10_000, 'the messages sent during and after the outage')
    expect([...got].sort((a, b) => a - b)).toEqual([1, 2, 3])
    expect(errors.errors.every((e) => e.code === 'ERR_TRANSPORT')).toBe(true)
  }, 30_000)
})
