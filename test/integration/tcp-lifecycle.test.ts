import { createServer } from 'node:net'
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, defineMessage, listen, Registry, SeamError, type Channel, type ConnectOptions, type ListenOptions, type Server } from '../../src/index.js'
import { helloFrame } from '../../src/transports/stream/wire.js'
import { collectErrors, freePort, rejection, waitFor, within } from '../helpers.js'

const Ping = defineMessage('test.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('test.Pong', t.type({ seq: t.number }))
const Slow = defineMessage('test.Slow', t.type({ seq: t.number }))
const Blob = defineMessage('test.Blob', t.type({ data: t.string }))

/** Everything a test opens; closed in afterEach whatever happened. */
const open: { close(): Promise<unknown> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close().catch(() => undefined)))
})

function serverRegistry(received: number[] = []): Registry {
  const registry = new Registry({ onError: () => undefined })
  registry.register(Pong)
  registry.on(Ping, async (ping, ctx) => {
    received.push(ping.seq)
    await ctx.reply(Pong, { seq: ping.seq })
  })
  return registry
}

async function startServer(url = 'tcp://127.0.0.1:0', options: ListenOptions = {}): Promise<Server> {
  const server = await listen(url, { registry: serverRegistry(), ...options })
  open.push(server)
  return server
}

async function startClient(url: string, options: ConnectOptions = {}): Promise<Channel> {
  const client = await connect(url, { registry: new Registry({ onError: () => undefined }), ...options })
  open.push(client)
  return client
}

describe('tcp: connecting and listening', () => {
  it('connect to a port where nothing listens rejects with ERR_TRANSPORT within connectTimeoutMs', async () => {
    const port = await freePort()
    const err = await rejection(within(connect(`tcp://127.0.0.1:${port}`, { connectTimeoutMs: 300 }), 5000, 'connect'))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(true)
    expect(err.message).toContain(`127.0.0.1:${port}`)
    expect(err.message).toContain('connectTimeoutMs')
  })

  it('a peer that accepts but never says hello fails connect within connectTimeoutMs, not handshakeTimeoutMs', async () => {
    const sockets: import('node:net').Socket[] = []
    const silent = createServer((s) => {
      sockets.push(s)
      s.on('error', () => undefined)
      s.resume()
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), silent.close(() => resolve()))) })
    const port = (silent.address() as { port: number }).port
    const err = await rejection(within(connect(`tcp://127.0.0.1:${port}`, { connectTimeoutMs: 300, handshakeTimeoutMs: 60_000 }), 10_000, 'connect'))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toMatch(/connectTimeoutMs/)
    expect(err.message).toMatch(/hello/)
  })

  it('a peer that accepts and hangs up without a byte, again and again, fails connect fast, not after connectTimeoutMs', async () => {
    let accepted = 0
    const hangUp = createServer((s) => {
      accepted++
      s.destroy()
    })
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => hangUp.close(() => resolve())) })
    const port = (hangUp.address() as { port: number }).port
    const err = await rejection(within(connect(`tcp://127.0.0.1:${port}`, { connectTimeoutMs: 60_000 }), 10_000, 'connect'))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.retriable).toBe(false)
    expect(err.message).toMatch(/without a byte, 3 times in a row/)
    expect(err.message).toMatch(/tls:\/\//)
    expect(accepted).toBe(3)
  })

  it('silent hang-ups only count in a row: a peer that answered in between resets the count', async () => {
    // Connection 1 says hello and is then dropped; while reconnecting, the client meets two silent
    // hang-ups, one peer that answers (HTTP, refused as ERR_PROTOCOL), one more silent hang-up, and
    // then a hello again. Never three silent ones in a row, so it must reconnect without calling the
    // server a non-seam-channel peer.
    let accepted = 0
    const peers: import('node:net').Socket[] = []
    const odd = createServer((s) => {
      peers.push(s)
      s.on('error', () => undefined)
      const n = ++accepted
      if (n === 1 || n === 6) s.write(helloFrame(1 << 20))
      else if (n === 4) s.write('HTTP/1.1 400 Bad Request\r\n\r\n')
      else s.destroy()
      if (n === 1) setImmediate(() => s.destroy())
    })
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => (peers.forEach((s) => s.destroy()), odd.close(() => resolve()))) })
    const port = (odd.address() as { port: number }).port
    const errors = collectErrors()
    const client = await startClient(`tcp://127.0.0.1:${port}`, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 }, onError: errors.onError })
    const states: string[] = []
    client.events.on('status', (state) => void states.push(state))
    await waitFor(() => states.includes('up'), 10_000, 'the client to reconnect on the sixth connection')
    expect(accepted).toBe(6)
    expect(errors.errors.some((e) => e.code === 'ERR_PROTOCOL')).toBe(true)
    expect(errors.errors.filter((e) => /times in a row/.test(e.message))).toEqual([])
  })

  it.each([
    ['tcp://127.0.0.1', /port is missing/],
    ['tcp://:99', /host is missing/],
    ['tcp://127.0.0.1:99999', /port "99999"/],
    ['tcp://127.0.0.1:7000/some/path', /no path/],
    ['nope://x', /unknown scheme "nope:"/],
    ['not a url', /no scheme/],
  ])('%s is ERR_BAD_URL naming the wrong part', async (url, part) => {
    for (const open of [() => connect(url, { connectTimeoutMs: 300 }), () => listen(url)]) {
      const err = await rejection(open())
      expect(err.code).toBe('ERR_BAD_URL')
      expect(err.message).toMatch(part)
    }
  })

  it('a URL that is not a string is ERR_BAD_URL', async () => {
    expect((await rejection(connect(42 as unknown as string))).code).toBe('ERR_BAD_URL')
  })

  it('listen on a taken port rejects with ERR_TRANSPORT naming it', async () => {
    const server = await startServer()
    const err = await rejection(listen(server.url, { registry: serverRegistry() }))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain(server.url)
    // The first server is untouched.
    const client = await startClient(server.url)
    await expect(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 1 })
  })

  it('server.url has the real port', async () => {
    const server = await startServer()
    expect(server.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    expect(server.url).not.toMatch(/:0$/)
  })
})

