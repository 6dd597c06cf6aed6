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
import { arm, stopPeer, type PeerReport } from './peer-protocol.js'
import type { PeerReady } from './tcp-peer.js'
import type { Row } from './report.js'
import { compare } from './measure.js'

const ROUNDS = 3
const ONE_WAY = 400_000
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
    close: () => stopPeer(child),
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
    return await compare(
      { ask: oursAsk, oneWay: (n) => oneWayOurs(peer, client, n) },
      { ask: rawAsk, oneWay: (n) => oneWayRaw(peer, rawSink, n) },
      { label: 'tcp', rounds: ROUNDS, pipelined: PIPELINED, oneWay: ONE_WAY },
    )
  } finally {
    await client.close()
    sinkSocket.destroy()
    echoSocket.destroy()
    await peer.close()
  }
}
