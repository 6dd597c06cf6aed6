import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryHub, Registry, connect, defineMessage, listen, type Channel, type Delivery, type Server } from '../../src/index.js'

const Job = defineMessage('memq.Job', t.type({ n: t.number }))

async function until(ok: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** A raw consumer on a hub queue, to observe acknowledgements below the channel. */
function consume(hub: MemoryHub, queue: string, prefetch = 10): Delivery[] {
  const got: Delivery[] = []
  hub.queue(queue).subscribe({ prefetch, deliver: (d) => void got.push(d) })
  return got
}

describe('memory transport: queue semantics', () => {
  const open: (Channel | Server)[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
  })

  async function producer(hub: MemoryHub, queue: string): Promise<Channel> {
    const ch = await connect(`memory://${queue}`, { hub })
    open.push(ch)
    return ch
  }

  it('redelivers a message nacked with requeue, marked as redelivered, before later ones', async () => {
    const hub = new MemoryHub()
    const got = consume(hub, 'q', 1)
    const ch = await producer(hub, 'q')
    await ch.send(Job, { n: 1 })
    await ch.send(Job, { n: 2 })
    await until(() => got.length === 1, 'the first delivery')
    got[0]?.nack({ requeue: true })
    await until(() => got.length === 2, 'the redelivery')
    expect(got[1]?.envelope?.id).toBe(got[0]?.envelope?.id)
    expect(got[1]?.redelivered).toBe(true)
    got[1]?.ack()
    await until(() => got.length === 3, 'the next message')
    expect(got[2]?.redelivered).toBe(false)
  })

  it('sends a message nacked without requeue to the dead-letter queue, else counts it discarded', async () => {
    const hub = new MemoryHub().declare('work', { deadLetterTo: 'work.dlq' }).declare('other')
    const work = consume(hub, 'work')
    const dlq = consume(hub, 'work.dlq')
    const other = consume(hub, 'other')
    const ch = await producer(hub, 'work')
    await ch.send(Job, { n: 1 })
    await ch.send(Job, { n: 2 }, { to: 'other' })
    await until(() => work.length === 1 && other.length === 1, 'both deliveries')
    work[0]?.nack({ requeue: false })
    other[0]?.nack({ requeue: false })
    await until(() => dlq.length === 1, 'the dead letter')
    expect(dlq[0]?.envelope?.id).toBe(work[0]?.envelope?.id)
    expect(hub.discarded('other')).toBe(1)
  })

  it('holds a message back while another of its key is unacknowledged', async () => {
    const hub = new MemoryHub()
    const got = consume(hub, 'q', 10)
    const ch = await producer(hub, 'q')
    await ch.send(Job, { n: 1 }, { key: 'a' })
    await ch.send(Job, { n: 2 }, { key: 'a' })
    await ch.send(Job, { n: 3 }, { key: 'b' })
    await until(() => got.length === 2, 'a1 and b3')
    expect(got.map((d) => d.key)).toEqual(['a', 'b'])
    expect(hub.depth('q')).toBe(1)
    got[0]?.ack()
    await until(() => got.length === 3, 'a2 after a1 was acked')
    expect(got[2]?.key).toBe('a')
  })

  it('acknowledges only after the handler resolved, so a slow handler holds its key', async () => {
    const hub = new MemoryHub()
    const registry = new Registry()
    const started: number[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    registry.on(Job, async (job) => {
      started.push(job.n)
      if (job.n === 1) await gate
    })
    open.push(await listen('memory://keyed', { registry, hub }))
    const ch = await producer(hub, 'keyed')
    await ch.send(Job, { n: 1 }, { key: 'k' })
    await ch.send(Job, { n: 2 }, { key: 'k' })
    await until(() => started.length === 1, 'the first handler')
    expect(hub.depth('keyed')).toBe(1)
    release()
    await until(() => started.length === 2, 'the second handler')
    expect(started).toEqual([1, 2])
  })

  it('competing consumers share a queue; hubs never see each other', async () => {
    const hub = new MemoryHub()
    const a: number[] = []
    const b: number[] = []
    const ra = new Registry().on(Job, (j) => void a.push(j.n))
    const rb = new Registry().on(Job, (j) => void b.push(j.n))
    open.push(await listen('memory://shared', { registry: ra, hub }), await listen('memory://shared', { registry: rb, hub }))
    const elsewhere: number[] = []
    open.push(await listen('memory://shared', { registry: new Registry().on(Job, (j) => void elsewhere.push(j.n)), hub: new MemoryHub() }))
    const ch = await producer(hub, 'shared')
    for (let n = 0; n < 100; n++) await ch.send(Job, { n })
    await until(() => a.length + b.length === 100, 'all jobs')
    expect(a.length).toBeGreaterThan(0)
    expect(b.length).toBeGreaterThan(0)
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(elsewhere).toEqual([])
  })

  it("the 'dead-letter' policy with a destination name forwards to that queue", async () => {
    const hub = new MemoryHub()
    const dlq = consume(hub, 'jobs.dead')
    const registry = new Registry({ invalid: 'dead-letter', deadLetter: 'jobs.dead' }).on(Job, () => undefined)
    open.push(await listen('memory://jobs', { registry, hub }))
    const ch = await producer(hub, 'jobs')
    const Liar = defineMessage('memq.Job', t.type({ n: t.string }))
    await ch.send(Liar, { n: 'one' })
    await until(() => dlq.length === 1, 'the dead letter')
    expect(dlq[0]?.envelope?.tag).toBe('memq.Job')
    expect(dlq[0]?.envelope?.headers['x-seam-reason']).toContain('n: expected number, got "one"')
    expect(hub.depth('jobs')).toBe(0)
  })

  it('refuses to connect without a hub, naming the option', async () => {
    await expect(connect('memory://q')).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT', message: expect.stringContaining('"hub"') })
  })
})
