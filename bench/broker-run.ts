/**
 * What the broker benchmarks (AMQP, Kafka, SQS) share: their settings from
 * the environment, a registry that counts the one-way messages handled, our
 * side's send loop, and one run's figures.
 */
import { Registry, type Channel } from '../src/index.js'
import { InFlight, finished } from './amqp-window.js'
import { ItemMsg, item } from './payload.js'

/** One run's figures: messages per second, and this process's CPU time per message (user + system). */
export interface Sample {
  rate: number
  cpuUsPerMsg: number
}

/** Times `work` from its first send until it resolves: messages per second and client CPU µs per message. */
export async function timed(n: number, work: () => Promise<void>): Promise<Sample> {
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await work()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  return { rate: n / seconds, cpuUsPerMsg: (cpu.user + cpu.system) / n }
}

/** A whole number from the environment, or `fallback`; anything else fails before the broker starts. */
export function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`)
  return value
}

/** A registry whose handler of the benchmark's one-way messages resolves `consumed` at the `n`th. */
export function counting(n: number): { registry: Registry; consumed: Promise<void> } {
  let handled = 0
  let allHandled!: () => void
  const consumed = new Promise<void>((resolve) => (allHandled = resolve))
  const registry = new Registry()
  registry.on(ItemMsg, () => {
    if (++handled === n) allHandled()
  })
  return { registry, consumed }
}

/**
 * Our side of a broker bench: sends `n` of the benchmark's one-way messages
 * through `client` with at most `inFlight` unconfirmed (the window the
 * baseline keeps too), timed until every send resolved and `consumed` did.
 */
export function sendTimed(what: string, client: Channel, n: number, inFlight: number, consumed: Promise<void>, key?: (i: number) => string): Promise<Sample> {
  const window = new InFlight(inFlight)
  const confirmed = (): void => window.release()
  const failed = (err: unknown): void => window.release(err)
  const produce = async (): Promise<void> => {
    for (let i = 0; i < n; i++) {
      if (!window.tryTake()) await window.take()
      client.send(ItemMsg, item(i), key === undefined ? undefined : { key: key(i) }).then(confirmed, failed)
    }
    await window.drained()
  }
  return timed(n, () => finished(what, [produce(), consumed]))
}
