/**
 * The verified peer identity on `ctx.peer` and `channel.peer`, and per-tag
 * authorization of that identity (`authorize` → ERR_FORBIDDEN).
 */
import { X509Certificate } from 'node:crypto'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, SeamError, connect, defineMessage, type Authorize, type Channel, type PeerInfo, type Server, type TlsOptions } from '../../src/index.js'
import { connectTls, listenTls, splitAltNames } from '../../src/transports/tls/index.js'
import { closedAfterEach, waitFor } from '../helpers.js'
import { testPkiForFile, type Issued } from '../helpers/certs.js'

const Ping = defineMessage('tls.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('tls.Pong', t.type({ seq: t.number }))
const Shutdown = defineMessage('tls.admin.Shutdown', t.type({ reason: t.string }))
const Done = defineMessage('tls.admin.Done', t.type({ ok: t.boolean }))

const pki = testPkiForFile()

const open = closedAfterEach()

interface Seen {
  pings: (PeerInfo | undefined)[]
  seqs: number[]
  shutdowns: string[]
  errors: SeamError[]
}

async function startServer(options: { mutual: boolean; authorize?: Authorize }): Promise<{ server: Server; seen: Seen }> {
  const seen: Seen = { pings: [], seqs: [], shutdowns: [], errors: [] }
  const registry = new Registry({ onError: (e) => void seen.errors.push(e) })
  registry.register(Pong, Done)
  registry.on(Ping, async (ping, ctx) => {
    seen.pings.push(ctx.peer)
    seen.seqs.push(ping.seq)
    await ctx.reply(Pong, { seq: ping.seq })
  })
  registry.on(Shutdown, async (_, ctx) => {
    seen.shutdowns.push(ctx.peer?.commonName ?? '?')
    await ctx.reply(Done, { ok: true })
  })
  const tls: TlsOptions = { key: pki.server.key, cert: pki.server.cert, ...(options.mutual ? { ca: pki.ca.cert, requestCert: true } : {}) }
  const server = await listenTls('127.0.0.1', 0, { registry, tls, authorize: options.authorize, onError: (e) => void seen.errors.push(e) })
  open.push(server)
  return { server, seen }
}

async function clientAs(server: Server, who: Issued | undefined, errors: SeamError[] = []): Promise<Channel> {
  const tls: TlsOptions = who === undefined ? { ca: pki.ca.cert } : { ca: pki.ca.cert, key: who.key, cert: who.cert }
  const client = await connect(server.url, { tls, registry: new Registry({ onError: (e) => void errors.push(e) }) })
  open.push(client)
  return client
}

describe('tls: peer identity', () => {
  it('with mutual TLS, every handler sees the verified client identity on ctx.peer', async () => {
    const { server, seen } = await startServer({ mutual: true })
    const alice = await clientAs(server, pki.alice)
    await alice.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })
    await alice.send(Ping, { seq: 2 })
    await waitFor(() => seen.pings.length === 2)
    for (const peer of seen.pings) {
      expect(peer).toMatchObject({
        authenticated: true,
        commonName: 'alice',
        subjectAltNames: ['URI:spiffe://test/alice'],
        fingerprint256: new X509Certificate(pki.alice.cert).fingerprint256,
        address: '127.0.0.1',
      })
    }
    const bob = await clientAs(server, pki.bob)
    await bob.request(Ping, { seq: 3 }, { expect: Pong, timeoutMs: 5000 })
    expect(seen.pings[2]).toMatchObject({ authenticated: true, commonName: 'bob', subjectAltNames: [] })
    // The server's channel for the peer carries the same identity.
    expect([...server.peers].map((p) => p.peer?.commonName).sort()).toEqual(['alice', 'bob'])
  })

  it('the client sees the verified server identity on channel.peer', async () => {
    const { server } = await startServer({ mutual: false })
    const client = await clientAs(server, undefined)
    expect(client.peer).toMatchObject({ authenticated: true, commonName: 'localhost', subjectAltNames: ['DNS:localhost', 'IP Address:127.0.0.1'] })
  })

  it('without requestCert the client is anonymous: ctx.peer has an address but is not authenticated', async () => {
    const { server, seen } = await startServer({ mutual: false })
    const client = await clientAs(server, undefined)
    await client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })
    expect(seen.pings[0]).toMatchObject({ authenticated: false, address: '127.0.0.1' })
    expect(seen.pings[0]?.commonName).toBeUndefined()
  })
})

