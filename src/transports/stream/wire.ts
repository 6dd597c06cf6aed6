import { Encoder } from '@msgpack/msgpack'
import { BoundedDecoder } from '../../serde/bounded-decoder.js'
import { MsgpackBoundsError } from '../../serde/msgpack-bounds.js'
import { DEFAULT_CONTENT_TYPE, EMPTY_HEADERS, tagProblem, toEnvelope, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { EnvelopeReader } from './envelope-reader.js'
import { LENGTH_BYTES } from './frames.js'

/**
 * The protocol version in the hello frame. 2: an envelope leaves out `ct`
 * when it is the default (msgpack), and a side may send pings.
 */
export const PROTOCOL_VERSION = 2

/** What each side says first. */
export interface Hello {
  readonly version: number
  /** The largest frame this side accepts. */
  readonly maxFrameBytes: number
  /** How often this side pings an idle connection; 0 when it never does. */
  readonly heartbeatMs: number
}

const encoder = new Encoder()
const decoder = new BoundedDecoder()

/** A frame with its length prefix. */
function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_BYTES + body.length)
  out.writeUInt32BE(body.length, 0)
  out.set(body, LENGTH_BYTES)
  return out
}

/** The hello frame, length prefix included. */
export function helloFrame(maxFrameBytes: number, heartbeatMs = 0): Buffer {
  return frame(encoder.encode({ seam: 'hello', version: PROTOCOL_VERSION, maxFrameBytes, heartbeatMs }))
}

const PING = encoder.encode({ seam: 'ping' })

/** The frame a side sends to show it is alive when it has nothing else to send; length prefix included. */
export const PING_FRAME = frame(PING)

/** Whether `frame[start, end)` is a ping rather than an envelope. */
export function isPing(frame: Buffer, start: number, end: number): boolean {
  if (end - start !== PING.length || frame[start] !== PING[0]) return false
  for (let i = 1; i < PING.length; i++) if (frame[start + i] !== PING[i]) return false
  return true
}

/** Reads a peer's hello; throws ERR_PROTOCOL saying what is wrong. */
export function readHello(frame: Uint8Array): Hello {
  let raw: unknown
  try {
    raw = decoder.decode(frame)
  } catch (err) {
    if (isBomb(err)) throw new SeamError('ERR_PROTOCOL', `the peer's hello is malformed: ${err.message}`, { cause: err })
    raw = undefined
  }
  const o = raw as { seam?: unknown; version?: unknown; maxFrameBytes?: unknown; heartbeatMs?: unknown } | undefined
  if (typeof o !== 'object' || o === null || o.seam !== 'hello') {
    throw new SeamError('ERR_PROTOCOL', 'the peer did not start with a seam-channel hello; it is not a seam-channel peer')
  }
  if (o.version !== PROTOCOL_VERSION) {
    throw new SeamError('ERR_PROTOCOL', `the peer speaks seam-channel protocol version ${String(o.version)}, this side speaks ${PROTOCOL_VERSION}; run the same major version of seam-channel on both sides`)
  }
  const max = typeof o.maxFrameBytes === 'number' && o.maxFrameBytes > 0 ? o.maxFrameBytes : Infinity
  const heartbeatMs = typeof o.heartbeatMs === 'number' && Number.isFinite(o.heartbeatMs) && o.heartbeatMs > 0 ? o.heartbeatMs : 0
  return { version: PROTOCOL_VERSION, maxFrameBytes: max, heartbeatMs }
}

const reader = new EnvelopeReader()

/**
 * Whether `err` (thrown by {@link readEnvelope} or a decoder) is a declared
 * length or a nesting beyond what the frame can hold: no honest encoder
 * writes one, so the connection that sent it is closed rather than answered.
 */
export function isBomb(err: unknown): err is Error {
  const e = err instanceof SeamError ? err.cause : err
  return e instanceof MsgpackBoundsError && e.bomb
}

/**
 * Reads the envelope in `frame[start, end)`; throws ERR_PROTOCOL naming what
 * is wrong (see {@link isBomb} for the errors that should end the connection).
 */