describe('tcp: reconnect', () => {
  it('messages and requests sent while the server is down wait in the outbox and arrive after it restarts', async () => {
    const first = await startServer()
    const port = Number(new URL(first.url).port)
    const errors = collectErrors()
    const client = await startClient(first.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, onError: errors.onError })
    const states: string[] = []
    client.events.on('status', (state) => void states.push(state))
    await expect(client.request(Ping, { seq: 0 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 0 })

    await within(first.close(), 10_000, 'closing the first server')
    await waitFor(() => states.includes('down'), 5000, 'the client to see the connection drop')
    expect(errors.errors.some((e) => e.code === 'ERR_TRANSPORT')).toBe(true)

    const sends = [1, 2, 3].map((seq) => client.send(Ping, { seq }))
    // A request made while down was never written, so it waits for the next connection rather than failing.
    const asked = client.request(Ping, { seq: 9 }, { expect: Pong, timeoutMs: 10_000 })
    const received: number[] = []
    const second = await listen(`tcp://127.0.0.1:${port}`, { registry: serverRegistry(received) })
    open.push(second)
    await within(Promise.all(sends), 10_000, 'the waiting sends')
    await expect(within(asked, 10_000, 'the waiting request')).resolves.toEqual({ seq: 9 })
    await waitFor(() => received.length === 4, 10_000, 'the waiting messages to reach the restarted server')
    expect(received).toEqual([1, 2, 3, 9])
    expect(states).toEqual(['down', 'up'])
    await expect(client.request(Ping, { seq: 4 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 4 })
  })

  it('a request in flight when the connection drops rejects with ERR_TRANSPORT', async () => {
    const registry = serverRegistry()
    registry.on(Slow, () => new Promise<void>(() => undefined)) // never replies
    const server = await listen('tcp://127.0.0.1:0', { registry, closeTimeoutMs: 50 })
    open.push(server)
    const client = await startClient(server.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } })
    // Handled from the start: it may reject while the server is still closing.
    const pending = rejection(within(client.request(Slow, { seq: 1 }, { expect: Pong, timeoutMs: 10_000 }), 8000, 'the pending request'))
    await waitFor(() => server.peers.size === 1 && client.pendingRequests === 1, 5000, 'the request to be in flight')
    await within(server.close(), 10_000, 'closing the server')
    const err = await pending
    expect(err.code).toBe('ERR_TRANSPORT')
  })

  it('with the server down, the outbox is bounded: the 11th send rejects with ERR_OUTBOX_FULL', async () => {
    const server = await startServer()
    const errors = collectErrors()
    const client = await startClient(server.url, {
      maxOutboxMessages: 10,
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
      closeTimeoutMs: 100,
      onError: errors.onError,
    })
    const down = new Promise<void>((resolve) => client.events.on('status', (s) => s === 'down' && resolve()))
    await within(server.close(), 10_000, 'closing the server')
    await within(down, 5000, 'the status "down" event')

    const waiting = Array.from({ length: 10 }, (_, seq) => client.send(Ping, { seq }))
    // A refusal settles within a turn of the event loop; the ten must all still be waiting after one.
    const refused: string[] = []
    waiting.forEach((p, seq) => p.catch((e: unknown) => void refused.push(`send ${seq + 1}: ${(e as SeamError).code}`)))
    await new Promise((resolve) => setImmediate(resolve))
    expect(refused, 'sends within maxOutboxMessages (10) that were refused').toEqual([])
    // A bound one too high would let the 11th wait too: fail within a second, not at the test timeout.
    const eleventh = await within(
      client.send(Ping, { seq: 10 }).then(() => 'accepted', (e: unknown) => e),
      1000,
      'the 11th send (expected: refused at once with ERR_OUTBOX_FULL)',
    )
    expect(eleventh).toBeInstanceOf(SeamError)
    expect((eleventh as SeamError).code).toBe('ERR_OUTBOX_FULL')
    expect((eleventh as SeamError).retriable).toBe(true)
    expect((eleventh as SeamError).message).toMatch(/maxOutboxMessages/)
    // Nothing grows: every further send is refused the same way.
    const more = await Promise.all(Array.from({ length: 50 }, (_, i) => rejection(client.send(Ping, { seq: 11 + i }))))
    expect(more.every((e) => e.code === 'ERR_OUTBOX_FULL')).toBe(true)
    expect((await rejection(client.request(Ping, { seq: 99 }, { expect: Pong, timeoutMs: 5000 }))).code).toBe('ERR_OUTBOX_FULL')
    expect(client.pendingRequests).toBe(0)

    // Closing while down: what waited is rejected and reported, never lost silently.
    await within(client.close(), 10_000, 'closing the client')
    const settled = await Promise.allSettled(waiting)
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as SeamError).code === 'ERR_CLOSED')).toBe(true)
    expect(errors.errors.some((e) => e.code === 'ERR_CLOSED' && /10 queued messages/.test(e.message))).toBe(true)
  })
})

