/**
 * Reading message files: from the start or the end, stopping at the end or
 * following, a position to start again from, several readers, and a full
 * window that stops the reading.
 */
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { FileCursor, HEADER_BYTES, listenFile } from '../../src/transports/file/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'
import { tempFiles } from '../helpers/file.js'

const Order = defineMessage('file.Order', t.type({ n: t.number, item: t.string }))
const files = tempFiles()
const open = closedAfterEach()

/** A registry whose Order handler records the values. */
function recorder(): { registry: Registry; got: { n: number; item: string }[] } {
  const registry = new Registry()
  const got: { n: number; item: string }[] = []
  registry.on(Order, (o) => void got.push(o))
  return { registry, got }
}

/** Writes orders `from` … `to - 1` to `url` and closes the writer. */
async function write(url: string, from: number, to: number): Promise<void> {
  const w = await connect(url)
  for (let n = from; n < to; n++) await w.send(Order, { n, item: `item-${n}` })
  await w.close()
}

describe('file: reading', () => {
  it('reads from the start and stops at the end: closed() of a plain listen() resolves once every handler is done', async () => {
    const { url } = await files.fresh()
    await write(url, 0, 5)
    const registry = new Registry()
    const got: number[] = []
    const contexts: string[] = []
    registry.on(Order, async (o, ctx) => {
      await new Promise((r) => setTimeout(r, 5))
      got.push(o.n)
      contexts.push(`${ctx.transport}:${ctx.tag}`)
    })
    const server = await listen(url, { registry, concurrency: 1 })
    await within(server.closed(), 5000, 'the reader to end')
    expect(got).toEqual([0, 1, 2, 3, 4])
    expect(contexts[0]).toBe('file:file.Order')
  })

  it('at the end of the file the reading waits for its last handler, however long the queue behind a slow one', async () => {
    const { url } = await files.fresh()
    await write(url, 0, 40)
    const errors = collectErrors()
    const registry = new Registry()
    const got: number[] = []
    registry.on(Order, async (o) => {
      await new Promise((r) => setTimeout(r, 5))
      got.push(o.n)
    })
    // All 40 records come in one read; one at a time they take ~200 ms, twice the channel's closeTimeoutMs.
    const server = await listenFile(url, { registry, concurrency: 1, closeTimeoutMs: 100, onError: errors.onError })
    await within(server.closed(), 5000, 'the reader to end')
    expect(got).toEqual(Array.from({ length: 40 }, (_, n) => n))
    expect(errors.errors).toEqual([])
  })

  it('from=end reads only what is appended after the reader started; follow reads it as it comes', async () => {
    const { url } = await files.fresh()
    await write(url, 0, 3)
    const { registry, got } = recorder()
    open.push(await listen(`${url}?from=end&follow=true&pollMs=20`, { registry }))
    await write(url, 3, 6)
    await waitFor(() => got.length === 3, 5000, 'the three appended orders')
    expect(got.map((o) => o.n)).toEqual([3, 4, 5])
  })

  it('from=end starts after the last whole record: a record being written when the reader starts is read once it is whole', async () => {
    const { url: source, path: sourcePath } = await files.fresh('source.seam')
    await write(source, 0, 2)
    const bytes = await readFile(sourcePath)
    const second = HEADER_BYTES + 4 + bytes.readUInt32BE(HEADER_BYTES)
    const { url, path } = await files.fresh()
    // The file as a writer leaves it in the middle of writing its second record.
    const half = second + 10
    await writeFile(path, bytes.subarray(0, half))
    const { registry, got } = recorder()
    open.push(await listen(`${url}?from=end&follow=true&pollMs=20`, { registry }))
    await appendFile(path, bytes.subarray(half))
    await waitFor(() => got.length === 1, 5000, 'the record once whole')
    expect(got).toEqual([{ n: 1, item: 'item-1' }])
  })

  it('a record is in the file once send resolved, before the writer closes', async () => {
    const { url } = await files.fresh()
    const w = await connect(url)
    open.push(w)
    await w.send(Order, { n: 1, item: 'first' })
    const { registry, got } = recorder()
    const server = await listenFile(url, { registry })
    await within(server.closed(), 5000, 'the reader to end')
    expect(got).toEqual([{ n: 1, item: 'first' }])
  })

  it('a cursor reports the position, and a reader started from it reads only what follows', async () => {
    const { url, path } = await files.fresh()
    await write(url, 0, 4)
    const cursor = new FileCursor()
    const first = recorder()
    const server = await listenFile(url, { registry: first.registry, file: { cursor } })
    await within(server.closed(), 5000, 'the first reader to end')
    expect(first.got.map((o) => o.n)).toEqual([0, 1, 2, 3])
    expect(cursor.offset).toBe((await stat(path)).size)
    await write(url, 4, 7)
    // The position in the URL, as a reader started again in another process would give it.
    const again = recorder()
    const server2 = await listenFile(`${url}?from=${cursor.offset}`, { registry: again.registry })
    await within(server2.closed(), 5000, 'the second reader to end')
    expect(again.got.map((o) => o.n)).toEqual([4, 5, 6])
  })

  it('the position stays before a record whose handler has not finished, so a restart handles it again', async () => {
    const { url } = await files.fresh()
    await write(url, 0, 3)
    const cursor = new FileCursor()
    const registry = new Registry()
    const handled: number[] = []
    let release!: () => void
    const stuck = new Promise<void>((r) => (release = r))
    registry.on(Order, async (o) => {
      if (o.n === 1) await stuck
      handled.push(o.n)
    })
    const server = await listen(`${url}?follow=true`, { registry, concurrency: 4, file: { cursor } })
    open.push(server)
    await waitFor(() => handled.length === 2, 5000, 'orders 0 and 2')
    const afterFirst = cursor.offset
    expect(afterFirst).toBeGreaterThan(HEADER_BYTES)
    expect(afterFirst).toBeLessThan(cursor.read)
    const { registry: r2, got } = recorder()
    const restarted = await listenFile(`${url}?from=${afterFirst}`, { registry: r2 })
    await within(restarted.closed(), 5000, 'the restarted reader to end')
    expect(got.map((o) => o.n)).toEqual([1, 2])
    release()
    await waitFor(() => cursor.offset === cursor.read, 5000, 'the position to pass every record')
  })

  it('an offset that is not the start of a record is refused', async () => {
    const { url, path } = await files.fresh()
    await write(url, 0, 2)
    const errors = collectErrors()
    const server = await listenFile(`${url}?from=${HEADER_BYTES + 3}`, { registry: recorder().registry, onError: errors.onError })
    await within(server.closed(), 5000, 'the reader to end')
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_BAD_ARGUMENT'])
    expect(errors.errors[0]?.message).toContain('not the start of a record')
    const size = (await stat(path)).size
    const err = await listen(`${url}?from=${size + 1}`).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    )
    expect(err?.code).toBe('ERR_BAD_ARGUMENT')
  })

  it('at an offset whose record is no envelope, the reading is refused before anything is delivered: a cursor stays where it started', async () => {
    const { url, path } = await files.fresh()
    await write(url, 0, 1)
    const at = (await stat(path)).size
    // A whole record by its length, but 0xc1 is no MessagePack at all.
    await appendFile(path, Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]))
    const cursor = new FileCursor()
    const errors = collectErrors()
    const server = await listenFile(`${url}?from=${at}`, { registry: recorder().registry, onError: errors.onError, file: { cursor } })
    await within(server.closed(), 5000, 'the reader to end')
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_BAD_ARGUMENT'])
    expect(errors.errors[0]?.message).toContain(`offset ${at} is not the start of a record`)
    expect({ offset: cursor.offset, read: cursor.read }).toEqual({ offset: at, read: at })
  })

  it('several readers read one file independently, each getting every record', async () => {
    const { url } = await files.fresh()
    const w = await connect(url)
    open.push(w)
    const a = recorder()
    const b = recorder()
    open.push(await listen(`${url}?follow=true&pollMs=20`, { registry: a.registry }))
    open.push(await listen(`${url}?follow=true&pollMs=20`, { registry: b.registry, concurrency: 1 }))
    await Promise.all(Array.from({ length: 300 }, (_, n) => w.send(Order, { n, item: 'x' })))
    await waitFor(() => a.got.length === 300 && b.got.length === 300, 5000, 'both readers to read 300 orders')
    expect(b.got.map((o) => o.n)).toEqual(Array.from({ length: 300 }, (_, n) => n))
    expect(new Set(a.got.map((o) => o.n)).size).toBe(300)
  })

  it('a full window stops the reading: a slow reader holds a bounded part of a large file', async () => {
    const { url, path } = await files.fresh()
    const w = await connect(url)
    const pad = 'p'.repeat(1000)
    await Promise.all(Array.from({ length: 2000 }, (_, n) => w.send(Order, { n, item: pad })))
    await w.close()
    const size = (await stat(path)).size
    const cursor = new FileCursor()
    const registry = new Registry()
    let running = 0
    let handled = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    registry.on(Order, async () => {
      running++
      await gate
      handled++
    })
    const server = await listenFile(url, { registry, concurrency: 2, file: { cursor } })
    await waitFor(() => running === 2, 5000, 'two handlers to run')
    // Give the reader the chance to run ahead, if it would: several reads' worth of turns.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
    expect(cursor.read).toBeLessThan(size / 4)
    release()
    await within(server.closed(), 10_000, 'the reader to end')
    expect(handled).toBe(2000)
  })

  it('an idle follower waits without spinning, and wakes for the next record', async () => {
    const { url } = await files.fresh()
    await write(url, 0, 1)
    const { registry, got } = recorder()
    open.push(await listen(`${url}?follow=true`, { registry }))
    await waitFor(() => got.length === 1, 5000, 'the first order')
    const before = process.cpuUsage()
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, 400))
    const used = process.cpuUsage(before)
    const cpuMs = (used.user + used.system) / 1000
    // A busy loop would use about as much CPU as time went by; waiting costs a poll every 200 ms.
    expect(cpuMs).toBeLessThan((Date.now() - t0) / 4)
    await write(url, 1, 2)
    await waitFor(() => got.length === 2, 5000, 'the appended order')
  })

  it('a loop of sends that never yields is written as it goes: more than maxOutboxBytes in all, none refused', async () => {
    const { url } = await files.fresh()
    const errors = collectErrors()
    const w = await connect(url, { onError: errors.onError, file: { maxOutboxBytes: 2 * 1024 * 1024 } })
    const sends: Promise<void>[] = []
    // ~120 bytes a record: about 5 MiB, sent without awaiting anything.
    for (let n = 0; n < 40_000; n++) sends.push(w.send(Order, { n, item: 'a fairly ordinary order line, sixty-four bytes long or about' }))
    await Promise.all(sends)
    await w.close()
    const { registry, got } = recorder()
    const server = await listenFile(url, { registry })
    await within(server.closed(), 10_000, 'the reader to end')
    expect(got.length).toBe(40_000)
    expect(got.every((o, i) => o.n === i)).toBe(true)
    expect(errors.errors).toEqual([])
  })

  it('a record over maxFrameBytes is refused with ERR_FRAME_TOO_LARGE, and the file stays whole', async () => {
    const { url } = await files.fresh()
    const w = await connect(url, { file: { maxFrameBytes: 500 } })
    open.push(w)
    await w.send(Order, { n: 0, item: 'small' })
    const err = await w.send(Order, { n: 1, item: 'x'.repeat(600) }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    )
    expect(err?.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(err?.message).toContain('file.maxFrameBytes')
    await w.send(Order, { n: 2, item: 'small' })
    await w.close()
    const { registry, got } = recorder()
    const server = await listenFile(url, { registry })
    await within(server.closed(), 5000, 'the reader to end')
    expect(got.map((o) => o.n)).toEqual([0, 2])
  })
})
