/**
 * Record a TCP stream into a message file with one bridge, replay the file
 * with others into Redis and into the memory transport: the handlers on the
 * far sides receive the same typed values, in envelopes untouched end to end.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryHub, bridge, connect, listen, type Envelope } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'
import { Note, Order, envelopeOf, farSide, untouched, type Received } from '../helpers/bridge.js'
import { fastRedis, freshGroup, freshStream, redisUrl, useRedis } from '../helpers/redis.js'

useRedis()
const open = closedAfterEach()
const folders: string[] = []
afterEach(async () => {
  await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })))
})

/** What was sent, in order: typed values, and the envelopes built by hand among them. */
const VALUES: { tag: string; value: unknown }[] = Array.from({ length: 30 }, (_, i) =>
  i % 3 === 0 ? { tag: Note.tag, value: { text: `note ${i} ✓` } } : { tag: Order.tag, value: { sku: `SKU-${i}`, qty: i } },
)

/** Records VALUES sent over TCP into a fresh message file through a bridge; returns the file's URL and the envelopes forwarded by hand. */
async function record(): Promise<{ file: string; crafted: Envelope[] }> {
  const folder = await mkdtemp(join(tmpdir(), 'seam-bridge-'))
  folders.push(folder)
  const file = pathToFileURL(join(folder, 'recorded.seam')).href
  const { errors, onError } = collectErrors()
  const recorder = await bridge('tcp://127.0.0.1:0', file, { onError })
  open.push(recorder)
  const client = await connect(recorder.url)
  open.push(client)
  const crafted: Envelope[] = []
  for (const [i, { tag, value }] of VALUES.entries()) {
    if (i % 2 === 0) {
      const env = envelopeOf(tag, value, { key: `k-${i % 4}` })
      crafted.push(env)
      await client.forward(env)
    } else if (tag === Order.tag) await client.send(Order, value as { sku: string; qty: number }, { headers: { i: String(i) } })
    else await client.send(Note, value as { text: string }, { headers: { i: String(i) } })
  }
  await waitFor(() => recorder.stats().forwarded === VALUES.length, 5000, 'the recorder to write every message')
  await client.close()
  await recorder.close()
  expect(errors).toEqual([])
  return { file, crafted }
}

const canonical = (items: readonly { tag: string; value: unknown }[]): string[] => items.map((r) => JSON.stringify([r.tag, r.value])).sort()

function checkReceived(received: readonly Received[], crafted: readonly Envelope[]): void {
  // Messages of different keys may overtake one another (they are forwarded at once); those of one key keep their order.
  expect(canonical(received)).toEqual(canonical(VALUES))
  for (const key of new Set(crafted.map((e) => e.key))) {
    expect(received.filter((r) => r.envelope.key === key).map((r) => r.envelope.id)).toEqual(crafted.filter((e) => e.key === key).map((e) => e.id))
  }
  const byId = new Map(received.map((r) => [r.envelope.id, r.envelope]))
  for (const env of crafted) expect(untouched(byId.get(env.id) ?? { ...env, id: 'missing' })).toEqual(untouched(env))
}

describe('bridge: record and replay', () => {
  it('records a TCP stream into a file, replays the file into memory and into Redis, and both far sides get the same typed values', async () => {
    const { file, crafted } = await record()
    const replay = `${file}?from=start&follow=false`

    const hub = new MemoryHub()
    const inMemory = farSide()
    open.push(await listen('memory://replayed', { hub, registry: inMemory.registry }))
    const toMemory = await bridge(replay, 'memory://replayed', { destination: { hub } })
    open.push(toMemory)
    // A file read to its end ends the bridge, once all it read was forwarded.
    expect(await within(toMemory.closed(), 5000, 'the replay into memory to end')).toBeUndefined()
    expect(toMemory.stats().forwarded).toBe(VALUES.length)
    await waitFor(() => inMemory.received.length === VALUES.length, 5000, 'every message on the memory far side')
    checkReceived(inMemory.received, crafted)

    const stream = freshStream('seam-bridge')
    const inRedis = farSide()
    open.push(await listen(`${redisUrl()}/${stream}?group=${freshGroup()}`, { registry: inRedis.registry, redis: fastRedis, concurrency: 1 }))
    const toRedis = await bridge(replay, `${redisUrl()}/${stream}`, { destination: { redis: fastRedis } })
    open.push(toRedis)
    expect(await within(toRedis.closed(), 5000, 'the replay into Redis to end')).toBeUndefined()
    await waitFor(() => inRedis.received.length === VALUES.length, 5000, 'every message on the Redis far side')
    checkReceived(inRedis.received, crafted)

    // Both replays carried the very same envelopes.
    const byId = (rs: readonly Received[]): Received[] => [...rs].sort((a, b) => a.envelope.id.localeCompare(b.envelope.id))
    expect(byId(inRedis.received).map((r) => untouched(r.envelope))).toEqual(byId(inMemory.received).map((r) => untouched(r.envelope)))
    expect(inMemory.errors).toEqual([])
    expect(inRedis.errors).toEqual([])
  })
})
