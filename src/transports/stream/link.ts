import type { Socket } from 'node:net'
import type { Envelope } from '../../channel/envelope.js'
import { SeamError, toSeamError } from '../../channel/errors.js'
import type { PeerInfo } from '../../channel/peer.js'
import type { BrokenEnvelope, Delivery, LinkSink, TransportFeatures, TransportLink } from '../../channel/transport.js'
import { backoff, sleep } from '../../channel/timers.js'
import { FrameDecoder, sniffForeign } from './frames.js'
import type { ResolvedStreamOptions } from './options.js'
import { Outbox } from './outbox.js'
import { Heartbeat } from './heartbeat.js'
import { helloFrame, isBomb, isPing, readEnvelope, readHello } from './wire.js'
import { HeldSink } from '../../channel/held-sink.js'

/** Silent hang-ups in a row after which a client stops retrying (see #silentClose). */
const SILENT_CLOSES = 3

/** A connection delivers in order and can always answer its sender; nothing is kept. */
export const STREAM_FEATURES: TransportFeatures = Object.freeze({
  reply: true,
  connected: true,
  persistent: false,
  orderingByKey: true,
  orderedWithoutKey: true,
  redelivery: false,
})

/** How a client link opens sockets; TLS and TCP differ only here. */
export interface StreamDialer {
  /** Opens a socket ready for writing (connected; TLS handshake done and verified). */
  dial(signal: AbortSignal): Promise<Socket>
  /** The identity of the peer on `socket`. */
  peer(socket: Socket): PeerInfo
  /**
   * Explains a connection that ended after `dial` resolved but before the
   * peer's hello (a TLS 1.3 server refusing the client certificate shows up
   * here); undefined keeps the default. A non-retriable error ends `dial` at once.
   */
  beforeHello?(error: Error | undefined): SeamError | undefined
}

/** A message read from a byte stream (a socket, a pipe): no acknowledgements, since once read it is this process's and cannot go back. */
export class StreamDelivery implements Delivery {
  readonly key: string | undefined

  constructor(
    readonly envelope: Envelope | undefined,
    readonly broken?: BrokenEnvelope,
  ) {
    this.key = envelope?.key
  }
  ack(): void {}
  nack(): void {}
}

/** The identity a plain socket can tell: its address. */
export function socketPeer(socket: Socket): PeerInfo {
  return { address: socket.remoteAddress, port: socket.remotePort, authenticated: false }
}

/**
 * A link over a byte stream (TCP or TLS): hello, frames, a bounded outbox,
 * and, on the client side, reconnect with capped exponential backoff.
 */
export class StreamLink implements TransportLink {
  readonly features = STREAM_FEATURES
  /** `send` encodes the envelope into its outgoing buffer before it returns. */
  readonly copiesBody = true
  /** Replies come back over the same connection. */
  readonly replyAddress = ''
  readonly #options: ResolvedStreamOptions
  readonly #outbox: Outbox
  readonly #dialer: StreamDialer | undefined
  readonly #stop = new AbortController()
  #peer: PeerInfo | undefined
  #socket: Socket | undefined
  #decoder: FrameDecoder
  #helloSeen = false
  /** Bytes have come in on the current socket. */
  #heard = false
  /** Connections in a row the peer accepted and then closed without sending a byte. */
  #silentCloses = 0
  #failure: SeamError | undefined
  #socketError: Error | undefined
  #handshake: { resolve(): void; reject(err: SeamError): void } | undefined
  #heartbeat: Heartbeat | undefined
  /** The channel's window is full: the socket is not read (after the hello, which is always read). */
  #paused = false
  /** What the channel hears; what comes before `start` (a fast peer's first frames) is held until then. */
  readonly #out = new HeldSink()
  #closing: Promise<void> | undefined

  private constructor(
    readonly name: string,
    options: ResolvedStreamOptions,
    dialer: StreamDialer | undefined,
  ) {
    this.#options = options
    this.#dialer = dialer
    this.#outbox = new Outbox({ maxMessages: options.maxOutboxMessages, maxBytes: options.maxOutboxBytes, maxFrameBytes: options.maxFrameBytes })
    this.#decoder = new FrameDecoder(options.maxFrameBytes)
  }

  /** The server side of an accepted socket. */
  static accept(name: string, socket: Socket, peer: PeerInfo, options: ResolvedStreamOptions): StreamLink {
    const link = new StreamLink(name, options, undefined)
    link.#peer = peer
    link.#use(socket).catch(() => undefined) // a failed handshake ends the link through 'close'
    return link
  }

