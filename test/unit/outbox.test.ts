import type { Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { Envelope } from '../../src/channel/envelope.js'
import { Outbox } from '../../src/transports/stream/outbox.js'
import { FrameDecoder } from '../../src/transports/stream/frames.js'
import { readEnvelope } from '../../src/transports/stream/wire.js'

const LIMITS = { maxMessages: 10_000, maxBytes: 1 << 24, maxFrameBytes: 1 << 20 }

/** A socket that records each write() and the envelopes in it. */
function fakeSocket(writableLength = 0): { socket: Socket; writes: Buffer[]; ids: () => string[] } {
  const writes: Buffer[] = []
  const socket = { write: (b: Buffer) => (writes.push(Buffer.from(b)), true), once: () => socket, writableLength } as unknown as Socket
  const ids = (): string[] => {
    const out: string[] = []
    const d = new FrameDecoder(1 << 20)
    for (const w of writes) d.push(w, (buf, start, end) => out.push(readEnvelope(buf, start, end).id))
    return out
  }
  return { socket, writes, ids }
}

function env(id: string, request = false): Envelope {
  return { tag: 'demo.Ping', id, ts: 0, ct: 'application/msgpack', replyTo: request ? '' : undefined, headers: {}, body: new Uint8Array([0x90]) }
}

/** 200 plain sends in one turn, through an outbox writing to a fake socket that holds `writableLength` bytes. */
function burst(writableLength = 0): ReturnType<typeof fakeSocket> & { outbox: Outbox; sent: string[] } {
  const outbox = new Outbox(LIMITS)
  const fake = fakeSocket(writableLength)
  outbox.attach(fake.socket)
  const sent = Array.from({ length: 200 }, (_, i) => `m${i}`)
  for (const id of sent) void outbox.send(env(id))
  return { ...fake, outbox, sent }
}

/** Whether `p` has settled by now (after pending microtasks). */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false
  void p.then(() => (done = true))
  await Promise.resolve()
  await Promise.resolve()
  return done
}

describe('Outbox', () => {
  it('a plain send resolves at once; a request only once its batch is written', async () => {
    const outbox = new Outbox(LIMITS)
    const { socket, writes } = fakeSocket()
    outbox.attach(socket)
    const plain = outbox.send(env('p1'))
    const request = outbox.send(env('r1', true))
    expect(await settled(plain)).toBe(true)
    expect(await settled(request)).toBe(false)
    expect(writes).toHaveLength(0)
    await nextTurn()
    expect(writes).toHaveLength(1)
    expect(await settled(request)).toBe(true)
  })

  it('a request queued when the connection drops is written on the next one, not lost or failed', async () => {
    const outbox = new Outbox(LIMITS)
    const first = fakeSocket()
    outbox.attach(first.socket)
    const request = outbox.send(env('r1', true))
    outbox.detach() // the connection dropped before the turn ended
    await nextTurn()
    expect(first.writes).toHaveLength(0)
    expect(await settled(request)).toBe(false)
    const second = fakeSocket()
    outbox.attach(second.socket)
    expect(second.ids()).toEqual(['r1'])
    expect(await settled(request)).toBe(true)
  })

  it('writes a long burst in few writes: after 16 frames, then 32, 64, … and the rest at the end of the turn', async () => {
    const { outbox, writes, ids, sent } = burst()
    // 16 + 32 + 64 = 112 written within the turn, the other 88 at its end.
    expect(writes).toHaveLength(3)
    await nextTurn()
    expect(writes).toHaveLength(4)
    expect(ids()).toEqual(sent)
    // A new turn starts again at 16.
    for (let i = 0; i < 16; i++) void outbox.send(env(`n${i}`))
    expect(writes).toHaveLength(5)
  })

  it('makes no early write while the socket still holds bytes: the burst goes out at the end of the turn', async () => {
    const { writes, ids, sent } = burst(4096)
    expect(writes).toHaveLength(0)
    await nextTurn()
    expect(writes).toHaveLength(1)
    expect(ids()).toEqual(sent)
  })

  it('a sender that awaits each send never meets ERR_OUTBOX_FULL, however small the limit: it waits for the socket instead', async () => {
    const outbox = new Outbox({ ...LIMITS, maxMessages: 10 })
    const writes: Buffer[] = []
    let drain: (() => void) | undefined
    // A socket that still holds bytes (so no early write), takes 1000 bytes and then says it is full until drained.
    let held = 0
    const socket = {
      write: (b: Buffer) => (writes.push(Buffer.from(b)), (held += b.length) < 1000),
      once: (_: string, cb: () => void) => ((drain = cb), socket),
      writableLength: 1,
    } as unknown as Socket
    outbox.attach(socket)
    let sent = 0
    const sending = (async () => {
      for (; sent < 200; sent++) await outbox.send(env(`m${sent}`))
    })()
    let failed: unknown
    sending.catch((err: unknown) => (failed = err))
    for (let round = 0; round < 100 && sent < 200; round++) {
      await nextTurn()
      expect(failed).toBeUndefined()
      // Held up by the full socket, not refused: each drain lets it go on.
      held = 0
      drain?.()
    }
    await sending
    expect(sent).toBe(200)
    const d = new FrameDecoder(1 << 20)
    const ids: string[] = []
    for (const w of writes) d.push(w, (buf, start, end) => ids.push(readEnvelope(buf, start, end).id))
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`))
  })
})
