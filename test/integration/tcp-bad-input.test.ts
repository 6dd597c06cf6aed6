import { encode } from '@msgpack/msgpack'
import type { Socket } from 'node:net'
import * as t from 'io-ts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect, defineMessage, ERROR_TAG, type Channel, type Envelope, type Server } from '../../src/index.js'
import { PROTOCOL_VERSION, helloFrame } from '../../src/transports/stream/wire.js'
import { echoServer, envelopeFrame as rawEnvelopeFrame, frame, rawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { collectErrors, waitFor } from '../helpers.js'

const Ping = defineMessage('test.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('test.Pong', t.type({ seq: t.number }))

/** An envelope map as a peer would send it; `fields` override or add keys. */
function envelopeFrame(fields: Record<string, unknown>): Buffer {
  return rawEnvelopeFrame(Ping.tag, fields)
}

const MAX = 16 * 1024 * 1024

describe('tcp: bad input from a raw socket', () => {
  let server: Server
  let good: Channel
  let serverErrors: ReturnType<typeof collectErrors>
  const raws: Socket[] = []

  beforeEach(async () => {
    ;({ server, good, serverErrors } = await echoServer(Ping, Pong))
  })

  afterEach(async () => {
    for (const s of raws.splice(0)) s.destroy()
    await good?.close()
    await server?.close()
  })

  async function rawClient(): Promise<RawPeer> {
    const raw = await rawPeer(server.url, { hello: false })
    raws.push(raw.socket)
    return raw
  }

  /** A raw client that already said a valid hello. */
  async function helloClient(): Promise<RawPeer> {
    const raw = await rawPeer(server.url, { hello: true })
    raws.push(raw.socket)
    await waitFor(() => server.peers.size === 2, 5000, 'the raw client to be accepted')
    return raw
  }

  async function expectServerError(code: string, what: string): Promise<string> {
    await waitFor(() => serverErrors.errors.some((e) => e.code === code), 5000, `the server to report ${code} (${what})`)
    return serverErrors.errors.find((e) => e.code === code)?.message ?? ''
  }

  async function expectErrorFrame(raw: RawPeer, code: string): Promise<Envelope> {
    await waitFor(() => raw.envelopes.some((e) => e.tag === ERROR_TAG), 5000, `an error frame with ${code}`)
    const reply = raw.envelopes.find((e) => e.tag === ERROR_TAG) as Envelope
    expect(reply.headers['x-seam-code']).toBe(code)
    return reply
  }

  /** Only the bad connection is closed: the good client still gets answers. */
  async function goodClientStillWorks(): Promise<void> {
    for (const seq of [1, 2]) {
      await expect(good.request(Ping, { seq }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq })
    }
    expect([...server.peers].filter((p) => p.transport === 'tcp').length).toBeGreaterThanOrEqual(1)
  }

  async function expectClosed(raw: RawPeer): Promise<void> {
    await waitFor(() => raw.closed, 5000, 'the server to close the bad connection')
    await waitFor(() => server.peers.size === 1, 5000, 'the bad peer to leave server.peers')
  }

  it('garbage bytes in place of a hello close that connection with ERR_PROTOCOL', async () => {
    const raw = await rawClient()
    raw.socket.write(frame(Buffer.alloc(16, 0xc1))) // 0xc1 is never valid msgpack
    const message = await expectServerError('ERR_PROTOCOL', 'garbage')
    expect(message).toMatch(/hello/)
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('random garbage whose first bytes read as a huge length closes that connection', async () => {
    const raw = await rawClient()
    raw.socket.write(Buffer.from('\x7f\x13\x37garbage garbage garbage', 'latin1'))
    await waitFor(() => serverErrors.errors.length > 0, 5000, 'the server to report the garbage')
    expect(['ERR_PROTOCOL', 'ERR_FRAME_TOO_LARGE']).toContain(serverErrors.errors[0]?.code)
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('garbage inside a frame after the hello rejects that one message; the connection stays', async () => {
    const raw = await helloClient()
    raw.socket.write(frame(Buffer.alloc(16, 0xc1)))
    await expectErrorFrame(raw, 'ERR_PROTOCOL')
    expect(raw.closed).toBe(false)
    // The same connection still works: a valid request is answered.
    raw.socket.write(envelopeFrame({ id: 'after-garbage', replyTo: '', body: encode({ seq: 7 }) }))
    await waitFor(() => raw.envelopes.some((e) => e.corr === 'after-garbage'), 5000, 'the reply on the same connection')
    await goodClientStillWorks()
  })

  it('an HTTP request is refused with ERR_PROTOCOL naming HTTP', async () => {
    const raw = await rawClient()
    raw.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')
    const message = await expectServerError('ERR_PROTOCOL', 'HTTP')
    expect(message).toMatch(/HTTP/)
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('a 4 GiB length prefix is refused without allocating it', async () => {
    const raw = await helloClient()
    const before = process.memoryUsage().arrayBuffers
    raw.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x81, 0xa3]))
    await waitFor(() => serverErrors.errors.length > 0, 5000, 'the server to report the 4 GiB frame')
    const err = serverErrors.errors[0]
    expect(['ERR_FRAME_TOO_LARGE', 'ERR_PROTOCOL']).toContain(err?.code)
    expect(err?.message).toMatch(/4294967295|maxFrameBytes/)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * 1024 * 1024)
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('a truncated frame then close is ERR_PROTOCOL saying how much was missing', async () => {
    const raw = await helloClient()
    const whole = envelopeFrame({})
    raw.socket.end(whole.subarray(0, whole.length - 5))
    const message = await expectServerError('ERR_PROTOCOL', 'truncated frame')
    expect(message).toMatch(/middle of a frame/)
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('a truncated hello then close is reported too', async () => {
    const raw = await rawClient()
    raw.socket.end(helloFrame(MAX).subarray(0, 6))
    await expectServerError('ERR_PROTOCOL', 'truncated hello')
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('a frame of 0 bytes closes that connection with ERR_PROTOCOL', async () => {
    const raw = await helloClient()
    raw.socket.write(Buffer.alloc(4))
    const message = await expectServerError('ERR_PROTOCOL', '0-byte frame')
    expect(message).toMatch(/0 bytes/)
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('a __proto__ key in the envelope is rejected with a code and pollutes nothing', async () => {
    const raw = await helloClient()
    const evil = JSON.parse('{"__proto__":{"polluted":true}}') as object
    raw.socket.write(envelopeFrame({ ...evil, id: 'evil-1' }))
    await expectErrorFrame(raw, 'ERR_PROTOCOL')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    await goodClientStillWorks()
  })

  it('a __proto__ key in the headers or the body is rejected and pollutes nothing', async () => {
    const raw = await helloClient()
    const evil = JSON.parse('{"__proto__":{"polluted":true}}') as object
    raw.socket.write(envelopeFrame({ id: 'evil-h', replyTo: '', headers: evil }))
    raw.socket.write(envelopeFrame({ id: 'evil-b', replyTo: '', body: encode(evil) }))
    await waitFor(() => raw.envelopes.length >= 2, 5000, 'two error frames')
    const codes = raw.envelopes.map((e) => e.headers['x-seam-code'])
    expect(raw.envelopes.every((e) => e.tag === ERROR_TAG)).toBe(true)
    expect(codes[0]).toBe('ERR_PROTOCOL')
    // The body is the registry's business: a body msgpack cannot read is undecodable.
    expect(codes[1]).toBe('ERR_UNDECODABLE')
    expect(raw.envelopes[1]?.corr).toBe('evil-b')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    await goodClientStillWorks()
  })

  it('an envelope without a tag is rejected with ERR_PROTOCOL', async () => {
    const raw = await helloClient()
    const { tag: _tag, ...noTag } = { tag: Ping.tag, id: 'no-tag', ts: Date.now(), ct: 'application/msgpack', body: encode({ seq: 1 }) }
    raw.socket.write(frame(encode(noTag)))
    const reply = await expectErrorFrame(raw, 'ERR_PROTOCOL')
    expect(reply.headers['x-seam-message']).toMatch(/"tag" is missing/)
    // Its id was readable, so the error is correlated: a waiting request fails at once instead of timing out.
    expect(reply.corr).toBe('no-tag')
    expect(raw.closed).toBe(false)
    await goodClientStillWorks()
  })

  it('a tag longer than 255 bytes is rejected with ERR_PROTOCOL', async () => {
    const raw = await helloClient()
    raw.socket.write(envelopeFrame({ tag: 'x'.repeat(256) }))
    const reply = await expectErrorFrame(raw, 'ERR_PROTOCOL')
    expect(reply.headers['x-seam-message']).toMatch(/255/)
    await goodClientStillWorks()
  })

  it('an unknown tag is answered with ERR_UNREGISTERED_TAG, correlated to the request', async () => {
    const raw = await helloClient()
    raw.socket.write(envelopeFrame({ tag: 'test.Unknown', id: 'unknown-1', replyTo: '' }))
    const reply = await expectErrorFrame(raw, 'ERR_UNREGISTERED_TAG')
    expect(reply.corr).toBe('unknown-1')
    expect(reply.headers['x-seam-tag']).toBe('test.Unknown')
    await goodClientStillWorks()
  })

  it('a hello with another protocol version is refused naming both versions', async () => {
    const raw = await rawClient()
    raw.socket.write(frame(encode({ seam: 'hello', version: 99, maxFrameBytes: MAX })))
    const message = await expectServerError('ERR_PROTOCOL', 'wrong version')
    expect(message).toMatch(/version 99/)
    expect(message).toMatch(new RegExp(`speaks ${PROTOCOL_VERSION}`))
    await expectClosed(raw)
    await goodClientStillWorks()
  })

  it('a client dialing a server of another version rejects with ERR_PROTOCOL naming both', async () => {
    // A fake server that answers with a hello of a version we do not speak.
    const { createServer } = await import('node:net')
    const fake = createServer((s) => {
      s.on('error', () => undefined)
      s.resume() // read, so that the client's close ends this socket
      s.write(frame(encode({ seam: 'hello', version: 99, maxFrameBytes: MAX })))
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    try {
      const port = (fake.address() as { port: number }).port
      const err = await connect(`tcp://127.0.0.1:${port}`, { connectTimeoutMs: 3000 }).then(
        (c) => c.close().then(() => undefined),
        (e: unknown) => e,
      )
      expect(err).toMatchObject({ code: 'ERR_PROTOCOL' })
      expect((err as Error).message).toMatch(/version 99/)
      expect((err as Error).message).toMatch(new RegExp(`speaks ${PROTOCOL_VERSION}`))
    } finally {
      await new Promise<void>((resolve) => fake.close(() => resolve()))
    }
  })
})
