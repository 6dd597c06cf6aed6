/**
 * What the Kafka transport promises a user, checked against a real broker
 * (mokapi, or KAFKA_BROKERS) the way a user would check it: per-key order and
 * concurrency, offsets committed only once handled (a listener killed with
 * SIGKILL loses nothing), a handler longer than the session keeps its
 * membership, policies dead-letter and commit past a record without blocking
 * its partition, and a member that closes hands its partitions over intact.
 * Offsets are read back with plain kafkajs (see ../helpers/kafka-markers.ts).
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type Channel, type ListenOptions, type Server } from '../../src/index.js'
import { closedAfterEach, sleep, waitFor, within } from '../helpers.js'
import { fastKafka, freshGroup, freshTopic, kafkaUrl, PARTITIONS, rawKafka, useKafka, kafkaErrors } from '../helpers/kafka.js'
import { appendMarkers, partitionOf, readToMarkers, type ReadRecord } from '../helpers/kafka-markers.js'
import { scriptChildren, type ScriptChild } from '../helpers/child.js'

useKafka()
const open = closedAfterEach()

const Seq = defineMessage('guarantee.Seq', t.type({ seq: t.number }))
const Work = defineMessage('guarantee.Work', t.type({ key: t.string, seq: t.number }))
// Same tag as Work, with a codec the receiver's Work refuses.
const WorkAsText = defineMessage('guarantee.Work', t.type({ key: t.string, seq: t.string }))
const Stranger = defineMessage('guarantee.Stranger', t.type({ note: t.string }))


const startScript = scriptChildren()

function listenUrl(topic: string, group: string): string {
  return `${kafkaUrl()}/${topic}?group=${group}&fromBeginning=true`
}

async function server(topic: string, group: string, options: ListenOptions): Promise<Server> {
  const s = await listen(listenUrl(topic, group), { ...options, kafka: { ...fastKafka, ...options.kafka } })
  open.push(s)
  return s
}

async function sender(topic: string): Promise<Channel> {
  const c = await connect(`${kafkaUrl()}/${topic}`, { kafka: fastKafka })
  open.push(c)
  return c
}

/** Everything still to read for `group` on `topic` (nothing, once it committed up to the end), and the whole topic, read after markers. */
async function leftAndAll(topic: string, group: string): Promise<{ left: ReadRecord[]; all: ReadRecord[]; ends: Map<number, number> }> {
  const id = await appendMarkers(topic, PARTITIONS.topic)
  const [left, all] = await Promise.all([readToMarkers(topic, PARTITIONS.topic, id, { groupId: group }), readToMarkers(topic, PARTITIONS.topic, id)])
  return { left: left.records, all: all.records, ends: all.markers }
}

/** Every record of a one-partition dead-letter topic. */
async function deadLetters(topic: string): Promise<ReadRecord[]> {
  return (await readToMarkers(topic, PARTITIONS.deadLetter, await appendMarkers(topic, PARTITIONS.deadLetter))).records
}

/** Checks `dead` is `original` untouched (key, value, timestamp, headers) plus `x-seam-reason`; returns the reason. */
function reasonOf(dead: ReadRecord, original: ReadRecord | undefined): string {
  expect(original, 'the dead letter’s original record').toBeDefined()
  const { 'x-seam-reason': reason, ...headers } = dead.headers
  expect(dead.key).toBe(original?.key)
  expect(dead.value.equals(original?.value ?? Buffer.alloc(1))).toBe(true)
  // The timestamp too: it carries the envelope's `ts`.
  expect(dead.timestamp).toBe(original?.timestamp)
  expect(headers).toEqual(original?.headers)
  expect(reason).toBeDefined()
  return reason?.toString() ?? ''
}

/** Records by key and value, which no two records of a test share (one-way records carry no seam-id). */
const content = (r: ReadRecord): string => `${r.key ?? ''}\u0000${r.value.toString('hex')}`
const byContent = (records: readonly ReadRecord[]): Map<string, ReadRecord> => new Map(records.map((r) => [content(r), r]))

