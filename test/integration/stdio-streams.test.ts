/**
 * The stdio transport's promises over streams handed in as options (as a
 * program would to use other file descriptors): backpressure both ways,
 * the end of input, closing, and an output that goes away.
 */
import { PassThrough } from 'node:stream'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, collectErrors, rejection, waitFor, within } from '../helpers.js'

const Item = defineMessage('streams.Item', t.type({ seq: t.number, pad: t.string }))
const PAD = 'x'.repeat(1000)

describe('stdio over given streams', () => {
  const open = closedAfterEach()

  for (const format of ['frames', 'json'] as const) {
    it(`${format}: send waits while the reader does not read, and resolves once it does`, async () => {
      const output = new PassThrough({ highWaterMark: 16 * 1024 })
      const ch = await connect('stdio://', { stdio: { output, format } })
      open.push(ch)
      let resolved = 0
      let last: Promise<void> = Promise.resolve()
      // Bounded: the stream's buffer fills within a few dozen 1 KB messages.
      for (let i = 0; i < 200; i++) {
        last = ch.send(Item, { seq: i, pad: PAD })
        void last.then(() => resolved++)
      }
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
      expect(resolved).toBeLessThan(200)
      // The reader starts: everything goes out.
      output.resume()
      await within(last, 5000, 'the last send')
      await waitFor(() => resolved === 200, 5000, 'every send to resolve')
    })
  }

  it('a full concurrency window stops reading the input, and reading resumes when handlers finish', async () => {
    const input = new PassThrough({ highWaterMark: 16 * 1024 })
    const registry = new Registry()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const got: number[] = []
    registry.on(Item, async (v) => {
      await gate
      got.push(v.seq)
    })
    const server = await listen('stdio://', { registry, concurrency: 2, stdio: { input } })
    open.push(server)
    const writer = await connect('stdio://', { stdio: { output: input } })
    open.push(writer)
    const n = 300
    const sends = Array.from({ length: n }, (_, i) => writer.send(Item, { seq: i, pad: PAD }))
    // The listener stops reading: the bytes pile up in the input, and the writer is held back.
    await waitFor(() => input.readableFlowing === false && input.readableLength > 0, 5000, 'the input to be paused')
    expect(got).toEqual([])
    release()
    await within(Promise.all(sends), 5000, 'the held-back sends')
    await waitFor(() => got.length === n, 5000, 'every message')
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i))
  })

  it('the end of the input ends the listener cleanly: handlers finish first, then closed() of a plain listen() resolves', async () => {
    const input = new PassThrough()
    const registry = new Registry()
    const finished: number[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    registry.on(Item, async (v) => {
      await gate
      finished.push(v.seq)
    })
    const errors = collectErrors()
    const server = await listen('stdio://?format=json', { registry, onError: errors.onError, stdio: { input } })
    open.push(server)
    let closed = false
    void server.closed().then(() => (closed = true))
    input.end('{"tag":"streams.Item","body":{"seq":1,"pad":""}}\n{"tag":"streams.Item","body":{"seq":2,"pad":""}}\n')
    await waitFor(() => input.readableEnded, 5000, 'the input to be read to its end')
    expect(closed).toBe(false)
    release()
    await within(server.closed(), 5000, 'server.closed()')
    expect(finished).toEqual([1, 2])
    expect(errors.errors).toEqual([])
  })

  it('at the end of the input every message is handled, however long the queue behind a slow handler (beyond closeTimeoutMs)', async () => {
    const input = new PassThrough()
    const registry = new Registry()
    const finished: number[] = []
    registry.on(Item, async (v) => {
      await new Promise((r) => setTimeout(r, 5))
      finished.push(v.seq)
    })
    const errors = collectErrors()
    // 40 lines in one chunk, handled one at a time: ~200 ms, twice the channel's closeTimeoutMs.
    const server = await listen('stdio://?format=json', { registry, concurrency: 1, closeTimeoutMs: 100, onError: errors.onError, stdio: { input } })
    open.push(server)
    input.end(Array.from({ length: 40 }, (_, seq) => `{"tag":"streams.Item","body":{"seq":${seq},"pad":""}}\n`).join(''))
    await within(server.closed(), 5000, 'server.closed()')
    expect(finished).toEqual(Array.from({ length: 40 }, (_, seq) => seq))
    expect(errors.errors).toEqual([])
  })

  it('close() of a producer flushes, then ends its output stream so the reader sees the end', async () => {
    const output = new PassThrough()
    const chunks: Buffer[] = []
    output.on('data', (b: Buffer) => chunks.push(b))
    const ch = await connect('stdio://?format=json', { stdio: { output } })
    for (let i = 0; i < 3; i++) void ch.send(Item, { seq: i, pad: '' })
    await ch.close()
    await waitFor(() => output.readableEnded, 5000, 'the end of the output')
    const lines = Buffer.concat(chunks).toString().trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { tag: string }).tag)).toEqual(['streams.Item', 'streams.Item', 'streams.Item'])
    expect(await ch.closed()).toBeUndefined()
  })

  it('an output closed under the producer ends its channel with ERR_TRANSPORT; later sends fail with ERR_CLOSED naming why', async () => {
    const output = new PassThrough()
    const errors = collectErrors()
    const ch = await connect('stdio://', { onError: errors.onError, stdio: { output } })
    open.push(ch)
    output.destroy()
    const ended = await within(ch.closed(), 5000, 'the channel to end')
    expect(ended).toMatchObject({ code: 'ERR_TRANSPORT', message: 'the output stream was closed while the channel was still writing to it' })
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_TRANSPORT'])
    const err = await rejection(ch.send(Item, { seq: 1, pad: '' }))
    expect(err.code).toBe('ERR_CLOSED')
    expect(err.message).toContain('the output stream was closed')
  })

  it('a listener cannot write: a dead letter sent to a destination name fails and is reported', async () => {
    const input = new PassThrough()
    const errors = collectErrors()
    const registry = new Registry({ unregistered: 'dead-letter', deadLetter: 'elsewhere', onError: errors.onError })
    const server = await listen('stdio://?format=json', { registry, stdio: { input } })
    open.push(server)
    input.write('{"tag":"nobody.Handles","body":1}\n')
    await waitFor(() => errors.errors.length > 0, 5000, 'the report')
    expect(errors.errors[0]?.message).toContain('a stdio listener only reads its input')
  })
})
