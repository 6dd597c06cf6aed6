/**
 * What each policy does to the message on a queue: 'drop' and a policy
 * function that resolves acknowledge, a throwing policy function rejects,
 * 'dead-letter' forwards then acknowledges (or rejects when forwarding
 * fails), and who hears of a rejection. Over the in-process memory transport
 * with prefetch 1, so a message left unacknowledged holds back the next one.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { MemoryHub, Registry, connect, defineMessage, listen, type Channel, type Envelope, type ListenOptions, type RegistryOptions } from '../../src/index.js'
import { closedAfterEach, collectErrors, rejection, waitFor } from '../helpers.js'

const Known = defineMessage('settle.Known', t.type({ n: t.number }))
// The same tag with another codec: what a sender with an out-of-date schema sends.
const KnownAsText = defineMessage('settle.Known', t.type({ n: t.string }))
const Unknown = defineMessage('settle.Unknown', t.type({}))
const Reply = defineMessage('settle.Reply', t.type({}))

const open = closedAfterEach()

let n = 0

interface Setup {
  hub: MemoryHub
  queue: string
  client: Channel
  handled: number[]
  serverErrors: ReturnType<typeof collectErrors>['errors']
  clientErrors: ReturnType<typeof collectErrors>['errors']
}

async function setup(registryOptions: RegistryOptions, listenOptions: ListenOptions = {}, configure: (r: Registry) => void = () => undefined): Promise<Setup> {
  const hub = new MemoryHub()
  const queue = `settle-${++n}`
  const server = collectErrors()
  const registry = new Registry({ ...registryOptions, onError: server.onError })
  const handled: number[] = []
  registry.on(Known, (v) => void handled.push(v.n))
  configure(registry)
  const listening = await listen(`memory://${queue}`, { hub, registry, prefetch: 1, onError: server.onError, ...listenOptions })
  open.push(listening)
  const client = collectErrors()
  const channel = await connect(listening.url, { hub, registry: new Registry({ onError: client.onError }) })
  open.push(channel)
  return { hub, queue, client: channel, handled, serverErrors: server.errors, clientErrors: client.errors }
}

/** Sends a valid Known after whatever was sent before; with prefetch 1 it is handled only once that was settled. */
async function nextIsHandled(s: Setup): Promise<void> {
  await s.client.send(Known, { n: 42 })
  await waitFor(() => s.handled.includes(42), 5000, 'the next message to be handled (is the one before it still unacknowledged?)')
}

describe('policies settle the message', () => {
  it("'drop' acknowledges: nothing is rejected, the next message flows", async () => {
    const s = await setup({ unregistered: 'drop' })
    await s.client.send(Unknown, {})
    await nextIsHandled(s)
    expect(s.hub.discarded(s.queue)).toBe(0)
  })

  it('a policy function that resolves acknowledges', async () => {
    const seen: string[] = []
    const s = await setup({ unregistered: (raw) => void seen.push(raw.tag) })
    await s.client.send(Unknown, {})
    await nextIsHandled(s)
    expect(seen).toEqual([Unknown.tag])
    expect(s.hub.discarded(s.queue)).toBe(0)
  })

  it('a policy function that throws rejects the message (no requeue), reported', async () => {
    const s = await setup({ unregistered: () => Promise.reject(new Error('cannot decide')) })
    await s.client.send(Unknown, {})
    await nextIsHandled(s)
    expect(s.hub.discarded(s.queue)).toBe(1)
    expect(s.serverErrors.some((e) => e.code === 'ERR_UNREGISTERED_TAG')).toBe(true)
  })

  it("'dead-letter' to a queue name forwards the untouched envelope with x-seam-reason, then acknowledges", async () => {
    const s = await setup({ invalid: 'dead-letter', deadLetter: 'settle.dlq' })
    const dead: Envelope[] = []
    s.hub.queue('settle.dlq').subscribe({ prefetch: 10, deliver: (d) => void (d.envelope !== undefined && dead.push(d.envelope), d.ack()) })
    await s.client.send(KnownAsText, { n: 'seven' })
    await waitFor(() => dead.length === 1, 5000, 'the dead letter')
    expect(dead[0]?.tag).toBe(Known.tag)
    expect(dead[0]?.headers['x-seam-reason']).toMatch(/^ERR_INVALID_PAYLOAD: /)
    await nextIsHandled(s)
    expect(s.hub.discarded(s.queue)).toBe(0)
  })

  it('a dead-letter sink that fails: the message is rejected instead (no requeue), and onError says so', async () => {
    const s = await setup({ invalid: 'dead-letter', deadLetter: { forward: () => Promise.reject(new Error('dlq down')) } })
    await s.client.send(KnownAsText, { n: 'seven' })
    await nextIsHandled(s)
    expect(s.hub.discarded(s.queue)).toBe(1)
    const reported = s.serverErrors.find((e) => /dead-lettering/.test(e.message))
    expect(reported?.code).toBe('ERR_TRANSPORT')
    expect((reported?.cause as Error | undefined)?.message).toBe('dlq down')
  })
})

describe('who hears of a rejection', () => {
  it('a rejected request: the requester gets the code; the receiver is not told as well', async () => {
    const s = await setup({})
    const err = await rejection(s.client.request(Unknown, {}, { expect: Reply, timeoutMs: 5000 }))
    expect(err.code).toBe('ERR_UNREGISTERED_TAG')
    await nextIsHandled(s)
    expect(s.serverErrors).toEqual([])
  })

  it('a rejected plain send on a queue (no sender to tell): the receiver\'s onError gets it', async () => {
    const s = await setup({})
    await s.client.send(Unknown, {})
    await nextIsHandled(s)
    expect(s.serverErrors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG'])
  })

  it('a failed handler is reported on both sides: the requester gets the code, the receiver\'s onError too', async () => {
    const Failing = defineMessage('settle.Failing', t.type({}))
    const s = await setup({ retries: 0 }, {}, (r) =>
      r.on(Failing, () => {
        throw new Error('handler broke')
      }),
    )
    const err = await rejection(s.client.request(Failing, {}, { expect: Reply, timeoutMs: 5000 }))
    expect(err.code).toBe('ERR_HANDLER_FAILED')
    await nextIsHandled(s)
    expect(s.serverErrors.map((e) => e.code)).toEqual(['ERR_HANDLER_FAILED'])
  })
})
