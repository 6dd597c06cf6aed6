/**
 * rediss://: Redis Streams over TLS, against redis-servers of this file's own
 * serving TLS only (`--tls-port`, `--port 0`) with certificates made for the
 * run (test/helpers/certs.ts). Every failure must come as a SeamError that
 * says what to fix, well within connectTimeoutMs, never as a hang.
 */
import { randomBytes } from 'node:crypto'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, rejection, waitFor } from '../helpers.js'
import { testPkiForFile } from '../helpers/certs.js'
import { fastRedis } from '../helpers/redis.js'
import { ownRedis, type OwnRedis } from '../helpers/redis-server.js'

const pki = testPkiForFile()
const serverFiles = { certPath: pki.server.certPath, keyPath: pki.server.keyPath, caPath: pki.ca.certPath }

let tlsRedis: OwnRedis
let mutualRedis: OwnRedis
let plainRedis: OwnRedis
beforeAll(async () => {
  ;[tlsRedis, mutualRedis, plainRedis] = await Promise.all([ownRedis(serverFiles), ownRedis({ ...serverFiles, authClients: true }), ownRedis()])
})
afterAll(async () => {
  await Promise.all([tlsRedis?.dispose(), mutualRedis?.dispose(), plainRedis?.dispose()])
})
// Registered after the servers' disposal, so run before it: channels close while Redis is up.
const open = closedAfterEach()

const Order = defineMessage('redis.tls.Order', t.type({ n: t.number, item: t.string }))
const Total = defineMessage('redis.tls.Total', t.type({ sum: t.number }))

const stream = (): string => `seam-tls-${randomBytes(6).toString('hex')}`
const group = (): string => `g-${randomBytes(4).toString('hex')}`
const trusted = { tls: { ca: pki.ca.cert }, redis: fastRedis, connectTimeoutMs: 5000 }

/** The time `p` takes to reject, and its SeamError. */
async function timedRejection(p: Promise<unknown>): Promise<{ ms: number; err: Awaited<ReturnType<typeof rejection>> }> {
  const started = Date.now()
  const err = await rejection(p)
  return { ms: Date.now() - started, err }
}

