/**
 * The bridge moves messages from one transport to another untouched, and
 * settles each at the source only once the destination confirmed it.
 */
import { describe, expect, it } from 'vitest'
import { MemoryHub, Registry, bridge, connect, listen, type Bridge } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'
import { Note, Order, envelopeOf, farSide, untouched } from '../helpers/bridge.js'

const open = closedAfterEach()

async function opened(b: Promise<Bridge>): Promise<Bridge> {
  const got = await b
  open.push(got)
  return got
}

describe('bridge', () => {
  it('forwards memory to memory: the far side handlers get the same typed values, with id, ts, headers, key and body untouched', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    const server = await listen('memory://out', { hub, registry: far.registry })
    open.push(server)
    const { errors, onError } = collectErrors()
    const b = await opened(bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, onError }))
    const sender = await connect('memory://in', { hub })
    open.push(sender)

    const crafted = [envelopeOf(Order.tag, { sku: 'A-1', qty: 2 }, { key: 'customer-7' }), envelopeOf(Note.tag, { text: 'héllo' })]
    for (const env of crafted) await sender.forward(env, { key: env.key })
    await sender.send(Order, { sku: 'B-2', qty: 5 }, { headers: { trace: 'abc' }, key: 'customer-9' })

    await waitFor(() => far.received.length === 3, 5000, 'three messages on the far side')
    expect(far.received.map((r) => r.value)).toEqual([{ sku: 'A-1', qty: 2 }, { text: 'héllo' }, { sku: 'B-2', qty: 5 }])
    expect(far.received.slice(0, 2).map((r) => untouched(r.envelope))).toEqual(crafted.map(untouched))
    expect(far.received[2]?.envelope.headers).toEqual({ trace: 'abc' })
    expect(far.received[2]?.envelope.key).toBe('customer-9')
    expect(b.stats()).toMatchObject({ forwarded: 3, skipped: 0, duplicates: 0, refused: 0 })
    expect(hub.depth('in')).toBe(0)
    expect(errors).toEqual([])
    expect(far.errors).toEqual([])
  })

  it('forwards TCP to memory: every peer that connects is a source, and what it sends arrives untouched', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    open.push(await listen('memory://out', { hub, registry: far.registry }))
    const b = await opened(bridge('tcp://127.0.0.1:0', 'memory://out', { destination: { hub } }))
    expect(b.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    const [one, two] = await Promise.all([connect(b.url), connect(b.url)])
    open.push(one, two)

    const crafted = Array.from({ length: 20 }, (_, i) => envelopeOf(Order.tag, { sku: `S-${i}`, qty: i }, { key: i % 2 === 0 ? 'even' : undefined }))
    await Promise.all(crafted.map((env, i) => (i < 10 ? one : two).forward(env)))
    await two.send(Note, { text: 'typed' }, { headers: { who: 'two' } })

    await waitFor(() => far.received.length === 21, 5000, '21 messages on the far side')
    const byId = new Map(far.received.map((r) => [r.envelope.id, r]))
    for (const [i, env] of crafted.entries()) {
      expect(untouched(byId.get(env.id)?.envelope ?? env)).toEqual(untouched(env))
      expect(byId.get(env.id)?.value).toEqual({ sku: `S-${i}`, qty: i })
    }
    expect(far.received.find((r) => r.tag === Note.tag)?.value).toEqual({ text: 'typed' })
    expect(b.stats().forwarded).toBe(21)
  })

  it('forwards only the tags asked for; the others are acknowledged at the source and counted as skipped', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    open.push(await listen('memory://out', { hub, registry: far.registry }))
    const b = await opened(bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, tags: [Order.tag] }))
    const sender = await connect('memory://in', { hub })
    open.push(sender)
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) await sender.send(Order, { sku: `O-${i}`, qty: i })
      else await sender.send(Note, { text: `N-${i}` })
    }
    await waitFor(() => b.stats().forwarded + b.stats().skipped === 6, 5000, 'six messages taken in')
    await waitFor(() => far.received.length === 3, 5000, 'three orders on the far side')
    expect(far.received.map((r) => r.tag)).toEqual([Order.tag, Order.tag, Order.tag])
    expect(b.stats()).toMatchObject({ forwarded: 3, skipped: 3 })
    expect(hub.depth('in')).toBe(0)
    expect(hub.discarded('in')).toBe(0)
  })

  it('re-validates against a registry: an invalid payload takes the invalid policy (dead-lettered untouched), an unknown tag the unregistered one', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    open.push(await listen('memory://out', { hub, registry: far.registry }))
    const deadLetters: { tag: string; reason: string | undefined; id: string }[] = []
    const dlq = new Registry({ unregistered: (raw) => void deadLetters.push({ tag: raw.tag, reason: raw.headers['x-seam-reason'], id: raw.id }) })
    open.push(await listen('memory://in.dlq', { hub, registry: dlq }))
    const validate = new Registry().register(Order)
    const { errors, onError } = collectErrors()
    const b = await opened(
      bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, validate, invalid: 'dead-letter', unregistered: 'reject', deadLetter: 'in.dlq', onError }),
    )
    const sender = await connect('memory://in', { hub })
    open.push(sender)

    const good = envelopeOf(Order.tag, { sku: 'ok', qty: 1 })
    const invalid = envelopeOf(Order.tag, { sku: 'bad', qty: 'many' })
    const unknown = envelopeOf(Note.tag, { text: 'not in the validating registry' })
    for (const env of [invalid, good, unknown]) await sender.forward(env)

    await waitFor(() => far.received.length === 1 && deadLetters.length === 1 && hub.discarded('in') === 1, 5000, 'one forwarded, one dead-lettered, one rejected')
    expect(untouched(far.received[0]?.envelope ?? invalid)).toEqual(untouched(good))
    expect(deadLetters[0]).toMatchObject({ tag: Order.tag, id: invalid.id })
    expect(deadLetters[0]?.reason).toMatch(/^ERR_INVALID_PAYLOAD: .*qty/)
    expect(validate.stats()).toMatchObject({ invalid: 1, deadLettered: 1, unregistered: 1, rejected: 1 })
    expect(b.stats()).toMatchObject({ forwarded: 1, refused: 2 })
    expect(errors.map((e) => e.code)).toEqual(['ERR_UNREGISTERED_TAG'])
  })

  it('drops a duplicate envelope id within the window, and forwards it again once the window has moved past it', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    open.push(await listen('memory://out', { hub, registry: far.registry }))
    const b = await opened(bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, dedupe: 3, concurrency: 1 }))
    const sender = await connect('memory://in', { hub })
    open.push(sender)
    const [a, bb, c, d] = [1, 2, 3, 4].map((i) => envelopeOf(Order.tag, { sku: `D-${i}`, qty: i }))
    if (a === undefined || bb === undefined || c === undefined || d === undefined) throw new Error('four envelopes')
    // a twice in a row, b again while a, b, c are remembered; then d pushes a out of the window of 3.
    for (const env of [a, a, bb, c, bb, d, a]) await sender.forward(env)

    await waitFor(() => b.stats().forwarded + b.stats().duplicates === 7, 5000, 'seven messages taken in')
    await waitFor(() => far.received.length === 5, 5000, 'five on the far side')
    expect(far.received.map((r) => r.envelope.id)).toEqual([a.id, bb.id, c.id, d.id, a.id])
    expect(b.stats()).toMatchObject({ forwarded: 5, duplicates: 2 })
  })

  it('close() waits for what is in flight, and the bridge takes nothing more', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    open.push(await listen('memory://out', { hub, registry: far.registry }))
    const b = await bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub } })
    const sender = await connect('memory://in', { hub })
    open.push(sender)
    await Promise.all(Array.from({ length: 200 }, (_, i) => sender.send(Order, { sku: 'c', qty: i })))
    await within(Promise.all([b.close(), b.close()]), 5000, 'close')
    expect(await b.closed()).toBeUndefined()
    const taken = b.stats().forwarded
    // Every message is either forwarded or still in the source queue: none is lost to the close.
    expect(taken + hub.depth('in')).toBe(200)
    await sender.send(Order, { sku: 'late', qty: 0 })
    await waitFor(() => hub.depth('in') === 200 - taken + 1, 2000, 'the late message to wait in the source queue')
    await waitFor(() => far.received.length === taken, 2000, 'the far side to handle what was forwarded')
    expect(b.stats().forwarded).toBe(taken)
  })

  it('reports through onError a TCP receiver that rejects a forwarded message, and goes on forwarding', async () => {
    const hub = new MemoryHub()
    const far = farSide()
    far.registry.off(Note)
    const server = await listen('tcp://127.0.0.1:0', { registry: far.registry })
    open.push(server)
    const { errors, onError } = collectErrors()
    const b = await opened(bridge('memory://in', server.url, { source: { hub }, onError }))
    const sender = await connect('memory://in', { hub })
    open.push(sender)
    await sender.send(Note, { text: 'nobody handles notes there' })
    await sender.send(Order, { sku: 'after', qty: 1 })
    await waitFor(() => far.received.length === 1 && errors.length === 1, 5000, 'the order forwarded and the rejection reported')
    expect(errors[0]).toMatchObject({ code: 'ERR_UNREGISTERED_TAG', tag: Note.tag })
    expect(b.stats().forwarded).toBe(2)
  })

  it('fails fast on a bad option or URL, naming it, before opening anything', async () => {
    const hub = new MemoryHub()
    await expect(bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, dedupe: -1 })).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT', message: expect.stringContaining('"dedupe"') })
    await expect(bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, tags: 'bridge.Order' as never })).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT', message: expect.stringContaining('"tags"') })
    await expect(bridge('memory://in', 'memory://out', { source: { hub }, destination: { hub }, validate: {} as never })).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT', message: expect.stringContaining('"validate"') })
    await expect(bridge('nope://in', 'memory://out', { destination: { hub } })).rejects.toMatchObject({ code: 'ERR_BAD_URL' })
    // A connection has nowhere to route a dead letter by name.
    await expect(bridge('tcp://127.0.0.1:0', 'memory://out', { destination: { hub }, invalid: 'dead-letter', deadLetter: 'dlq' })).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT', message: expect.stringContaining('"deadLetter"') })
    await expect(bridge('memory://in', 'tcp://127.0.0.1:1', { source: { hub }, destination: { connectTimeoutMs: 200, reconnect: false } })).rejects.toMatchObject({ code: 'ERR_TRANSPORT' })
    expect(hub.depth('in')).toBe(0)
  })
})
