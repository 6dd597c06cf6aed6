/**
 * `authorize` on `listen` decides per message. It fails closed: an
 * `authorize` that throws synchronously or rejects denies the message exactly
 * like one that answers false. A denied message never reaches its handler,
 * the requester gets ERR_FORBIDDEN, the server's onError hears of a throwing
 * or rejecting `authorize`, and the connection stays open.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type Authorize, type Channel, type SeamError, type Server } from '../../src/index.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'

const Guarded = defineMessage('auth.Guarded', t.type({ n: t.number }))
const Open = defineMessage('auth.Open', t.type({ n: t.number }))
const Done = defineMessage('auth.Done', t.type({ n: t.number }))

const open = closedAfterEach()

interface Setup {
  server: Server
  client: Channel
  /** What the Guarded handler ran for. */
  guarded: number[]
  serverErrors: SeamError[]
  clientErrors: SeamError[]
  forbidden: string[]
}

/** A TCP server whose `authorize` decides about Guarded (Open always passes), and a client of it. */
async function setup(decideGuarded: () => boolean | Promise<boolean>): Promise<Setup> {
  const guarded: number[] = []
  const server = collectErrors()
  const registry = new Registry({ onError: server.onError })
  registry.register(Done)
  registry.on(Guarded, async (v, ctx) => {
    guarded.push(v.n)
    await ctx.reply(Done, { n: v.n })
  })
  registry.on(Open, (v, ctx) => ctx.reply(Done, { n: v.n }))
  const authorize: Authorize = (_peer, tag) => (tag === Guarded.tag ? decideGuarded() : true)
  const listening = await listen('tcp://127.0.0.1:0', { registry, authorize, onError: server.onError })
  open.push(listening)
  const forbidden: string[] = []
  listening.events.on('peer', (ch) => void ch.events.on('forbidden', (tag) => void forbidden.push(tag)))
  const client = collectErrors()
  const channel = await connect(listening.url, { registry: new Registry({ onError: client.onError }) })
  open.push(channel)
  return { server: listening, client: channel, guarded, serverErrors: server.errors, clientErrors: client.errors, forbidden }
}

/** Asserts that a Guarded request was denied and the connection still serves. */
async function expectDenied(s: Setup): Promise<void> {
  const err = await rejection(s.client.request(Guarded, { n: 1 }, { expect: Done, timeoutMs: 5000 }))
  expect(err.code).toBe('ERR_FORBIDDEN')
  expect(err.tag).toBe(Guarded.tag)
  expect(s.guarded).toEqual([])
  expect(s.forbidden).toEqual([Guarded.tag])
  // A plain send is denied too, and the sender hears of it.
  await s.client.send(Guarded, { n: 2 })
  await waitFor(() => s.clientErrors.some((e) => e.code === 'ERR_FORBIDDEN'), 5000, "the denied send to reach the sender's onError")
  expect(s.guarded).toEqual([])
  // The same connection still serves what is allowed.
  await expect(s.client.request(Open, { n: 3 }, { expect: Done, timeoutMs: 5000 })).resolves.toEqual({ n: 3 })
  expect(s.server.peers.size).toBe(1)
}

describe('authorize denies', () => {
  it('when it throws synchronously (fail closed), reported to the server\'s onError', async () => {
    const s = await setup(() => {
      throw new Error('policy store down (sync)')
    })
    await expectDenied(s)
    const reported = s.serverErrors.find((e) => e.code === 'ERR_FORBIDDEN')
    expect(reported?.message).toContain('policy store down (sync)')
    expect(reported?.message).toContain(Guarded.tag)
  })

  it('when it rejects (fail closed), reported to the server\'s onError', async () => {
    const s = await setup(() => Promise.reject(new Error('policy store down (async)')))
    await expectDenied(s)
    const reported = s.serverErrors.find((e) => e.code === 'ERR_FORBIDDEN')
    expect(reported?.message).toContain('policy store down (async)')
    expect(reported?.message).toContain(Guarded.tag)
  })

  it('when it returns false', async () => {
    await expectDenied(await setup(() => false))
  })

  it('when it resolves to false', async () => {
    await expectDenied(await setup(() => Promise.resolve(false)))
  })

  it('when it returns something that is not true (a truthy non-boolean)', async () => {
    // A JavaScript caller (or a cast) may return 'yes' or 1; only `true` allows.
    await expectDenied(await setup(() => 'yes' as unknown as boolean))
  })

  it('when it resolves to something that is not true', async () => {
    await expectDenied(await setup(() => Promise.resolve(1 as unknown as boolean)))
  })
})

describe('authorize allows', () => {
  it('when it returns true', async () => {
    const s = await setup(() => true)
    await expect(s.client.request(Guarded, { n: 7 }, { expect: Done, timeoutMs: 5000 })).resolves.toEqual({ n: 7 })
    expect(s.guarded).toEqual([7])
    expect(s.forbidden).toEqual([])
  })

  it('when it resolves to true', async () => {
    const s = await setup(() => Promise.resolve(true))
    await expect(s.client.request(Guarded, { n: 8 }, { expect: Done, timeoutMs: 5000 })).resolves.toEqual({ n: 8 })
    expect(s.guarded).toEqual([8])
    expect(s.serverErrors).toEqual([])
  })
})

describe('authorize keeps order', () => {
  it('a slow async answer holds back the messages after it, even those answered synchronously', async () => {
    const seen: number[] = []
    const registry = new Registry({ onError: () => undefined })
    registry.on(Open, (v) => void seen.push(v.n))
    // Message 0 is answered late, 1 soon, 2 (a throw: denied) and 3 at once. Order holds whatever
    // the delays; the delay only gives a gate that did not hold messages back the chance to show it.
    const authorize: Authorize = (_peer, _tag, env) => {
      const n = Number(env.headers.n)
      if (n === 0) return new Promise((resolve) => setTimeout(() => resolve(true), 50))
      if (n === 1) return Promise.resolve(true)
      if (n === 2) throw new Error('no')
      return true
    }
    const server = await listen('tcp://127.0.0.1:0', { registry, authorize, onError: () => undefined })
    open.push(server)
    const client = await connect(server.url, { registry: new Registry({ onError: () => undefined }) })
    open.push(client)
    for (const n of [0, 1, 2, 3]) await client.send(Open, { n }, { headers: { n: String(n) } })
    await waitFor(() => seen.length === 3, 5000, 'the three allowed messages to be handled')
    expect(seen).toEqual([0, 1, 3])
  })
})
