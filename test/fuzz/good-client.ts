/**
 * The well-behaved client: a real `connect()` channel making requests the
 * whole time the fuzzer runs, a few in flight. Every request must succeed
 * with exactly the reply it asked for: hostile peers must not slow others
 * into timeouts, nor leak into their replies.
 */
import { isDeepStrictEqual } from 'node:util'
import { setTimeout as pause } from 'node:timers/promises'
import { connect, Registry, type Channel, type SeamError } from '../../src/index.js'
import { randomValue } from './envelopes.js'
import { Echo, Echoed } from './messages.js'
import type { Rng } from './rng.js'

/** Bound on each request: far above any healthy latency, far below the test's timeout. */
export const REQUEST_TIMEOUT_MS = 10_000

export interface GoodClient {
  readonly channel: Channel
  /** Requests answered correctly. */
  ok: number
  /** What went wrong, one sentence each (bounded). */
  readonly failures: string[]
  /** Errors the channel reported through onError. */
  readonly errors: SeamError[]
  maxLatencyMs: number
  /** Stops making requests; resolves when the last one settled. */
  stop(): Promise<void>
}

/** Connects and starts `lanes` request loops, each pausing `gapMs` between requests. */
export async function startGoodClient(url: string, rng: Rng, lanes = 2, gapMs = 2): Promise<GoodClient> {
  const errors: SeamError[] = []
  const registry = new Registry({ onError: (e) => void errors.push(e) })
  registry.register(Echoed)
  const channel = await connect(url, { registry, onError: (e) => void errors.push(e) })
  let running = true
  let seq = 0
  const client: GoodClient = {
    channel,
    ok: 0,
    failures: [],
    errors,
    maxLatencyMs: 0,
    stop: async () => {
      running = false
      await loops
    },
  }
  const lane = async (): Promise<void> => {
    while (running) {
      const mine = ++seq
      const data = randomValue(rng, 0, false)
      const t0 = performance.now()
      try {
        const reply = await channel.request(Echo, { seq: mine, data }, { expect: Echoed, timeoutMs: REQUEST_TIMEOUT_MS })
        if (reply.seq !== mine || !isDeepStrictEqual(reply.data, data)) {
          if (client.failures.length < 10) client.failures.push(`request ${mine} got the wrong reply: ${JSON.stringify(reply).slice(0, 200)}`)
        } else client.ok++
      } catch (err) {
        if (client.failures.length < 10) client.failures.push(`request ${mine} failed: ${String(err)}`)
      }
      client.maxLatencyMs = Math.max(client.maxLatencyMs, performance.now() - t0)
      await pause(gapMs)
    }
  }
  const loops = Promise.all(Array.from({ length: lanes }, lane)).then(() => undefined)
  return client
}