describe('redis over TLS (rediss://)', () => {
  it('a typed message sent over rediss:// arrives at a rediss:// listener with its typed value', async () => {
    const url = `${tlsRedis.url}/${stream()}`
    expect(url).toMatch(/^rediss:\/\//)
    const got: { n: number; item: string }[] = []
    const registry = new Registry()
    registry.on(Order, (order, ctx) => {
      got.push(order)
      expect(ctx.tag).toBe('redis.tls.Order')
    })
    const server = await listen(`${url}?group=${group()}`, { registry, ...trusted })
    open.push(server)
    expect(server.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+\/seam-tls-/)
    const client = await connect(url, trusted)
    open.push(client)
    await client.send(Order, { n: 7, item: 'tea' })
    await waitFor(() => got.length === 1, 5000, 'the order to arrive over TLS')
    expect(got).toEqual([{ n: 7, item: 'tea' }])
  })

  it('request and reply over rediss://', async () => {
    const url = `${tlsRedis.url}/${stream()}`
    const registry = new Registry()
    registry.on(Order, async ({ n }, ctx) => {
      await ctx.reply(Total, { sum: n * 2 })
    })
    open.push(await listen(`${url}?group=${group()}`, { registry, ...trusted }))
    const client = await connect(url, trusted)
    open.push(client)
    const total = await client.request(Order, { n: 21, item: 'x' }, { expect: Total, timeoutMs: 5000 })
    expect(total).toEqual({ sum: 42 })
  })

  it('an untrusted server certificate fails connect and listen at once with ERR_TRANSPORT naming the certificate, the password never shown', async () => {
    const [, rest] = tlsRedis.url.split('://') as [string, string]
    const url = `rediss://app:s3cret@${rest}/${stream()}`
    const { ms, err } = await timedRejection(connect(url, { redis: fastRedis, connectTimeoutMs: 8000 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toMatch(/certificate is not signed by a CA this client trusts/)
    expect(err.message).toMatch(/tls\.ca/)
    expect(err.message).toMatch(/^rediss:\/\//)
    expect(err.message).not.toContain('s3cret')
    expect(ms).toBeLessThan(2000)

    const listening = await timedRejection(listen(`${url}?group=${group()}`, { redis: fastRedis, tls: { ca: pki.otherCa.cert }, connectTimeoutMs: 8000 }))
    expect(listening.err.code).toBe('ERR_TRANSPORT')
    expect(listening.err.message).toMatch(/certificate/)
    expect(listening.ms).toBeLessThan(2000)
  })

  it('insecureSkipVerify connects without verifying, and says so with a SecurityWarning', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => void warnings.push(w)
    process.on('warning', onWarning)
    try {
      const client = await connect(`${tlsRedis.url}/${stream()}`, { redis: fastRedis, tls: { insecureSkipVerify: true }, connectTimeoutMs: 5000 })
      open.push(client)
      await client.send(Order, { n: 3, item: 'unverified' })
      await waitFor(() => warnings.length > 0, 2000, 'the warning')
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings[0]?.name).toBe('SecurityWarning')
    expect(warnings[0]?.message).toMatch(/^connect\(rediss\): tls\.insecureSkipVerify is set/)
  })

  it('a certificate for another name fails with a message naming the name checked', async () => {
    const { ms, err } = await timedRejection(connect(`${tlsRedis.url}/${stream()}`, { ...trusted, tls: { ca: pki.ca.cert, servername: 'elsewhere.example' } }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toMatch(/not valid for "elsewhere\.example"/)
    expect(ms).toBeLessThan(2000)
  })

  it('plain redis:// to the TLS port fails with ERR_TRANSPORT within a short connectTimeoutMs, no hang', async () => {
    const url = `redis://127.0.0.1:${tlsRedis.port}/${stream()}`
    const { ms, err } = await timedRejection(connect(url, { redis: fastRedis, connectTimeoutMs: 500 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toMatch(/^connecting to Redis at redis:\/\/127\.0\.0\.1/)
    expect(err.message).toMatch(/rediss:\/\//)
    expect(ms).toBeLessThan(3000)
  })

  it('rediss:// to a plain port fails with ERR_TRANSPORT within connectTimeoutMs, saying the port is plain', async () => {
    const url = `rediss://127.0.0.1:${plainRedis.port}/${stream()}`
    const { ms, err } = await timedRejection(connect(url, { ...trusted, connectTimeoutMs: 500 }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toMatch(/does not speak TLS.*use redis:\/\//)
    expect(ms).toBeLessThan(3000)
  })

  it('mutual TLS: without a client certificate a clear error at once; with one signed by the server\'s CA, messages flow', async () => {
    const url = `${mutualRedis.url}/${stream()}`
    const refused = await timedRejection(connect(url, trusted))
    expect(refused.err.code).toBe('ERR_TRANSPORT')
    expect(refused.err.message).toMatch(/client certificate/)
    expect(refused.err.message).toMatch(/tls\.key and tls\.cert/)
    expect(refused.ms).toBeLessThan(2000)

    const withCert = { ...trusted, tls: { ca: pki.ca.certPath, cert: pki.alice.certPath, key: pki.alice.keyPath } }
    const got: number[] = []
    const registry = new Registry()
    registry.on(Order, ({ n }) => void got.push(n))
    open.push(await listen(`${url}?group=${group()}`, { registry, ...withCert }))
    const client = await connect(url, withCert)
    open.push(client)
    await client.send(Order, { n: 1, item: 'mtls' })
    await waitFor(() => got.length === 1, 5000, 'the order to arrive over mutual TLS')
  })

  it('redis.client.tls (raw ioredis settings) replaces the tls option', async () => {
    const url = `${tlsRedis.url}/${stream()}`
    // No `tls` option, so the system roots alone would refuse the test CA: only the raw setting can make this work.
    const raw = { redis: { ...fastRedis, client: { tls: { ca: pki.ca.cert } } }, connectTimeoutMs: 5000 }
    const got: number[] = []
    const registry = new Registry()
    registry.on(Order, ({ n }) => void got.push(n))
    open.push(await listen(`${url}?group=${group()}`, { registry, ...raw }))
    const client = await connect(url, raw)
    open.push(client)
    await client.send(Order, { n: 2, item: 'raw' })
    await waitFor(() => got.length === 1, 5000, 'the order to arrive with the raw TLS settings')
  })
})
