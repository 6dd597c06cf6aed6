import { writevSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import type { Envelope } from '../../channel/envelope.js'
import { SeamError, toSeamError } from '../../channel/errors.js'
import { HeldSink } from '../../channel/held-sink.js'
import { waiter, type Waiter } from '../../channel/waiter.js'
import type { LinkSink, TransportLink } from '../../channel/transport.js'
import { LENGTH_BYTES } from '../stream/frames.js'
import { envelopeBound, writeEnvelope } from '../stream/wire.js'
import { FILE_FEATURES } from './features.js'
import { createIfMissing, checkHeader, openFile } from './format.js'
import { WriterLock } from './lock.js'
import type { ResolvedFileOptions } from './options.js'
import { findTail } from './tail.js'

const SLAB_BYTES = 256 * 1024
// Bytes of sends that make a batch be written before the sending code yields (without `durable`).
const FLUSH_AT = 1024 * 1024

/** What is left of `bufs` after a write took `written` bytes: a partial write (a full disk, a signal) goes on from there. */
function unwritten(bufs: Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = []
  for (const b of bufs) {
    if (written >= b.length) written -= b.length
    else {
      rest.push(written === 0 ? b : b.subarray(written))
      written = 0
    }
  }
  return rest
}

/**
 * Checks the header of the open file and cuts off a torn last record;
 * returns the report of the cut, if one was made.
 */
async function repairTail(fh: FileHandle, o: ResolvedFileOptions): Promise<SeamError | undefined> {
  await checkHeader(fh, o.path)
  const { size } = await fh.stat()
  const tail = await findTail(fh, size, o.maxFrameBytes, o.path)
  if (tail.torn === 0) return undefined
  await fh.truncate(tail.end)
  return new SeamError('ERR_PROTOCOL', `${o.path}: cut off a torn last record (${tail.torn} bytes at offset ${tail.end}): the writer before this one died while writing it`)
}

/** Records waiting for one write, and the promise their sends share. */
interface Batch {
  readonly slabs: Buffer[]
  bytes: number
  readonly sent: Waiter
}

function batch(): Batch {
  return { slabs: [], bytes: 0, sent: waiter() }
}

/**
 * The writing side of a message file (`connect`): appends each envelope as
 * one record. Sends made in the same turn of the event loop, or while a write
 * is under way, go out together in one write; `send` resolves once that
 * write returned (the bytes are the operating system's: they survive this
 * process dying), or with `durable` once they are also `fdatasync`ed.
 */
export class FileWriter implements TransportLink {
  readonly name = 'file'
  readonly features = FILE_FEATURES
  /** `send` encodes the envelope into its outgoing buffer before it returns. */
  readonly copiesBody = true
  readonly peer = undefined
  readonly replyAddress = undefined
  readonly #fh: FileHandle
  readonly #lock: WriterLock
  readonly #o: ResolvedFileOptions
  readonly #sink = new HeldSink()
  #slab: Buffer = Buffer.allocUnsafe(0)
  #slabUsed = 0
  #slabStart = 0
  #next: Batch | undefined
  #writing: Promise<void> | undefined
  #waitingBytes = 0
  #closing: Promise<void> | undefined

  private constructor(fh: FileHandle, lock: WriterLock, o: ResolvedFileOptions) {
    this.#fh = fh
    this.#lock = lock
    this.#o = o
  }

  /**
   * Creates the file with its header if missing, takes the writer lock, and
   * cuts off a torn last record a writer that died left (reported through
   * the channel's `onError`), so the next record starts where a reader expects one.
   */
  static async open(o: ResolvedFileOptions): Promise<FileWriter> {
    const where = `connect(${o.where})`
    try {
      await createIfMissing(o.path)
    } catch (err) {
      throw toSeamError(err, 'ERR_TRANSPORT', `${where}: cannot create ${o.path}`)
    }
    const lock = await WriterLock.take(o.path, where)
    let fh: FileHandle | undefined
    try {
      // One handle checks, repairs and appends: reading at a position and truncating work in
      // append mode, and every write lands at the end of the file. (Two opens cost two more
      // round trips to the thread pool per connect.)
      fh = await openFile(o.path, 'a+', where)
      const cut = await repairTail(fh, o)
      const writer = new FileWriter(fh, lock, o)
      if (cut !== undefined) writer.#sink.error(cut)
      return writer
    } catch (err) {
      await fh?.close().catch(() => undefined)
      await lock.release()
      throw toSeamError(err, 'ERR_TRANSPORT', `${where}: cannot open ${o.path}`)
    }
  }

  start(sink: LinkSink): void {
    this.#sink.attach(sink)
  }

  // A writer receives nothing: there is nothing to pause.
  pause(): void {}
  resume(): void {}
  stopReceiving(): void {}

  send(envelope: Envelope): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new SeamError('ERR_CLOSED', `the file channel to ${this.#o.path} is closed; cannot send "${envelope.tag}"`, { tag: envelope.tag }))
    const bound = LENGTH_BYTES + envelopeBound(envelope)
    if (this.#waitingBytes + bound > this.#o.maxOutboxBytes && this.#waitingBytes > 0) {
      return Promise.reject(new SeamError('ERR_OUTBOX_FULL', `${this.#waitingBytes} bytes wait to be written to ${this.#o.path} (maxOutboxBytes ${this.#o.maxOutboxBytes}); the disk is not keeping up`, { tag: envelope.tag }))
    }
    if (this.#slab.length - this.#slabUsed < bound) this.#newSlab(bound)
    const at = this.#slabUsed
    let end: number
    try {
      end = writeEnvelope(this.#slab, at + LENGTH_BYTES, envelope)
    } catch (err) {
      return Promise.reject(err)
    }
    const len = end - at - LENGTH_BYTES
    if (len > this.#o.maxFrameBytes) {
      return Promise.reject(new SeamError('ERR_FRAME_TOO_LARGE', `"${envelope.tag}" is ${len} bytes as a record; the limit is ${this.#o.maxFrameBytes} (option file.maxFrameBytes)`, { tag: envelope.tag, id: envelope.id }))
    }
    this.#slab.writeUInt32BE(len, at)
    this.#slabUsed = end
    this.#waitingBytes += end - at
    const b = (this.#next ??= batch())
    b.bytes += end - at
    // A long loop of sends that does not yield is written as it goes, rather than held until it yields.
    if (b.bytes >= FLUSH_AT && !this.#o.durable) this.#writeNow()
    else this.#writing ??= this.#flushSoon()
    return b.sent.promise
  }

  /** Writes the waiting batch at once (without `durable` writes are synchronous, so none is under way). */
  #writeNow(): void {
    const b = this.#take()
    try {
      this.#writeSync(b.slabs)
      b.sent.resolve()
    } catch (err) {
      this.#failed(b, err)
    }
    this.#waitingBytes -= b.bytes
  }

  /** Seals the slab into the waiting batch and takes the batch: sends from now on start the next one. */
  #take(): Batch {
    this.#seal()
    const b = this.#next as Batch
    this.#next = undefined
    return b
  }

  #failed(b: Batch, err: unknown): void {
    const error = toSeamError(err, 'ERR_TRANSPORT', `writing to ${this.#o.path} failed`)
    b.sent.reject(error)
    this.#sink.error(error)
  }

  /** Moves the filled part of the slab into the batch and starts one with room for `need` bytes. */
  #newSlab(need: number): void {
    this.#seal()
    this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, need))
    this.#slabUsed = 0
    this.#slabStart = 0
  }

  /** Hands the records written into the slab since the last seal to the waiting batch. */
  #seal(): void {
    if (this.#slabUsed > this.#slabStart && this.#next !== undefined) this.#next.slabs.push(this.#slab.subarray(this.#slabStart, this.#slabUsed))
    this.#slabStart = this.#slabUsed
  }

  /** Writes batches one after another until none waits; the first after this turn's sends. */
  async #flushSoon(): Promise<void> {
    // After the sends of this piece of synchronous code (a loop of sends, say): they go out in one write.
    await Promise.resolve()
    // Without `durable` this runs once: a synchronous write leaves no time for sends to gather.
    while (this.#next !== undefined) {
      if (!this.#o.durable) {
        this.#writeNow()
        continue
      }
      const b = this.#take()
      try {
        let bufs = b.slabs
        while (bufs.length > 0) bufs = unwritten(bufs, (await this.#fh.writev(bufs)).bytesWritten)
        await this.#fh.datasync()
        b.sent.resolve()
      } catch (err) {
        this.#failed(b, err)
      }
      this.#waitingBytes -= b.bytes
    }
    this.#writing = undefined
  }

  /**
   * One writev per batch, synchronous, as Node's own stdout to a file is:
   * handing a batch to the page cache takes microseconds, less than the
   * thread pool's round trip an async write costs each awaited send.
   */
  #writeSync(slabs: Buffer[]): void {
    let bufs = slabs
    while (bufs.length > 0) bufs = unwritten(bufs, writevSync(this.#fh.fd, bufs))
  }

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs)
    return this.#closing
  }

  async #close(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const flushed = this.#writing ?? Promise.resolve()
    const timedOut = await Promise.race([flushed.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))])
    clearTimeout(timer)
    if (timedOut) {
      // What waits for the next write is refused; the write under way runs out, so the file is never cut mid-record.
      const waiting = this.#next
      this.#next = undefined
      waiting?.sent.reject(new SeamError('ERR_CLOSED', `the file channel to ${this.#o.path} closed (closeTimeoutMs) before these records were written`))
      await flushed
    }
    await this.#fh.close().catch(() => undefined)
    await this.#lock.release()
  }
}