export function readEnvelope(frame: Buffer, start = 0, end = frame.length): Envelope {
  // Our own envelopes take the fast path; anything unusual, including every error, the generic one.
  const fast = reader.read(frame, start, end)
  if (fast !== undefined) return fast
  let raw: unknown
  try {
    raw = decoder.decode(frame.subarray(start, end))
  } catch (err) {
    throw new SeamError('ERR_PROTOCOL', `malformed envelope: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return toEnvelope(raw, DEFAULT_CONTENT_TYPE)
}

// ---- writing: a hand-rolled MessagePack map, straight into the batch buffer ----

/** A map key as MessagePack fixstr bytes. */
function key(name: string): Uint8Array {
  return Uint8Array.from([0xa0 | name.length, ...Buffer.from(name, 'latin1')])
}
const TAG_KEY = key('tag')
const ID_KEY = key('id')
const TS_KEY = key('ts')
const CT_KEY = key('ct')
const CORR_KEY = key('corr')
const REPLY_TO_KEY = key('replyTo')
const KEY_KEY = key('key')
const HEADERS_KEY = key('headers')
const BODY_KEY = key('body')

/** An upper bound of the bytes `writeEnvelope` may use for `env`. */
export function envelopeBound(env: Envelope): number {
  // 5 header bytes + 3 UTF-8 bytes per UTF-16 unit bounds any string.
  let n = 64 + env.tag.length * 3 + env.id.length * 3 + env.ct.length * 3 + env.body.length
  if (env.corr !== undefined) n += 16 + env.corr.length * 3
  if (env.replyTo !== undefined) n += 16 + env.replyTo.length * 3
  if (env.key !== undefined) n += 16 + env.key.length * 3
  if (env.headers !== EMPTY_HEADERS) for (const k in env.headers) n += 10 + (k.length + (env.headers[k] as string).length) * 3
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

/** Copies bytes; for a handful a loop beats `set`, a native call (~11 ns; a loop of 38 bytes, ~33). */
function put(buf: Buffer, pos: number, bytes: Uint8Array): number {
  const n = bytes.length
  if (n > 8) {
    buf.set(bytes, pos)
    return pos + n
  }
  for (let i = 0; i < n; i++) buf[pos + i] = bytes[i] as number
  return pos + n
}

/** The encoded `tag` and `ct` fields of one tag, which every frame of that tag repeats. */
interface Prefix {
  readonly ct: string
  readonly bytes: Uint8Array
}

// Bounded, because `forward` may carry any tag; past the bound, prefixes are built per frame.
const PREFIX_CACHE_MAX = 1024
const prefixes = new Map<string, Prefix>()

/**
 * Writes the `tag` and `ct` fields (`ct` only when it is not the default);
 * their bytes come from a cache after the first frame of a tag.
 */
function writePrefix(buf: Buffer, pos: number, tag: string, ct: string): number {
  const hit = prefixes.get(tag)
  if (hit !== undefined && hit.ct === ct) return put(buf, pos, hit.bytes)
  // Checked here, once per tag: a cached tag was checked when it was first written.
  const problem = tagProblem(tag)
  if (problem !== undefined) throw new SeamError('ERR_BAD_ARGUMENT', `cannot send this envelope: ${problem}`, { tag })
  let end = put(buf, pos, TAG_KEY)
  end = writeStr(buf, end, tag)
  if (ct !== DEFAULT_CONTENT_TYPE) {
    end = put(buf, end, CT_KEY)
    end = writeStr(buf, end, ct)
  }
  if (hit !== undefined || prefixes.size < PREFIX_CACHE_MAX) {
    // A copy: Buffer#slice would share the outbox's slab.
    prefixes.set(tag, { ct, bytes: Uint8Array.prototype.slice.call(buf, pos, end) })
  }
  return end
}

/**
 * Writes `env` as a MessagePack map at `pos` (the buffer must hold
 * `envelopeBound(env)` bytes from there); returns the end position.
 * @throws SeamError `ERR_BAD_ARGUMENT` for an empty tag or one over 255 bytes.
 */
export function writeEnvelope(buf: Buffer, pos: number, env: Envelope): number {
  let hcount = 0
  if (env.headers !== EMPTY_HEADERS) for (const _ in env.headers) hcount++
  const fields = (env.ct === DEFAULT_CONTENT_TYPE ? 4 : 5) + (env.corr !== undefined ? 1 : 0) + (env.replyTo !== undefined ? 1 : 0) + (env.key !== undefined ? 1 : 0) + (hcount > 0 ? 1 : 0)
  buf[pos++] = 0x80 | fields
  // Map order is free in MessagePack: the fields that repeat per tag go first, as one cached run.
  pos = writePrefix(buf, pos, env.tag, env.ct)
  pos = put(buf, pos, ID_KEY)
  pos = writeStr(buf, pos, env.id)
  pos = put(buf, pos, TS_KEY)
  buf[pos] = 0xcb
  buf.writeDoubleBE(env.ts, pos + 1)
  pos += 9
  if (env.corr !== undefined) {
    pos = put(buf, pos, CORR_KEY)
    pos = writeStr(buf, pos, env.corr)
  }
  if (env.replyTo !== undefined) {
    pos = put(buf, pos, REPLY_TO_KEY)
    pos = writeStr(buf, pos, env.replyTo)
  }
  if (env.key !== undefined) {
    pos = put(buf, pos, KEY_KEY)
    pos = writeStr(buf, pos, env.key)
  }
  if (hcount > 0) {
    pos = put(buf, pos, HEADERS_KEY)
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
  pos = put(buf, pos, BODY_KEY)
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
  return put(buf, pos, env.body)
}