describe('tcp: backpressure', () => {
  it('a peer that stops reading fills the bounded outbox: ERR_OUTBOX_FULL, and nothing grows', async () => {
    const sockets: import('node:net').Socket[] = []
    // Says hello, then never reads again.
    const stuck = createServer((s) => {
      sockets.push(s)
      s.on('error', () => undefined)
      s.write(helloFrame(16 * 1024 * 1024))
      s.pause()
    })
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), stuck.close(() => resolve()))) })
    const port = (stuck.address() as { port: number }).port
    const client = await startClient(`tcp://127.0.0.1:${port}`, { maxOutboxBytes: 1024 * 1024, closeTimeoutMs: 100, reconnect: false })
    const chunk = 'x'.repeat(64 * 1024)
    const sends: Promise<void>[] = []
    let full: SeamError | undefined
    // Bounded: kernel buffers take a few MiB at most, the outbox 1 MiB more.
    for (let i = 0; i < 2000 && full === undefined; i++) {
      const p = client.send(Blob, { data: chunk })
      p.catch((e: unknown) => void (full ??= e as SeamError))
      sends.push(p)
      // Let the socket write between sends, as a real producer that does not await would.
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(full?.code).toBe('ERR_OUTBOX_FULL')
    expect(full?.message).toMatch(/reads slower/)
    const again = await rejection(client.send(Blob, { data: chunk }))
    expect(again.code).toBe('ERR_OUTBOX_FULL')
  })
})

