/**
 * Kafka: the broker goes away and comes back. Sends wait in the outbox
 * (bounded) and are produced once a broker answers again; a listener
 * reports the loss and consumes again. The broker is killed by its PID and
 * a new one started on the same port, so the clients find it where they
 * left it; mokapi keeps nothing across the restart (records, groups,
 * offsets), but the fixture declares the topics again.
 *
 * This file starts brokers of its own, even with KAFKA_BROKERS set: it kills
 * them, which no other file may see.
 */
import * as t from 'io-ts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type Channel, type ConnectOptions, type SeamError } from '../../src/index.js'
import { closedAfterEach, rejection, sleep, waitFor, within } from '../helpers.js'
import { fastKafka, freshGroup, startKafka, type KafkaBroker, kafkaErrors } from '../helpers/kafka.js'

const Ping = defineMessage('kafka-recovery.Ping', t.type({ seq: t.number }))

// Stopped after each test, after the channels closed (hooks run in reverse order of registration).
const brokers: KafkaBroker[] = []
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.stop()))
}, 20_000)
const open = closedAfterEach()

/** Whatever escapes the library while a broker is away: nothing should. */
const escaped: unknown[] = []
const onEscape = (err: unknown): void => void escaped.push(err)
beforeAll(() => {
  process.on('unhandledRejection', onEscape)
  process.on('uncaughtException', onEscape)
})
afterAll(() => {
  process.off('unhandledRejection', onEscape)
  process.off('uncaughtException', onEscape)
})
afterEach(() => {
  expect(escaped.splice(0), 'errors nobody caught').toEqual([])
})

async function broker(port?: number): Promise<KafkaBroker> {
  const b = await startKafka(port === undefined ? {} : { port })
  brokers.push(b)
  return b
}

/** Kills `b` by its PID, as a crash would (no goodbye to its clients), and waits until it is gone. */
async function kill(b: KafkaBroker): Promise<void> {
  process.kill(b.pid, 'SIGKILL')
  await b.stop()
  expect(() => process.kill(b.pid, 0)).toThrow(/ESRCH/)
}

// Short backoff, so the clients find the new broker soon after it answers.
const kafka = { ...fastKafka, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } }

async function sender(url: string, options: ConnectOptions = {}): Promise<{ channel: Channel; states: { state: 'up' | 'down'; cause: SeamError | undefined }[]; errors: SeamError[] }> {
  const errors = kafkaErrors()
  const channel = await connect(url, { onError: errors.onError, kafka, connectTimeoutMs: 5000, ...options })
  open.push(channel)
  const states: { state: 'up' | 'down'; cause: SeamError | undefined }[] = []
  channel.events.on('status', (state, cause) => void states.push({ state, cause }))
  return { channel, states, errors: errors.errors }
}

/** A promise and whether it settled yet. */
function tracked<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false
  const promise = p.finally(() => void (settled = true))
  // Observed here, so a rejection shows up in the test's assertion rather than as an unhandled one.
  promise.catch(() => undefined)
  return { promise, settled: () => settled }
}

async function receiver(url: string): Promise<{ got: number[]; errors: SeamError[] }> {
  const errors = kafkaErrors()
  const got: number[] = []
  const registry = new Registry({ onError: errors.onError })
  registry.on(Ping, (ping) => void got.push(ping.seq))
  open.push(await listen(url, { registry, onError: errors.onError, kafka, connectTimeoutMs: 5000 }))
  return { got, errors: errors.errors }
}

