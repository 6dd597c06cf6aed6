/**
 * A raw TCP connection to the server under fuzz: it writes whatever bytes it
 * is given and reads everything the server sends back. Reading matters: a
 * peer that never reads lets the server's outbox fill up, which would test
 * backpressure, not bad input. What comes back is checked too: the server
 * must answer in well-formed frames, however bad the input.
 */
import { createConnection, type Socket } from 'node:net'
import { ERROR_TAG } from '../../src/index.js'
import { FrameDecoder } from '../../src/transports/stream/frames.js'
import { isPing, readEnvelope, readHello } from '../../src/transports/stream/wire.js'
import { SERVER_MAX_FRAME_BYTES } from './kinds.js'

/** What all raw peers saw from the server. */
export interface RawStats {
  /** Frames the server sent, by tag, and for error replies by `x-seam-code`. */
  readonly replies: Map<string, number>
  /** Things the server must never do (a malformed frame, no hello); each a sentence. */
  readonly anomalies: string[]
}

export function rawStats(): RawStats {
  return { replies: new Map(), anomalies: [] }
}

/** Why a wait ended. */
export type WaitResult = 'reply' | 'closed' | 'timeout'

/** A connection opened with arbitrary first bytes (a hello, or not). */
export class RawPeer {
  readonly #socket: Socket
  readonly #stats: RawStats
  readonly #decoder = new FrameDecoder(SERVER_MAX_FRAME_BYTES)
  readonly #waiters = new Map<string, (r: WaitResult) => void>()
  readonly #closed: Promise<void>
  #isClosed = false
  #helloSeen = false

  constructor(port: number, first: Buffer, stats: RawStats) {
    this.#stats = stats
    this.#socket = createConnection({ host: '127.0.0.1', port, noDelay: true })
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    this.#socket.on('error', () => undefined) // the server resets connections it refuses; 'close' follows
    this.#closed = new Promise((resolve) =>
      this.#socket.once('close', () => {
        this.#isClosed = true
        for (const w of this.#waiters.values()) w('closed')
        this.#waiters.clear()
        resolve()
      }),
    )
    this.#socket.write(first)
  }

  get isClosed(): boolean {
    return this.#isClosed
  }

  /** Writes `bytes`, in `chunks` pieces (to exercise frames split across reads); resolves once the socket takes more, or closed. */
  async write(bytes: Buffer, chunks = 1): Promise<void> {
    let ok = true
    if (chunks <= 1) ok = this.#socket.write(bytes)
    else {
      const step = Math.max(1, Math.ceil(bytes.length / chunks))
      for (let at = 0; at < bytes.length; at += step) ok = this.#socket.write(bytes.subarray(at, at + step))
    }
    if (!ok && !this.#isClosed) await Promise.race([new Promise((resolve) => this.#socket.once('drain', resolve)), this.#closed])
  }

  /** Resolves when a frame with `corr` arrives, the connection closes, or `timeoutMs` passes. */
  waitReply(corr: string, timeoutMs: number): Promise<WaitResult> {
    if (this.#isClosed) return Promise.resolve('closed')
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(corr)
        resolve('timeout')
      }, timeoutMs)
      this.#waiters.set(corr, (r) => {
        clearTimeout(timer)
        resolve(r)
      })
    })
  }

  /** Ends our side and waits up to `timeoutMs` for the server to close; false if it did not (the socket is then destroyed). */
  async end(timeoutMs: number): Promise<boolean> {
    if (!this.#isClosed) this.#socket.end()
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      this.#closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ])
    clearTimeout(timer)
    if (!closed) this.destroy()
    return closed
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#socket.destroy()
  }

  #onData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk, this.#onFrame)
    } catch (err) {
      this.#anomaly(`the server sent a broken frame stream: ${String(err)}`)
      this.#socket.destroy()
    }
  }

  readonly #onFrame = (buf: Buffer, start: number, end: number): void => {
    if (!this.#helloSeen) {
      this.#helloSeen = true
      try {
        readHello(buf.subarray(start, end))
      } catch (err) {
        this.#anomaly(`the server's first frame is not a valid hello: ${String(err)}; bytes ${buf.subarray(start, Math.min(end, start + 64)).toString('hex')}`)
      }
      return
    }
    if (isPing(buf, start, end)) return
    let tag: string
    let corr: string | undefined
    try {
      const env = readEnvelope(buf, start, end)
      tag = env.tag === ERROR_TAG ? (env.headers['x-seam-code'] ?? 'error without a code') : env.tag
      corr = env.corr
    } catch (err) {
      this.#anomaly(`the server sent a malformed envelope: ${String(err)}; bytes ${buf.subarray(start, Math.min(end, start + 64)).toString('hex')}`)
      return
    }
    this.#stats.replies.set(tag, (this.#stats.replies.get(tag) ?? 0) + 1)
    if (corr !== undefined) {
      const w = this.#waiters.get(corr)
      if (w !== undefined) {
        this.#waiters.delete(corr)
        w('reply')
      }
    }
  }

  #anomaly(what: string): void {
    // Bounded: one broken peer must not fill memory with copies of the same sentence.
    if (this.#stats.anomalies.length < 20) this.#stats.anomalies.push(what)
  }
}