describe('tcp: close', () => {
  it('close() is idempotent: concurrent calls share one promise; closed() resolves', async () => {
    const server = await startServer()
    const client = await startClient(server.url)
    const a = client.close()
    const b = client.close()
    expect(a).toBe(b)
    await a
    await expect(client.closed()).resolves.toBeUndefined()
    await client.close()
    const s1 = server.close()
    expect(server.close()).toBe(s1)
    await s1
    await expect(server.closed()).resolves.toBeUndefined()
  })

  it('sends and requests after close reject with ERR_CLOSED', async () => {
    const server = await startServer()
    const client = await startClient(server.url)
    await client.close()
    const send = await rejection(client.send(Ping, { seq: 1 }))
    expect(send.code).toBe('ERR_CLOSED')
    expect(send.message).toContain('test.Ping')
    expect((await rejection(client.request(Ping, { seq: 1 }, { expect: Pong }))).code).toBe('ERR_CLOSED')
  })

  it('pending requests reject with ERR_CLOSED when the channel closes', async () => {
    const registry = serverRegistry()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    registry.on(Slow, () => gate)
    const server = await listen('tcp://127.0.0.1:0', { registry })
    open.push({ close: () => (release(), server.close()) })
    const client = await startClient(server.url)
    const pending = rejection(client.request(Slow, { seq: 1 }, { expect: Pong, timeoutMs: 10_000 }))
    await waitFor(() => client.pendingRequests === 1, 5000, 'the request to be pending')
    await client.close()
    const err = await pending
    expect(err.code).toBe('ERR_CLOSED')
    expect(err.message).toContain('test.Slow')
    release()
  })

  it('the server closing ends its peers, and the client (reconnect: false) sees closed()', async () => {
    const server = await startServer()
    const errors = collectErrors()
    const client = await startClient(server.url, { reconnect: false, onError: errors.onError })
    await waitFor(() => server.peers.size === 1, 5000, 'the peer')
    await within(server.close(), 10_000, 'closing the server with a peer connected')
    // The client did not close itself: closed() gives the reason, and onError heard of it.
    const result = await within(client.closed(), 5000, 'the client to close')
    expect(result).toBeInstanceOf(SeamError)
    expect((result as SeamError).code).toBe('ERR_TRANSPORT')
    expect(errors.errors.map((e) => e.code)).toContain('ERR_TRANSPORT')
    const err = await rejection(client.send(Ping, { seq: 1 }))
    expect(err.code).toBe('ERR_CLOSED')
    expect(err.message).toMatch(/server closed the connection/)
  })

  it('a reply to a client that left fails at once and is reported; it does not wait for closeTimeoutMs', async () => {
    const errors = collectErrors()
    const registry = new Registry({ retries: 0, onError: errors.onError })
    registry.register(Pong)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    registry.on(Slow, async (v, ctx) => {
      await gate
      await ctx.reply(Pong, { seq: v.seq })
    })
    const server = await listen('tcp://127.0.0.1:0', { registry, closeTimeoutMs: 60_000 })
    open.push({ close: () => (release(), server.close()) })
    const client = await startClient(server.url)
    const pending = rejection(client.request(Slow, { seq: 1 }, { expect: Pong, timeoutMs: 10_000 }))
    await waitFor(() => registry.stats().handled === 0 && client.pendingRequests === 1 && server.peers.size === 1, 5000, 'the request to reach the handler')
    await client.close()
    expect((await pending).code).toBe('ERR_CLOSED')
    release()
    await waitFor(() => errors.errors.some((e) => e.code === 'ERR_HANDLER_FAILED'), 5000, 'the failed reply to be reported')
    expect(errors.errors.find((e) => e.code === 'ERR_HANDLER_FAILED')?.message).toMatch(/connection ended/)
    await waitFor(() => server.peers.size === 0, 5000, 'the departed peer to be gone')
  })

  it('await using closes the channel and the server at the end of the scope', async () => {
    let seen: Channel | undefined
    let seenServer: Server | undefined
    {
      await using server = await listen('tcp://127.0.0.1:0', { registry: serverRegistry() })
      await using client = await connect(server.url, { registry: new Registry({ onError: () => undefined }) })
      seen = client
      seenServer = server
      await expect(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 1 })
    }
    await expect(within(seen.closed(), 5000, 'closed()')).resolves.toBeUndefined()
    await expect(within(seenServer.closed(), 5000, 'server closed()')).resolves.toBeUndefined()
    expect((await rejection(seen.send(Ping, { seq: 2 }))).code).toBe('ERR_CLOSED')
  })

  it('leaves no socket, server or timer behind', async () => {
    const count = (): Record<string, number> => {
      const c: Record<string, number> = { TCPWrap: 0, TCPServerWrap: 0, Timeout: 0 }
      for (const r of process.getActiveResourcesInfo()) if (r in c) c[r] = (c[r] ?? 0) + 1
      return c
    }
    const before = count()
    const server = await listen('tcp://127.0.0.1:0', { registry: serverRegistry() })
    const clients = await Promise.all([1, 2].map(() => connect(server.url, { registry: new Registry({ onError: () => undefined }) })))
    for (const [i, c] of clients.entries()) {
      await c.request(Ping, { seq: i }, { expect: Pong, timeoutMs: 5000 })
      await c.send(Ping, { seq: i })
    }
    // One request times out, so its timer existed too.
    const Unanswered = defineMessage('test.Unanswered', t.type({}))
    await rejection(clients[0]!.request(Unanswered, {}, { expect: Pong, timeoutMs: 5000 }))
    await Promise.all(clients.map((c) => c.close()))
    await server.close()
    await waitFor(
      () => {
        const now = count()
        return now.TCPWrap! <= before.TCPWrap! && now.TCPServerWrap! <= before.TCPServerWrap! && now.Timeout! <= before.Timeout!
      },
      5000,
      `every handle to be released (before ${JSON.stringify(before)}, now ${JSON.stringify(count())})`,
    )
  })
})

