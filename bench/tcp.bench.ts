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
 * Each row is the round with the median ratio (one-way: of 11 rounds; the
 * others: of 5), ours and baseline back to back, the side going first
 * alternating, so a burst of load from elsewhere on the machine hurts both alike.
 */
import { fork } from 'node:child_process'
import { createConnection, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Registry, connect } from '../src/index.js'
import { Echo, EchoReply, ItemMsg, item } from './payload.js'
import { RawWriter, rawRequester, rawSend } from './raw.js'
import { peerHandle, type Peer as PeerHandle, type PeerReady } from './peer-protocol.js'
import type { Row } from './report.js'
import { compare, oneWay } from './measure.js'

const ROUNDS = 5
// One-way rounds take about a second each: more of them steady the median on a noisy machine.
const ONE_WAY_ROUNDS = 11
const ONE_WAY = 250_000
const PIPELINED = 100_000

type Peer = PeerHandle<PeerReady>

export async function startPeer(): Promise<Peer> {
  // execArgv is inherited, so the child runs the same way (compiled, or under tsx) as this process.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  return peerHandle(fork(fileURLToPath(new URL(`./tcp-peer${ext}`, import.meta.url)), { stdio: 'inherit' }), 'the tcp bench peer')
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port, noDelay: true })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
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
    return await compare(
      { ask: oursAsk, oneWay: (n) => oneWay(peer, n, (i) => client.send(ItemMsg, item(i))) },
      { ask: rawAsk, oneWay: (n) => oneWay(peer, n, rawSend(rawSink)) },
      { label: 'tcp', rounds: ROUNDS, oneWayRounds: ONE_WAY_ROUNDS, pipelined: PIPELINED, oneWay: ONE_WAY },
    )
  } finally {
    await client.close()
    sinkSocket.destroy()
    echoSocket.destroy()
    await peer.close()
  }
}
