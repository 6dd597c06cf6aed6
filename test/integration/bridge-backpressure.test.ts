/**
 * A destination that is down makes the bridge wait, holding the source
 * back through its concurrency window, and loses nothing when it comes back.
 */
import { describe, expect, it } from 'vitest'
import { MemoryHub, bridge, connect, listen, type Server } from '../../src/index.js'
import { closedAfterEach, collectErrors, waitFor } from '../helpers.js'
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
})
