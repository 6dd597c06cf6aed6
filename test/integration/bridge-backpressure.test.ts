/**
 * A destination that is down makes the bridge wait, holding the source
 * back through its concurrency window, and loses nothing when it comes back.
 */
import { describe, expect, it } from 'vitest'
import { MemoryHub, bridge, connect, listen, type Server } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'
import { Seq, farSide } from '../helpers/bridge.js'

const open = closedAfterEach()

describe('bridge with a destination that goes down', () => {
  it('holds the source back while the TCP destination is down, tries refused sends again, and delivers every message once it is back', async () => {
    const far = farSide()
    let server: Server = await listen('tcp://127.0.0.1:0', { registry: far.registry })
    const port = new URL(server.url).port
    const hub = new MemoryHub()
    const { errors, onError } = collectErrors()
    const concurrency = 4
    const b = await bridge('memory://in', server.url, {
      source: { hub },
      // An outbox of 2 makes the third waiting send fail with ERR_OUTBOX_FULL: those are tried again, not dropped.
      destination: { maxOutboxMessages: 2, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
      concurrency,
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
      onError,
    })
    open.push(b)
    const states: string[] = []
    b.events.on('status', (state) => void states.push(state))
    await waitFor(() => server.peers.size === 1, 5000, 'the bridge to connect to the destination')

    await server.close()
    await waitFor(() => states.includes('down'), 5000, 'the bridge to see the destination go down')

    const sender = await connect('memory://in', { hub })
    open.push(sender)
    const total = 40
    for (let seq = 0; seq < total; seq++) await sender.send(Seq, { seq })
    // The window is full: the source stops delivering, the rest waits in its queue.
    await waitFor(() => b.stats().retried >= 3 && hub.depth('in') === total - concurrency, 5000, 'the source to be held back')
    expect(b.stats().forwarded).toBe(0)
    expect(errors.some((e) => e.code === 'ERR_OUTBOX_FULL')).toBe(true)

    server = await listen(`tcp://127.0.0.1:${port}`, { registry: far.registry })
    open.push(server)
    await waitFor(() => far.received.length === total, 10_000, `all ${total} messages on the far side (got ${far.received.length})`)
    expect(far.received.map((r) => (r.value as { seq: number }).seq).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i))
    expect(b.stats()).toMatchObject({ forwarded: total, refused: 0, returned: 0 })
    expect(hub.depth('in')).toBe(0)
    expect(states.at(-1)).toBe('up')
    expect(far.errors).toEqual([])
  })

  it('close() while the destination is down gives up after closeTimeoutMs, hands every message back to the source, and the next bridge forwards them all', async () => {
    const far = farSide()
    const first = await listen('tcp://127.0.0.1:0', { registry: far.registry })
    const url = first.url
    const hub = new MemoryHub()
    const { errors, onError } = collectErrors()
    const options = { source: { hub }, destination: { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } }, concurrency: 8, closeTimeoutMs: 300, onError }
    const b = await bridge('memory://in', url, options)
    await waitFor(() => first.peers.size === 1, 5000, 'the bridge to connect')
    const states: string[] = []
    b.events.on('status', (state) => void states.push(state))
    await first.close()
    await waitFor(() => states.includes('down'), 5000, 'the destination to go down')

    const sender = await connect('memory://in', { hub })
    open.push(sender)
    const total = 20
    for (let seq = 0; seq < total; seq++) await sender.send(Seq, { seq })
    await waitFor(() => hub.depth('in') === total - 8, 5000, 'the window to fill')

    const started = Date.now()
    await within(b.close(), 3000, 'close')
    // Bounded: closeTimeoutMs, plus a little for closing the two ends.
    expect(Date.now() - started).toBeLessThan(1500)
    expect(b.stats()).toMatchObject({ forwarded: 0, returned: 8 })
    await waitFor(() => hub.depth('in') === total, 2000, 'every message back in the source queue')
    // The destination says its queued sends never went; none is reported lost, since the source has them back.
    expect(errors.filter((e) => /never forwarded/.test(e.message))).toEqual([])

    const server = await listen(url, { registry: far.registry })
    open.push(server)
    const next = await bridge('memory://in', url, options)
    open.push(next)
    await waitFor(() => far.received.length === total, 5000, `all ${total} on the far side (got ${far.received.length})`)
    expect(far.received.map((r) => (r.value as { seq: number }).seq).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i))
  })

  it('keeps a full window of sends waiting to retry without a MaxListenersExceededWarning on its abort signal', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    try {
      const first = await listen('tcp://127.0.0.1:0', { registry: farSide().registry })
      const hub = new MemoryHub()
      const concurrency = 32
      const b = await bridge('memory://in', first.url, {
        source: { hub },
        destination: { maxOutboxMessages: 1, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
        concurrency,
        retry: { initialDelayMs: 20, maxDelayMs: 40 },
        closeTimeoutMs: 300,
        onError: () => undefined,
      })
      open.push(b)
      await waitFor(() => first.peers.size === 1, 5000, 'the bridge to connect')
      await first.close()
      const sender = await connect('memory://in', { hub })
      open.push(sender)
      for (let seq = 0; seq < concurrency + 8; seq++) await sender.send(Seq, { seq })
      // Refused at once (an outbox of 1), the window's sends back off together: dozens wait on the bridge's signal at the same time.
      await waitFor(() => b.stats().retried >= 2 * concurrency && hub.depth('in') === 8, 5000, 'a full window of sends waiting to retry')
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
