/**
 * What the SQS transport guarantees, against a real SQS endpoint (fauxqs
 * in-process, or SQS_ENDPOINT): at-least-once (deleted only once handled;
 * a listener killed by its PID leaves its message to come back, and the
 * queue's redrive policy ends a message that keeps coming back), the four
 * policies, visibility extended while a handler runs, polling that outlives
 * errors, concurrency past ten, and a bounded close.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, sleep, waitFor, within } from '../helpers.js'
import { CreateQueueCommand, DeleteQueueCommand, PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs'
import { eventually, freshQueue, queueCounts, rawSqs, receiveRaw, useSqs } from '../helpers/sqs.js'
import { scriptChildren, type ScriptChild } from '../helpers/child.js'

useSqs()
const open = closedAfterEach()

const Seq = defineMessage('guarantee.Seq', t.type({ seq: t.number }))

const startScript = scriptChildren()

/** Starts ../helpers/sqs-child.ts on `url`; resolves once it polls, with the seqs it printed as received. */
async function startChild(url: string): Promise<ScriptChild & { readonly received: number[] }> {
  const received: number[] = []
  const child = startScript('sqs-child.ts', [url], (line) => {
    const m = /^received (\d+)$/.exec(line)
    if (m !== null) received.push(Number(m[1]))
  })
  await waitFor(() => child.ready(), 15_000, 'the child to start polling')
  return Object.assign(child, { received })
}

describe('sqs: at-least-once', () => {
  it('a listener killed (SIGKILL) inside its handler leaves the message to come back; after maxReceiveCount the redrive policy moves it to the DLQ', async () => {
    const dlq = await freshQueue()
    const q = await freshQueue({ visibilityTimeout: 1, redrive: { deadLetter: dlq, maxReceiveCount: 2 } })
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Seq, { seq: 7 })
    // Received twice, each time by a process killed by its PID with the message in its handler. The child short-polls
    // with one poller: fauxqs answers a long poll whose process is gone, so a killed child's pending long poll could take
    // a receive of its own (the message invisible once more, its receive count up) and the next child would never see it.
    for (let receive = 1; receive <= 2; receive++) {
      const child = await startChild(`${q.channelUrl}&waitTimeSeconds=0&pollers=1`)
      await waitFor(() => child.received.length === 1, 10_000, `receive ${receive} of the message`)
      expect(child.received).toEqual([7])
      process.kill(child.pid, 'SIGKILL')
      await within(child.exited, 5000, 'the killed child to exit')
    }
    // A third receive is one too many: SQS moves the message to the dead-letter queue instead of delivering it.
    const handled: number[] = []
    const registry = new Registry()
    registry.on(Seq, ({ seq }) => void handled.push(seq))
    open.push(await listen(q.channelUrl, { registry }))
    const dead = await receiveRaw(dlq, 1, 10_000)
    expect(dead).toHaveLength(1)
    expect(dead[0]?.MessageAttributes?.['seam-tag']?.StringValue).toBe('guarantee.Seq')
    expect(handled).toEqual([])
  }, 40_000)

  it('a handler that runs past the visibility timeout keeps its message: it is handled once and deleted after', async () => {
    const q = await freshQueue({ visibilityTimeout: 1 })
    let runs = 0
    const registry = new Registry()
    registry.on(Seq, async () => {
      runs++
      await sleep(2500)
    })
    const errors = collectErrors()
    open.push(await listen(q.channelUrl, { registry, onError: errors.onError }))
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Seq, { seq: 1 })
    await waitFor(() => registry.stats().handled === 1, 8000, 'the slow handler to finish')
    await eventually(async () => (await queueCounts(q)).inFlight === 0, 2000, 'the delete')
    expect(runs).toBe(1)
    expect(await queueCounts(q)).toEqual({ visible: 0, inFlight: 0 })
    expect(errors.errors).toEqual([])
  }, 15_000)
})

