/**
 * AMQP benchmarks: typed one-way messages through RabbitMQ (AMQP_URL, by
 * default a local broker), ours against plain amqplib doing the same work
 * (amqp-raw.ts): publish with confirms, consume with prefetch, decode, ack.
 *
 * The broker sets the pace here, not the client: a confirm needs a round
 * trip through it, and a persistent message a write to disk. So both sides
 * keep the same number of publishes unconfirmed (amqp-window.ts) and the
 * same prefetch; the ratio then says what our envelope, validation and
 * bookkeeping cost on top of the broker. The broker shares the machine's two
 * cores with this process, so the client's own CPU time shows in the figures.
 *
 * Every run declares a fresh queue and deletes it, so a round never drains
 * the previous one's leftovers. Each row is the round with the median ratio,
 * ours and the baseline back to back, the side going first alternating.
 */
import { connect, listen } from '../src/index.js'
import { counting, sendTimed } from './broker-run.js'
import { deleteQueue, freshQueue, rawOneWay, type Load, type Variant } from './amqp-raw.js'
import type { Row } from './report.js'
import { rounds } from './measure.js'
import { medianRound } from './stats.js'

const URL_DEFAULT = 'amqp://guest:guest@127.0.0.1:5672'
const ROUNDS = 7
// One to two seconds per run on a local broker: the untimed set-up and the first confirm's latency wash out,
// and seven rounds of both sides and both variants still fit in about a minute. 256: the channel's default
// concurrency, and past it the baseline gained nothing here.
const LOAD: Load = { n: 20_000, inFlight: 256, prefetch: 256 }

const VARIANTS: readonly Variant[] = [
  // Transient messages in a transient queue: the broker keeps them in memory only.
  { name: 'non-persistent', durable: false, persistent: false },
  { name: 'persistent', durable: true, persistent: true },
]

/** `base` with the queue in its query, keeping any vhost path it has. */
function queueUrl(base: string, queue: string): string {
  const url = new URL(base)
  url.searchParams.set('queue', queue)
  return url.href
}

/** Ours: messages per second from the first send until the handler ran for every message and every send resolved. */
async function oursOneWay(base: string, variant: Variant, load: Load): Promise<number> {
  const queue = freshQueue('ours')
  const url = queueUrl(base, queue)
  const amqp = { durable: variant.durable, persistent: variant.persistent }
  const { registry, consumed } = counting(load.n)
  const server = await listen(url, { registry, concurrency: load.prefetch, amqp })
  try {
    const client = await connect(url, { registry, amqp })
    try {
      return (await sendTimed(`amqp ours (${variant.name})`, client, load.n, load.inFlight, consumed)).rate
    } finally {
      await client.close()
    }
  } finally {
    await server.close()
    await deleteQueue(base, queue)
  }
}

/** Warm-up, then ROUNDS interleaved runs of one variant: the row of the median round. */
async function compareVariant(base: string, variant: Variant): Promise<Row> {
  const warm = { ...LOAD, n: LOAD.n / 4 }
  await oursOneWay(base, variant, warm)
  await rawOneWay(base, variant, warm)
  const [ours, raw] = await rounds([oursOneWay, rawOneWay], ROUNDS, (side) => side(base, variant, LOAD))
  return { name: `amqp one-way typed, ~100 B msgpack, ${variant.name}`, ...medianRound(ours, raw), unit: 'msg/s', higherIsBetter: true }
}

/** Runs the AMQP benchmarks against AMQP_URL (default: local RabbitMQ as guest); about a minute. */
export async function run(): Promise<Row[]> {
  const base = process.env.AMQP_URL ?? URL_DEFAULT
  const rows: Row[] = []
  for (const variant of VARIANTS) rows.push(await compareVariant(base, variant))
  return rows
}
