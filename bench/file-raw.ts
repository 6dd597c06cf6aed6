/**
 * The file baseline: what a competent hand-written program does with the
 * same codec. It writes frames (4-byte big-endian length, then the
 * `@msgpack/msgpack` bytes of the payload) in 64 KiB writes, and reads them
 * back in 64 KiB reads, splitting and decoding every frame. No header, no
 * envelope, no tag, no validation: the floor the file transport is judged against.
 */
import { watch } from 'node:fs'
import { open } from 'node:fs/promises'
import { Decoder, Encoder } from '@msgpack/msgpack'
import { item } from './payload.js'

const BATCH_BYTES = 64 * 1024

/**
 * Writes `n` frames of `item(i)` to `path`: a new file (`w`), or appended
 * (`a`); `pad` zero bytes before each payload, inside its frame, make the
 * frames as long as ours (payload.ts's ENVELOPE_PAD).
 */
export async function rawWrite(path: string, n: number, flags: 'w' | 'a' = 'w', pad = 0): Promise<void> {
  const encoder = new Encoder()
  const fh = await open(path, flags)
  let buf = Buffer.allocUnsafe(BATCH_BYTES * 2)
  let pos = 0
  for (let i = 0; i < n; i++) {
    const bytes = encoder.encodeSharedRef(item(i))
    const len = pad + bytes.length
    if (buf.length - pos < len + 4) {
      await fh.write(buf, 0, pos)
      buf = Buffer.allocUnsafe(Math.max(BATCH_BYTES * 2, len + 4))
      pos = 0
    }
    buf.writeUInt32BE(len, pos)
    if (pad > 0) buf.fill(0, pos + 4, pos + 4 + pad)
    buf.set(bytes, pos + 4 + pad)
    pos += 4 + len
    if (pos >= BATCH_BYTES) {
      await fh.write(buf, 0, pos)
      pos = 0
    }
  }
  if (pos > 0) await fh.write(buf, 0, pos)
  await fh.close()
}

/**
 * Reads the frames of `path` from `start` and decodes each, after `pad`
 * filler bytes; returns how many. Stops at the end of the file, or with `follow` once it has `follow`
 * frames, waiting at the end for a change notice (or 200 ms) as the file
 * transport's follower does.
 */
export async function rawRead(path: string, start = 0, follow = 0, pad = 0): Promise<number> {
  const decoder = new Decoder()
  const fh = await open(path, 'r')
  // As the file transport's follower: a notice that comes while the reader is busy is kept, not lost.
  const wake: { fn: (() => void) | undefined; changed: boolean } = { fn: undefined, changed: false }
  const watcher =
    follow > 0
      ? watch(path, { persistent: false }, () => {
          wake.changed = true
          wake.fn?.()
        })
      : undefined
  let count = 0
  let rest = Buffer.alloc(0)
  let at = start
  while (follow === 0 || count < follow) {
    wake.changed = false
    const chunk = Buffer.allocUnsafe(BATCH_BYTES)
    const { bytesRead } = await fh.read(chunk, 0, BATCH_BYTES, at)
    if (bytesRead === 0 && follow === 0) break
    if (bytesRead === 0 && wake.changed) continue
    if (bytesRead === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (wake.fn as () => void)(), 200)
        wake.fn = () => {
          clearTimeout(timer)
          wake.fn = undefined
          resolve()
        }
      })
      continue
    }
    at += bytesRead
    const buf = rest.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([rest, chunk.subarray(0, bytesRead)])
    let pos = 0
    while (buf.length - pos >= 4) {
      const len = buf.readUInt32BE(pos)
      if (buf.length - pos - 4 < len) break
      decoder.decode(buf.subarray(pos + 4 + pad, pos + 4 + len))
      count++
      pos += 4 + len
    }
    rest = buf.subarray(pos)
  }
  watcher?.close()
  await fh.close()
  return count
}
