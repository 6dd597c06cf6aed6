/**
 * Reconnect tested by really restarting the server: a redis-server of the
 * test's own (never the machine's), persisting every write before it
 * answers, is killed by its PID while messages flow and started again on the
 * same port.
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, sleep, waitFor, within } from '../helpers.js'
import { fastRedis } from '../helpers/redis.js'
import { ownRedis, type OwnRedis } from '../helpers/redis-server.js'

const Seq = defineMessage('redis.restart.Seq', t.type({ seq: t.number }))
let server: OwnRedis | undefined
afterEach(async () => {
  await server?.dispose()
  server = undefined
})
// Registered after the server's disposal, so run before it (after-hooks run last-registered first): channels close while Redis is up.
const open = closedAfterEach()

describe('redis: a server restart', () => {
  it('killed by its PID mid-stream and started again: sending and receiving resume by themselves, and nothing acknowledged is lost', async () => {
    server = await ownRedis()
    const redis = server
    const url = `${redis.url}/orders`
    const errors = collectErrors()
    const handled = new Set<number>()
    const registry = new Registry({ onError: errors.onError })
    registry.on(Seq, ({ seq }) => void handled.add(seq))
    const listener = await listen(`${url}?group=billing`, { registry, onError: errors.onError, redis: fastRedis })
    open.push(listener)
    const client = await connect(url, { onError: errors.onError, redis: fastRedis })
    open.push(client)
    const statuses: string[] = []
    client.events.on('status', (state) => void statuses.push(state))

    const n = 300
    const sent: number[] = []
    // Sends one after another, all the while the server goes down and comes back.
    const sending = (async () => {
      for (let seq = 0; seq < n; seq++) {
        await client.send(Seq, { seq })
        sent.push(seq)
        if (seq % 20 === 0) await sleep(5)
      }
    })()
    await waitFor(() => handled.size >= 100, 10_000, '100 messages before the kill')
    await redis.kill()
    await sleep(300)
    await redis.start()
    await within(sending, 20_000, 'every send to resolve after the restart')
    // Every send that resolved was on disk when Redis answered: each is handled, after the restart if not before.
    await waitFor(() => sent.every((s) => handled.has(s)), 15_000, 'every acknowledged message to be handled')
    expect(sent).toHaveLength(n)
    expect(statuses).toEqual(expect.arrayContaining(['down', 'up']))
    // The drop was reported, as transport errors, and nothing else went wrong.
    expect(errors.errors.every((e) => e.code === 'ERR_TRANSPORT')).toBe(true)
  })
})
