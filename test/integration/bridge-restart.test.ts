/**
 * A bridge killed mid-stream loses nothing: the source acknowledges a message
 * only after the destination confirmed it, so what the dead bridge had not
 * acknowledged is delivered again to the next one.
 */
import { describe, expect, it } from 'vitest'
import { Seq, farSide } from '../helpers/bridge.js'
import { AMQP_URL, freshQueue, rawAmqp, useRabbit } from '../helpers/amqp.js'
import { closedAfterEach, waitFor, within } from '../helpers.js'
import { scriptChildren, type ScriptChild } from '../helpers/child.js'
import { connect, listen } from '../../src/index.js'

useRabbit()
const open = closedAfterEach()
const startScript = scriptChildren()

/** Starts ../helpers/bridge-child.ts; the afterEach kills it if the test did not. */
function startBridge(from: string, to: string, concurrency: number): ScriptChild {
  return startScript('bridge-child.ts', [from, to, String(concurrency)])
}

/** Messages ready in `queue`, and consumers on it. */
async function queueState(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const conn = await rawAmqp()
  try {
    const ch = await conn.createChannel()
    return await ch.checkQueue(queue)
  } finally {
    await conn.close()
  }
}

describe('bridge killed mid-stream', () => {
  it('AMQP to AMQP: a bridge process killed by PID mid-stream and started again loses nothing', async () => {
    const source = freshQueue('bridge-src')
    const target = freshQueue('bridge-dst')
    const from = `${AMQP_URL}/?queue=${source}`
    const to = `${AMQP_URL}/?queue=${target}&persistent=false`
    const far = farSide()
    open.push(await listen(to, { registry: far.registry }))
    const producer = await connect(from)
    open.push(producer)
    const total = 1500
    await Promise.all(Array.from({ length: total }, (_, seq) => producer.send(Seq, { seq })))

    const first = startBridge(from, to, 16)
    await waitFor(() => first.ready() && far.received.length >= 50, 15_000, `the first bridge to forward 50 (${first.describe()})`)
    process.kill(first.pid, 'SIGKILL')
    expect(await within(first.exited, 5000, 'the killed bridge to exit')).toBe('SIGKILL')
    // Mid-stream: the first bridge was killed with messages left to forward (and those it had taken in unacknowledged are back in the queue).
    expect((await queueState(source)).messageCount).toBeGreaterThan(0)

    const second = startBridge(from, to, 16)
    const seqs = (): Set<number> => new Set(far.received.map((r) => (r.value as { seq: number }).seq))
    await waitFor(() => second.ready() && seqs().size === total, 15_000, `every message on the far side (${seqs().size} of ${total}; ${second.describe()})`)
    process.kill(second.pid, 'SIGTERM')
    expect(await within(second.exited, 10_000, 'the second bridge to close')).toBe('exit code 0')

    expect([...seqs()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i))
    // At least once: only what the killed bridge had in flight (its window of 16, which is also its prefetch) can come twice.
    expect(far.received.length - total).toBeLessThanOrEqual(16)
    expect(await queueState(source)).toEqual(expect.objectContaining({ messageCount: 0, consumerCount: 0 }))
    expect(far.received.every((r) => r.envelope.headers !== undefined && r.tag === Seq.tag)).toBe(true)
  })
})
