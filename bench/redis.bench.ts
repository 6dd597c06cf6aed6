/**
 * Redis benchmarks: typed one-way messages through a Redis stream in a
 * consumer group, ours against plain ioredis doing the same work with the
 * same batching (redis-raw.ts): `XADD` in pipelines of 500, `XREADGROUP
 * COUNT 500`, one `XACK` per read. Ours sends 500 in one turn (the appends
 * of one turn go in one pipeline), awaits them all and sends the next 500,
 * as the baseline awaits each pipeline, and reads with `concurrency` 500,
 * so both read 500 entries at a time.
 *
 * Runs on the machine's Redis (127.0.0.1:6379) or `REDIS_URL`, on fresh
 * streams deleted after each run. Each row is the round with the median
 * ratio; in each round the two sides run back to back, the order
 * alternating. `REDIS_BENCH_N` (messages a run, default 50 000: shorter runs measure the JIT more than the transport) and
 * `REDIS_BENCH_ROUNDS` (default 7) change that; `REDIS_BENCH_VERBOSE=1`
 * prints every run's figures on stderr.
 */
import { randomBytes } from 'node:crypto'
import { connect, listen } from '../src/index.js'
import { counting, setting, timed, type Sample } from './broker-run.js'
import { finished } from './amqp-window.js'
import { ItemMsg, item } from './payload.js'
import type { Channel } from '../src/index.js'
import { rawOneWay, type Load } from './redis-raw.js'
import type { Row } from './report.js'
import { medianRound } from './stats.js'

const ROUNDS = setting('REDIS_BENCH_ROUNDS', 7, 1, 50)
const LOAD: Load = { n: setting('REDIS_BENCH_N', 50_000, 1000, 10_000_000), batch: 500 }
const URL_BASE = (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/+$/, '')

function freshStream(side: string): string {
  return `seam-bench-${side}-${randomBytes(5).toString('hex')}`
}

/** `n` sends through `client` in batches of `batch` sent in one turn, each batch awaited before the next: the baseline's pipelines. */
function sendBatches(client: Channel, load: Load, consumed: Promise<void>): Promise<Sample> {
  const produce = async (): Promise<void> => {
    for (let i = 0; i < load.n; ) {
      const end = Math.min(load.n, i + load.batch)
      const sent: Promise<void>[] = []
      for (; i < end; i++) sent.push(client.send(ItemMsg, item(i)))
      await Promise.all(sent)
    }
  }
  return timed(load.n, () => finished('redis ours', [produce(), consumed]))
}

/** Ours: from the first send until the handler ran for every message and every send resolved. */
async function oursOneWay(load: Load): Promise<Sample> {
  const stream = freshStream('ours')
  const url = `${URL_BASE}/${stream}`
  const { registry, consumed } = counting(load.n)
  const server = await listen(`${url}?group=ours`, { registry, concurrency: load.batch, redis: { readCount: load.batch } })
  const client = await connect(url, { registry })
  try {
    return await sendBatches(client, load, consumed)
  } finally {
    await client.close()
    await server.close()
    const { Redis } = await import('ioredis')
    const cleanup = new Redis(URL_BASE)
    await cleanup.del(stream).catch(() => undefined)
    cleanup.disconnect()
  }
}

function runSide(side: 'ours' | 'raw', load: Load): Promise<Sample> {
  return side === 'ours' ? oursOneWay(load) : rawOneWay(URL_BASE, freshStream('raw'), load)
}

/** Runs the Redis benchmark: a warm-up, then ROUNDS rounds of both sides. */
export async function run(): Promise<Row[]> {
  const verbose = process.env.REDIS_BENCH_VERBOSE !== undefined
  const samples: Record<'ours' | 'raw', Sample[]> = { ours: [], raw: [] }
  for (let round = -1; round < ROUNDS; round++) {
    const order: ('ours' | 'raw')[] = round % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours']
    for (const side of order) {
      const s = await runSide(side, round < 0 ? { ...LOAD, n: Math.ceil(LOAD.n / 2) } : LOAD)
      if (round >= 0) samples[side].push(s)
      if (verbose) process.stderr.write(`\n  ${round < 0 ? 'warm-up' : `round ${round + 1}`} ${side.padEnd(4)} ${Math.round(s.rate).toString().padStart(7)} msg/s ${s.cpuUsPerMsg.toFixed(1).padStart(6)} µs/msg`)
    }
  }
  if (verbose) process.stderr.write('\n')
  const what = `~100 B msgpack, batches of ${LOAD.batch}`
  return [
    { name: `redis one-way typed (XADD + XREADGROUP + XACK), ${what}`, ...medianRound(samples.ours.map((s) => s.rate), samples.raw.map((s) => s.rate)), unit: 'msg/s', higherIsBetter: true },
    { name: `redis client CPU (produce + consume), ${what}`, ...medianRound(samples.ours.map((s) => s.cpuUsPerMsg), samples.raw.map((s) => s.cpuUsPerMsg)), unit: 'µs/msg', higherIsBetter: false },
  ]
}
