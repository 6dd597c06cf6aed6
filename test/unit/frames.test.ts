import { describe, expect, it } from 'vitest'
import { SeamError } from '../../src/index.js'
import { FrameDecoder, sniffForeign } from '../../src/transports/stream/frames.js'
import { codeOf } from '../helpers.js'

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(payload.length, 0)
  return Buffer.concat([head, payload])
}

/** Feeds chunks and returns the frames as strings. */
function feed(decoder: FrameDecoder, chunks: Buffer[]): string[] {
  const out: string[] = []
  for (const c of chunks) decoder.push(c, (buf, start, end) => out.push(buf.toString('latin1', start, end)))
  return out
}

describe('FrameDecoder', () => {
  const payloads = ['a', 'hello world', 'x'.repeat(300)].map((s) => Buffer.from(s, 'latin1'))
  const stream = Buffer.concat(payloads.map(frame))
  const expected = payloads.map((p) => p.toString('latin1'))

  it('reads many frames from one chunk', () => {
    const d = new FrameDecoder(1024)
    expect(feed(d, [stream])).toEqual(expected)
    expect(d.buffered).toBe(0)
  })

  it('reads the same frames when the stream is split at every byte boundary', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder(1024)
      expect(feed(d, [stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual(expected)
      expect(d.buffered).toBe(0)
    }
  })

  it('reads the same frames when split twice at every pair of boundaries (small stream)', () => {
    const small = Buffer.concat([frame(Buffer.from('ab')), frame(Buffer.from('cde'))])
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        const d = new FrameDecoder(64)
        expect(feed(d, [small.subarray(0, i), small.subarray(i, j), small.subarray(j)]), `split at ${i}, ${j}`).toEqual(['ab', 'cde'])
      }
    }
  })

  it('joins only the frame that straddles two chunks; the frames after it are read in place', () => {
    const d = new FrameDecoder(1024)
    const cut = 6 // inside the second frame, "hello world"
    const second = Buffer.from(stream.subarray(cut))
    const seen: { same: boolean; text: string }[] = []
    d.push(stream.subarray(0, cut), () => undefined)
    d.push(second, (buf, start, end) => seen.push({ same: buf === second, text: buf.toString('latin1', start, end) }))
    expect(seen.map((f) => f.text)).toEqual(expected.slice(1))
    expect(seen.map((f) => f.same)).toEqual([false, true])
  })

  it('reads 500 frames of random sizes cut into random chunks (seeded)', () => {
    let seed = 42
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const bodies = Array.from({ length: 500 }, (_, i) => Buffer.alloc(1 + rand(3000), i & 0xff))
    const all = Buffer.concat(bodies.map(frame))
    const chunks: Buffer[] = []
    for (let at = 0; at < all.length; ) {
      const n = 1 + rand(rand(2) === 0 ? 16 : 8192)
      chunks.push(all.subarray(at, at + n))
      at += n
    }
    const d = new FrameDecoder(4096)
    expect(feed(d, chunks)).toEqual(bodies.map((b) => b.toString('latin1')))
    expect(d.buffered).toBe(0)
  })

  it('reads frames fed one byte at a time', () => {
    const d = new FrameDecoder(1024)
    const chunks = [...stream].map((b) => Buffer.from([b]))
    expect(feed(d, chunks)).toEqual(expected)
  })

  it('holds back an incomplete frame and says how much is missing', () => {
    const d = new FrameDecoder(1024)
    const f = frame(Buffer.from('hello'))
    expect(feed(d, [f.subarray(0, 2)])).toEqual([])
    expect(d.buffered).toBe(2)
    expect(d.describePartial()).toContain('2 of the 4 length bytes')
    expect(feed(d, [f.subarray(2, 6)])).toEqual([])
    expect(d.describePartial()).toContain('2 of 5 bytes')
    expect(feed(d, [f.subarray(6)])).toEqual(['hello'])
  })

  it('a frame of 0 bytes is ERR_PROTOCOL', () => {
    expect(codeOf(() => new FrameDecoder(1024).push(Buffer.alloc(4), () => undefined))).toBe('ERR_PROTOCOL')
  })

  it('a frame over maxFrameBytes is ERR_FRAME_TOO_LARGE before any body arrives', () => {
    const d = new FrameDecoder(10)
    const head = Buffer.alloc(4)
    head.writeUInt32BE(11, 0)
    expect(codeOf(() => d.push(head, () => undefined))).toBe('ERR_FRAME_TOO_LARGE')
    expect(feed(new FrameDecoder(10), [frame(Buffer.alloc(10, 1))])).toHaveLength(1)
  })

  it('a 4 GiB length prefix is refused without allocating', () => {
    const before = process.memoryUsage().arrayBuffers
    const err = (() => {
      try {
        new FrameDecoder(16 * 1024 * 1024).push(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]), () => undefined)
      } catch (e) {
        return e as SeamError
      }
      return undefined
    })()
    expect(err?.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(err?.message).toContain('4294967295')
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
  })

  it('a too-large length split across chunks is still refused', () => {
    const d = new FrameDecoder(100)
    d.push(Buffer.from([0xff, 0xff]), () => undefined)
    expect(codeOf(() => d.push(Buffer.from([0xff, 0xff]), () => undefined))).toBe('ERR_FRAME_TOO_LARGE')
  })

  it('frames already read before a bad one are delivered', () => {
    const out: string[] = []
    const bad = Buffer.concat([frame(Buffer.from('ok')), Buffer.alloc(4)])
    expect(codeOf(() => new FrameDecoder(64).push(bad, (buf, start, end) => out.push(buf.toString('utf8', start, end))))).toBe('ERR_PROTOCOL')
    expect(out).toEqual(['ok'])
  })
})

describe('sniffForeign', () => {
  it('recognises HTTP and TLS', () => {
    expect(sniffForeign(Buffer.from('GET / HTTP/1.1\r\n'))).toMatch(/HTTP/)
    expect(sniffForeign(Buffer.from('HTTP/1.1 200 OK'))).toMatch(/HTTP/)
    expect(sniffForeign(Buffer.from([0x16, 0x03, 0x01, 0x00]))).toMatch(/TLS/)
    expect(sniffForeign(frame(Buffer.from('x')))).toBeUndefined()
  })
})