// A retry only when the test broker crashed or tore a fetch under the first attempt (see useKafka).
describe('kafka guarantees', { retry: 1 }, () => {
  it('handles one key at a time and in order, other keys of the same partition at once, and commits up to the end', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`)
    const perKey = 12
    const partition = new Map(keys.map((k) => [k, partitionOf(k, PARTITIONS.topic)]))
    const handled = new Map<string, number[]>(keys.map((k) => [k, []]))
    const running = new Map<string, number>()
    let sameKeyOverlaps = 0
    let maxRunning = 0
    let maxSamePartition = 0
    const { errors, onError } = kafkaErrors()
    const registry = new Registry({ onError })
    registry.on(Work, async ({ key, seq }) => {
      if (running.has(key)) sameKeyOverlaps++
      running.set(key, (running.get(key) ?? 0) + 1)
      maxRunning = Math.max(maxRunning, [...running.values()].reduce((a, b) => a + b, 0))
      maxSamePartition = Math.max(maxSamePartition, [...running.keys()].filter((k) => partition.get(k) === partition.get(key)).length)
      await sleep(5 + (seq % 3) * 5)
      handled.get(key)?.push(seq)
      const left = (running.get(key) ?? 1) - 1
      if (left === 0) running.delete(key)
      else running.set(key, left)
    })
    const [s, client] = await Promise.all([server(topic, group, { registry, onError }), sender(topic)])
    const sends: Promise<void>[] = []
    for (let seq = 0; seq < perKey; seq++) for (const key of keys) sends.push(client.send(Work, { key, seq }, { key }))
    await Promise.all(sends)
    const total = keys.length * perKey
    const count = (): number => [...handled.values()].reduce((n, l) => n + l.length, 0)
    await waitFor(() => count() === total, 15_000, `all ${total} messages handled (got ${count()})`)
    await within(s.close(), 5000, 'closing the listener')

    expect(sameKeyOverlaps).toBe(0)
    for (const key of keys) expect(handled.get(key), key).toEqual(Array.from({ length: perKey }, (_, i) => i))
    // Four partitions: more than four at once means keys of one partition ran side by side; maxSamePartition says so directly.
    expect(maxRunning).toBeGreaterThan(PARTITIONS.topic)
    expect(maxSamePartition).toBeGreaterThan(1)

    const { left, all, ends } = await leftAndAll(topic, group)
    // Our partition map is the producer's: the counts tell where each record went.
    expect(all).toHaveLength(total)
    for (const r of all) expect(r.partition, r.key).toBe(partition.get(r.key ?? ''))
    // The group's next read on every partition is the marker: committed exactly at the end.
    expect(left).toEqual([])
    for (let p = 0; p < PARTITIONS.topic; p++) expect(ends.get(p)).toBe(all.filter((r) => r.partition === p).length)
    expect(errors).toEqual([])
    console.log(`kafka guarantees: ${total} messages over ${keys.length} keys; at most ${maxRunning} at once, ${maxSamePartition} keys of one partition at once`)
  }, 40_000)

  it('commits only what was handled: a listener killed (SIGKILL) mid-batch loses nothing, a new member handles the rest', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    const total = 200
    const client = await sender(topic)
    await Promise.all(Array.from({ length: total }, (_, seq) => client.send(Seq, { seq }, { key: `k${seq % 8}` })))

    // The child fetches all 200 at once (one batch per partition) and handles them 4 at a time, 20 ms each.
    const child = startChild(listenUrl(topic, group), 20, 4)
    await waitFor(() => child.alive() && child.handled.length >= 40, 20_000, 'the child to handle 40 messages').catch((err: Error) => {
      throw new Error(`${err.message} (${child.describe()})`)
    })
    const killedAt = Date.now()
    process.kill(child.pid, 'SIGKILL')
    await within(child.exited, 5000, 'the killed child to exit')
    const byChild = new Set(child.handled)
    expect(byChild.size).toBe(child.handled.length)
    expect(byChild.size).toBeLessThan(total)

    const again: number[] = []
    const { errors, onError } = kafkaErrors()
    const registry = new Registry({ onError })
    registry.on(Seq, ({ seq }) => void again.push(seq))
    await server(topic, group, { registry, onError })
    const missing = (): number[] => Array.from({ length: total }, (_, seq) => seq).filter((seq) => !byChild.has(seq) && !again.includes(seq))
    await waitFor(() => missing().length === 0, 30_000, `every message the child did not handle (missing ${missing().length})`)
    const takeoverMs = Date.now() - killedAt

    const duplicates = again.filter((seq) => byChild.has(seq)).length
    console.log(`kafka guarantees: killed after ${byChild.size} of ${total} handled; the new member handled ${again.length} within ${takeoverMs} ms of the kill: 0 lost, ${duplicates} twice`)
    expect(new Set(again).size).toBe(again.length)
    // What the child handled was committed as it went (it never reached a close): at most about its window comes again.
    expect(duplicates).toBeLessThanOrEqual(16)
    expect(errors).toEqual([])
  }, 40_000)

  it('keeps its membership through a handler longer than the session timeout: no rebalance, nothing twice, the same member goes on', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    // Past the session (6 s) by more than the broker takes to notice (it looks each second) and hand the partition over (a 1 s join round):
    // were the member thrown out, the other would start the slow message again before it ended.
    const slowMs = 10_000
    expect(slowMs).toBeGreaterThan(fastKafka.sessionTimeoutMs + 3000)
    const starts: { who: string; seq: number }[] = []
    const ends: { who: string; seq: number; ms: number }[] = []
    const { errors, onError } = kafkaErrors()
    const member = (who: string): Registry => {
      const registry = new Registry({ onError })
      registry.on(Seq, async ({ seq }) => {
        starts.push({ who, seq })
        const start = Date.now()
        if (seq === 0) await sleep(slowMs)
        ends.push({ who, seq, ms: Date.now() - start })
      })
      return registry
    }
    // Two members, so that one thrown out would show: the other would take its partition and handle its records again.
    const [, , client] = await Promise.all([server(topic, group, { registry: member('a'), concurrency: 1, onError }), server(topic, group, { registry: member('b'), concurrency: 1, onError }), sender(topic)])
    // One key: one partition, one member, and with concurrency 1 a full window behind the slow message.
    for (let seq = 0; seq < 6; seq++) await client.send(Seq, { seq }, { key: 'slow' })
    await waitFor(() => ends.length >= 6, slowMs + 10_000, `the slow message and the 5 behind it (got ${ends.length})`)
    // One more, after the slow one: the member that owned the partition still does.
    await client.send(Seq, { seq: 6 }, { key: 'slow' })
    await waitFor(() => ends.some((e) => e.seq === 6), 15_000, 'the message sent after the slow one')

    expect(starts.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(ends.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(new Set(starts.map((e) => e.who)).size).toBe(1)
    expect(ends[0]?.ms).toBeGreaterThan(fastKafka.sessionTimeoutMs + 3000)
    expect(errors).toEqual([])
  }, 40_000)

  it('reject (an unregistered tag, an invalid payload, a record without a tag) puts the untouched record plus x-seam-reason on <topic>.dlq and commits past it', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    const keys = ['k0', 'k1', 'k2', 'k3']
    const handled = new Map<string, number[]>(keys.map((k) => [k, []]))
    const { errors, onError } = kafkaErrors()
    const registry = new Registry({ onError })
    registry.on(Work, ({ key, seq }) => void handled.get(key)?.push(seq))
    const [s, client] = await Promise.all([server(topic, group, { registry, onError }), sender(topic)])
    const sends: Promise<void>[] = []
    for (const key of keys) {
      sends.push(client.send(Work, { key, seq: 0 }, { key }), client.send(Stranger, { note: key }, { key, headers: { trace: key } }), client.send(Work, { key, seq: 1 }, { key }))
      sends.push(client.send(WorkAsText, { key, seq: 'two' }, { key }), client.send(Work, { key, seq: 2 }, { key }))
    }
    await Promise.all(sends)
    // What a plain producer might send: no seam-tag header.
    const producer = rawKafka().producer()
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: [{ key: 'k0', value: 'not a seam message', headers: { origin: 'plain' } }] })
    await producer.disconnect()

    const rejected = 2 * keys.length + 1
    await waitFor(() => registry.stats().rejected === rejected && [...handled.values()].every((l) => l.length === 3), 10_000, 'every message handled or rejected')
    await within(s.close(), 5000, 'closing the listener')

    for (const key of keys) expect(handled.get(key), key).toEqual([0, 1, 2])
    const [dead, { left, all }] = await Promise.all([deadLetters(`${topic}.dlq`), leftAndAll(topic, group)])
    expect(left).toEqual([])
    const originals = byContent(all)
    const reasons = dead.map((d) => reasonOf(d, originals.get(content(d))).split(':')[0])
    expect(reasons.sort()).toEqual([...Array(keys.length).fill('ERR_INVALID_PAYLOAD'), 'ERR_PROTOCOL', ...Array(keys.length).fill('ERR_UNREGISTERED_TAG')])
    expect(errors.map((e) => e.code).sort()).toEqual(reasons)
  }, 30_000)

  it('failed: retried with backoff, then dead-lettered to the deadLetter topic; the poison record holds up neither its partition nor other keys', async () => {
    const topic = freshTopic()
    const deadLetter = `${freshTopic()}.dlq`
    const group = freshGroup()
    const poisonPartition = partitionOf('poison', PARTITIONS.topic)
    const candidates = Array.from({ length: 40 }, (_, i) => `key-${i}`)
    const samePartition = candidates.filter((k) => partitionOf(k, PARTITIONS.topic) === poisonPartition).slice(0, 3)
    const otherPartitions = candidates.filter((k) => partitionOf(k, PARTITIONS.topic) !== poisonPartition).slice(0, 3)
    const attempts: number[] = []
    const handled: { key: string; seq: number; at: number }[] = []
    const { errors, onError } = kafkaErrors()
    const registry = new Registry({ retries: 2, backoffMs: 200, failed: 'dead-letter', deadLetter, onError })
    registry.on(Work, ({ key, seq }) => {
      if (key === 'poison' && seq === 0) {
        attempts.push(Date.now())
        throw new Error('poison')
      }
      handled.push({ key, seq, at: Date.now() })
    })
    const [s, client] = await Promise.all([server(topic, group, { registry, onError }), sender(topic)])
    const sends: Promise<void>[] = []
    for (let seq = 0; seq < 3; seq++) for (const key of ['poison', ...samePartition, ...otherPartitions]) sends.push(client.send(Work, { key, seq }, { key }))
    await Promise.all(sends)
    await waitFor(() => handled.length === 3 * (1 + samePartition.length + otherPartitions.length) - 1, 10_000, `every record but the poison handled (got ${handled.length})`)
    await within(s.close(), 5000, 'closing the listener')

    // 1 + 2 retries, 200 then 400 ms apart.
    expect(attempts).toHaveLength(3)
    expect((attempts[1] as number) - (attempts[0] as number)).toBeGreaterThanOrEqual(190)
    expect((attempts[2] as number) - (attempts[1] as number)).toBeGreaterThanOrEqual(390)
    const last = attempts[2] as number
    // Its own key waits for it, in order; every other key of its partition and of the others does not.
    expect(handled.filter((h) => h.key === 'poison').map((h) => h.seq)).toEqual([1, 2])
    for (const h of handled.filter((h) => h.key === 'poison')) expect(h.at).toBeGreaterThanOrEqual(last)
    expect(samePartition).toHaveLength(3)
    for (const key of [...samePartition, ...otherPartitions]) {
      const mine = handled.filter((h) => h.key === key)
      expect(mine.map((h) => h.seq), key).toEqual([0, 1, 2])
      for (const h of mine) expect(h.at, key).toBeLessThan(last)
    }

    const [dead, { left, all }] = await Promise.all([deadLetters(deadLetter), leftAndAll(topic, group)])
    expect(left).toEqual([])
    expect(dead).toHaveLength(1)
    const original = all.find((r) => r.key === 'poison' && r.offset === Math.min(...all.filter((a) => a.key === 'poison').map((a) => a.offset)))
    expect(reasonOf(dead[0] as ReadRecord, original)).toMatch(/^ERR_HANDLER_FAILED: /)
    expect(registry.stats()).toMatchObject({ failed: 1, retried: 2, deadLettered: 1 })
    expect(errors).toEqual([])
  }, 30_000)

  it('a member that closes commits what it finished and nothing after; the other takes over its partitions and handles the rest, none lost', async () => {
    const topic = freshTopic()
    const group = freshGroup()
    // Three keys on each partition.
    const keys = [0, 1, 2, 3].flatMap((p) => Array.from({ length: 40 }, (_, i) => `key-${i}`).filter((k) => partitionOf(k, PARTITIONS.topic) === p).slice(0, 3))
    const handled = { a: [] as { key: string; seq: number }[], b: [] as { key: string; seq: number }[] }
    /** Which member closes (the one with two partitions or more), and the gates its second-round handlers wait on. */
    let closer: 'a' | 'b' | undefined
    const gates = new Map<number, { open: () => void; opened: Promise<void> }>()
    let holding = 0
    const errors = { a: kafkaErrors(), b: kafkaErrors() }
    const member = (who: 'a' | 'b'): Registry => {
      const registry = new Registry({ onError: errors[who].onError })
      registry.on(Work, async ({ key, seq }) => {
        if (who === closer && seq > 0) {
          holding++
          await gates.get(partitionOf(key, PARTITIONS.topic))?.opened
        }
        handled[who].push({ key, seq })
      })
      return registry
    }
    const [sa, sb, client] = await Promise.all([
      server(topic, group, { registry: member('a'), onError: errors.a.onError, closeTimeoutMs: 1000 }),
      server(topic, group, { registry: member('b'), onError: errors.b.onError, closeTimeoutMs: 1000 }),
      sender(topic),
    ])
    await Promise.all(keys.map((key) => client.send(Work, { key, seq: 0 }, { key })))
    await waitFor(() => handled.a.length + handled.b.length >= keys.length, 10_000, 'the first round')
    // Each got some partitions, each partition one member.
    const partitionsOf = (who: 'a' | 'b'): number[] => [...new Set(handled[who].map((h) => partitionOf(h.key, PARTITIONS.topic)))].sort()
    expect([...partitionsOf('a'), ...partitionsOf('b')].sort()).toEqual([0, 1, 2, 3])
    closer = partitionsOf('a').length >= 2 ? 'a' : 'b'
    const other = closer === 'a' ? 'b' : 'a'
    // Its first partition's handlers are let go while it closes; the others' only after it closed.
    const [early, ...late] = partitionsOf(closer)
    expect(late.length).toBeGreaterThan(0)
    for (const p of partitionsOf(closer)) {
      let open!: () => void
      const opened = new Promise<void>((resolve) => (open = resolve))
      gates.set(p, { open, opened })
    }
    const closerKeys = keys.filter((k) => partitionsOf(closer as 'a' | 'b').includes(partitionOf(k, PARTITIONS.topic)))
    const otherKeys = keys.filter((k) => !closerKeys.includes(k))

    // Second round, two per key: the closer's first of each key hangs in its handler, the second waits behind it.
    const sends: Promise<void>[] = []
    for (const seq of [1, 2]) for (const key of keys) sends.push(client.send(Work, { key, seq }, { key }))
    await Promise.all(sends)
    await waitFor(() => holding === closerKeys.length && handled[other].length === otherKeys.length * 3, 10_000, 'the closer holding one message per key, the other done with its own')
    const started = Date.now()
    // Closing hands back at once what waits (the seconds), then waits for its handlers (closeTimeoutMs 1 s).
    const closing = (closer === 'a' ? sa : sb).close()
    gates.get(early as number)?.open()
    await within(closing, 5000, 'closing')
    const closeMs = Date.now() - started
    // Too late: the close is over; nothing of these may be committed now.
    for (const p of late) gates.get(p)?.open()
    await waitFor(() => handled[closer as 'a' | 'b'].length === closerKeys.length * 2, 2000, 'the late handlers to end')

    const takeover = Date.now()
    const expected = (key: string): number[] => (partitionOf(key, PARTITIONS.topic) === early ? [2] : [1, 2])
    const count = closerKeys.reduce((n, k) => n + expected(k).length, 0)
    const taken = (): { key: string; seq: number }[] => handled[other].filter((h) => closerKeys.includes(h.key))
    await waitFor(() => taken().length >= count, 20_000, `the other member to handle the ${count} messages the closer did not finish (got ${taken().length})`)
    console.log(`kafka guarantees: the closing member closed in ${closeMs} ms with ${late.length * 3} handlers still held; the other took over ${partitionsOf(closer).length} partitions and handled their ${count} unfinished messages ${Date.now() - takeover} ms later`)

    // Committed by the closer: the first round, and its early partition's firsts; everything after, the other handles, once and in order.
    for (const key of closerKeys) expect(handled[other].filter((h) => h.key === key).map((h) => h.seq), key).toEqual(expected(key))
    for (const key of otherKeys) expect(handled[other].filter((h) => h.key === key).map((h) => h.seq), key).toEqual([0, 1, 2])
    expect(errors.a.errors).toEqual([])
    expect(errors.b.errors).toEqual([])
  }, 40_000)
})

/** Starts ../helpers/kafka-child.ts listening on `url`: the seqs it printed as handled, in order. */
function startChild(url: string, handlerMs: number, concurrency: number): ScriptChild & { readonly handled: number[] } {
  const handled: number[] = []
  const child = startScript('kafka-child.ts', [url, String(handlerMs), String(concurrency), JSON.stringify(fastKafka)], (line) => {
    const m = /^handled (\d+)$/.exec(line)
    if (m !== null) handled.push(Number(m[1]))
  })
  return Object.assign(child, { handled })
}
