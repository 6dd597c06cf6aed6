/**
 * The Redis the Redis tests run against: the machine's on 127.0.0.1:6379
 * (used as a plain server), or the one `REDIS_URL` names. Every stream a test
 * uses comes from {@link freshStream}: a random name, deleted after the test
 * with its dead-letter stream and any reply stream left behind.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'

let plain: Redis | undefined
const made: string[] = []

/** `redis://host:port` of the server under test, without a path. */
export function redisUrl(): string {
  return (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/+$/, '')
}

/** A plain ioredis client of the server under test, for checking what is in Redis. */
export function redis(): Redis {
  if (plain === undefined) throw new Error('call useRedis() in the test file first')
  return plain
}

/** A stream name no other test uses, deleted (with `<name>.dlq` and `<name>.replies.*`) after the test. */
export function freshStream(prefix = 'seam-test'): string {
  const name = `${prefix}-${randomBytes(6).toString('hex')}`
  made.push(name)
  return name
}

/** A group name no other test uses. */
export function freshGroup(): string {
  return `g-${randomBytes(4).toString('hex')}`
}

/** Short waits so that the tests need not sit out the production defaults. */
export const fastRedis = { blockMs: 200, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } } as const

/** Deletes `names`, their dead-letter streams and whatever reply streams they left, on `client`. */
export async function deleteStreams(client: Redis, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const replies = await client.keys(`${name}.replies.*`)
    await client.del(name, `${name}.dlq`, ...replies)
  }
}

/** Gives this test file a plain client of the Redis under test and deletes each test's streams after it. */
export function useRedis(): void {
  beforeAll(async () => {
    const client = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.ping()
    } catch (err) {
      client.disconnect()
      throw new Error(`no Redis at ${redisUrl()} (${(err as Error).message}): start one (redis-server, or systemctl start redis-server) or point REDIS_URL at one`)
    }
    plain = client
  })
  afterEach(async () => {
    if (plain !== undefined) await deleteStreams(plain, made.splice(0))
  })
  afterAll(async () => {
    plain?.disconnect()
    plain = undefined
  })
}
