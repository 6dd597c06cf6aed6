/**
 * TCP benchmarks: seam-channel over tcp:// against a raw `node:net` socket
 * carrying the same payload with the same codec (see raw.ts).
 *
 * The receiving side runs in a child process (tcp-peer.ts), for ours and the
 * baseline alike. Two processes use both cores, as two machines would; each
 * side has its own event loop and heap, so the receiver's decode work never
 * queues behind the sender's encode work (in one process it would, and the
 * figure would measure the sum of both halves rather than the pipeline). A
 * worker_thread would give the same, but a process also keeps garbage
 * collection and the libuv pool apart, which is closer to the real use.
 *
 * Each figure is the best of 3 rounds, ours and baseline interleaved, so a
 * burst of load from elsewhere on the machine hurts both alike.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Registry, connect, type Channel } from '../src/index.js'
import { Echo, EchoReply, ItemMsg, item } from './payload.js'
import { RawWriter, rawRequester } from './raw.js'
import { arm, type PeerCommand, type PeerReport } from './peer-protocol.js'
import type { PeerReady } from './tcp-peer.js'
import type { Row } from './report.js'
import { best, percentileUs } from './stats.js'

const ROUNDS = 3
const ONE_WAY = 400_000
const RTT_WARMUP = 5_000
const RTT_SAMPLES = 20_000
const IN_FLIGHT = 64
const PIPELINED = 100_000
// How often the sender awaits a send: often enough to feel backpressure, rarely enough not to cost a turn per message.
const AWAIT_EVERY = 128

interface Peer {
  child: ChildProcess
  ready: PeerReady
  /** Arms the peer to count `n` one-way messages; resolves once armed, with a promise of the last one arriving. */
  expect(n: number): Promise<{ done: Promise<void> }>
  close(): Promise<void>
}

export async function startPeer(): Promise<Peer> {
  // execArgv is inherited, so the child runs under tsx like this process.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const child = fork(fileURLToPath(new URL(`./tcp-peer${ext}`, import.meta.url)), { stdio: 'inherit' })
  const [first] = (await once(child, 'message')) as [PeerReport<PeerReady>]
  if (!('ready' in first)) throw new Error('bench peer did not start')
  return {
    child,
    ready: first.ready,
    expect: (n) => arm(child, n),
    async close() {
      child.send({ exit: true } satisfies PeerCommand)
      const timer = setTimeout(() => child.kill(), 5000)
      await once(child, 'exit')
      clearTimeout(timer)
    },
  }
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port, noDelay: true })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

// ---- one-way ----

export async function oneWayOurs(peer: Peer, client: Channel, n: number): Promise<number> {
  const { done } = await peer.expect(n)
  const t0 = process.hrtime.bigint()
  let last: Promise<void> = Promise.resolve()
  for (let i = 0; i < n; i++) {
    last = client.send(ItemMsg, item(i))
    if (i % AWAIT_EVERY === 0) await last
  }
  await last
  await done
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

async function oneWayRaw(peer: Peer, writer: RawWriter, n: number): Promise<number> {
  const { done } = await peer.expect(n)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    writer.write(item(i))
    if (i % AWAIT_EVERY === 0 && writer.blocked) await writer.drained()
  }
  await done
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

// ---- request/response ----


export async function latency(ask: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < RTT_WARMUP; i++) await ask(i)
  const ns = new Float64Array(RTT_SAMPLES)
  for (let i = 0; i < RTT_SAMPLES; i++) {
    const t0 = process.hrtime.bigint()
    await ask(i)
    ns[i] = Number(process.hrtime.bigint() - t0)
  }
  return { p50: percentileUs(ns, 0.5), p99: percentileUs(ns, 0.99) }
}

export async function pipelined(ask: (i: number) => Promise<unknown>, n: number): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) await ask(next++)
  }
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

/** Runs the TCP benchmarks; about 25 s. */
export async function run(): Promise<Row[]> {
  const peer = await startPeer()
  const registry = new Registry().register(EchoReply)
  const client = await connect(peer.ready.ours, { registry })
  const sinkSocket = await dial(peer.ready.rawSink)
  const echoSocket = await dial(peer.ready.rawEcho)
  const rawSink = new RawWriter(sinkSocket)
  const rawAsk = rawRequester(echoSocket)
  const oursAsk = (i: number): Promise<unknown> => client.request(Echo, item(i), { expect: EchoReply, timeoutMs: 10_000 })
  try {
    // Warm-up: lets the JIT settle on both sides before anything is timed.
    await oneWayOurs(peer, client, ONE_WAY / 4)
    await oneWayRaw(peer, rawSink, ONE_WAY / 4)
    await pipelined(oursAsk, PIPELINED / 4)
    await pipelined(rawAsk, PIPELINED / 4)

    const r = { oneOurs: [] as number[], oneRaw: [] as number[], p50Ours: [] as number[], p50Raw: [] as number[], p99Ours: [] as number[], p99Raw: [] as number[], pipeOurs: [] as number[], pipeRaw: [] as number[] }
    for (let round = 0; round < ROUNDS; round++) {
      r.oneOurs.push(await oneWayOurs(peer, client, ONE_WAY))
      r.oneRaw.push(await oneWayRaw(peer, rawSink, ONE_WAY))
      const lo = await latency(oursAsk)
      const lr = await latency(rawAsk)
      r.p50Ours.push(lo.p50)
      r.p99Ours.push(lo.p99)
      r.p50Raw.push(lr.p50)
      r.p99Raw.push(lr.p99)
      r.pipeOurs.push(await pipelined(oursAsk, PIPELINED))
      r.pipeRaw.push(await pipelined(rawAsk, PIPELINED))
    }
    return [
      { name: 'tcp one-way typed, ~100 B msgpack', ours: best(r.oneOurs, true), baseline: best(r.oneRaw, true), unit: 'msg/s', higherIsBetter: true },
      { name: 'tcp request/response p50, 1 in flight', ours: best(r.p50Ours, false), baseline: best(r.p50Raw, false), unit: 'µs', higherIsBetter: false },
      { name: 'tcp request/response p99, 1 in flight', ours: best(r.p99Ours, false), baseline: best(r.p99Raw, false), unit: 'µs', higherIsBetter: false },
      { name: `tcp request/response, ${IN_FLIGHT} in flight`, ours: best(r.pipeOurs, true), baseline: best(r.pipeRaw, true), unit: 'req/s', higherIsBetter: true },
    ]
  } finally {
    await client.close()
    sinkSocket.destroy()
    echoSocket.destroy()
    await peer.close()
  }
}
