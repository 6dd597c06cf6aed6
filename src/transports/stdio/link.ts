import type { Writable } from 'node:stream'
import type { Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { HeldSink } from '../../channel/held-sink.js'
import type { LinkSink, TransportFeatures, TransportLink } from '../../channel/transport.js'
import { FRAMES, Outbox } from '../stream/outbox.js'
import { helloFrame } from '../stream/wire.js'
import { InputReader } from './input-reader.js'
import { LINES } from './json-lines.js'
import type { ResolvedStdioOptions } from './options.js'

/**
 * A pipe runs one way and keeps order; nothing is kept, nothing comes back.
 * Not `connected`: a receiver cannot answer its sender.
 */
export const STDIO_FEATURES: TransportFeatures = Object.freeze({
  reply: false,
  connected: false,
  persistent: false,
  orderingByKey: true,
  orderedWithoutKey: true,
  redelivery: false,
})

/**
 * One end of a pipeline: a producer writes envelopes to its output
 * (standard output), a consumer reads them from its input (standard input).
 * A processor is one of each.
 */
export class StdioLink implements TransportLink {
  readonly name = 'stdio'
  readonly features = STDIO_FEATURES
  /** `send` encodes the envelope into its outgoing buffer before it returns. */
  readonly copiesBody = true
  readonly peer = undefined
  /** Nothing comes back through a pipe, so this side cannot receive replies. */
  readonly replyAddress = undefined
  readonly #o: ResolvedStdioOptions
  // Output errors may come before the channel exists: held until start, never dropped.
  readonly #sink = new HeldSink()
  readonly #reader: InputReader | undefined
  readonly #writer: Outbox | undefined
  #failure: SeamError | undefined
  #closing: Promise<void> | undefined

  private constructor(o: ResolvedStdioOptions, role: 'producer' | 'consumer') {
    this.#o = o
    if (role === 'consumer') {
      this.#reader = new InputReader(o.input, o.format, o.maxFrameBytes, {
        deliver: (d) => this.#sink.deliver(d),
        ended: (error) => this.#sink.ended(error),
      })
      return
    }
    const output = o.output
    output.on('error', this.#onOutputError)
    output.on('close', this.#onOutputClose)
    const limits = { maxMessages: o.maxOutboxMessages, maxBytes: o.maxOutboxBytes, maxFrameBytes: o.maxFrameBytes, optionPrefix: 'stdio.' }
    this.#writer = new Outbox(limits, o.format === 'json' ? LINES : FRAMES)
    // Says which protocol version follows, so a reader of another version, or of the other format, fails clearly.
    if (o.format === 'frames') output.write(helloFrame(o.maxFrameBytes, 0))
    this.#writer.attach(output)
  }

  /** The producing end: writes to `o.output`. */
  static producer(o: ResolvedStdioOptions): StdioLink {
    return new StdioLink(o, 'producer')
  }

  /** The consuming end: reads `o.input`, from `start` on. */
  static consumer(o: ResolvedStdioOptions): StdioLink {
    return new StdioLink(o, 'consumer')
  }

  start(sink: LinkSink): void {
    this.#sink.attach(sink)
    this.#reader?.start()
  }

  pause(): void {
    this.#reader?.pause()
  }

  resume(): void {
    this.#reader?.resume()
  }

  /** A pipe cannot deliver again: what arrives while the channel closes is still read and handled. */
  stopReceiving(): void {}

  send(envelope: Envelope): Promise<void> {
    if (this.#writer === undefined) {
      return Promise.reject(new SeamError('ERR_TRANSPORT', `cannot send "${envelope.tag}": a stdio listener only reads its input; connect('stdio://') to write to standard output`, { tag: envelope.tag }))
    }
    return this.#writer.send(envelope)
  }

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs)
    return this.#closing
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#reader?.stop()
    const writer = this.#writer
    if (writer === undefined) return
    const deadline = Date.now() + timeoutMs
    if (this.#failure === undefined) await writer.drain(timeoutMs)
    const lost = writer.close(new SeamError('ERR_CLOSED', 'the stdio channel closed before this message could be written'))
    if (lost > 0) this.#sink.error(new SeamError('ERR_CLOSED', `${lost} queued messages were never written: the stdio channel closed (closeTimeoutMs) while the reader of its output was not reading`))
    if (this.#failure === undefined) await this.#flushed(this.#o.output, Math.max(100, deadline - Date.now()))
  }

  /**
   * Waits (bounded) until the output handed every byte to the OS. A stream of
   * our caller's is ended, so its reader sees the end; the process's own
   * standard output stays open for whatever else the program prints, and its
   * reader sees the end when the process exits.
   */
  #flushed(output: Writable, timeoutMs: number): Promise<void> {
    if (output.destroyed || output.writableFinished) return Promise.resolve()
    if (this.#o.ownOutput && output.writableLength === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        output.off('finish', done).off('drain', done).off('close', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      output.once('close', done)
      if (this.#o.ownOutput) output.once('drain', done)
      else output.once('finish', done).end()
    })
  }

  readonly #onOutputError = (err: Error & { code?: string }): void => {
    const what = this.#o.ownOutput ? 'standard output' : 'the output stream'
    this.#fail(
      err.code === 'EPIPE'
        ? new SeamError('ERR_TRANSPORT', `${what} was closed by its reader (EPIPE): the next program in the pipeline exited or stopped reading, so nothing more can be sent`, { cause: err })
        : new SeamError('ERR_TRANSPORT', `writing to ${what} failed: ${err.message}`, { cause: err }),
    )
  }

  readonly #onOutputClose = (): void => {
    if (this.#closing === undefined) this.#fail(new SeamError('ERR_TRANSPORT', `${this.#o.ownOutput ? 'standard output' : 'the output stream'} was closed while the channel was still writing to it`))
  }

  /** The output is gone: queued and later sends fail, and the channel ends with `error`. */
  #fail(error: SeamError): void {
    if (this.#failure !== undefined) return
    this.#failure = error
    const lost = this.#writer?.close(new SeamError('ERR_CLOSED', `this message was not written: ${error.message}`, { cause: error })) ?? 0
    if (lost > 0) this.#sink.error(new SeamError('ERR_CLOSED', `${lost} queued messages were never written: ${error.message}`, { cause: error }))
    if (this.#closing === undefined) this.#sink.ended(error)
  }
}
