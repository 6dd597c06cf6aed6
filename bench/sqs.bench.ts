/**
 * SQS benchmarks: typed one-way messages through an SQS endpoint, ours next
 * to plain SDK baselines doing the same work (sqs-raw.ts), same endpoint,
 * same run: (a) a naive loop, one SendMessage awaited after another and one
 * DeleteMessage per message; the same with as many SendMessage calls in
 * flight as ours keeps sends outstanding; (b) hand-batched, SendMessageBatch
 * of ten and DeleteMessageBatch, with as many concurrent receivers as ours. By default the endpoint is a fauxqs
 * started for the run in a process of its own (sqs-endpoint.ts);
 * `SQS_ENDPOINT` names another.
 *
 * The AWS SDK's CPU sets the pace (hundreds of µs per request, far more than
 * the envelope costs), so each msg/s row has a row of client CPU per message
 * next to it (process.cpuUsage over the timed span, sending and receiving in
 * this one process). Each row is the round with the median ratio; in each
 * round the four sides run back to back, the order rotating.
 * `SQS_BENCH_N` (messages a run, default 4000), `SQS_BENCH_ROUNDS` (default
 * 3) and `SQS_BENCH_VERBOSE=1` (every run's figures on stderr) change that.
 */
import { connect, listen } from '../src/index.js'
import { counting, sendTimed, setting, type Sample } from './broker-run.js'
import type { Row } from './report.js'
import { startEndpoint, type Endpoint } from './sqs-endpoint.js'
import { rawOneWay, type Load, type RawMode } from './sqs-raw.js'
import { medianRound } from './stats.js'

const ROUNDS = setting('SQS_BENCH_ROUNDS', 3, 1, 20)
// 10 pollers: what ours runs at the default concurrency (256 / 10, at most 10). 80 sends outstanding: eight batches of ten, what ours keeps in flight.
const LOAD: Load = { n: setting('SQS_BENCH_N', 4000, 100, 10_000_000), pollers: 10, window: 80 }

/** Ours: from the first send until the handler ran for every message and every send resolved. */
async function oursOneWay(endpoint: Endpoint, load: Load): Promise<Sample> {
  const queue = await endpoint.freshQueue()
  const { registry, consumed } = counting(load.n)
  const server = await listen(queue.channelUrl, { registry, sqs: { pollers: load.pollers } })
  try {
    const client = await connect(queue.channelUrl, { registry })
    try {
      return await sendTimed('sqs ours', client, load.n, load.window, consumed)
    } finally {
      await client.close()
    }
  } finally {
    await server.close()
    await endpoint.deleteQueue(queue.url)
  }
}

type SideName = 'ours' | RawMode
const SIDES: readonly SideName[] = ['ours', 'loop', 'concurrent', 'batched']

function runSide(side: SideName, endpoint: Endpoint, load: Load): Promise<Sample> {
  return side === 'ours' ? oursOneWay(endpoint, load) : rawOneWay(endpoint, load, side)
}

/** Warm-up, then ROUNDS rounds of the four sides, the order rotating: the rows of the median rounds. */
async function compare(endpoint: Endpoint): Promise<Row[]> {
  const verbose = process.env.SQS_BENCH_VERBOSE !== undefined
  const samples: Record<SideName, Sample[]> = { ours: [], loop: [], concurrent: [], batched: [] }
  for (let round = -1; round < ROUNDS; round++) {
    for (let k = 0; k < SIDES.length; k++) {
      const side = SIDES[(k + Math.max(0, round)) % SIDES.length] as SideName
      const s = await runSide(side, endpoint, round < 0 ? { ...LOAD, n: Math.ceil(LOAD.n / 4) } : LOAD)
      if (round >= 0) samples[side].push(s)
      if (verbose) process.stderr.write(`\n  ${round < 0 ? 'warm-up' : `round ${round + 1}`} ${side.padEnd(10)} ${Math.round(s.rate).toString().padStart(6)} msg/s ${s.cpuUsPerMsg.toFixed(1).padStart(7)} µs/msg`)
    }
  }
  if (verbose) process.stderr.write('\n')
  const rate = (side: SideName): number[] => samples[side].map((s) => s.rate)
  const cpu = (side: SideName): number[] => samples[side].map((s) => s.cpuUsPerMsg)
  const rows = (side: RawMode, what: string): Row[] => [
    { name: `sqs one-way typed vs ${what}, ~100 B msgpack`, ...medianRound(rate('ours'), rate(side)), unit: 'msg/s', higherIsBetter: true },
    { name: `sqs client CPU (send + receive) vs ${what}`, ...medianRound(cpu('ours'), cpu(side)), unit: 'µs/msg', higherIsBetter: false },
  ]
  return [
    ...rows('loop', '(a) naive SDK loop, one SendMessage and one DeleteMessage per message'),
    ...rows('concurrent', `naive SDK, one SendMessage and one DeleteMessage per message, ${LOAD.window} in flight`),
    ...rows('batched', `(b) hand-batched SDK, batches of 10, ${LOAD.pollers} receivers, batch deletes`),
  ]
}

/** Runs the SQS benchmarks on a fauxqs of their own, or on SQS_ENDPOINT. */
export async function run(): Promise<Row[]> {
  const endpoint = await startEndpoint()
  try {
    return await compare(endpoint)
  } finally {
    await endpoint.close()
  }
}