describe('sqs: receiving', () => {
  it('handles more than ten messages at once with several long polls, and one slow message holds up nothing', async () => {
    const q = await freshQueue({ visibilityTimeout: 5 })
    let release!: () => void
    const stuck = new Promise<void>((resolve) => (release = resolve))
    let running = 0
    let maxRunning = 0
    const done: number[] = []
    const registry = new Registry()
    registry.on(Seq, async ({ seq }) => {
      maxRunning = Math.max(maxRunning, ++running)
      await (seq === 0 ? stuck : sleep(200))
      running--
      done.push(seq)
    })
    open.push(await listen(q.channelUrl, { registry, concurrency: 40 }))
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Seq, { seq: 0 })
    await waitFor(() => running === 1, 5000, 'the slow message to start')
    await Promise.all(Array.from({ length: 60 }, (_, i) => client.send(Seq, { seq: i + 1 })))
    await waitFor(() => done.length === 60, 10_000, 'the 60 messages behind the slow one')
    expect(done).not.toContain(0)
    expect(maxRunning).toBeGreaterThan(10)
    release()
    await waitFor(() => done.length === 61, 5000, 'the slow message')
  }, 20_000)

  it('a poller that fails reports it, backs off and keeps polling; the channel never ends on it', async () => {
    const q = await freshQueue({ visibilityTimeout: 5 })
    const errors = collectErrors()
    const handled: number[] = []
    const registry = new Registry()
    registry.on(Seq, ({ seq }) => void handled.push(seq))
    const server = await listen(q.channelUrl, { registry, onError: errors.onError, sqs: { pollers: 2, reconnect: { initialDelayMs: 50, maxDelayMs: 400 } } })
    open.push(server)
    let ended = false
    void server.closed().then(() => (ended = true))
    // The queue goes away under the pollers: every receive fails until it is back.
    await rawSqs().send(new DeleteQueueCommand({ QueueUrl: q.url }))
    await waitFor(() => errors.errors.length >= 3, 10_000, 'the failed receives to be reported')
    const reportedAt = errors.errors.length
    const t0 = Date.now()
    await sleep(1500)
    // Backoff from 50 ms to 400 ms with jitter: two pollers fail at most a few times a second each, never in a tight loop.
    const rate = (errors.errors.length - reportedAt) / ((Date.now() - t0) / 1000)
    expect(rate).toBeLessThan(15)
    expect(errors.errors[0]?.code).toBe('ERR_TRANSPORT')
    expect(errors.errors[0]?.message).toContain(q.name)
    await rawSqs().send(new CreateQueueCommand({ QueueName: q.name, Attributes: { VisibilityTimeout: '5' } }))
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Seq, { seq: 5 })
    await waitFor(() => handled.length === 1, 10_000, 'the message sent once the queue was back')
    expect(handled).toEqual([5])
    expect(ended).toBe(false)
  }, 25_000)

  it('a batch call\'s failed entry is reported, not ignored: extending a message purged from under its handler', async () => {
    // fauxqs reports a garbage receipt handle in DeleteMessageBatch as deleted (SQS reports it as failed), so a failed
    // delete entry cannot be had from it; visibility changes go through the same batching (ReceiptCalls) and it does
    // report those.
    const q = await freshQueue({ visibilityTimeout: 1 })
    const errors = collectErrors()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started = false
    const registry = new Registry({ onError: errors.onError })
    registry.on(Seq, async () => {
      started = true
      await held
    })
    open.push(await listen(q.channelUrl, { registry, onError: errors.onError }))
    const client = await connect(q.channelUrl)
    open.push(client)
    await client.send(Seq, { seq: 1 })
    await waitFor(() => started, 5000, 'the handler to start')
    await rawSqs().send(new PurgeQueueCommand({ QueueUrl: q.url }))
    await waitFor(() => errors.errors.length > 0, 5000, 'the failed visibility change to be reported')
    release()
    expect(errors.errors[0]?.code).toBe('ERR_TRANSPORT')
    expect(errors.errors[0]?.message).toMatch(/changing the visibility of a message failed \(ReceiptHandleIsInvalid/)
  })

  it('close() waits for the handler in flight and its delete, then polls no more', async () => {
    const q = await freshQueue({ visibilityTimeout: 1 })
    let finished = 0
    let started = 0
    const registry = new Registry()
    registry.on(Seq, async () => {
      started++
      await sleep(300)
      finished++
    })
    const server = await listen(q.channelUrl, { registry })
    open.push(server)
    await rawSqs().send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"seq":1}', MessageAttributes: { 'seam-tag': { DataType: 'String', StringValue: 'guarantee.Seq' } } }))
    await waitFor(() => started === 1, 5000, 'the handler to start')
    await server.close()
    expect(finished).toBe(1)
    expect(await queueCounts(q)).toEqual({ visible: 0, inFlight: 0 })
    // Nobody handles a message sent now: it stays for a plain consumer. (fauxqs answers a long poll that close()
    // cancelled, so the message may first sit out one visibility timeout, 1 s here, as if received: it is not deleted.)
    await rawSqs().send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"seq":2}', MessageAttributes: { 'seam-tag': { DataType: 'String', StringValue: 'guarantee.Seq' } } }))
    expect(await receiveRaw(q, 1, 4000)).toHaveLength(1)
    expect(started).toBe(1)
  })
})