  /**
   * The client side: dials until a peer says hello, for at most
   * `connectTimeoutMs`. A peer that answers with something else fails at
   * once with `ERR_PROTOCOL`; one that cannot be reached, with `ERR_TRANSPORT`.
   */
  static async dial(name: string, target: string, dialer: StreamDialer, options: ResolvedStreamOptions): Promise<StreamLink> {
    const link = new StreamLink(name, options, dialer)
    const deadline = Date.now() + options.connectTimeoutMs
    const timeout = AbortSignal.timeout(options.connectTimeoutMs)
    let attempt = 0
    for (;;) {
      try {
        await link.#open(timeout)
        return link
      } catch (err) {
        const error = toSeamError(err, 'ERR_TRANSPORT', `cannot connect to ${target}`)
        const wait = Math.min(backoff(attempt++, 50, 1000), deadline - Date.now())
        // Only an unreachable peer is worth another attempt; a refusal (protocol, certificate) will not change.
        const fatal = error.code !== 'ERR_TRANSPORT' || !error.retriable
        if (fatal || wait <= 0 || timeout.aborted) {
          link.#stop.abort()
          if (fatal) throw error
          throw new SeamError('ERR_TRANSPORT', `cannot connect to ${target} within ${options.connectTimeoutMs} ms (connectTimeoutMs): ${reason(err)}`, { cause: err })
        }
        await sleep(wait, timeout)
      }
    }
  }

  get peer(): PeerInfo | undefined {
    return this.#peer
  }

  start(sink: LinkSink): void {
    this.#out.attach(sink)
  }

  send(envelope: Envelope): Promise<void> {
    return this.#outbox.send(envelope)
  }

