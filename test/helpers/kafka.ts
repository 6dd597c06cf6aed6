/**
 * The Kafka the Kafka tests run against: a mokapi started for each test file
 * that calls {@link useKafka} (see ./mokapi.ts), or the cluster
 * `KAFKA_BROKERS` names (`host:port,…`), used as it is.
 *
 * Topics come from a pool, each handed out once per broker, so no test sees
 * another's records; groups are random. mokapi can serve a group only on the
 * topics its AsyncAPI file declares, so the pool is those topics; on a real
 * cluster the same pool is created under a random prefix and deleted after.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Kafka, logLevel, type ConsumerConfig } from 'kafkajs'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import type { SeamError } from '../../src/index.js'
import { FIXTURE, startKafka, type KafkaBroker } from './mokapi.js'

export { startKafka, type KafkaBroker } from './mokapi.js'

const spec = readFileSync(FIXTURE, 'utf8')
const declared = (re: RegExp): string[] => [...spec.matchAll(re)].map((m) => m[1] as string)
/** `seam.tN`, each with a dead-letter topic `seam.tN.dlq` (the transport's default name). */
const TOPICS = declared(/^ {2}(seam\.t\d+):/gm)
const REPLIES = declared(/^ {2}(seam\.replies\.\d+):/gm)
/** Partitions as the fixture declares them; a real cluster gets the same. */
export const PARTITIONS = { topic: 4, deadLetter: 1, reply: 2 } as const

interface Target {
  readonly brokers: string
  /** Put before every pool name: empty on mokapi, random on a shared cluster. */
  readonly prefix: string
  broker: KafkaBroker | undefined
  topicsUsed: number
  repliesUsed: number
}
let target: Target | undefined
/** Each test's first failure, and whether mokapi had failed under it by then (see the beforeEach of useKafka). */
const firstFailures = new Map<string, { error: unknown; brokerFault: boolean }>()
/** Torn fetches mokapi served so far in this file (seen through kafkaErrors or withoutTornFetches). */
let tornFetches = 0

/**
 * Gives this test file a Kafka: starts mokapi before its tests and stops it
 * after, or with `KAFKA_BROKERS` set creates the topic pool there and deletes
 * it after. Fails every test of the file at once, saying why, when mokapi is
 * missing or does not start, or the cluster does not answer.
 */
export function useKafka(): void {
  beforeAll(async () => {
    const external = process.env.KAFKA_BROKERS
    if (external === undefined || external === '') {
      const broker = await startKafka()
      target = { brokers: broker.brokers, prefix: '', broker, topicsUsed: 0, repliesUsed: 0 }
      return
    }
    const prefix = `seam-test-${randomBytes(4).toString('hex')}-`
    await createPool(external, prefix)
    target = { brokers: external, prefix, broker: undefined, topicsUsed: 0, repliesUsed: 0 }
  }, 30_000)
  beforeEach(async (ctx) => {
    const t = current('useKafka')
    // A test of a describe(…, { retry: 1 }) runs again only when mokapi failed under it: it crashed (a data race of its
    // own in concurrent offset commits, "fatal error: concurrent map read and map write") or served a torn fetch. The
    // test then runs on a fresh mokapi where the old one was. Any other failure stands as it first was.
    const first = firstFailures.get(ctx.task.id)
    if (first !== undefined) {
      if (!first.brokerFault || t.broker === undefined) throw first.error
      await t.broker.stop()
      t.broker = await startKafka({ port: t.broker.port })
      t.topicsUsed = 0
      t.repliesUsed = 0
    }
    const tornBefore = tornFetches
    ctx.onTestFailed(() => {
      if (firstFailures.has(ctx.task.id)) return
      const brokerFault = t.broker !== undefined && (!t.broker.alive() || tornFetches > tornBefore)
      firstFailures.set(ctx.task.id, { error: ctx.task.result?.errors?.[0] ?? new Error('failed'), brokerFault })
    })
  }, 30_000)
  afterAll(async () => {
    const t = target
    target = undefined
    if (t?.broker !== undefined) await t.broker.stop()
    else if (t !== undefined) await deletePool(t.brokers, t.prefix)
  }, 30_000)
}

/** A topic of the pool no test of this file had yet (4 partitions; its dead letters go to `<topic>.dlq`). Throws once the pool is used up. */
export function freshTopic(): string {
  const t = current('freshTopic')
  const name = TOPICS[t.topicsUsed]
  if (name === undefined) throw new Error(`freshTopic: this file used all ${TOPICS.length} topics ${FIXTURE} declares; declare more there`)
  t.topicsUsed++
  return t.prefix + name
}

/** A reply topic (2 partitions), round robin: after all were handed out one comes back, so a reader must match replies to its requests. */
export function replyTopic(): string {
  const t = current('replyTopic')
  return t.prefix + (REPLIES[t.repliesUsed++ % REPLIES.length] as string)
}

/** A random consumer group id. */
export function freshGroup(): string {
  return `seam-test-g-${randomBytes(5).toString('hex')}`
}

/** `host:port,…` of the broker this file uses. */
export function kafkaBrokers(): string {
  return current('kafkaBrokers').brokers
}

/** `kafka://host:port,…`: the channel URL of this file's broker, to which a test appends `/<topic>?…`. */
export function kafkaUrl(): string {
  return `kafka://${current('kafkaUrl').brokers}`
}

