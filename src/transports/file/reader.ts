import { watch, type FSWatcher } from 'node:fs'
import { stat, type FileHandle } from 'node:fs/promises'
import { SeamError, toSeamError } from '../../channel/errors.js'
import type { Envelope } from '../../channel/envelope.js'
import type { BrokenEnvelope, LinkSink, TransportLink } from '../../channel/transport.js'
import { FrameDecoder, LENGTH_BYTES } from '../stream/frames.js'
import { readEnvelope } from '../stream/wire.js'
import { FileCursor } from './cursor.js'
import { FILE_FEATURES } from './features.js'
import { HEADER_BYTES, checkHeader, openFile } from './format.js'
import type { ResolvedFileOptions } from './options.js'
import { findTail } from './tail.js'

// The envelope reader keeps a view of frames up to 64 KiB between frames: reads of that size stay cheap to hold.
const READ_BYTES = 64 * 1024

/**
 * The reading side of a message file (`listen`): reads records in file order
 * from its start position and delivers each one; at the end of the file it
 * either ends (the channel closes once its handlers are done) or, with
 * `follow`, waits for the file to grow (a change notice from `fs.watch`, or
 * a look every `pollMs` where notices do not come). A full channel window
 * stops the reading. A file that is deleted, replaced or truncated under the
 * reader ends it with `ERR_TRANSPORT`.
 */
export class FileReader implements TransportLink {
  readonly name = 'file'
  readonly features = FILE_FEATURES
  readonly peer = undefined
  readonly replyAddress = undefined
  readonly #fh: FileHandle
  readonly #ino: number
  readonly #o: ResolvedFileOptions
  readonly #cursor: FileCursor
  #decoder: FrameDecoder
  /** Where the next read starts: past every byte handed to the decoder. */
  #readAt: number
  /** Where the next record starts: past every whole record. */
  #recordAt: number
  /** A numeric `from` is checked on the record found there. */
  #checkFirst: boolean
  #paused = false
  #stopped = false
  #wake: (() => void) | undefined
  /** A change notice came since the last read: one that comes while the reader is busy must not be lost. */
  #changed = false
  #watcher: FSWatcher | undefined
  #loop: Promise<void> | undefined
  #closing: Promise<void> | undefined

  private constructor(fh: FileHandle, ino: number, start: number, o: ResolvedFileOptions) {
    this.#fh = fh
    this.#ino = ino
    this.#o = o
    this.#decoder = new FrameDecoder(o.maxFrameBytes)
    this.#readAt = start
    this.#recordAt = start
    this.#checkFirst = typeof o.from === 'number'
    this.#cursor = o.cursor ?? new FileCursor()
    this.#cursor.begin(start)
  }

  /** Opens the file and finds the start position; reading starts with `start`. */
  static async open(o: ResolvedFileOptions): Promise<FileReader> {
    const where = `listen(${o.where})`
    const fh = await openFile(o.path, 'r', where)
    try {
      await checkHeader(fh, o.path)
      const { size, ino } = await fh.stat()
      let start: number
      if (o.from === 'start') start = HEADER_BYTES
      // Past the last whole record: a record being written now is read once it is whole.
      else if (o.from === 'end') start = (await findTail(fh, size, o.maxFrameBytes, o.path)).end
      else if (o.from < HEADER_BYTES || o.from > size) {
        throw new SeamError('ERR_BAD_ARGUMENT', `${where}: "from" ${o.from} is outside the records of ${o.path} (${HEADER_BYTES} to ${size}); give an offset a FileCursor reported`)
      } else start = o.from
      return new FileReader(fh, ino, start, o)
    } catch (err) {
      await fh.close().catch(() => undefined)
      throw toSeamError(err, 'ERR_TRANSPORT', `${where}: cannot read ${o.path}`)
    }
  }

  start(sink: LinkSink): void {
    this.#loop = this.#run(sink)
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#wake?.()
  }

  stopReceiving(): void {
    this.#stopped = true
    this.#wake?.()
  }

