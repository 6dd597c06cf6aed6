/**
 * TLS benchmarks: seam-channel over tls:// against a raw `node:tls` socket
 * pair carrying the same payload with the same codec and the same batched
 * writes (raw.ts), in the same run. Both use the same certificates (a local
 * P-256 CA, server-authenticated TLS 1.3), so the difference is ours alone.
 *
 * As in tcp.bench.ts, the receiver runs in a child process: this file forks
 * itself with --seam-tls-peer and hosts ours and the raw servers there.
 * Each row is the round with the median ratio (one-way: of 11 rounds; the
 * others: of 5), ours and baseline back to back, the side going first alternating.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, createServer, type TLSSocket } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { Registry, connect, listen, type Channel } from '../src/index.js'
import { loadOrCreateCerts, type ExampleCerts } from '../examples/tls-client/certs.js'
import { Echo, EchoReply, ItemMsg, item } from './payload.js'
import { RawWriter, rawRequester, rawSend } from './raw.js'
import { peerHandle, servePeer, type Peer as PeerHandle, type PeerReady } from './peer-protocol.js'
import type { Row } from './report.js'
import { compare, oneWay } from './measure.js'

const PEER_FLAG = '--seam-tls-peer'
const ROUNDS = 5
// One-way rounds take about a second each: more of them steady the median on a noisy machine.
const ONE_WAY_ROUNDS = 11
const ONE_WAY = 200_000
const PIPELINED = 100_000

// ---- the receiving process ----

async function peerMain(dir: string): Promise<void> {
  const certs = loadOrCreateCerts('bench-client', dir)
  const key = readFileSync(certs.serverKey)
  const cert = readFileSync(certs.serverCert)
  await servePeer(
    'tls bench peer',
    (registry) => listen('tls://127.0.0.1:0', { registry, tls: { key, cert } }),
    (onConnection: (socket: TLSSocket) => void) => createServer({ key, cert, noDelay: true }, onConnection),
  )
}

const peerAt = process.argv.indexOf(PEER_FLAG)
if (peerAt >= 0) await peerMain(process.argv[peerAt + 1] as string)

// ---- the sending process ----

type Peer = PeerHandle<PeerReady>

function startPeer(dir: string): Promise<Peer> {
  return peerHandle(fork(fileURLToPath(import.meta.url), [PEER_FLAG, dir], { stdio: 'inherit' }), 'the tls bench peer')
}

function dialRaw(port: number, certs: ExampleCerts): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca) })
    socket.once('secureConnect', () => resolve(socket.setNoDelay(true)))
    socket.once('error', reject)
  })
}

/** Runs the TLS benchmarks; about 20 s. */
export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'seam-tls-bench-'))
  const certs = loadOrCreateCerts('bench-client', dir)
  const peer = await startPeer(dir)
  let client: Channel | undefined
  const sockets: TLSSocket[] = []
  try {
    client = await connect(peer.ready.ours, { registry: new Registry().register(EchoReply), tls: { ca: certs.ca } })
    const ours = client
    const sinkSocket = await dialRaw(peer.ready.rawSink, certs)
    const echoSocket = await dialRaw(peer.ready.rawEcho, certs)
    sockets.push(sinkSocket, echoSocket)
    const rawSink = new RawWriter(sinkSocket)
    const sendOurs = (i: number): Promise<void> => ours.send(ItemMsg, item(i))
    const sendRaw = rawSend(rawSink)
    const rawAsk = rawRequester(echoSocket)
    const oursAsk = (i: number): Promise<unknown> => ours.request(Echo, item(i), { expect: EchoReply, timeoutMs: 10_000 })

    return await compare(
      { ask: oursAsk, oneWay: (n) => oneWay(peer, n, sendOurs) },
      { ask: rawAsk, oneWay: (n) => oneWay(peer, n, sendRaw) },
      { label: 'tls', rounds: ROUNDS, oneWayRounds: ONE_WAY_ROUNDS, pipelined: PIPELINED, oneWay: ONE_WAY },
    )
  } finally {
    await client?.close()
    for (const s of sockets) s.destroy()
    await peer.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
