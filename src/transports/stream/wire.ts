import { Decoder, Encoder } from '@msgpack/msgpack'
import { tagProblem, toEnvelope, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { EnvelopeReader } from './envelope-reader.js'

/** The protocol version in the hello frame. */
export const PROTOCOL_VERSION = 1

/** What each side says first. */
export interface Hello {
  readonly version: number
  /** The largest frame this side accepts. */
  readonly maxFrameBytes: number
}

const encoder = new Encoder()
const decoder = new Decoder()

/** The hello frame, length prefix included. */
export function helloFrame(maxFrameBytes: number): Buffer {
  const body = encoder.encode({ seam: 'hello', version: PROTOCOL_VERSION, maxFrameBytes })
  const frame = Buffer.allocUnsafe(4 + body.length)
  frame.writeUInt32BE(body.length, 0)
  frame.set(body, 4)
  return frame
}

/** Reads a peer's hello; throws ERR_PROTOCOL saying what is wrong. */
export function readHello(frame: Uint8Array): Hello {
  let raw: unknown
  try {
    raw = decoder.decode(frame)
  } catch {
    raw = undefined
  }
  const o = raw as { seam?: unknown; version?: unknown; maxFrameBytes?: unknown } | undefined
  if (typeof o !== 'object' || o === null || o.seam !== 'hello') {
    throw new SeamError('ERR_PROTOCOL', 'the peer did not start with a seam-channel hello; it is not a seam-channel peer')
  }
  if (o.version !== PROTOCOL_VERSION) {
    throw new SeamError('ERR_PROTOCOL', `the peer speaks seam-channel protocol version ${String(o.version)}, this side speaks ${PROTOCOL_VERSION}; run the same major version of seam-channel on both sides`)
  }
  const max = typeof o.maxFrameBytes === 'number' && o.maxFrameBytes > 0 ? o.maxFrameBytes : Infinity
  return { version: PROTOCOL_VERSION, maxFrameBytes: max }
}

const reader = new EnvelopeReader()

/** Reads an envelope frame; throws ERR_PROTOCOL naming what is wrong. */
export function readEnvelope(frame: Uint8Array): Envelope {
  // Our own envelopes take the fast path; anything unusual, including every error, the generic one.
  const fast = Buffer.isBuffer(frame) ? reader.read(frame) : undefined
  if (fast !== undefined) return fast
  let raw: unknown
  try {
    raw = decoder.decode(frame)
  } catch (err) {
    throw new SeamError('ERR_PROTOCOL', `malformed envelope: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return toEnvelope(raw)
}

// ---- writing: a hand-rolled MessagePack map, straight into the batch buffer ----

const KEYS = Object.fromEntries(
  ['tag', 'id', 'ts', 'ct', 'corr', 'replyTo', 'headers', 'body'].map((k) => [k, Buffer.from([0xa0 | k.length, ...Buffer.from(k)])]),
) as Record<'tag' | 'id' | 'ts' | 'ct' | 'corr' | 'replyTo' | 'headers' | 'body', Buffer>

/** An upper bound of the bytes `writeEnvelope` may use for `env`. */
export function envelopeBound(env: Envelope): number {
  // 5 header bytes + 3 UTF-8 bytes per UTF-16 unit bounds any string.
  let n = 64 + env.tag.length * 3 + env.id.length * 3 + env.ct.length * 3 + env.body.length
  if (env.corr !== undefined) n += 16 + env.corr.length * 3
  if (env.replyTo !== undefined) n += 16 + env.replyTo.length * 3
  for (const k in env.headers) n += 10 + (k.length + (env.headers[k] as string).length) * 3
  return n
}

function writeStr(buf: Buffer, pos: number, s: string): number {
  const n = s.length
  if (n < 32) {
    // Most tags and ids are short ASCII: copy them by hand, no native call.
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[pos + 1 + i] = c
    }
    if (i === n) {
      buf[pos] = 0xa0 | n
      return pos + 1 + n
    }
  }
  // Reserve the header for the worst case, write, then fill in the real length.
  const max = n * 3
  if (max < 32) {
    const w = buf.write(s, pos + 1, 'utf8')
    buf[pos] = 0xa0 | w
    return pos + 1 + w
  }
  if (max < 0x100) {
    const w = buf.write(s, pos + 2, 'utf8')
    buf[pos] = 0xd9
    buf[pos + 1] = w
    return pos + 2 + w
  }
  if (max < 0x10000) {
    const w = buf.write(s, pos + 3, 'utf8')
    buf[pos] = 0xda
    buf.writeUInt16BE(w, pos + 1)
    return pos + 3 + w
  }
  const w = buf.write(s, pos + 5, 'utf8')
  buf[pos] = 0xdb
  buf.writeUInt32BE(w, pos + 1)
  return pos + 5 + w
}

function writeKey(buf: Buffer, pos: number, key: Buffer): number {
  buf.set(key, pos)
  return pos + key.length
}

/**
 * Writes `env` as a MessagePack map at `pos` (the buffer must hold
 * `envelopeBound(env)` bytes from there); returns the end position.
 * @throws SeamError `ERR_BAD_ARGUMENT` for an empty tag or one over 255 bytes.
 */
export function writeEnvelope(buf: Buffer, pos: number, env: Envelope): number {
  const problem = tagProblem(env.tag)
  if (problem !== undefined) throw new SeamError('ERR_BAD_ARGUMENT', `cannot send this envelope: ${problem}`, { tag: env.tag })
  let hcount = 0
  for (const _ in env.headers) hcount++
  const fields = 5 + (env.corr !== undefined ? 1 : 0) + (env.replyTo !== undefined ? 1 : 0) + (hcount > 0 ? 1 : 0)
  buf[pos++] = 0x80 | fields
  pos = writeKey(buf, pos, KEYS.tag)
  pos = writeStr(buf, pos, env.tag)
  pos = writeKey(buf, pos, KEYS.id)
  pos = writeStr(buf, pos, env.id)
  pos = writeKey(buf, pos, KEYS.ts)
  buf[pos] = 0xcb
  buf.writeDoubleBE(env.ts, pos + 1)
  pos += 9
  pos = writeKey(buf, pos, KEYS.ct)
  pos = writeStr(buf, pos, env.ct)
  if (env.corr !== undefined) {
    pos = writeKey(buf, pos, KEYS.corr)
    pos = writeStr(buf, pos, env.corr)
  }
  if (env.replyTo !== undefined) {
    pos = writeKey(buf, pos, KEYS.replyTo)
    pos = writeStr(buf, pos, env.replyTo)
  }
  if (hcount > 0) {
    pos = writeKey(buf, pos, KEYS.headers)
    if (hcount < 16) buf[pos++] = 0x80 | hcount
    else {
      buf[pos] = 0xde
      buf.writeUInt16BE(hcount, pos + 1)
      pos += 3
    }
    for (const k in env.headers) {
      pos = writeStr(buf, pos, k)
      pos = writeStr(buf, pos, env.headers[k] as string)
    }
  }
  pos = writeKey(buf, pos, KEYS.body)
  const n = env.body.length
  if (n < 0x100) {
    buf[pos] = 0xc4
    buf[pos + 1] = n
    pos += 2
  } else if (n < 0x10000) {
    buf[pos] = 0xc5
    buf.writeUInt16BE(n, pos + 1)
    pos += 3
  } else {
    buf[pos] = 0xc6
    buf.writeUInt32BE(n, pos + 1)
    pos += 5
  }
  buf.set(env.body, pos)
  return pos + n
}
