/**
 * A writer in another process: readers here follow what it appends, and a
 * writer killed by its PID in the middle of its writes loses none of the
 * records whose send had resolved, and leaves nothing a reader takes for a
 * record. `durable` sends read back the same.
 */
import { open as openFile, stat } from 'node:fs/promises'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type SeamError } from '../../src/index.js'
import { HEADER_BYTES, listenFile } from '../../src/transports/file/index.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'
import { writerChildren } from '../helpers/file-child.js'
import { tempFiles } from '../helpers/file.js'

// The child's message type (test/helpers/file-writer-child.ts).
const FileSeq = defineMessage('file.Seq', t.type({ seq: t.number, pad: t.string }))
const files = tempFiles()
const children = writerChildren()
const open = closedAfterEach()

function recorder(): { registry: Registry; got: number[]; pads: Set<number> } {
  const registry = new Registry()
  const got: number[] = []
  const pads = new Set<number>()
  registry.on(FileSeq, (m) => {
    got.push(m.seq)
    pads.add(m.pad.length)
  })
  return { registry, got, pads }
}

/** The size of the file's first record, length prefix included. */
async function recordBytes(path: string): Promise<number> {
  const fh = await openFile(path, 'r')
  try {
    const buf = Buffer.alloc(4)
    await fh.read(buf, 0, 4, HEADER_BYTES)
    return 4 + buf.readUInt32BE(0)
  } finally {
    await fh.close()
  }
}

describe('file: across processes', () => {
  it('two readers here follow a writer in a child process, each reading all 1000 records in order', async () => {
    const { url } = await files.fresh()
    // The writer creates the file; readers start once it is there.
    const child = await children.start(url, 1000, 100, 50)
    const a = recorder()
    const b = recorder()
    open.push(await listen(`${url}?follow=true&pollMs=50`, { registry: a.registry }))
    open.push(await listen(`${url}?follow=true&pollMs=50`, { registry: b.registry, concurrency: 1 }))
    await waitFor(() => a.got.length === 1000 && b.got.length === 1000, 15_000, 'both readers to read 1000 records')
    await within(child.exited, 5000, 'the writer child to exit')
    expect(child.done()).toBe(true)
    const all = Array.from({ length: 1000 }, (_, i) => i)
    expect(b.got).toEqual(all)
    expect([...a.got].sort((x, y) => x - y)).toEqual(all)
  })

  it('a writer killed (SIGKILL) mid-write loses no record whose send resolved, and leaves no garbage: the next writer cuts off what it tore', async () => {
    const { url, path } = await files.fresh()
    // 1 MiB records sent 8 at a time: one write of 8 MiB each, so the kill most likely lands inside one.
    const child = await children.start(url, 10_000, 1024 * 1024, 8)
    await waitFor(() => child.sent.length >= 8, 20_000, 'the child to write its first records')
    // Every record has the same size while seq < 128; a file size between whole records means a write is under way.
    const record = await recordBytes(path)
    const deadline = Date.now() + 5000
    let caught = false
    while (!caught && Date.now() < deadline) caught = ((await stat(path)).size - HEADER_BYTES) % record !== 0
    process.kill(child.pid, 'SIGKILL')
    await within(child.exited, 5000, 'the killed child to exit')
    const resolved = child.sent.length
    const size = (await stat(path)).size
    const reader = collectErrors()
    const first = recorder()
    const server = await listenFile(url, { registry: first.registry, onError: reader.onError })
    await within(server.closed(), 10_000, 'the reader to end')
    // Every record read is whole and in order: nothing after a torn one, nothing made of its bytes.
    expect(first.got).toEqual(Array.from({ length: first.got.length }, (_, i) => i))
    expect(first.got.length).toBeGreaterThanOrEqual(resolved)
    expect([...first.pads]).toEqual([1024 * 1024])
    const tornAtEnd = reader.errors.length === 1
    for (const e of reader.errors) expect(e.message).toContain('ends in a torn record')
    expect(reader.errors.length).toBeLessThanOrEqual(1)
    // The next writer finds the same tail: it cuts off exactly what the reader skipped, and appends after.
    const writer = collectErrors()
    const next = await connect(url, { onError: writer.onError })
    await next.send(FileSeq, { seq: first.got.length, pad: 'x'.repeat(1024 * 1024) })
    await next.close()
    expect(writer.errors.length).toBe(tornAtEnd ? 1 : 0)
    if (tornAtEnd) expect((await stat(path)).size).toBeLessThan(size + 1024 * 1024 + 100)
    const again = collectErrors()
    const second = recorder()
    const server2 = await listenFile(url, { registry: second.registry, onError: again.onError })
    await within(server2.closed(), 10_000, 'the second reader to end')
    expect(second.got).toEqual(Array.from({ length: first.got.length + 1 }, (_, i) => i))
    expect(again.errors).toEqual([])
  })

  it('durable: every send resolves after its record was written and synced, and reads back the same', async () => {
    const { url } = await files.fresh()
    const errors: SeamError[] = []
    const w = await connect(`${url}?durable=true`, { onError: (e) => void errors.push(e) })
    for (let i = 0; i < 20; i += 5) await Promise.all(Array.from({ length: 5 }, (_, j) => w.send(FileSeq, { seq: i + j, pad: '' })))
    // Not closed yet: what resolved is in the file.
    const { registry, got } = recorder()
    const server = await listenFile(url, { registry })
    await within(server.closed(), 5000, 'the reader to end')
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await w.close()
    expect(errors).toEqual([])
  })
})