describe('tls: per-tag authorization', () => {
  const adminsOnly: Authorize = (peer, tag) => !tag.startsWith('tls.admin.') || peer?.commonName === 'alice'

  it('6. a peer not authorized for a tag gets ERR_FORBIDDEN, the handler never runs, and the connection stays open', async () => {
    const { server, seen } = await startServer({ mutual: true, authorize: adminsOnly })
    const bob = await clientAs(server, pki.bob)
    const err = await bob.request(Shutdown, { reason: 'because' }, { expect: Done, timeoutMs: 5000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SeamError)
    expect(err).toMatchObject({ code: 'ERR_FORBIDDEN', tag: 'tls.admin.Shutdown' })
    expect((err as SeamError).message).toContain('bob')
    expect(seen.shutdowns).toEqual([])
    // Same connection, an allowed tag: still served.
    await expect(bob.request(Ping, { seq: 5 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 5 })
    expect(server.peers.size).toBe(1)
    // The authorized peer may send it.
    const alice = await clientAs(server, pki.alice)
    await expect(alice.request(Shutdown, { reason: 'ok' }, { expect: Done, timeoutMs: 5000 })).resolves.toEqual({ ok: true })
    expect(seen.shutdowns).toEqual(['alice'])
  })

  it('a forbidden plain send reaches the sender\'s onError and the server\'s forbidden event', async () => {
    const { server, seen } = await startServer({ mutual: true, authorize: adminsOnly })
    const forbidden: string[] = []
    server.events.on('peer', (ch) => void ch.events.on('forbidden', (tag, peer) => void forbidden.push(`${peer?.commonName}:${tag}`)))
    const errors: SeamError[] = []
    const bob = await clientAs(server, pki.bob, errors)
    await bob.send(Shutdown, { reason: 'fire and forget' })
    await waitFor(() => errors.length === 1 && forbidden.length === 1)
    expect(errors[0]).toMatchObject({ code: 'ERR_FORBIDDEN' })
    expect(forbidden).toEqual(['bob:tls.admin.Shutdown'])
    expect(seen.shutdowns).toEqual([])
  })

  it('an async authorize keeps message order; one that throws or rejects denies', async () => {
    const authorize: Authorize = async (peer, tag, env) => {
      if (tag === Shutdown.tag) throw new Error('policy store down')
      // The first answer is the slowest: later messages must still wait for it.
      await new Promise((r) => setTimeout(r, env.headers.seq === '0' ? 20 : 0))
      return peer?.authenticated === true
    }
    const { server, seen } = await startServer({ mutual: true, authorize })
    const alice = await clientAs(server, pki.alice)
    await Promise.all([0, 1, 2].map((i) => alice.send(Ping, { seq: i }, { headers: { seq: String(i) } })))
    await waitFor(() => seen.pings.length === 3)
    expect(seen.seqs).toEqual([0, 1, 2])
    await expect(alice.request(Shutdown, { reason: 'x' }, { expect: Done, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' })
    expect(seen.errors.some((e) => e.code === 'ERR_FORBIDDEN' && e.message.includes('policy store down'))).toBe(true)
  })
})

describe('tls: subject alternative names', () => {
  it('splits Node\'s subjectaltname, including values quoted because they hold a comma', () => {
    expect(splitAltNames('DNS:localhost, IP Address:127.0.0.1, URI:spiffe://test/alice')).toEqual(['DNS:localhost', 'IP Address:127.0.0.1', 'URI:spiffe://test/alice'])
    expect(splitAltNames('DNS:a.example, URI:"urn:x, DNS:evil.example", DNS:b.example')).toEqual(['DNS:a.example', 'URI:urn:x, DNS:evil.example', 'DNS:b.example'])
    expect(splitAltNames(undefined)).toEqual([])
  })
})

describe('tls: helpers', () => {
  it('connectTls / listenTls build the URLs', async () => {
    const { server } = await startServer({ mutual: false })
    const port = Number(new URL(server.url).port)
    const client = await connectTls('localhost', port, { tls: { ca: pki.ca.cert } })
    open.push(client)
    expect(client.transport).toBe('tls')
    await expect(client.request(Ping, { seq: 9 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 9 })
  })
})
