/**
 * What a damaged or disappearing file does to a reader or writer: a torn
 * last record (its writer died mid-write) is skipped with a report and cut
 * off by the next writer, never read as garbage; a file deleted or truncated
 * under a reader ends it with a clear error; a file that is not ours, or of
 * another format version, is refused; one writer at a time.
 */
import { spawn } from 'node:child_process'
import { appendFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type Channel, type SeamError } from '../../src/index.js'
import { MAGIC, listenFile } from '../../src/transports/file/index.js'
import { closedAfterEach, collectErrors, rejection, waitFor, within } from '../helpers.js'
import { tempFiles } from '../helpers/file.js'

const Order = defineMessage('file.Order', t.type({ n: t.number }))
const files = tempFiles()
const open = closedAfterEach()

function recorder(onError?: (err: SeamError) => void): { registry: Registry; got: number[] } {
  const registry = new Registry(onError === undefined ? {} : { onError })
  const got: number[] = []
  registry.on(Order, (o) => void got.push(o.n))
  return { registry, got }
}

async function write(url: string, ns: number[], onError?: (err: SeamError) => void): Promise<void> {
  const w = await connect(url, onError === undefined ? {} : { onError })
  for (const n of ns) await w.send(Order, { n })
  await w.close()
}

/** The channel a file server reads with (a file has one). */
function readerOf(server: { peers: ReadonlySet<Channel> }): Channel {
  const [channel] = server.peers
  if (channel === undefined) throw new Error('the file server has no reader channel')
  return channel
}

describe('file: damage', () => {
  it('a torn last record is skipped with a report; the next writer cuts it off and appends after the whole records', async () => {
    const { url, path } = await files.fresh()
    await write(url, [0, 1, 2])
    const whole = (await stat(path)).size
    // What a writer killed mid-write leaves: a length promising 200 bytes, and 7 of them.
    const torn = Buffer.alloc(4 + 7, 0x41)
    torn.writeUInt32BE(200, 0)
    await appendFile(path, torn)
    const reader = collectErrors()
    const first = recorder()
    const server = await listenFile(url, { registry: first.registry, onError: reader.onError })
    await within(server.closed(), 5000, 'the reader to end')
    expect(first.got).toEqual([0, 1, 2])
    expect(reader.errors.map((e) => e.code)).toEqual(['ERR_PROTOCOL'])
    expect(reader.errors[0]?.message).toContain(`torn record (7 of 200 bytes of a frame at offset ${whole})`)
    const writer = collectErrors()
    await write(url, [3], writer.onError)
    expect(writer.errors.map((e) => e.code)).toEqual(['ERR_PROTOCOL'])
    expect(writer.errors[0]?.message).toContain(`cut off a torn last record (11 bytes at offset ${whole})`)
    const again = collectErrors()
    const second = recorder()
    const server2 = await listenFile(url, { registry: second.registry, onError: again.onError })
    await within(server2.closed(), 5000, 'the second reader to end')
    expect(second.got).toEqual([0, 1, 2, 3])
    expect(again.errors).toEqual([])
  })

  it('a follower waiting on a torn record reads on when the next writer cuts it off', async () => {
    const { url, path } = await files.fresh()
    await write(url, [0])
    await appendFile(path, Buffer.from([0, 0, 1])) // 3 of the 4 length bytes
    const errors = collectErrors()
    const { registry, got } = recorder()
    open.push(await listen(`${url}?follow=true&pollMs=20`, { registry, onError: errors.onError }))
    await waitFor(() => got.length === 1, 5000, 'the whole record')
    const writer = collectErrors()
    await write(url, [1, 2], writer.onError)
    await waitFor(() => got.length === 3, 5000, 'the records after the cut')
    expect(got).toEqual([0, 1, 2])
    expect(errors.errors).toEqual([])
    expect(writer.errors.map((e) => e.message)).toEqual([expect.stringContaining('cut off a torn last record (3 bytes')])
  })

  it('a follower ends with ERR_TRANSPORT when its file is deleted', async () => {
    const { url, path } = await files.fresh()
    await write(url, [0])
    const errors = collectErrors()
    const { registry, got } = recorder()
    const server = await listen(`${url}?follow=true&pollMs=20`, { registry, onError: errors.onError })
    open.push(server)
    await waitFor(() => got.length === 1, 5000, 'the record')
    const channel = readerOf(server)
    await rm(path)
    const ended = await within(channel.closed(), 5000, 'the reader to end')
    expect((ended as SeamError).code).toBe('ERR_TRANSPORT')
    expect((ended as SeamError).message).toContain('was deleted')
    expect(errors.errors.map((e) => e.code)).toEqual(['ERR_TRANSPORT'])
  })

  it('a follower ends with ERR_TRANSPORT when its file is truncated below what it read', async () => {
    const { url, path } = await files.fresh()
    await write(url, [0, 1])
    const { registry, got } = recorder()
    const server = await listen(`${url}?follow=true&pollMs=20`, { registry, onError: () => undefined })
    open.push(server)
    await waitFor(() => got.length === 2, 5000, 'the records')
    const channel = readerOf(server)
    await truncate(path, 20)
    const ended = await within(channel.closed(), 5000, 'the reader to end')
    expect((ended as SeamError).code).toBe('ERR_TRANSPORT')
    expect((ended as SeamError).message).toContain('was truncated to 20 bytes')
  })

  it('a file that is not a message file, or of another format version, is refused by readers and writers', async () => {
    const { url, path } = await files.fresh()
    await writeFile(path, 'order,1\norder,2\n')
    for (const err of [await rejection(listen(url)), await rejection(connect(url))]) {
      expect(err.code).toBe('ERR_PROTOCOL')
      expect(err.message).toContain('not a seam-channel message file')
    }
    const future = Buffer.alloc(MAGIC.length + 4)
    MAGIC.copy(future)
    future.writeUInt32BE(9, MAGIC.length)
    await writeFile(path, future)
    const err = await rejection(listen(url))
    expect(err.code).toBe('ERR_PROTOCOL')
    expect(err.message).toContain('format version 9')
  })

  it('a reader of a missing file is refused with ERR_TRANSPORT saying the writer creates it', async () => {
    const { url } = await files.fresh('missing.seam')
    const err = await rejection(listen(url))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain('no such file')
  })

  it('one writer at a time: a second is refused while the first is open; a lock left by a dead writer is taken over', async () => {
    const { url, path } = await files.fresh()
    const first = await connect(url)
    const err = await rejection(connect(url))
    expect(err.code).toBe('ERR_TRANSPORT')
    expect(err.message).toContain('has a writer already')
    await first.close()
    // The lock a writer killed before closing leaves: the PID of a process that has exited.
    const dead = spawn(process.execPath, ['-e', ''])
    await new Promise((resolve) => dead.on('exit', resolve))
    await writeFile(`${path}.lock`, String(dead.pid))
    await write(url, [7])
    const { registry, got } = recorder()
    const server = await listenFile(url, { registry })
    await within(server.closed(), 5000, 'the reader to end')
    expect(got).toEqual([7])
  })
})
