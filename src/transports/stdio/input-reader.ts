import type { Readable } from 'node:stream'
import { SeamError, toSeamError } from '../../channel/errors.js'
import type { Delivery } from '../../channel/transport.js'
import { FrameDecoder } from '../stream/frames.js'
import { StreamDelivery } from '../stream/link.js'
import { isBomb, isPing, readEnvelope, readHello } from '../stream/wire.js'
import { readLine } from './json-lines.js'
import { LineSplitter } from './line-splitter.js'
import type { StdioFormat } from './options.js'

/** What an {@link InputReader} reports. */
export interface InputEvents {
  deliver(delivery: Delivery): void
  /** The input ended: cleanly at its end (no error) or on a failure. Called once. */
  ended(error?: SeamError): void
}

const OPEN_BRACE = 0x7b

/**
 * Reads envelopes from a byte stream (standard input): binary frames after
 * a hello frame, or JSON lines. A frame or line that is intact but holds no
 * valid envelope is delivered as broken (the channel's `undecodable` policy
 * runs) and reading goes on; bytes that break the framing itself (a length
 * over the limit, a declared size beyond the frame, a frame cut off by the
 * end of input) end the reader with `ERR_PROTOCOL`, since nothing after
 * them can be trusted to start on a frame.
 */
export class InputReader {
  readonly #input: Readable
  readonly #format: StdioFormat
  readonly #events: InputEvents
  readonly #frames: FrameDecoder
  readonly #lines: LineSplitter
  #helloSeen = false
  #done = false
  #started = false

  constructor(input: Readable, format: StdioFormat, maxFrameBytes: number, events: InputEvents) {
    this.#input = input
    this.#format = format
    this.#events = events
    this.#frames = new FrameDecoder(maxFrameBytes)
    this.#lines = new LineSplitter(maxFrameBytes)
  }

  /** Starts reading; until then the input stays in its pipe. */
  start(): void {
    if (this.#started || this.#done) return
    this.#started = true
    this.#input.on('data', this.#onData)
    this.#input.on('end', this.#onEnd)
    this.#input.on('error', this.#onError)
    // A stream its owner paused stays paused when a 'data' listener is added.
    this.#input.resume()
  }

  pause(): void {
    this.#input.pause()
  }

  resume(): void {
    if (!this.#done) this.#input.resume()
  }

  /** Stops reading for good; what is still in the pipe stays there. Idempotent. */
  stop(): void {
    if (this.#done) return
    this.#done = true
    this.#detach()
  }

  #detach(): void {
    this.#input.off('data', this.#onData)
    this.#input.off('end', this.#onEnd)
    this.#input.off('error', this.#onError)
    // Paused, the pipe no longer holds the process open; an error after this must not become an uncaught one.
    this.#input.pause()
    this.#input.on('error', ignore)
  }

  #finish(error?: SeamError): void {
    if (this.#done) return
    this.#done = true
    this.#detach()
    this.#events.ended(error)
  }

  readonly #onData = (chunk: Buffer | string): void => {
    if (this.#done) return
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    try {
      if (this.#format === 'json') this.#lines.push(bytes, this.#onLine, this.#onTooLong)
      else {
        if (!this.#helloSeen && this.#frames.buffered === 0 && bytes[0] === OPEN_BRACE) {
          throw new SeamError('ERR_PROTOCOL', 'the input looks like JSON lines, not frames: listen on stdio://?format=json (or send with the frames format)')
        }
        this.#frames.push(bytes, this.#onFrame)
      }
    } catch (err) {
      this.#finish(toSeamError(err, 'ERR_PROTOCOL', 'unreadable input'))
    }
  }

  readonly #onFrame = (buf: Buffer, start: number, end: number): void => {
    // A frame that ended the reader may have had others behind it in the same chunk.
    if (this.#done) return
    if (!this.#helloSeen) {
      try {
        readHello(buf.subarray(start, end))
      } catch (err) {
        // readHello speaks of a peer; here it is whatever wrote the input.
        throw new SeamError('ERR_PROTOCOL', `the input is not a seam-channel frames stream from connect('stdio://') (${err instanceof Error ? err.message : String(err)})`, { cause: err })
      }
      this.#helloSeen = true
      return
    }
    if (isPing(buf, start, end)) return
    let delivery: StreamDelivery
    try {
      delivery = new StreamDelivery(readEnvelope(buf, start, end))
    } catch (err) {
      if (isBomb(err)) throw err
      // `cat a.frames b.frames`: the second stream's hello is no message.
      if (isHello(buf, start, end)) return
      // The frame boundary is intact, so only this message is lost, not the stream.
      delivery = new StreamDelivery(undefined, { bytes: Buffer.from(buf.subarray(start, end)), error: toSeamError(err, 'ERR_PROTOCOL', 'malformed envelope') })
    }
    this.#events.deliver(delivery)
  }

  readonly #onLine = (buf: Buffer, start: number, end: number): void => {
    if (this.#done) return
    const text = buf.toString('utf8', start, end)
    // Blank lines separate nothing and carry nothing; a person typing may leave some.
    if (text.trim() === '') return
    let delivery: StreamDelivery
    try {
      delivery = new StreamDelivery(readLine(text))
    } catch (err) {
      delivery = new StreamDelivery(undefined, { bytes: Buffer.from(buf.subarray(start, end)), error: toSeamError(err, 'ERR_PROTOCOL', 'malformed JSON line') })
    }
    this.#events.deliver(delivery)
  }

  readonly #onTooLong = (head: Buffer, length: number): void => {
    if (this.#done) return
    const error = new SeamError('ERR_FRAME_TOO_LARGE', `received a line of ${length} bytes; the limit is ${this.#lines.max} (option stdio.maxFrameBytes); it was skipped`)
    this.#events.deliver(new StreamDelivery(undefined, { bytes: Buffer.from(head), error }))
  }

  readonly #onEnd = (): void => {
    if (this.#format === 'json') {
      this.#lines.end(this.#onLine, this.#onTooLong)
      return this.#finish()
    }
    if (this.#frames.buffered > 0) return this.#finish(new SeamError('ERR_PROTOCOL', `the input ended in the middle of a frame (after ${this.#frames.describePartial()}): the writer died or was cut off mid-message`))
    this.#finish()
  }

  readonly #onError = (err: Error): void => {
    this.#finish(toSeamError(err, 'ERR_TRANSPORT', 'reading the input failed'))
  }
}

function ignore(): void {}

function isHello(buf: Buffer, start: number, end: number): boolean {
  try {
    readHello(buf.subarray(start, end))
    return true
  } catch {
    return false
  }
}
