import { encode } from '@msgpack/msgpack'
import { createConnection, createServer, type Server as NetServer, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { connect, defineMessage, listen, Registry, type Channel } from '../../src/index.js'
import { FrameDecoder } from '../../src/transports/stream/frames.js'
import { envelopeBound, helloFrame, isPing, PING_FRAME, readEnvelope, writeEnvelope } from '../../src/transports/stream/wire.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'
import { testPkiForFile } from '../helpers/certs.js'

const Ping = defineMessage('test.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('test.Pong', t.type({ seq: t.number }))
const MAX = 16 * 1024 * 1024

const open = closedAfterEach()

/** Ends a raw socket after the test. */
function closeAfter(socket: Socket): void {
  open.push({ close: async () => void socket.destroy() })
}

/** A raw peer's view of a connection: every frame after the hello, as pings or envelopes. */
function watch(socket: Socket): { pings: () => number; envelopes: ReturnType<typeof readEnvelope>[]; closed: () => boolean } {
  let pings = 0
  let closed = false
  let helloSeen = false
  const envelopes: ReturnType<typeof readEnvelope>[] = []
  const decoder = new FrameDecoder(MAX)
  socket.on('data', (chunk: Buffer) =>
    decoder.push(chunk, (buf, start, end) => {
      if (!helloSeen) helloSeen = true
      else if (isPing(buf, start, end)) pings++
      else envelopes.push(readEnvelope(buf, start, end))
    }),
  )
  socket.on('error', () => undefined)
  socket.on('close', () => (closed = true))
  return { pings: () => pings, envelopes, closed: () => closed }
}

/** A server that says hello promising pings every `heartbeatMs`, then never sends another byte. */
async function silentServer(heartbeatMs: number): Promise<{ port: number; accepted: number[]; closedAfterMs: number[]; close(): Promise<void> }> {
  const accepted: number[] = []
  const closedAfterMs: number[] = []
  const server: NetServer = createServer((s) => {
    const at = Date.now()
    accepted.push(at)
    closeAfter(s)
    s.on('error', () => undefined)
    s.on('close', () => closedAfterMs.push(Date.now() - at))
    s.resume()
    s.write(helloFrame(MAX, heartbeatMs))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const handle = { port: (server.address() as { port: number }).port, accepted, closedAfterMs, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
  open.push(handle)
  return handle
}

async function echoServer(heartbeatMs: number, tls = false): Promise<{ url: string; port: number }> {
  const registry = new Registry({ onError: () => undefined }).register(Pong)
  registry.on(Ping, (ping, ctx) => ctx.reply(Pong, { seq: ping.seq }))
  const server = await listen(tls ? 'tls://127.0.0.1:0' : 'tcp://127.0.0.1:0', { registry, heartbeatMs, ...(tls ? { tls: { key: pki.server.key, cert: pki.server.cert } } : {}) })
  open.push(server)
  return { url: server.url, port: Number(new URL(server.url).port) }
}

const pki = testPkiForFile()

/** A raw peer: connects (over TLS when asked), says hello promising pings every `heartbeatMs`, and nothing more. */
async function rawPeer(port: number, heartbeatMs: number, tls = false): Promise<Socket> {
  const socket = tls ? tlsConnect({ host: '127.0.0.1', port, ca: pki.ca.cert, servername: 'localhost' }) : createConnection({ host: '127.0.0.1', port })
  closeAfter(socket)
  await new Promise<void>((resolve, reject) => socket.once(tls ? 'secureConnect' : 'connect', resolve).once('error', reject))
  socket.write(helloFrame(MAX, heartbeatMs))
  return socket
}

describe('tcp and tls: heartbeats', () => {
  it('a client whose server promised pings and went silent drops the connection after three intervals, says why, and reconnects', async () => {
    const silent = await silentServer(50)
    const { errors, onError } = collectErrors()
    const client: Channel = await connect(`tcp://127.0.0.1:${silent.port}`, {
      registry: new Registry(),
      heartbeatMs: 50,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      onError,
    })
    open.push(client)
    await waitFor(() => silent.accepted.length >= 2, 5000, 'the client to reconnect after the server went silent')
    // Dead after three of the promised 50 ms intervals, found at the next 50 ms look: not before 150 ms
    // (less 1 ms for Date.now's whole milliseconds).
    expect(silent.closedAfterMs[0]).toBeGreaterThanOrEqual(149)
    expect(silent.closedAfterMs[0]).toBeLessThan(2000)
    const lost = errors.find((e) => e.message.includes('heard nothing'))
    expect(lost?.code).toBe('ERR_TRANSPORT')
    expect(lost?.message).toMatch(/every 50 ms/)
    expect(lost?.message).toMatch(/reconnecting/)
  })

  it('a server ends the connection of a peer that promised pings and went silent, and keeps serving the others', async () => {
    const server = await echoServer(50)
    const silent = watch(await rawPeer(server.port, 50))
    // This one promises a ping every 200 ms, so a busy test machine cannot make it look silent.
    const good = await connect(server.url, { registry: new Registry().register(Pong), heartbeatMs: 200 })
    open.push(good)
    await waitFor(silent.closed, 5000, 'the server to end the silent peer')
    await expect(good.request(Ping, { seq: 3 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 3 })
  })

  it('pings an idle connection, keeps a peer that pings back, and requests still flow between the pings', async () => {
    const server = await echoServer(30)
    // It promises a ping every 100 ms, and answers each of the server's (every 30 ms or so) with one.
    const socket = await rawPeer(server.port, 100)
    const peer = watch(socket)
    socket.on('data', () => socket.write(PING_FRAME))
    // Fifteen pings take at least 450 ms, well past the 300 ms after which a silent peer is dropped.
    await waitFor(() => peer.pings() >= 15, 5000, 'fifteen pings from the idle server')
    expect(peer.closed()).toBe(false)
    const request = { tag: Ping.tag, id: 'after-pings', ts: Date.now(), ct: 'application/msgpack', replyTo: '', headers: {}, body: encode({ seq: 7 }) }
    const buf = Buffer.alloc(4 + envelopeBound(request))
    const end = writeEnvelope(buf, 4, request)
    buf.writeUInt32BE(end - 4, 0)
    socket.write(buf.subarray(0, end))
    await waitFor(() => peer.envelopes.length > 0, 5000, 'the reply')
    expect(peer.envelopes[0]).toMatchObject({ tag: Pong.tag, corr: 'after-pings' })
  })

  it('heartbeatMs must be a positive number of ms, or 0 for none', async () => {
    for (const heartbeatMs of [-1, Number.NaN, '10' as unknown as number]) {
      const err = await rejection(listen('tcp://127.0.0.1:0', { registry: new Registry(), heartbeatMs }))
      expect(err.code).toBe('ERR_BAD_ARGUMENT')
      expect(err.message).toContain('heartbeatMs')
    }
    const off = await listen('tcp://127.0.0.1:0', { registry: new Registry(), heartbeatMs: 0 })
    open.push(off)
    expect(off.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
  })

  it('over TLS too: the server pings an idle peer and ends one that promised pings and went silent', async () => {
    const server = await echoServer(30, true)
    const pinged = await rawPeer(server.port, 0, true)
    const watched = watch(pinged)
    const silent = watch(await rawPeer(server.port, 30, true))
    await waitFor(() => watched.pings() >= 5, 5000, 'five pings over TLS')
    await waitFor(silent.closed, 5000, 'the server to end the silent TLS peer')
    expect(watched.closed()).toBe(false)
  })
})