/** A plain kafkajs client, silent, for what a test does or checks behind the library's back. The test disconnects what it makes of it. */
export function rawKafka(): Kafka {
  return new Kafka({ brokers: kafkaBrokers().split(','), clientId: 'seam-test-raw', logLevel: logLevel.NOTHING })
}

/**
 * kafkajs consumer settings for a group member on mokapi. A member must
 * rejoin within mokapi's join window (1 s) when another joins, or mokapi
 * keeps serving it the partitions it had beside the newcomer's: with kafkajs
 * defaults (heartbeat 3 s, fetch wait 5 s) it never does, and both get every
 * record. These also make `disconnect()` take milliseconds instead of ~5 s,
 * and, since mokapi has no LeaveGroup, let the others take over a gone
 * member's partitions after ~6 s (the session) instead of ~30 s.
 */
export const fastMember = { heartbeatInterval: 300, maxWaitTimeInMs: 200, sessionTimeout: 6000 } as const satisfies Partial<ConsumerConfig>

function current(what: string): Target {
  if (target === undefined) throw new Error(`${what}() needs a broker: call useKafka() at the top of the test file, and ${what}() inside a test or hook`)
  return target
}

function admin(brokers: string): ReturnType<Kafka['admin']> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'seam-test-admin', logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 2 } })
  return kafka.admin()
}

function poolNames(prefix: string): { topic: string; numPartitions: number }[] {
  return [
    ...TOPICS.map((t) => ({ topic: prefix + t, numPartitions: PARTITIONS.topic })),
    ...TOPICS.map((t) => ({ topic: `${prefix}${t}.dlq`, numPartitions: PARTITIONS.deadLetter })),
    ...REPLIES.map((t) => ({ topic: prefix + t, numPartitions: PARTITIONS.reply })),
  ]
}

// The whole pool up front: freshTopic() must stay synchronous (a test builds a URL from it), and a topic must exist before a consumer joins.
async function createPool(brokers: string, prefix: string): Promise<void> {
  const a = admin(brokers)
  try {
    await a.connect()
  } catch (err) {
    throw new Error(`KAFKA_BROKERS=${brokers} does not answer (${(err as Error).message}); unset it to run the tests against mokapi`)
  }
  try {
    await a.createTopics({ topics: poolNames(prefix), waitForLeaders: true, timeout: 20_000 })
  } finally {
    await a.disconnect()
  }
}

async function deletePool(brokers: string, prefix: string): Promise<void> {
  const a = admin(brokers)
  try {
    await a.connect()
    await a.deleteTopics({ topics: poolNames(prefix).map((t) => t.topic), timeout: 20_000 })
  } finally {
    await a.disconnect()
  }
}

/** {@link fastMember} as the transport's `kafka` options, for channels the tests open. */
export const fastKafka = { heartbeatIntervalMs: 300, maxWaitTimeMs: 200, sessionTimeoutMs: 6000 } as const

/**
 * Whether `err` is the transport's report of a consumer that kafkajs gave up
 * on because mokapi served it a torn fetch response. mokapi (0.52) now and
 * then answers a fetch with bytes that do not parse while records are being
 * appended to that partition: kafkajs fails decoding them (a RangeError,
 * which it deems unrecoverable), the consumer crashes, and the transport
 * reports it and starts the consumer again, losing nothing. The same happens
 * to a plain kafkajs consumer (a test can show it in seconds with a few
 * producers and consumers on one partition); a fresh consumer then reads the
 * same records intact, so the log itself is fine. The restart path is tested
 * on purpose in kafka-restart.test.ts; elsewhere a test on mokapi must not
 * count this broker race as the library's error. On KAFKA_BROKERS it does.
 */
export function isTornFetch(err: SeamError): boolean {
  // A file that started its own broker (startKafka) runs on mokapi too; only KAFKA_BROKERS is a real cluster.
  if ((target !== undefined && target.broker === undefined) || err.code !== 'ERR_TRANSPORT' || !/^the Kafka consumer of group .* failed/.test(err.message)) return false
  for (let cause: unknown = err.cause; cause instanceof Error; cause = cause.cause) if (cause instanceof RangeError) return true
  return false
}

/** collectErrors() for Kafka channels: the same, but a consumer restart after a torn fetch on mokapi ({@link isTornFetch}) goes to `torn`, not `errors`. */
export function kafkaErrors(): { errors: SeamError[]; torn: SeamError[]; onError: (err: SeamError) => void } {
  const errors: SeamError[] = []
  const torn: SeamError[] = []
  return { errors, torn, onError: (err) => void (isTornFetch(err) ? (tornFetches++, torn) : errors).push(err) }
}

/**
 * `options` whose errors (its `onError`, else its registry's) are not told of
 * torn fetches on mokapi ({@link isTornFetch}); for channels whose errors a
 * shared suite asserts on. A torn fetch is still logged, so a run shows it.
 */
export function withoutTornFetches<T extends { onError?: (err: SeamError) => void; registry?: { readonly onError: (err: SeamError) => void } }>(options: T): T {
  const onError = options.onError ?? options.registry?.onError ?? ((err: SeamError) => console.error(err))
  return { ...options, onError: (err: SeamError) => (isTornFetch(err) ? (tornFetches++, console.warn(`mokapi served a torn fetch: ${err.message}`)) : onError(err)) }
}
