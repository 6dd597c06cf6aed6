import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'
import { fastRedis, freshGroup, freshStream, redis, redisUrl, useRedis } from '../helpers/redis.js'
import { scriptChildren, type ScriptChild } from '../helpers/child.js'

useRedis()
const open = closedAfterEach()

const Seq = defineMessage('guarantee.Seq', t.type({ seq: t.number }))

const startScript = scriptChildren()

/** Starts ../helpers/redis-child.ts on `url`; resolves once it reads, with the seqs it printed as received and as done. */
async function startChild(url: string, settings: object): Promise<ScriptChild & { readonly received: number[]; readonly done: number[] }> {
  const received: number[] = []
  const done: number[] = []
  const child = startScript('redis-child.ts', [url, JSON.stringify(settings)], (line) => {
    const m = /^(received|done) (\d+)$/.exec(line)
    if (m !== null) (m[1] === 'done' ? done : received).push(Number(m[2]))
  })
  await waitFor(() => child.ready(), 15_000, 'the child to start reading')
  return Object.assign(child, { received, done })
}

/** Asks `read` every 50 ms until `ok` holds (at most 5 s); returns the last answer. */
async function settled<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Entries pending in the group of `url`. */
async function pendingCount(stream: string, url: string): Promise<number> {
  const [count] = (await redis().xpending(stream, new URL(url).searchParams.get('group') as string)) as [number]
  return count
}

describe('redis: at-least-once across a consumer that dies', () => {
  it('a consumer killed by its PID mid-batch leaves its entries pending; a live consumer claims them after claimIdleMs: none lost', async () => {
    const stream = freshStream()
    const url = `${redisUrl()}/${stream}?group=${freshGroup()}`
    const redisOptions = { ...fastRedis, claimIdleMs: 500 }
    const child = await startChild(url, { handlerMs: 20, concurrency: 16, redis: redisOptions })
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    // Enough that the child, 16 at a time for 20 ms each, is still at it when it is killed (~2.5 s of work), however loaded the machine.
    const n = 2000
    await Promise.all(Array.from({ length: n }, (_, seq) => client.send(Seq, { seq })))
    // Mid-batch: it has finished some, has 16 in its handlers, and has not read the rest.
    await waitFor(() => child.done.length >= 40, 10_000, 'the child to handle 40 entries')
    process.kill(child.pid, 'SIGKILL')
    await within(child.exited, 5000, 'the killed child to exit')
    // It died with entries read and not acknowledged (in its handlers, or read and waiting for one): pending, for a consumer that is gone.
    const unfinished = child.received.filter((s) => !child.done.includes(s))
    const pendingAtKill = await pendingCount(stream, url)
    expect(pendingAtKill).toBeGreaterThan(0)
    expect(pendingAtKill).toBeGreaterThanOrEqual(unfinished.length)

    const handled = new Set<number>()
    const registry = new Registry()
    registry.on(Seq, ({ seq }) => void handled.add(seq))
    const survivor = await listen(url, { registry, redis: redisOptions })
    open.push(survivor)
    await waitFor(() => [...Array(n).keys()].every((s) => handled.has(s) || child.done.includes(s)), 10_000, 'every entry handled by one of them')
    // What the child had in its handlers when it died came again, through XAUTOCLAIM.
    expect(unfinished.filter((s) => !handled.has(s))).toEqual([])
    // Everything handled was acknowledged: nothing stays pending in the group.
    expect(await settled(() => pendingCount(stream, url), (c) => c === 0)).toBe(0)
  })

  it('an entry whose consumer died on it goes to <stream>.dlq once delivered more than maxDeliveries times, with the reason', async () => {
    const stream = freshStream()
    const url = `${redisUrl()}/${stream}?group=${freshGroup()}`
    const redisOptions = { ...fastRedis, claimIdleMs: 300, maxDeliveries: 1 }
    const client = await connect(`${redisUrl()}/${stream}`, { redis: fastRedis })
    open.push(client)
    const child = await startChild(url, { redis: redisOptions })
    await client.send(Seq, { seq: 7 })
    await waitFor(() => child.received.length === 1, 10_000, 'the first delivery of the entry')
    expect(child.received).toEqual([7])
    process.kill(child.pid, 'SIGKILL')
    await within(child.exited, 5000, 'the killed child to exit')
    // The claim finds it delivered more than maxDeliveries times: no handler sees it, the dead-letter stream does.
    const errors = collectErrors()
    const handled: number[] = []
    const registry = new Registry({ onError: errors.onError })
    registry.on(Seq, ({ seq }) => void handled.push(seq))
    const survivor = await listen(url, { registry, onError: errors.onError, redis: redisOptions })
    open.push(survivor)
    const dead = await settled(() => redis().xrange(`${stream}.dlq`, '-', '+'), (d) => d.length > 0)
    expect(dead).toHaveLength(1)
    const fields = dead[0]?.[1] ?? []
    const field = (name: string): string | undefined => fields[fields.indexOf(name) + 1]
    expect(field('tag')).toBe('guarantee.Seq')
    expect(field('h:x-seam-reason')).toMatch(/^ERR_HANDLER_FAILED: .*delivered 1 time /)
    expect(handled).toEqual([])
    expect(errors.errors.map((e) => e.code)).toContain('ERR_HANDLER_FAILED')
    expect(await settled(() => pendingCount(stream, url), (c) => c === 0)).toBe(0)
  })
})
