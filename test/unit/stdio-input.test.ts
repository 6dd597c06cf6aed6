/**
 * What a stdio listener makes of bad input, over a stream handed in as the
 * `input` option: which bytes cost one message (the `undecodable` policy
 * runs and reading goes on) and which end the listener.
 */
import { PassThrough } from 'node:stream'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen, type Channel, type SeamError } from '../../src/index.js'
import { helloFrame } from '../../src/transports/stream/wire.js'
import { closedAfterEach, collectErrors, waitFor, within } from '../helpers.js'

const Note = defineMessage('input.Note', t.type({ n: t.number }))

/** A listener on a fresh input; `peer` is its one channel, whose `closed()` says how the input ended. */
async function listener(format: 'frames' | 'json', maxFrameBytes?: number): Promise<{ input: PassThrough; got: number[]; errors: SeamError[]; registry: Registry; peer: Channel; close(): Promise<void> }> {
  const input = new PassThrough()
  const got: number[] = []
  const { errors, onError } = collectErrors()
  const registry = new Registry({ onError })
  registry.on(Note, (v) => void got.push(v.n))
  const server = await listen('stdio://', { registry, stdio: { input, format, maxFrameBytes } })
  const peer = [...server.peers][0] as Channel
  return { input, got, errors, registry, peer, close: () => server.close() }
}

/** Frames as a producer writes them: the hello, then each Note. */
async function frames(...ns: number[]): Promise<Buffer> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (b: Buffer) => chunks.push(b))
  const ch = await connect('stdio://', { stdio: { output: out } })
  for (const n of ns) await ch.send(Note, { n })
  await ch.close()
  return Buffer.concat(chunks)
}

describe('stdio input', () => {
  const open = closedAfterEach()

  it('JSON lines: a line over maxFrameBytes is skipped under the undecodable policy with ERR_FRAME_TOO_LARGE, and the next line arrives', async () => {
    const l = await listener('json', 200)
    open.push(l)
    l.input.end(`{"tag":"input.Note","body":{"n":1}}\n{"tag":"input.Note","body":{"n":2,"pad":"${'x'.repeat(500)}"}}\n{"tag":"input.Note","body":{"n":3}}\n`)
    await within(l.peer.closed(), 5000, 'the end of the input')
    expect(l.got).toEqual([1, 3])
    expect(l.registry.stats()).toMatchObject({ undecodable: 1, rejected: 1 })
    expect(l.errors.map((e) => e.code)).toEqual(['ERR_FRAME_TOO_LARGE'])
    expect(l.errors[0]?.message).toMatch(/^received a line of \d+ bytes; the limit is 200 \(option stdio.maxFrameBytes\); it was skipped$/)
  })

  it('frames: two streams one after the other (cat a b) read as one, the second hello skipped', async () => {
    const l = await listener('frames')
    open.push(l)
    l.input.end(Buffer.concat([await frames(1, 2), await frames(3)]))
    expect(await within(l.peer.closed(), 5000, 'the end of the input')).toBeUndefined()
    expect(l.got).toEqual([1, 2, 3])
    expect(l.errors).toEqual([])
  })

  it('frames: a length over maxFrameBytes ends the listener with ERR_FRAME_TOO_LARGE before anything is allocated for it', async () => {
    const l = await listener('frames', 1024)
    open.push(l)
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xf0])
    // The input stays open: the listener ends on the bad length itself, not at the end of the input.
    l.input.write(Buffer.concat([await frames(1), huge]))
    const ended = await within(l.peer.closed(), 5000, 'the listener to end')
    expect(ended).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', message: 'received a frame of 4294967280 bytes; the limit is 1024 (option maxFrameBytes)' })
    expect(l.got).toEqual([1])
  })

  it('frames: input that does not start with a hello ends the listener with ERR_PROTOCOL', async () => {
    const l = await listener('frames')
    open.push(l)
    const withoutHello = (await frames(1)).subarray(helloFrame(16 * 1024 * 1024).length)
    l.input.write(withoutHello)
    const ended = await within(l.peer.closed(), 5000, 'the listener to end')
    expect(ended).toMatchObject({ code: 'ERR_PROTOCOL' })
    expect((ended as Error).message).toBe("the input is not a seam-channel frames stream from connect('stdio://') (the peer did not start with a seam-channel hello; it is not a seam-channel peer)")
    expect(l.got).toEqual([])
  })

  it('a listener whose server is closed stops reading: what is still in the input stays there', async () => {
    const l = await listener('json')
    l.input.write('{"tag":"input.Note","body":{"n":1}}\n')
    await waitFor(() => l.got.length === 1, 5000, 'the first line')
    await l.close()
    l.input.write('{"tag":"input.Note","body":{"n":2}}\n')
    expect(l.input.readableFlowing).toBe(false)
    expect(l.input.readableLength).toBeGreaterThan(0)
    expect(l.got).toEqual([1])
  })
})
