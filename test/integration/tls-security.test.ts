/**
 * Each way a TLS connection must be refused, refused with a SeamError that
 * says what to fix, on the side that detects it, while the server keeps
 * serving good peers. Certificates are made at test time (test/helpers/certs.ts).
 */
import * as t from 'io-ts'
import { describe, expect, it, vi } from 'vitest'
import { Registry, SeamError, connect, defineMessage, listen, type Channel, type ConnectOptions, type Server, type TlsOptions } from '../../src/index.js'
import { closedAfterEach, rejection, waitFor } from '../helpers.js'
import { testPkiForFile, type Issued } from '../helpers/certs.js'

const Ping = defineMessage('tls.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('tls.Pong', t.type({ seq: t.number, from: t.string }))

const pki = testPkiForFile()

const open = closedAfterEach()

/** A TLS echo server whose errors are collected. */
async function startServer(tls: TlsOptions): Promise<{ server: Server; errors: SeamError[] }> {
  const errors: SeamError[] = []
  const registry = new Registry({ onError: (e) => void errors.push(e) })
  registry.register(Pong)
  registry.on(Ping, async (ping, ctx) => ctx.reply(Pong, { seq: ping.seq, from: ctx.peer?.commonName ?? '?' }))
  const server = await listen('tls://127.0.0.1:0', { registry, tls, onError: (e) => void errors.push(e) })
  open.push(server)
  return { server, errors }
}

function serverTls(cert: Issued, mutual = false): TlsOptions {
  return mutual ? { key: cert.key, cert: cert.cert, ca: pki.ca.cert, requestCert: true } : { key: cert.key, cert: cert.cert }
}

// A connect timeout longer than the test's: a refusal that were retried instead of failing fast would time the test out.
const NO_RETRY: ConnectOptions = { connectTimeoutMs: 60_000, reconnect: false }

async function dial(url: string, tls: TlsOptions | undefined, extra: ConnectOptions = {}): Promise<Channel> {
  const client = await connect(url, { ...NO_RETRY, ...extra, ...(tls === undefined ? {} : { tls }), registry: new Registry({ onError: () => undefined }) })
  open.push(client)
  return client
}

/** A refusal the client must not retry: ERR_TRANSPORT, not retriable, with a message saying what to fix. */
function expectRefusal(err: SeamError, says: RegExp): void {
  expect(err.code).toBe('ERR_TRANSPORT')
  expect(err.retriable).toBe(false)
  expect(err.message).toMatch(says)
}

/** A good client still gets answers: the server kept serving. */
async function expectServing(url: string, tls: TlsOptions = { ca: pki.ca.cert, key: pki.alice.key, cert: pki.alice.cert }): Promise<void> {
  const client = await dial(url, tls)
  await expect(client.request(Ping, { seq: 7 }, { expect: Pong, timeoutMs: 5000 })).resolves.toMatchObject({ seq: 7 })
}

describe('tls: verification is on by default', () => {
  it('1. a plaintext tcp:// client is refused; the server reports ERR_PROTOCOL naming tls://', async () => {
    const { server, errors } = await startServer(serverTls(pki.server))
    const plain = server.url.replace(/^tls:/, 'tcp:')
    // A connect timeout longer than the test's: the client must give up on its own, fast.
    const err = await rejection(connect(plain, { connectTimeoutMs: 60_000, reconnect: false }))
    // The client gets no bytes, only hang-ups: after a few it says what the server probably is.
    expectRefusal(err, /tls:\/\//)
    await waitFor(() => errors.some((e) => e.code === 'ERR_PROTOCOL'))
    const reported = errors.find((e) => e.code === 'ERR_PROTOCOL') as SeamError
    expect(reported.message).toMatch(/did not start a TLS handshake.*tls:\/\//)
    await expectServing(server.url, { ca: pki.ca.cert })
  })

  it('2. a server certificate from a CA the client does not trust fails fast, naming tls.ca', async () => {
    const { server } = await startServer(serverTls(pki.untrustedServer))
    const err = await rejection(dial(server.url, { ca: pki.ca.cert }))
    expectRefusal(err, /not signed by a CA this client trusts.*tls\.ca/)
    // Nor does it fall back to the public roots when no CA is given.
    expect((await rejection(dial(server.url, {}))).message).toContain('tls.ca')
    // And no tls option at all means verified TLS too, not plaintext or trust-anything.
    expect((await rejection(dial(server.url, undefined))).retriable).toBe(false)
    await expectServing(server.url, { ca: pki.otherCa.cert })
  })

  it('3. a host name the certificate does not list is refused; tls.servername picks the name to check', async () => {
    const { server } = await startServer(serverTls(pki.wrongHostServer))
    const err = await rejection(dial(server.url, { ca: pki.ca.cert }))
    expectRefusal(err, /not valid for "127\.0\.0\.1".*servername/)
    expect((err.cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    const named = await dial(server.url, { ca: pki.ca.cert, servername: 'elsewhere.example' })
    await expect(named.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })).resolves.toMatchObject({ seq: 1 })
    // servername also makes a good certificate fail when it names another host.
    const good = await startServer(serverTls(pki.server))
    expect((await rejection(dial(good.server.url, { ca: pki.ca.cert, servername: 'elsewhere.example' }))).message).toContain('elsewhere.example')
  })

  it('4. an expired server certificate is refused with CERT_HAS_EXPIRED as the cause', async () => {
    const { server } = await startServer(serverTls(pki.expiredServer))
    const err = await rejection(dial(server.url, { ca: pki.ca.cert }))
    expectRefusal(err, /expired.*renew/)
    expect((err.cause as { code?: string }).code).toBe('CERT_HAS_EXPIRED')
  })

  it("Node's rejectUnauthorized is not a seam option, so it cannot switch verification off", async () => {
    const err = await rejection(dial('tls://127.0.0.1:9', { ca: pki.ca.cert, rejectUnauthorized: false } as TlsOptions))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain('tls.rejectUnauthorized')
  })

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 does not switch verification off', async () => {
    const { server } = await startServer(serverTls(pki.untrustedServer))
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
    try {
      expect((await rejection(dial(server.url, { ca: pki.ca.cert }))).retriable).toBe(false)
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before
    }
  })
})

describe('tls: the explicitly insecure option', () => {
  it('insecureSkipVerify: true connects to an untrusted server, warns, and the peer is not authenticated', async () => {
    const { server } = await startServer(serverTls(pki.untrustedServer))
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    try {
      const client = await dial(server.url, { ca: pki.ca.cert, insecureSkipVerify: true })
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/insecureSkipVerify.*NOT verified/)
      expect(client.peer).toMatchObject({ authenticated: false, commonName: 'localhost' })
      await expect(client.request(Ping, { seq: 2 }, { expect: Pong, timeoutMs: 5000 })).resolves.toMatchObject({ seq: 2 })
    } finally {
      warn.mockRestore()
    }
  })

  it('only a real boolean counts: a string is refused rather than read as truthy', async () => {
    const err = await rejection(dial('tls://127.0.0.1:9', { insecureSkipVerify: 'false' } as unknown as TlsOptions))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain('tls.insecureSkipVerify')
  })
})

describe('tls: mutual TLS (requestCert)', () => {
  it('5a. a client without a certificate is refused on both sides, and good peers are still served', async () => {
    const { server, errors } = await startServer(serverTls(pki.server, true))
    const err = await rejection(dial(server.url, { ca: pki.ca.cert }))
    expectRefusal(err, /requires a client certificate.*tls\.key and tls\.cert/)
    await waitFor(() => errors.length > 0)
    expect(errors[0]).toMatchObject({ code: 'ERR_TRANSPORT' })
    expect(errors[0]?.message).toMatch(/without a certificate.*requestCert/)
    await expectServing(server.url)
  })

  it('5b. a client certificate signed by another CA is refused on both sides', async () => {
    const { server, errors } = await startServer(serverTls(pki.server, true))
    const err = await rejection(dial(server.url, { ca: pki.ca.cert, key: pki.mallory.key, cert: pki.mallory.cert }))
    expectRefusal(err, /certificate.*tls\.ca/)
    await waitFor(() => errors.length > 0)
    expect(errors[0]?.message).toMatch(/failed verification \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\).*tls\.ca/)
    expect(server.peers.size).toBe(0)
    await expectServing(server.url)
  })
})
