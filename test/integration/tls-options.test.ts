/**
 * The `tls` option: PEM text, Buffers or file paths; bad values refused up
 * front with ERR_BAD_ARGUMENT naming the option; reconnect over TLS.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, SeamError, connect, defineMessage, listen, type Channel, type ConnectOptions, type ListenOptions, type Server, type TlsOptions } from '../../src/index.js'
import { closedAfterEach, waitFor } from '../helpers.js'
import { testPkiForFile } from '../helpers/certs.js'

const Ping = defineMessage('tls.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('tls.Pong', t.type({ seq: t.number }))

const pki = testPkiForFile()

const open = closedAfterEach()

function registry(): Registry {
  const r = new Registry({ onError: () => undefined })
  r.register(Pong)
  r.on(Ping, async (ping, ctx) => ctx.reply(Pong, { seq: ping.seq }))
  return r
}

async function serve(url: string, tls: TlsOptions, extra: ListenOptions = {}): Promise<Server> {
  const server = await listen(url, { registry: registry(), tls, ...extra })
  open.push(server)
  return server
}

async function client(url: string, tls: TlsOptions, extra: ConnectOptions = {}): Promise<Channel> {
  const c = await connect(url, { tls, registry: new Registry({ onError: () => undefined }), connectTimeoutMs: 5000, ...extra })
  open.push(c)
  return c
}

async function roundTrip(c: Channel, seq: number): Promise<void> {
  await expect(c.request(Ping, { seq }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq })
}

async function badArgument(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    (v) => {
      if (v !== null && typeof v === 'object' && 'close' in v) open.push(v as Channel)
      throw new Error('expected ERR_BAD_ARGUMENT, but it resolved')
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SeamError)
  expect((err as SeamError).code).toBe('ERR_BAD_ARGUMENT')
  return (err as SeamError).message
}

describe('tls options: where the PEM comes from', () => {
  it('reads file paths on both sides', async () => {
    const server = await serve('tls://127.0.0.1:0', { key: pki.server.keyPath, cert: pki.server.certPath, ca: pki.ca.certPath, requestCert: true })
    await roundTrip(await client(server.url, { ca: pki.ca.certPath, key: pki.alice.keyPath, cert: pki.alice.certPath }), 1)
  })

  it('takes Buffers, and a list of CAs', async () => {
    const server = await serve('tls://127.0.0.1:0', { key: readFileSync(pki.server.keyPath), cert: readFileSync(pki.server.certPath) })
    await roundTrip(await client(server.url, { ca: [pki.otherCa.cert, readFileSync(pki.ca.certPath)] }), 2)
  })
})

describe('tls options: refused up front, naming the option', () => {
  const url = 'tls://127.0.0.1:0'

  it('listen needs tls with key and cert', async () => {
    expect(await badArgument(listen(url, { registry: registry() }))).toMatch(/"tls" is required/)
    expect(await badArgument(listen(url, { tls: { cert: pki.server.cert } }))).toContain('tls.key')
  })

  it('a file that cannot be read is named', async () => {
    const missing = join(pki.dir, 'nope.pem')
    expect(await badArgument(listen(url, { tls: { key: missing, cert: pki.server.cert } }))).toContain(missing)
  })

  it('a key that does not belong to the certificate', async () => {
    expect(await badArgument(listen(url, { tls: { key: pki.alice.key, cert: pki.server.cert } }))).toMatch(/tls\.key does not belong to tls\.cert/)
  })

  it('requestCert without ca (it would trust every public CA)', async () => {
    expect(await badArgument(listen(url, { tls: { key: pki.server.key, cert: pki.server.cert, requestCert: true } }))).toMatch(/requestCert.*tls\.ca/)
  })

  it('options of the other side and unknown options', async () => {
    expect(await badArgument(listen(url, { tls: { key: pki.server.key, cert: pki.server.cert, insecureSkipVerify: true } }))).toMatch(/tls\.insecureSkipVerify" is a client option/)
    expect(await badArgument(connect('tls://127.0.0.1:9', { tls: { requestCert: true } }))).toMatch(/tls\.requestCert" is a server option/)
    expect(await badArgument(connect('tls://127.0.0.1:9', { tls: { ca: pki.ca.cert, cerst: 'x' } as TlsOptions }))).toContain('unknown option "tls.cerst"')
  })

  it('a client key without its certificate', async () => {
    expect(await badArgument(connect('tls://127.0.0.1:9', { tls: { key: pki.alice.key } }))).toMatch(/tls\.key" and "tls\.cert" go together/)
  })
})

describe('tls: reconnect', () => {
  it('a client reconnects over TLS when the server restarts on the same port, and the outbox flushes', async () => {
    const tls: TlsOptions = { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true }
    const first = await serve('tls://127.0.0.1:0', tls)
    const c = await client(first.url, { ca: pki.ca.cert, key: pki.alice.key, cert: pki.alice.cert }, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } })
    const states: string[] = []
    c.events.on('status', (s) => void states.push(s))
    await roundTrip(c, 1)
    await first.close()
    await waitFor(() => states.includes('down'))
    // Sent while down: waits in the outbox, goes out once the new server is up.
    const waiting = c.request(Ping, { seq: 2 }, { expect: Pong, timeoutMs: 10_000 })
    await serve(first.url, tls)
    await waitFor(() => states.includes('up'), 10_000)
    await expect(waiting).resolves.toEqual({ seq: 2 })
    await roundTrip(c, 3)
  })
})
