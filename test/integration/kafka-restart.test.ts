/**
 * The transport's own restart of a consumer kafkajs gave up on. kafkajs ends
 * a consumer for good (no restart of its own) when it hits an error it deems
 * unrecoverable, such as a fetch response it cannot decode; the transport
 * reports that once and starts the consumer again. Here a proxy in front of
 * the real broker tears one fetch response on purpose (mokapi sometimes does
 * so by itself: see isTornFetch in ../helpers/kafka.ts).
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor } from '../helpers.js'
import { fastKafka, freshGroup, freshTopic, kafkaBrokers, kafkaUrl, replyTopic, useKafka } from '../helpers/kafka.js'
import { startTearProxy, type TearProxy } from '../helpers/kafka-tear-proxy.js'

const Note = defineMessage('kafka-restart.Note', t.type({ seq: t.number }))
const Ping = defineMessage('kafka-restart.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('kafka-restart.Pong', t.type({ seq: t.number }))

useKafka()
const open = closedAfterEach()
let proxy: TearProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

async function tearProxy(): Promise<TearProxy> {
  proxy = await startTearProxy(Number(kafkaBrokers().split(':')[1]))
  return proxy
}

const restartReport = /^the Kafka consumer of group "(.+)" failed \(Invalid array length\); starting it again$/

describe('kafka: a consumer kafkajs gave up on is started again', () => {
  it('a listener reports the failure once, starts again and handles every record once, those sent before and after', async () => {
    const tear = await tearProxy()
    const topic = freshTopic()
    const group = freshGroup()
    const got: number[] = []
    const running = new Set<number>()
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const errors = collectErrors()
    const registry = new Registry({ onError: errors.onError })
    registry.on(Note, async (n) => {
      // The first 20 are still being handled when the consumer fails.
      if (n.seq < 20) {
        running.add(n.seq)
        await released
      }
      got.push(n.seq)
    })
    open.push(await listen(`kafka://${tear.brokers}/${topic}?group=${group}&fromBeginning=true`, { registry, onError: errors.onError, kafka: fastKafka }))
    const sender = await connect(`${kafkaUrl()}/${topic}`, { kafka: fastKafka })
    open.push(sender)
    const send = (from: number, n: number): Promise<void[]> => Promise.all(Array.from({ length: n }, (_, i) => sender.send(Note, { seq: from + i }, { key: `k${from + i}` })))

    await send(0, 20)
    await waitFor(() => running.size === 20, 10_000, 'the first 20 records to be in their handlers')
    tear.tearNextFetch()
    await send(20, 30)
    await waitFor(() => errors.errors.length > 0, 10_000, 'the report of the failure')
    expect(tear.torn).toBe(1)
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_TRANSPORT'])
    expect(errors.errors[0]?.message).toMatch(restartReport)
    expect(errors.errors[0]?.message).toContain(group)
    release()
    await waitFor(() => new Set(got).size === 50, 15_000, 'every record sent before the failure')

    await send(50, 10)
    await waitFor(() => new Set(got).size === 60, 15_000, 'the records sent after the restart')
    // The records it had fetched before the failure are not fetched again: the consumer started again reads on from after them.
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i))
    expect(errors.errors).toHaveLength(1)
  })

  it('a requester whose reply consumer failed still gets the replies, including the one it was fetching', async () => {
    const tear = await tearProxy()
    const topic = freshTopic()
    const registry = new Registry()
    registry.register(Pong)
    registry.on(Ping, async (ping, ctx) => void (await ctx.reply(Pong, { seq: ping.seq * 10 })))
    open.push(await listen(`${kafkaUrl()}/${topic}?group=${freshGroup()}&fromBeginning=true`, { registry, kafka: fastKafka }))
    const errors = collectErrors()
    const requester = await connect(`kafka://${tear.brokers}/${topic}?replyTopic=${replyTopic()}`, { onError: errors.onError, kafka: fastKafka })
    open.push(requester)
    await expect(requester.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 10_000 })).resolves.toEqual({ seq: 10 })

    tear.tearNextFetch()
    const replies = await Promise.all([2, 3, 4].map((seq) => requester.request(Ping, { seq }, { expect: Pong, timeoutMs: 15_000 })))
    expect(replies).toEqual([{ seq: 20 }, { seq: 30 }, { seq: 40 }])
    expect(tear.torn).toBe(1)
    expect(errors.errors.map((e) => e.message)).toEqual([expect.stringMatching(restartReport)])
    await expect(requester.request(Ping, { seq: 5 }, { expect: Pong, timeoutMs: 10_000 })).resolves.toEqual({ seq: 50 })
  })
})