describe('tcp: requests', () => {
  it('a request with no reply rejects with ERR_TIMEOUT naming the tag', async () => {
    const registry = serverRegistry()
    registry.on(Slow, () => undefined) // handles, never replies
    const server = await listen('tcp://127.0.0.1:0', { registry })
    open.push(server)
    const client = await startClient(server.url)
    const err = await rejection(client.request(Slow, { seq: 1 }, { expect: Pong, timeoutMs: 100 }))
    expect(err.code).toBe('ERR_TIMEOUT')
    expect(err.tag).toBe('test.Slow')
    expect(err.message).toContain('test.Slow')
    expect(err.message).toContain('100 ms')
    expect(client.pendingRequests).toBe(0)
  })

  it('a reply arriving after its request timed out reaches onError and is not dispatched', async () => {
    const registry = serverRegistry()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let replied = false
    registry.on(Slow, async (v, ctx) => {
      await gate
      await ctx.reply(Pong, { seq: v.seq })
      replied = true
    })
    const server = await listen('tcp://127.0.0.1:0', { registry })
    open.push({ close: () => (release(), server.close()) })
    const errors = collectErrors()
    const clientRegistry = new Registry({ onError: errors.onError })
    const dispatched: number[] = []
    clientRegistry.on(Pong, (p) => void dispatched.push(p.seq))
    const client = await startClient(server.url, { registry: clientRegistry })

    const err = await rejection(client.request(Slow, { seq: 7 }, { expect: Pong, timeoutMs: 50 }))
    expect(err.code).toBe('ERR_TIMEOUT')
    release()
    await waitFor(() => replied, 5000, 'the late reply to be sent')
    await waitFor(() => errors.errors.length > 0, 5000, 'the late reply to be reported')
    expect(errors.errors[0]?.code).toBe('ERR_TIMEOUT')
    expect(errors.errors[0]?.message).toMatch(/no longer waiting/)
    expect(errors.errors[0]?.tag).toBe('test.Pong')
    expect(dispatched).toEqual([])
    expect(clientRegistry.stats().handled).toBe(0)
    // The channel is fine.
    await expect(client.request(Ping, { seq: 8 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 8 })
  })

  it('many concurrent requests are matched to their replies', async () => {
    const server = await startServer()
    const client = await startClient(server.url)
    const seqs = Array.from({ length: 200 }, (_, i) => i)
    const replies = await Promise.all(seqs.map((seq) => client.request(Ping, { seq }, { expect: Pong, timeoutMs: 10_000 })))
    expect(replies.map((r) => r.seq)).toEqual(seqs)
  })

  it('an aborted request rejects with the signal reason', async () => {
    const registry = serverRegistry()
    registry.on(Slow, () => undefined)
    const server = await listen('tcp://127.0.0.1:0', { registry })
    open.push(server)
    const client = await startClient(server.url)
    const abort = new AbortController()
    const pending = rejection(client.request(Slow, { seq: 1 }, { expect: Pong, timeoutMs: 10_000, signal: abort.signal }))
    abort.abort(new SeamError('ERR_CLOSED', 'cancelled by the test'))
    const err = await pending
    expect(err.message).toBe('cancelled by the test')
    expect(client.pendingRequests).toBe(0)
  })
})

describe('tcp: maxFrameBytes on send', () => {
  it('a too-large message rejects that one send with ERR_FRAME_TOO_LARGE; the channel stays usable', async () => {
    const server = await startServer()
    const client = await startClient(server.url, { maxFrameBytes: 1024 })
    const err = await rejection(client.send(Blob, { data: 'x'.repeat(2000) }))
    expect(err.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(err.tag).toBe('test.Blob')
    expect(err.message).toMatch(/maxFrameBytes/)
    const reqErr = await rejection(client.request(Blob, { data: 'y'.repeat(2000) }, { expect: Pong, timeoutMs: 5000 }))
    expect(reqErr.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(client.pendingRequests).toBe(0)
    await expect(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 1 })
  })

  it("the receiver's smaller maxFrameBytes (from its hello) applies to the sender", async () => {
    const server = await startServer('tcp://127.0.0.1:0', { maxFrameBytes: 1024 })
    const client = await startClient(server.url)
    const err = await rejection(client.send(Blob, { data: 'x'.repeat(2000) }))
    expect(err.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(err.message).toMatch(/1024/)
    await expect(client.request(Ping, { seq: 2 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 2 })
  })

  it('bad stream options are ERR_BAD_ARGUMENT naming the option', async () => {
    const server = await startServer()
    for (const [name, options] of [
      ['maxFrameBytes', { maxFrameBytes: -1 }],
      ['maxOutboxMessages', { maxOutboxMessages: 0 }],
      ['connectTimeoutMs', { connectTimeoutMs: 'soon' }],
      ['reconnect', { reconnect: 'yes' }],
    ] as const) {
      const err = await rejection(connect(server.url, options as unknown as ConnectOptions))
      expect(err.code).toBe('ERR_BAD_ARGUMENT')
      expect(err.message).toContain(`"${name}"`)
    }
  })
})

describe('tcp: bad arguments to send and request', () => {
  it.each<[string, unknown, RegExp]>([
    ['a number header', { a: 1 }, /header "a" must be a string/],
    ['a null header', { a: null }, /header "a" must be a string/],
    ['headers as a string', 'a=b', /"headers" must be an object/],
    ['headers as an array', ['a'], /"headers" must be an object/],
    ['a reserved header name', { 'X-Seam-Code': 'ERR_TIMEOUT' }, /"x-seam-" are reserved/],
  ])('%s is ERR_BAD_ARGUMENT, and the channel stays usable', async (_name, headers, message) => {
    const server = await startServer()
    const client = await startClient(server.url)
    const bad = { headers } as unknown as { headers: Record<string, string> }
    const sendErr = await rejection(client.send(Ping, { seq: 1 }, bad))
    expect(sendErr.code).toBe('ERR_BAD_ARGUMENT')
    expect(sendErr.message).toMatch(message)
    const reqErr = await rejection(client.request(Ping, { seq: 1 }, { expect: Pong, ...bad }))
    expect(reqErr.code).toBe('ERR_BAD_ARGUMENT')
    expect(client.pendingRequests).toBe(0)
    await expect(client.request(Ping, { seq: 2 }, { expect: Pong, timeoutMs: 5000, headers: { ok: 'yes' } })).resolves.toEqual({ seq: 2 })
  })

  it('something that is not a message type is ERR_BAD_ARGUMENT, not a TypeError', async () => {
    const server = await startServer()
    const client = await startClient(server.url)
    for (const notAType of [null, undefined, {}, 'test.Ping']) {
      expect((await rejection(client.send(notAType as never, { seq: 1 }))).code).toBe('ERR_BAD_ARGUMENT')
      expect((await rejection(client.request(notAType as never, { seq: 1 }, { expect: Pong }))).code).toBe('ERR_BAD_ARGUMENT')
    }
    expect((await rejection(client.request(Ping, { seq: 1 }, { expect: null as never }))).code).toBe('ERR_BAD_ARGUMENT')
    expect((await rejection(client.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: -5 }))).code).toBe('ERR_BAD_ARGUMENT')
  })

  it('a value the codec or serde cannot encode is ERR_BAD_ARGUMENT naming the tag', async () => {
    const server = await startServer()
    const client = await startClient(server.url)
    const err = await rejection(client.send(Ping, { seq: 1n } as never))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain('test.Ping')
  })
})
