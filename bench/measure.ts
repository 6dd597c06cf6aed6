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
  /** Rounds of the request/response rows (a latency round takes seconds). */
  rounds: number
  pipelined: number
  /** Messages per one-way run; no one-way row without it. */
  oneWay?: number
  /** Rounds of the one-way row: short runs, so more of them fit (default: rounds). */
  oneWayRounds?: number
}

/**
 * Runs `measure` for both sides in `rounds` rounds, back to back, the side
 * that goes first alternating from round to round: on a shared machine, a slow
 * spell or the previous round's leftovers (garbage, a cold cache) then fall on
 * each side equally often.
 */
async function rounds<T>(sides: readonly Side[], count: number, measure: (side: Side) => Promise<T>): Promise<[T[], T[]]> {
  const out: [T[], T[]] = [[], []]
  for (let round = 0; round < count; round++) {
    for (const s of round % 2 === 0 ? [0, 1] : [1, 0]) out[s as 0 | 1].push(await measure(sides[s] as Side))
  }
  return out
}

/** Warms both sides up, then measures them in interleaved rounds; each row is the round with the median ratio. */
export async function compare(ours: Side, raw: Side, o: CompareOptions): Promise<Row[]> {
  const oneWayN = o.oneWay
  const sides = [ours, raw]
  for (const side of sides) {
    if (oneWayN !== undefined) await side.oneWay?.(oneWayN / 4)
    await pipelined(side.ask, o.pipelined / 4)
  }
  const one = oneWayN === undefined ? undefined : await rounds(sides, o.oneWayRounds ?? o.rounds, async (side) => (await side.oneWay?.(oneWayN)) ?? 0)
  const lat = await rounds(sides, o.rounds, (side) => latency(side.ask))
  const pipe = await rounds(sides, o.rounds, (side) => pipelined(side.ask, o.pipelined))
  const row = (name: string, v: [number[], number[]], unit: string, higherIsBetter: boolean): Row => ({
    name,
    ...medianRound(v[0], v[1]),
    unit,
    higherIsBetter,
  })
  const p50 = lat.map((side) => side.map((l) => l.p50)) as [number[], number[]]
  const p99 = lat.map((side) => side.map((l) => l.p99)) as [number[], number[]]
  const suffix = o.suffix ?? ''
  return [
    ...(one === undefined ? [] : [row(`${o.label} one-way typed, ~100 B msgpack`, one, 'msg/s', true)]),
    row(`${o.label} request/response p50, 1 in flight${suffix}`, p50, 'µs', false),
    row(`${o.label} request/response p99, 1 in flight${suffix}`, p99, 'µs', false),
    row(`${o.label} request/response, ${IN_FLIGHT} in flight${suffix}`, pipe, 'req/s', true),
  ]
}
