import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { AMQP_URL, drain, freshExchange, freshQueue, rawAmqp, useRabbit } from '../helpers/amqp.js'
import { closedAfterEach, collectErrors, waitFor } from '../helpers.js'

const Job = defineMessage('amqp.Job', t.type({ n: t.number }))
const Stranger = defineMessage('amqp.Stranger', t.type({ n: t.number }))
const run = promisify(execFile)

useRabbit()
const open = closedAfterEach()

/** Messages ready in `queue` (not counting unacknowledged ones). */
async function ready(queue: string): Promise<number> {
  const conn = await rawAmqp()
  try {
    const ch = await conn.createChannel()
    return (await ch.checkQueue(queue)).messageCount
  } finally {
    await conn.close()
  }
}

describe('amqp policies', () => {
  it("reject: nack without requeue, so the queue's dead-letter exchange keeps the message", async () => {
    const queue = freshQueue('reject')
    const dlx = freshExchange('dlx')
    const dlq = freshQueue('dlq')
    const { errors, onError } = collectErrors()
    // Nothing registered for Stranger: the default `unregistered` policy is 'reject'.
    const url = `${AMQP_URL}/?queue=${queue}&deadLetterExchange=${dlx}&deadLetterQueue=${dlq}`
    open.push(await listen(url, { registry: new Registry(), onError }))
    const client = await connect(url)
    open.push(client)
    await client.send(Stranger, { n: 1 })
    const [dead] = await drain(dlq, 1)
    expect(dead?.properties.type).toBe('amqp.Stranger')
    expect(JSON.stringify(dead?.properties.headers?.['x-death'])).toContain(queue)
    expect(errors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG'])
    expect(await ready(queue)).toBe(0)
  })

  it("dead-letter: the untouched message plus x-seam-reason goes to the destination queue, then the original is acked", async () => {
    const queue = freshQueue('src')
    const dead = freshQueue('dead')
    const registry = new Registry({ unregistered: 'dead-letter', deadLetter: dead, onError: () => undefined })
    const url = `${AMQP_URL}/?queue=${queue}`
    open.push(await listen(url, { registry }))
    const client = await connect(url)
    open.push(client)
    await client.send(Stranger, { n: 7 }, { headers: { trace: 'abc' } })
    const [msg] = await drain(dead, 1)
    expect(msg?.properties.type).toBe('amqp.Stranger')
    expect(msg?.properties.headers).toMatchObject({ trace: 'abc', 'x-seam-reason': expect.stringContaining('ERR_UNREGISTERED_TAG') })
    await waitFor(() => registry.stats().deadLettered === 1, 5000, 'the dead-letter to be counted')
    expect(await ready(queue)).toBe(0)
  })

  it('a poison message is retried, then dead-lettered once, and never loops', async () => {
    const queue = freshQueue('poison')
    const dlx = freshExchange('dlx')
    const dlq = freshQueue('dlq')
    const registry = new Registry({ retries: 2, backoffMs: 1, onError: () => undefined })
    const calls = new Map<number, number>()
    registry.on(Job, (job) => {
      calls.set(job.n, (calls.get(job.n) ?? 0) + 1)
      if (job.n === 0) throw new Error('poison')
    })
    const url = `${AMQP_URL}/?queue=${queue}&deadLetterExchange=${dlx}&deadLetterQueue=${dlq}`
    open.push(await listen(url, { registry, concurrency: 1 }))
    const client = await connect(url)
    open.push(client)
    await client.send(Job, { n: 0 })
    const dead = await drain(dlq, 1)
    expect(dead).toHaveLength(1)
    // A requeued poison message would go back to the head of the queue, before this one.
    await client.send(Job, { n: 1 })
    await waitFor(() => calls.get(1) === 1, 5000, 'the message after the poison')
    expect(calls.get(0)).toBe(3)
    expect(registry.stats().failed).toBe(1)
    expect(await ready(dlq)).toBe(0)
  })

  it("quorum queues: RabbitMQ's x-delivery-limit dead-letters a message redelivered too often", async () => {
    const queue = freshQueue('quorum')
    const dlx = freshExchange('dlx')
    const dlq = freshQueue('dlq')
    const url = `${AMQP_URL}/?queue=${queue}&queueType=quorum&deliveryLimit=2&deadLetterExchange=${dlx}&deadLetterQueue=${dlq}`
    // Declares the queue with its limit, then leaves.
    await (await listen(url, { registry: new Registry() })).close()
    const client = await connect(url)
    open.push(client)
    await client.send(Job, { n: 1 })
    // A consumer that crashes on the message every time (nack with requeue), as a process killed mid-handler would.
    const conn = await rawAmqp()
    let deliveries = 0
    try {
      const ch = await conn.createChannel()
      await ch.consume(queue, (msg) => {
        if (msg === null) return
        deliveries++
        ch.nack(msg, false, true)
      })
      const dead = await drain(dlq, 1, 10_000)
      expect(dead).toHaveLength(1)
      expect(dead[0]?.properties.type).toBe('amqp.Job')
    } finally {
      await conn.close()
    }
    expect(deliveries).toBe(3)
  })

  it('prefetch bounds unacknowledged deliveries and concurrency bounds handlers in flight', async () => {
    const queue = freshQueue('bounded')
    const registry = new Registry()
    let running = 0
    let maxRunning = 0
    let done = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    registry.on(Job, async () => {
      maxRunning = Math.max(maxRunning, ++running)
      await gate
      running--
      done++
    })
    const url = `${AMQP_URL}/?queue=${queue}`
    open.push(await listen(url, { registry, concurrency: 4 }))
    const client = await connect(url)
    open.push(client)
    await Promise.all(Array.from({ length: 50 }, (_, n) => client.send(Job, { n })))
    await waitFor(() => running === 4, 5000, '4 handlers running')
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged', '--no-table-headers'], { timeout: 30_000 })
    const row = stdout.split('\n').find((l) => l.startsWith(`${queue}\t`))
    expect(row?.split('\t').slice(1).map(Number)).toEqual([46, 4])
    release()
    await waitFor(() => done === 50, 10_000, 'all 50 handled')
    expect(maxRunning).toBe(4)
  })

  it('close() waits for in-flight handlers and outstanding confirms, acks what was handled, and leaves no handle open', async () => {
    const before = new Set(process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').map((r, i) => `${r}${i}`)).size
    const queue = freshQueue('close')
    const registry = new Registry()
    let handled = 0
    registry.on(Job, async () => {
      await new Promise((r) => setTimeout(r, 100))
      handled++
    })
    const url = `${AMQP_URL}/?queue=${queue}`
    const server = await listen(url, { registry, concurrency: 5 })
    const client = await connect(url)
    const sends = Array.from({ length: 5 }, (_, n) => client.send(Job, { n }))
    const settled = Promise.allSettled(sends)
    await client.close()
    expect((await settled).map((s) => s.status)).toEqual(Array(5).fill('fulfilled'))
    await waitFor(() => handled > 0, 5000, 'the first handler to start')
    await server.close()
    expect(handled).toBe(5)
    expect(await ready(queue)).toBe(0)
    await waitFor(() => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length <= before, 2000, 'every socket to close')
  })
})