  pause(): void {
    this.#paused = true
    if (this.#helloSeen) this.#socket?.pause()
  }

  resume(): void {
    this.#paused = false
    this.#socket?.resume()
  }

  /** A connection cannot deliver again: what arrives while its channel closes is still read and handled. */
  stopReceiving(): void {}

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs)
    return this.#closing
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    // Only a live connection can drain; queued sends with no connection fail now rather than after the timeout.
    if (this.#socket !== undefined && this.#helloSeen && this.#outbox.waiting > 0) await this.#outbox.drain(timeoutMs)
    this.#stop.abort()
    this.#failQueued('channel closed')
    const socket = this.#socket
    if (socket === undefined || socket.destroyed) return
    // The peer's end of the connection must be read for it to close.
    socket.resume()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), Math.max(100, deadline - Date.now()))
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.end()
    })
  }

  /** Fails every queued and later send (`the tcp <why> before this message could be sent`) and reports how many there were. */
  #failQueued(why: string, cause?: SeamError): void {
    const lost = this.#outbox.close(new SeamError('ERR_CLOSED', `the ${this.name} ${why} before this message could be sent`, { cause }))
    if (lost > 0) this.#out.error(new SeamError('ERR_CLOSED', `${lost} queued messages were never sent: the ${this.name} ${why}`, { cause }))
  }

  async #open(signal: AbortSignal): Promise<void> {
    const socket = await (this.#dialer as StreamDialer).dial(signal)
    this.#peer = (this.#dialer as StreamDialer).peer(socket)
    // connectTimeoutMs bounds the whole attempt: a peer that accepts but never says hello must not hold connect() for handshakeTimeoutMs.
    const onAbort = (): void => this.#fail(socket, new SeamError('ERR_TRANSPORT', 'the peer accepted the connection but sent no hello in time'))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await this.#use(socket)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Takes over a fresh socket; resolves once the peer's hello arrived. */
  #use(socket: Socket): Promise<void> {
    this.#socket = socket
    this.#decoder = new FrameDecoder(this.#options.maxFrameBytes)
    this.#helloSeen = false
    this.#heard = false
    this.#failure = undefined
    this.#socketError = undefined
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk))
    socket.on('end', () => this.#onEnd(socket))
    socket.on('error', (err) => {
      if (socket === this.#socket) this.#socketError = err
    })
    socket.on('close', () => this.#onClose(socket))
    socket.write(helloFrame(this.#options.maxFrameBytes, this.#options.heartbeatMs))
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#fail(socket, new SeamError('ERR_PROTOCOL', `the peer sent no hello within ${this.#options.handshakeTimeoutMs} ms (handshakeTimeoutMs)`)),
        this.#options.handshakeTimeoutMs,
      )
      this.#handshake = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      }
    })
  }

  #onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.#socket || this.#failure !== undefined) return
    this.#heard = true
    if (!this.#helloSeen && this.#decoder.buffered === 0) {
      const foreign = sniffForeign(chunk)
      if (foreign !== undefined) return this.#fail(socket, new SeamError('ERR_PROTOCOL', `received ${foreign}`))
    }
    try {
      this.#decoder.push(chunk, this.#onFrame)
    } catch (err) {
      this.#fail(socket, toSeamError(err, 'ERR_PROTOCOL', 'bad frame'))
    }
  }

  readonly #onFrame = (buf: Buffer, start: number, end: number): void => {
    // A frame that ended the connection may have had others behind it in the same chunk.
    if (this.#failure !== undefined) return
    if (!this.#helloSeen) {
      const hello = readHello(buf.subarray(start, end))
      this.#helloSeen = true
      this.#silentCloses = 0
      this.#outbox.peerMaxFrameBytes = hello.maxFrameBytes
      const socket = this.#socket as Socket
      this.#outbox.attach(socket)
      if (this.#options.heartbeatMs > 0) this.#heartbeat = new Heartbeat(socket, this.#options.heartbeatMs, hello.heartbeatMs, (err) => this.#fail(socket, err))
      this.#handshake?.resolve()
      this.#handshake = undefined
      if (this.#paused) socket.pause()
      return
    }
    if (isPing(buf, start, end)) return
    let delivery: StreamDelivery
    try {
      delivery = new StreamDelivery(readEnvelope(buf, start, end))
    } catch (err) {
      const error = toSeamError(err, 'ERR_PROTOCOL', 'malformed envelope')
      if (isBomb(err)) return this.#fail(this.#socket as Socket, error)
      // The frame boundary is intact, so only this message is lost, not the connection.
      delivery = new StreamDelivery(undefined, { bytes: Buffer.from(buf.subarray(start, end)), error })
    }
    this.#out.deliver(delivery)
  }

  #onEnd(socket: Socket): void {
    if (socket === this.#socket && this.#decoder.buffered > 0 && this.#failure === undefined) {
      this.#failure = new SeamError('ERR_PROTOCOL', `the peer closed the connection in the middle of a frame (after ${this.#decoder.describePartial()})`)
    }
  }

  /** Ends this one connection on a protocol error. */
  #fail(socket: Socket, error: SeamError): void {
    if (socket !== this.#socket || this.#failure !== undefined) return
    this.#failure = error
    socket.destroy()
  }

  #onClose(socket: Socket): void {
    if (socket !== this.#socket) return
    this.#socket = undefined
    this.#heartbeat?.stop()
    this.#heartbeat = undefined
    this.#outbox.detach()
    const cause =
      this.#failure ??
      (this.#socketError !== undefined ? toSeamError(this.#socketError, 'ERR_TRANSPORT', 'the connection failed') : undefined)
    if (this.#handshake !== undefined) {
      const explained = this.#failure === undefined ? this.#dialer?.beforeHello?.(this.#socketError) : undefined
      this.#handshake.reject(explained ?? this.#silentClose() ?? cause ?? new SeamError('ERR_TRANSPORT', 'the peer closed the connection before saying hello (a TLS server does that to a plaintext client: then use a tls:// URL)'))
      this.#handshake = undefined
      // A client's dial or reconnect loop handles its own failed attempt; a server reports the peer and ends.
      if (this.#dialer === undefined) this.#out.ended(cause ?? new SeamError('ERR_PROTOCOL', 'the peer closed the connection before saying hello'))
      return
    }
    if (this.#closing !== undefined) return
    if (this.#dialer === undefined || this.#options.reconnect === false) {
      // A peer leaving is normal for a server; a client whose server hung up did not end by its own close().
      const ended = cause ?? (this.#dialer === undefined ? undefined : new SeamError('ERR_TRANSPORT', 'the server closed the connection (reconnect is off)'))
      // No socket will come back: fail queued and later sends now, or a handler awaiting ctx.reply holds close() for closeTimeoutMs.
      this.#failQueued('connection ended', ended)
      this.#out.ended(ended)
      return
    }
    const lost = cause ?? new SeamError('ERR_TRANSPORT', 'the server closed the connection')
    this.#out.status('down', lost)
    this.#out.error(new SeamError('ERR_TRANSPORT', `connection lost (${lost.message}); reconnecting`, { cause: lost }))
    void this.#reconnect()
  }

  /**
   * A seam-channel peer says hello as soon as it accepts, so a peer that
   * accepts and hangs up without a byte, again and again, speaks another
   * protocol (a TLS server does this to a plaintext client). Retrying until
   * connectTimeoutMs would only delay the same answer: the third time in a
   * row, fail for good.
   */
  #silentClose(): SeamError | undefined {
    if (this.#dialer === undefined) return undefined
    if (this.#failure !== undefined || this.#heard) {
      // This peer did answer: the hang-ups are no longer in a row.
      this.#silentCloses = 0
      return undefined
    }
    if (++this.#silentCloses < SILENT_CLOSES) return undefined
    this.#silentCloses = 0
    return new SeamError(
      'ERR_TRANSPORT',
      `the peer accepted the connection and closed it without a byte, ${SILENT_CLOSES} times in a row: it does not speak the seam-channel ${this.name}:// protocol (a TLS server does this to a plaintext client: then use a tls:// URL)`,
      { retriable: false, cause: this.#socketError },
    )
  }

  async #reconnect(): Promise<void> {
    const r = this.#options.reconnect
    if (r === false) return
    for (let attempt = 0; !this.#stop.signal.aborted; attempt++) {
      if (!(await sleep(backoff(attempt, r.initialDelayMs, r.maxDelayMs), this.#stop.signal))) return
      try {
        await this.#open(AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#options.connectTimeoutMs)]))
        this.#out.status('up')
        return
      } catch (err) {
        // A peer that answers but is not ours will not get better by retrying fast; say so, keep the backoff.
        if (err instanceof SeamError && (err.code === 'ERR_PROTOCOL' || !err.retriable)) this.#out.error(err)
      }
    }
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
