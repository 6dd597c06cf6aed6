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

/** A one-way run of n messages, returning msg/s. */
export type OneWay = (n: number) => Promise<number>

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
  oneWay?: OneWay
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
 * Runs `measure` for both sides in `count` rounds, back to back, the side
 * that goes first alternating from round to round: on a shared machine, a slow
 * spell or the previous round's leftovers (garbage, a cold cache) then fall on
 * each side equally often.
 */
export async function rounds<S, T>(sides: readonly [S, S], count: number, measure: (side: S) => Promise<T>): Promise<[T[], T[]]> {
  const [a, b] = await roundsOf(sides, count, measure)
  return [a as T[], b as T[]]
}

/** {@link rounds} for any number of sides: each round runs every side once, the first side moving along by one each round. */
export async function roundsOf<S, T>(sides: readonly S[], count: number, measure: (side: S) => Promise<T>): Promise<T[][]> {
  const out: T[][] = sides.map(() => [])
  for (let round = 0; round < count; round++) {
    for (let k = 0; k < sides.length; k++) {
      const s = (round + k) % sides.length
      ;(out[s] as T[]).push(await measure(sides[s] as S))
    }
  }
  return out
}

function row(name: string, v: [number[], number[]], unit: string, higherIsBetter: boolean): Row {
  return { name, ...medianRound(v[0], v[1]), unit, higherIsBetter }
}

/** Warms both up, then runs them in `count` interleaved rounds of `n` messages: the row of the median round. */
async function compareOneWay(name: string, ours: OneWay, baseline: OneWay, count: number, n: number): Promise<Row> {
  await ours(n / 4)
  await baseline(n / 4)
  return row(name, await rounds([ours, baseline], count, (side) => side(n)), 'msg/s', true)
}

/** Warms both sides up, then measures them in interleaved rounds; each row is the round with the median ratio. */
export async function compare(ours: Side, raw: Side, o: CompareOptions): Promise<Row[]> {
  const one =
    o.oneWay === undefined || ours.oneWay === undefined || raw.oneWay === undefined
      ? undefined
      : await compareOneWay(`${o.label} one-way typed, ~100 B msgpack`, ours.oneWay, raw.oneWay, o.oneWayRounds ?? o.rounds, o.oneWay)
  for (const side of [ours, raw]) await pipelined(side.ask, o.pipelined / 4)
  const lat = await rounds([ours, raw], o.rounds, (side) => latency(side.ask))
  const pipe = await rounds([ours, raw], o.rounds, (side) => pipelined(side.ask, o.pipelined))
  const p50 = lat.map((side) => side.map((l) => l.p50)) as [number[], number[]]
  const p99 = lat.map((side) => side.map((l) => l.p99)) as [number[], number[]]
  const suffix = o.suffix ?? ''
  return [
    ...(one === undefined ? [] : [one]),
    row(`${o.label} request/response p50, 1 in flight${suffix}`, p50, 'µs', false),
    row(`${o.label} request/response p99, 1 in flight${suffix}`, p99, 'µs', false),
    row(`${o.label} request/response, ${IN_FLIGHT} in flight${suffix}`, pipe, 'req/s', true),
  ]
}
