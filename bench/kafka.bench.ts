/**
 * Kafka benchmarks: typed one-way messages through a Kafka-protocol broker,
 * ours against plain kafkajs doing the same work (kafka-raw.ts): produce in
 * batches of 1000 with acks -1, one request at a time, 16 record keys;
 * consume in a group, decode, commit. By default the broker is a mokapi
 * started for the run (kafka-broker.ts); `KAFKA_BROKERS` names a cluster
 * instead (whose topics must exist and be empty: see there).
 *
 * mokapi, not the client, sets the pace: it takes a few thousand records a
 * second and spends several times the client's CPU on each. What the library
 * controls is the client CPU per message (process.cpuUsage over the timed
 * span, producing and consuming in this one process), hence a CPU row next
 * to each msg/s row. Two baselines: plain records (what a kafkajs user
 * without an envelope sends), and the same records with the `seam-*`
 * headers our transport adds. Against the second, the broker and kafkajs do
 * the same work for both sides, and the ratio is what our own code costs.
 *
 * Every run takes a fresh topic and a fresh group (records stay in the
 * broker), and its consumer has joined before the clock starts (about a
 * second on mokapi). Each row is the round with the median ratio; in each
 * round the three sides run back to back, the order rotating. Closing our
 * server takes ~5 s a run (untimed): kafkajs's disconnect waits out the
 * consumer's pending long-poll fetch (its maxWaitTimeInMs, 5000 by default,
 * which the transport leaves as it is). So the default five rounds take
 * about 80 s. `KAFKA_BENCH_N` (messages a run, default
 * 10 000), `KAFKA_BENCH_ROUNDS` (default 5) and `KAFKA_BENCH_VERBOSE=1`
 * (every run's figures on stderr) change that.
 */
import { connect, listen } from '../src/index.js'
import { counting, sendTimed, setting, type Sample } from './broker-run.js'
import { freshGroup, startBroker, type Broker } from './kafka-broker.js'
import { keyList, rawOneWay, type Load } from './kafka-raw.js'
import type { Row } from './report.js'
import { medianRound } from './stats.js'

// Three sides a round, one topic a run, and the fixture has 64 topics: at most 20 rounds after the warm-up.
const ROUNDS = setting('KAFKA_BENCH_ROUNDS', 5, 1, 20)
// Two to three seconds a run of ours at mokapi's pace. 1000: our producer's maxBatchRecords, so both
// sides send requests of 1000 records, one at a time. 256: the channel's default concurrency.
const LOAD: Load = { n: setting('KAFKA_BENCH_N', 10_000, 1000, 10_000_000), keys: 16, batch: 1000 }
const CONCURRENCY = 256

/** Ours: from the first send until the handler ran for every message and every send resolved. */
async function oursOneWay(broker: Broker, load: Load): Promise<Sample> {
  const topic = broker.freshTopic()
  await broker.checkEmpty(topic)
  const base = `kafka://${broker.brokers.join(',')}/${topic}`
  const { registry, consumed } = counting(load.n)
  // listen resolves once the group has assigned its partitions.
  const server = await listen(`${base}?group=${freshGroup('ours')}&fromBeginning=true`, { registry, concurrency: CONCURRENCY })
  try {
    const client = await connect(base, { registry })
    try {
      const keys = keyList(load.keys)
      return await sendTimed('kafka ours', client, load.n, load.batch, consumed, (i) => keys[i % keys.length] as string)
    } finally {
      await client.close()
    }
  } finally {
    await server.close()
  }
}

type SideName = 'ours' | 'raw' | 'raw+headers'
const SIDES: readonly SideName[] = ['ours', 'raw', 'raw+headers']

function runSide(side: SideName, broker: Broker, load: Load): Promise<Sample> {
  return side === 'ours' ? oursOneWay(broker, load) : rawOneWay(broker, load, side === 'raw+headers')
}

/** Warm-up, then ROUNDS rounds of the three sides, the order rotating: the rows of the median rounds. */
async function compare(broker: Broker): Promise<Row[]> {
  const verbose = process.env.KAFKA_BENCH_VERBOSE !== undefined
  const samples: Record<SideName, Sample[]> = { ours: [], raw: [], 'raw+headers': [] }
  for (let round = -1; round < ROUNDS; round++) {
    for (let k = 0; k < SIDES.length; k++) {
      const side = SIDES[(k + Math.max(0, round)) % SIDES.length] as SideName
      const s = await runSide(side, broker, round < 0 ? { ...LOAD, n: Math.ceil(LOAD.n / 2) } : LOAD)
      if (round >= 0) samples[side].push(s)
      if (verbose) process.stderr.write(`\n  ${round < 0 ? 'warm-up' : `round ${round + 1}`} ${side.padEnd(11)} ${Math.round(s.rate).toString().padStart(6)} msg/s ${s.cpuUsPerMsg.toFixed(1).padStart(6)} µs/msg`)
    }
  }
  if (verbose) process.stderr.write('\n')
  const what = `~100 B msgpack, ${LOAD.keys} keys`
  const rate = (side: SideName): number[] => samples[side].map((s) => s.rate)
  const cpu = (side: SideName): number[] => samples[side].map((s) => s.cpuUsPerMsg)
  return [
    { name: `kafka one-way typed, ${what}`, ...medianRound(rate('ours'), rate('raw')), unit: 'msg/s', higherIsBetter: true },
    { name: `kafka client CPU (produce + consume), ${what}`, ...medianRound(cpu('ours'), cpu('raw')), unit: 'µs/msg', higherIsBetter: false },
    { name: `kafka one-way typed, ${what}, baseline with our headers`, ...medianRound(rate('ours'), rate('raw+headers')), unit: 'msg/s', higherIsBetter: true },
    { name: `kafka client CPU (produce + consume), ${what}, baseline with our headers`, ...medianRound(cpu('ours'), cpu('raw+headers')), unit: 'µs/msg', higherIsBetter: false },
  ]
}

/** Runs the Kafka benchmarks on a mokapi of their own, or on KAFKA_BROKERS; about 80 s. */
export async function run(): Promise<Row[]> {
  const broker = await startBroker()
  try {
    return await compare(broker)
  } finally {
    await broker.close()
  }
}
