/**
 * The baseline: what a competent hand-written protocol does with the same
 * codec. Frames are a 4-byte big-endian length plus `@msgpack/msgpack` bytes
 * of the payload, encoded straight into a batch buffer and written once per
 * tick (or per 64 KiB), with backpressure; the reader decodes every frame.
 * No envelope, no tag, no validation: the floor our library is judged against.
 */
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { Decoder, Encoder } from '@msgpack/msgpack'
import { item } from './payload.js'

const BATCH_BYTES = 64 * 1024
const COPY_MAX = 16 * 1024

/** Batches frames and writes them once per tick; `blocked` is true while the socket is backpressured. */
export class RawWriter {
  readonly #socket: Socket
  readonly #encoder = new Encoder()
  #buf = Buffer.allocUnsafe(BATCH_BYTES * 2)
  #pos = 0
  #scheduled = false
  #blocked = false
  #drained: Promise<void> | undefined

  readonly #pad: number

  /** `pad`: zero bytes written before each payload, inside its frame (payload.ts's ENVELOPE_PAD: our envelope's size); the reader skips them. */
  constructor(socket: Socket, pad = 0) {
    this.#socket = socket
    this.#pad = pad
  }

  get blocked(): boolean {
    return this.#blocked
  }

  /** Resolves once the socket takes writes again. */
  drained(): Promise<void> {
    return this.#drained ?? Promise.resolve()
  }

  write(value: unknown): void {
    const bytes = this.#encoder.encodeSharedRef(value)
    const pad = this.#pad
    const len = pad + bytes.length
    if (this.#buf.length - this.#pos < len + 4) this.#grow(len + 4)
    this.#buf.writeUInt32BE(len, this.#pos)
    if (pad > 0) this.#buf.fill(0, this.#pos + 4, this.#pos + 4 + pad)
    this.#buf.set(bytes, this.#pos + 4 + pad)
    this.#pos += 4 + len
    if (this.#pos >= BATCH_BYTES) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flushSoon)
    }
  }

  readonly #flushSoon = (): void => {
    this.#scheduled = false
    this.flush()
  }

  flush(): void {
    if (this.#pos === 0) return
    // The written bytes belong to the socket until sent. A small batch is copied out (cheap, and
    // no 128 KiB allocation per turn to inflate GC pauses); a large one takes the buffer along.
    let out: Buffer
    if (this.#pos <= COPY_MAX) {
      out = Buffer.allocUnsafe(this.#pos)
      this.#buf.copy(out, 0, 0, this.#pos)
    } else {
      out = this.#buf.subarray(0, this.#pos)
      this.#buf = Buffer.allocUnsafe(BATCH_BYTES * 2)
    }
    this.#pos = 0
    if (!this.#socket.write(out) && !this.#blocked) {
      this.#blocked = true
      this.#drained = new Promise((resolve) =>
        this.#socket.once('drain', () => {
          this.#blocked = false
          this.#drained = undefined
          resolve()
        }),
      )
    }
  }

  #grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n))
    this.#buf.copy(next, 0, 0, this.#pos)
    this.#buf = next
  }
}

/** Splits a byte stream into frames and decodes each with the msgpack Decoder, after `pad` filler bytes. */
export function rawReader(onValue: (value: unknown) => void, pad = 0): (chunk: Buffer) => void {
  const decoder = new Decoder()
  let rest: Buffer | undefined
  return (chunk) => {
    if (rest !== undefined) {
      chunk = Buffer.concat([rest, chunk])
      rest = undefined
    }
    let off = 0
    while (chunk.length - off >= 4) {
      const len = chunk.readUInt32BE(off)
      if (chunk.length - off - 4 < len) break
      onValue(decoder.decode(chunk.subarray(off + 4 + pad, off + 4 + len)))
      off += 4 + len
    }
    if (off < chunk.length) rest = chunk.subarray(off)
  }
}

/** A raw client that matches echoes to requests by order, which one connection keeps (TCP or TLS). */
export function rawRequester(socket: Socket): (i: number) => Promise<unknown> {
  const writer = new RawWriter(socket)
  const waiting: ((v: unknown) => void)[] = []
  let head = 0
  socket.on(
    'data',
    rawReader((value) => {
      const resolve = waiting[head++] as (v: unknown) => void
      if (head > 4096) {
        waiting.splice(0, head)
        head = 0
      }
      resolve(value)
    }),
  )
  return (i) =>
    new Promise((resolve) => {
      waiting.push(resolve)
      writer.write(item(i))
    })
}

/** A one-way sender over `writer`: returns a promise only while the socket pushes back. */
export function rawSend(writer: RawWriter): (i: number) => Promise<void> | void {
  return (i) => {
    writer.write(item(i))
    if (writer.blocked) return writer.drained()
  }
}

/** Answers every frame with the same value, as the baseline's request/response server. */
export function rawEcho(socket: Socket): void {
  const writer = new RawWriter(socket)
  socket.on('data', rawReader((value) => writer.write(value)))
}

/** A baseline server: where it listens, and `close()`, which also ends the connections it accepted. */
export interface RawServer {
  readonly port: number
  close(): Promise<void>
}

/**
 * A baseline server on a free loopback port, handing each connection to
 * `onSocket`. Plain TCP by default; `create` makes another kind (e.g. a
 * `node:tls` server with certificates) from the connection listener.
 */
export async function rawServer<S extends Socket = Socket>(
  onSocket: (socket: S) => void,
  create: (onConnection: (socket: S) => void) => NetServer = (onConnection) => createServer({ noDelay: true }, onConnection as (s: Socket) => void),
): Promise<RawServer> {
  const sockets = new Set<S>()
  const server = create((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined) // the sending side going away is not news
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