describe('kafka: the broker goes away and comes back on the same port', () => {
  it('sends made while it is away wait (status down) and are produced once it is back; a new listener gets them', async () => {
    const first = await broker()
    const { channel, states, errors } = await sender(`${first.url}/seam.t0`)
    await channel.send(Ping, { seq: 0 }, { key: 'k' })

    await kill(first)
    const sends = [1, 2, 3, 4, 5].map((seq) => tracked(channel.send(Ping, { seq }, { key: 'k' })))
    await waitFor(() => states.some((s) => s.state === 'down'), 15_000, 'the channel to report status down')
    const down = states.find((s) => s.state === 'down')
    expect(down?.cause?.code).toBe('ERR_TRANSPORT')
    expect(down?.cause?.message).toMatch(/5 records wait/)
    // Retried with backoff meanwhile, and still waiting.
    await sleep(1000)
    expect(sends.map((s) => s.settled())).toEqual([false, false, false, false, false])

    const downAt = performance.now()
    const second = await broker(first.port)
    await within(Promise.all(sends.map((s) => s.promise)), 20_000, 'the sends made while the broker was away')
    const recoveryMs = performance.now() - downAt
    expect(states.map((s) => s.state)).toEqual(['down', 'up'])

    // The new broker kept nothing of the old one's: a listener reads exactly what was sent while it was away, in order.
    const { got, errors: listenerErrors } = await receiver(`${second.url}/seam.t0?group=${freshGroup()}&fromBeginning=true`)
    await waitFor(() => got.length === 5, 10_000, 'a new listener to get the 5 records sent while the broker was away')
    expect(got).toEqual([1, 2, 3, 4, 5])
    // The channel goes on as before.
    await channel.send(Ping, { seq: 6 }, { key: 'k' })
    await waitFor(() => got.length === 6, 10_000, 'a send after the recovery to arrive')
    expect(errors).toEqual([])
    expect(listenerErrors).toEqual([])
    console.log(`kafka recovery: sends produced ${Math.round(recoveryMs)} ms after the new broker's start began`)
  }, 40_000)

  it('a listener reports losing the broker and, once a broker is back, consumes again', async () => {
    const first = await broker()
    const url = `${first.url}/seam.t1`
    const { got, errors } = await receiver(`${url}?group=${freshGroup()}&fromBeginning=true`)
    const { channel } = await sender(url)
    await channel.send(Ping, { seq: 1 })
    await waitFor(() => got.length === 1, 10_000, 'the listener to get a record before the broker goes away')

    await kill(first)
    // Its consumer fails (a commit in flight may fail first): each reported as ERR_TRANSPORT, nothing thrown.
    await waitFor(() => errors.some((e) => /the Kafka consumer of group/.test(e.message)), 20_000, 'the listener to report that its consumer lost the broker')
    expect(errors.map((e) => e.code)).toEqual(errors.map(() => 'ERR_TRANSPORT'))

    const startedAt = performance.now()
    await broker(first.port)
    await within(channel.send(Ping, { seq: 2 }), 20_000, 'a send once the broker is back')
    await waitFor(() => got.includes(2), 30_000, 'the listener to consume again once the broker is back')
    // Nothing twice: record 1 was on the old broker, which took it along.
    expect(got).toEqual([1, 2])
    console.log(`kafka recovery: the listener consumed again ${Math.round(performance.now() - startedAt)} ms after the new broker's start began; ${errors.length} errors reported meanwhile`)
  }, 60_000)
})

describe('kafka: the outbox while the broker is away', () => {
  it('past maxOutboxMessages sends reject at once with ERR_OUTBOX_FULL; those within it are produced once the broker is back', async () => {
    const first = await broker()
    const { channel, states } = await sender(`${first.url}/seam.t2`, { kafka: { ...kafka, maxOutboxMessages: 3 } })
    await channel.send(Ping, { seq: 0 })
    await kill(first)

    const waiting = [1, 2, 3].map((seq) => tracked(channel.send(Ping, { seq })))
    for (const seq of [4, 5]) {
      const started = performance.now()
      const err = await rejection(channel.send(Ping, { seq }))
      expect(err.code).toBe('ERR_OUTBOX_FULL')
      expect(err.retriable).toBe(true)
      expect(err.message).toMatch(/maxOutboxMessages 3/)
      expect(performance.now() - started).toBeLessThan(100)
    }
    await waitFor(() => states.some((s) => s.state === 'down'), 15_000, 'the channel to report status down')
    expect(waiting.map((w) => w.settled())).toEqual([false, false, false])

    const second = await broker(first.port)
    await within(Promise.all(waiting.map((w) => w.promise)), 20_000, 'the three sends within the bound')
    // Room again.
    await channel.send(Ping, { seq: 6 })
    const { got } = await receiver(`${second.url}/seam.t2?group=${freshGroup()}&fromBeginning=true`)
    await waitFor(() => got.length === 4, 10_000, 'the records within the bound, and the one after')
    expect(got.sort()).toEqual([1, 2, 3, 6])
  }, 40_000)
})
