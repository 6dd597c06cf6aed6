/**
 * How every benchmark measures: latency at one request in flight, throughput
 * at 64 in flight, and `compare`, which runs ours and the baseline back to
 * back in each of several rounds and reports the round with the median ratio,
 * so a slow spell of the machine hurts both figures of a row alike.
 */
import type { Row } from './report.js'
import { medianRound, percentileUs } from './stats.js'

/** One request: resolves with its reply. */
export type Ask = (i: number) => Promise<unknown>

const RTT_WARMUP = 5_000
const RTT_SAMPLES = 20_000
export const IN_FLIGHT = 64

/** p50 and p99 round trip in µs, one request at a time, after a warm-up. */
export async function latency(ask: Ask): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < RTT_WARMUP; i++) await ask(i)
  const ns = new Float64Array(RTT_SAMPLES)
  for (let i = 0; i < RTT_SAMPLES; i++) {
    const t0 = process.hrtime.bigint()
    await ask(i)
    ns[i] = Number(process.hrtime.bigint() - t0)
  }
  return { p50: percentileUs(ns, 0.5), p99: percentileUs(ns, 0.99) }
}

/** Requests per second with IN_FLIGHT requests outstanding at all times. */
export async function pipelined(ask: Ask, n: number): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) await ask(next++)
  }
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

// How often a one-way sender awaits a send: often enough to feel backpressure, rarely enough not to cost a turn per message.
const AWAIT_EVERY = 128

/** Messages per second for `n` sends of `send(i)`, timed until the peer counted the last one. */
export async function oneWay(peer: { expect(n: number): Promise<{ done: Promise<void> }> }, n: number, send: (i: number) => Promise<void> | void): Promise<number> {
  const { done } = await peer.expect(n)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const sent = send(i)
    if (i % AWAIT_EVERY === 0) await sent
  }
  await done
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

/** One contender: requests, and optionally a one-way run of n messages returning msg/s. */
export interface Side {
  ask: Ask
  oneWay?: (n: number) => Promise<number>
}

export interface CompareOptions {
  /** Row names start with this, e.g. `tcp`. */
  label: string
  /** Appended to the request/response row names, e.g. `, one process`. */
  suffix?: string
  rounds: number
  pipelined: number
  /** Messages per one-way run; no one-way row without it. */
  oneWay?: number
}

/** Warms both sides up, then measures them in interleaved rounds; each row is the round with the median ratio. */
export async function compare(ours: Side, raw: Side, o: CompareOptions): Promise<Row[]> {
  const oneWayN = o.oneWay
  const sides = [ours, raw]
  for (const side of sides) {
    if (oneWayN !== undefined) await side.oneWay?.(oneWayN / 4)
    await pipelined(side.ask, o.pipelined / 4)
  }
  const one = [[], []] as number[][]
  const p50 = [[], []] as number[][]
  const p99 = [[], []] as number[][]
  const pipe = [[], []] as number[][]
  for (let round = 0; round < o.rounds; round++) {
    for (let s = 0; s < 2; s++) if (oneWayN !== undefined) one[s]?.push((await sides[s]?.oneWay?.(oneWayN)) ?? 0)
    for (let s = 0; s < 2; s++) {
      const l = await latency((sides[s] as Side).ask)
      p50[s]?.push(l.p50)
      p99[s]?.push(l.p99)
    }
    for (let s = 0; s < 2; s++) pipe[s]?.push(await pipelined((sides[s] as Side).ask, o.pipelined))
  }
  const row = (name: string, v: number[][], unit: string, higherIsBetter: boolean): Row => ({
    name,
    ...medianRound(v[0] as number[], v[1] as number[]),
    unit,
    higherIsBetter,
  })
  const suffix = o.suffix ?? ''
  return [
    ...(oneWayN === undefined ? [] : [row(`${o.label} one-way typed, ~100 B msgpack`, one, 'msg/s', true)]),
    row(`${o.label} request/response p50, 1 in flight${suffix}`, p50, 'µs', false),
    row(`${o.label} request/response p99, 1 in flight${suffix}`, p99, 'µs', false),
    row(`${o.label} request/response, ${IN_FLIGHT} in flight${suffix}`, pipe, 'req/s', true),
  ]
}