  send(envelope: { tag: string }): Promise<void> {
    return Promise.reject(new SeamError('ERR_TRANSPORT', `a file reader cannot send "${envelope.tag}": connect('${this.#o.where}') writes to the file`, { tag: envelope.tag }))
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.stopReceiving()
      await this.#loop
      this.#watcher?.close()
      await this.#fh.close().catch(() => undefined)
    })()
    return this.#closing
  }

  async #run(sink: LinkSink): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#paused) {
          await this.#sleep(undefined)
          continue
        }
        this.#changed = false
        const buf = Buffer.allocUnsafe(READ_BYTES)
        const { bytesRead } = await this.#fh.read(buf, 0, READ_BYTES, this.#readAt)
        if (this.#stopped) break
        if (bytesRead > 0) {
          this.#readAt += bytesRead
          this.#push(sink, buf.subarray(0, bytesRead))
        }
        // A short read: this is the end of the file for now.
        if (bytesRead === READ_BYTES || this.#stopped) continue
        if (this.#decoder.buffered > 0) {
          if (!this.#o.follow) {
            sink.error(this.#tornError())
            break
          }
          // Read the incomplete record again from its start next time: a new writer may have cut it off (a torn
          // record) and appended others since, and bytes read before the cut would otherwise be taken as theirs.
          this.#decoder = new FrameDecoder(this.#o.maxFrameBytes)
          this.#readAt = this.#recordAt
        }
        await this.#checkFile()
        if (!this.#o.follow) break
        await this.#sleep(this.#o.pollMs)
      }
      // The channel handles every record delivered before it closes, however long that takes.
      if (!this.#stopped) sink.ended()
    } catch (err) {
      if (!this.#stopped) sink.ended(toSeamError(err, 'ERR_TRANSPORT', `reading ${this.#o.path} failed`))
    }
  }

  #push(sink: LinkSink, chunk: Buffer): void {
    try {
      this.#decoder.push(chunk, (frame, start, end) => this.#record(sink, frame, start, end))
    } catch (err) {
      // A length of 0 or past maxFrameBytes, or a first record that is no envelope: at a numeric `from`, the
      // offset was wrong; elsewhere the file is damaged.
      if (this.#checkFirst) {
        throw new SeamError('ERR_BAD_ARGUMENT', `listen(${this.#o.where}): offset ${this.#recordAt} is not the start of a record (${(err as Error).message}); give an offset a FileCursor reported`, { cause: err })
      }
      throw new SeamError('ERR_PROTOCOL', `${this.#o.path} is damaged at offset ${this.#recordAt}: ${(err as Error).message}`, { cause: err })
    }
  }

  #record(sink: LinkSink, frame: Buffer, start: number, end: number): void {
    let envelope: Envelope | undefined
    let broken: BrokenEnvelope | undefined
    try {
      envelope = readEnvelope(frame, start, end)
    } catch (err) {
      if (this.#checkFirst) throw err
      broken = { bytes: frame.subarray(start, end), error: toSeamError(err, 'ERR_PROTOCOL', `the record at offset ${this.#recordAt} of ${this.#o.path} is not an envelope`) }
    }
    this.#checkFirst = false
    this.#recordAt += LENGTH_BYTES + end - start
    const index = this.#cursor.add(this.#recordAt)
    let settled = false
    const settle = (): void => {
      if (settled) return
      settled = true
      this.#cursor.settle(index)
    }
    sink.deliver({ envelope, broken, key: envelope?.key, source: this.#o.path, ack: settle, nack: settle })
  }

  #tornError(): SeamError {
    return new SeamError('ERR_PROTOCOL', `${this.#o.path} ends in a torn record (${this.#decoder.describePartial()} at offset ${this.#recordAt}): its writer died while writing it (or is writing it now); skipped`)
  }

  /** At the end of what there is: the file must still be the one opened, and no shorter than what was read. */
  async #checkFile(): Promise<void> {
    let ino: number
    try {
      ino = (await stat(this.#o.path)).ino
    } catch (err) {
      throw new SeamError('ERR_TRANSPORT', `${this.#o.path} was deleted while it was being read (after offset ${this.#recordAt})`, { cause: err })
    }
    if (ino !== this.#ino) throw new SeamError('ERR_TRANSPORT', `${this.#o.path} was replaced by another file while it was being read (after offset ${this.#recordAt})`)
    const { size } = await this.#fh.stat()
    if (size < this.#recordAt) throw new SeamError('ERR_TRANSPORT', `${this.#o.path} was truncated to ${size} bytes while it was being read, below the next record at offset ${this.#recordAt}`)
  }

  /** Waits for a resume, a stop, a change notice, or `ms`. */
  #sleep(ms: number | undefined): Promise<void> {
    if (ms !== undefined) {
      this.#watch()
      if (this.#changed) return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = ms === undefined ? undefined : setTimeout(done, ms)
      this.#wake = done
      if (this.#stopped) done()
    })
  }

  #watch(): void {
    if (this.#watcher !== undefined) return
    try {
      this.#watcher = watch(this.#o.path, { persistent: false }, () => {
        this.#changed = true
        this.#wake?.()
      })
      // Notices are a shortcut; the poll is what the reader relies on.
      this.#watcher.on('error', () => undefined)
    } catch {
      this.#watcher = undefined
    }
  }
}
