import { setMaxListeners } from 'node:events'
import type { Registry, DeadLetterSink, Outcome } from '../registry/registry.js'
import type { DispatchSource } from '../registry/context.js'
import type { AnyMessageType, MessageType, TypeOf } from '../registry/message-type.js'
import type { Handler } from '../registry/registry.js'
import { readCount, type Policies } from '../registry/policies.js'
import type { Serde } from '../serde/serde.js'
import { EMPTY_BODY, EMPTY_HEADERS, ERROR_TAG, RESERVED_HEADER_PREFIX, type Envelope } from './envelope.js'
import { newId } from './id.js'
import { SeamError, toSeamError } from './errors.js'
import { errorOfReply } from './error-reply.js'
import { AuthorizationGate } from './gate.js'
import { Settlement } from './settle.js'
import { Events } from './events.js'
import type { Authorize, RequestOptions, SendOptions } from './options.js'
import type { PeerInfo } from './peer.js'
import { PendingRequests } from './pending.js'
import { Window } from './window.js'
import type { ResolvedChannelOptions } from './resolve-options.js'
import type { Delivery, LinkSink, RouteOptions, TransportFeatures, TransportLink } from './transport.js'

/** Events of {@link Channel.events}. */
export type ChannelEvents = {
  /** The connection went down (sends wait in the outbox) or came back. */
  status: (state: 'up' | 'down', cause?: SeamError) => void
  /** A message was refused by `authorize`. */
  forbidden: (tag: string, peer: PeerInfo | undefined) => void
}

/** @internal What a Server hands its peer channels besides the options. */
export interface ChannelExtras {
  authorize?: Authorize | undefined
}

function notAType(method: string): SeamError {
  return new SeamError('ERR_BAD_ARGUMENT', `${method}(): the first argument must be a message type made by defineMessage(tag, codec)`)
}

/** Headers travel as string → string; anything else fails here with a SeamError, not deep inside a transport. */
function checkHeaders(headers: unknown, tag: string): void {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new SeamError('ERR_BAD_ARGUMENT', `cannot send "${tag}": option "headers" must be an object of strings`, { tag })
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new SeamError('ERR_BAD_ARGUMENT', `cannot send "${tag}": header "${name}" must be a string (got ${value === null ? 'null' : typeof value})`, { tag })
    // The library's own headers (error code, dead-letter reason) must mean what the library says.
    if (name.toLowerCase().startsWith(RESERVED_HEADER_PREFIX)) {
      throw new SeamError('ERR_BAD_ARGUMENT', `cannot send "${tag}": header names starting with "${RESERVED_HEADER_PREFIX}" are reserved (got "${name}")`, { tag })
    }
  }
}

/** Placeholder envelope for bytes that never became one, so policies and dead-letters have something to carry. */
function brokenEnvelope(bytes: Uint8Array, id: string | undefined): Envelope {
  return { tag: '$seam/undecodable', id: id ?? newId(), ts: Date.now(), ct: 'application/octet-stream', corr: undefined, replyTo: undefined, key: undefined, headers: EMPTY_HEADERS, body: bytes }
}

/**
 * A typed, bidirectional message channel over one transport link.
 * `connect` returns one; a `Server` makes one per accepted peer.
 *
 * Safe to use concurrently. After `close()` every send rejects with `ERR_CLOSED`.
 */
export class Channel implements DeadLetterSink, AsyncDisposable {
  /** The registry whose handlers serve this channel. */
  readonly registry: Registry
  /** Status and authorization events. */
  readonly events = new Events<ChannelEvents>()
  /** The transport's name, e.g. `tcp`. */
  readonly transport: string
  /** What the transport promises. */
  readonly features: TransportFeatures
  readonly #link: TransportLink
  readonly #serde: Serde
  /** Encodes a body: into a reused buffer where the link copies it at once, else into bytes of its own. */
  readonly #encodeBody: (value: unknown) => Uint8Array
  readonly #policies: Readonly<Policies>
  readonly #onError: (err: SeamError) => void
  readonly #closeTimeoutMs: number
  readonly #requestTimeoutMs: number
  readonly #gate: AuthorizationGate | undefined
  readonly #settlement: Settlement
  readonly #pending = new PendingRequests<Envelope>()
  readonly #abort = new AbortController()
  /** `#abort.signal`, kept: the getter would run once per dispatched message. */
  readonly #signal = this.#abort.signal
  readonly #source: DispatchSource
  readonly #window: Window
  /** Closing, past waiting for handlers: nothing more is handled. */
  #stopped = false
  /** Messages received but never handled because the channel closed first. */
  #unhandled = 0
  #closing: Promise<void> | undefined
  #endedBy: SeamError | undefined
  readonly #closed: Promise<void | Error>
  #resolveClosed!: (result: void | Error) => void

  /** @internal Channels come from `connect` and `listen`, which read and check the options. */
  constructor(link: TransportLink, o: ResolvedChannelOptions, extras: ChannelExtras = {}) {
    this.#link = link
    this.transport = link.name
    this.features = link.features
    this.registry = o.registry
    this.#serde = o.serde
    const serde = o.serde
    this.#encodeBody = (link.copiesBody === true ? serde.encodeShared?.bind(serde) : undefined) ?? serde.encode.bind(serde)
    this.#policies = o.policies
    this.#onError = o.onError
    this.#closeTimeoutMs = o.closeTimeoutMs
    this.#requestTimeoutMs = o.requestTimeoutMs
    this.#gate = extras.authorize === undefined ? undefined : new AuthorizationGate(extras.authorize, () => link.peer, o.onError)
    this.#settlement = new Settlement(link, o.deadLetter, o.serde.contentType, o.onError)
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    this.#source = {
      transport: link.name,
      peer: link.peer,
      canReply: (request) => this.#canReply(request),
      reply: (request, type, value) => this.#reply(request, type, value),
    }
    // A handler waiting to retry listens on the signal; the window bounds how many do (Node warns past 10).
    setMaxListeners(o.concurrency + 1, this.#signal)
    this.#window = new Window(
      o.concurrency,
      { pause: () => link.pause(), resume: () => link.resume(), awaitingReplies: () => this.#pending.size > 0 },
      (d) => this.#run(d),
    )
    const sink: LinkSink = {
      deliver: (d) => this.#deliver(d),
      status: (state, cause) => this.#status(state, cause),
      ended: (error) => this.#ended(error),
      error: (error) => this.#onError(error),
    }
    link.start(sink)
  }

  /** The peer's identity, where the transport knows it (TLS client certificates). */
  get peer(): PeerInfo | undefined {
    return this.#link.peer
  }

  /** Requests waiting for their reply. */
  get pendingRequests(): number {
    return this.#pending.size
  }

  /** Shortcut to `registry.on`: the handler serves every channel on this registry. */
  on<Tag extends string, A, O>(type: MessageType<Tag, A, O>, handler: Handler<A>): this {
    this.registry.on(type, handler)
    return this
  }

  /**
   * Sends `value` as a message of `type`, fire and forget. Resolves once the
   * message is queued for the socket (stream transports: at once while the
   * socket keeps up, else once written, so awaiting follows backpressure) or
   * confirmed by the broker. A receiver that rejects it reports through
   * `onError`.
   * @throws SeamError `ERR_CLOSED`, `ERR_OUTBOX_FULL`, `ERR_FRAME_TOO_LARGE`, `ERR_TRANSPORT`.
   */
  send<A, O>(type: MessageType<string, A, O>, value: A, options?: SendOptions): Promise<void> {
    if (typeof type?.tag !== 'string') return Promise.reject(notAType('send'))
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(type.tag))
    let env: Envelope
    try {
      env = this.#build(type, value, options?.headers, undefined, undefined, options?.key)
    } catch (err) {
      return Promise.reject(toSeamError(err, 'ERR_BAD_ARGUMENT', `cannot encode "${type.tag}"`))
    }
    return this.#link.send(env, options)
  }

  /**
   * Sends `value` and waits for the reply, decoded and checked as
   * `options.expect`. Replies are matched by correlation id, so any number of
   * requests may be in flight at once.
   * @throws SeamError the code the receiver reported (e.g. `ERR_UNREGISTERED_TAG`),
   *   `ERR_TIMEOUT`, `ERR_CLOSED`, `ERR_TRANSPORT` (connection lost), or
   *   `ERR_INVALID_PAYLOAD` when the reply is not an `expect`.
   */
  async request<A, O, R extends AnyMessageType>(type: MessageType<string, A, O>, value: A, options: RequestOptions<R>): Promise<TypeOf<R>> {
    if (typeof type?.tag !== 'string') throw notAType('request')
    if (this.#closing !== undefined) throw this.#closedError(type.tag)
    const expect = options?.expect
    if (typeof expect?.tag !== 'string' || typeof expect.codec?.decode !== 'function') {
      throw new SeamError('ERR_BAD_ARGUMENT', `request("${type.tag}"): option "expect" must be the reply's message type`)
    }
    const replyTo = this.#link.replyAddress
    if (!this.features.reply || replyTo === undefined) {
      throw new SeamError('ERR_TRANSPORT', `this ${this.transport} channel cannot receive replies, so request() cannot work on it; use send()`)
    }
    const timeoutMs = readCount(options.timeoutMs, 'timeoutMs', this.#requestTimeoutMs, `request("${type.tag}")`)
    let env: Envelope
    try {
      env = this.#build(type, value, options.headers, undefined, replyTo, options.key)
    } catch (err) {
      throw toSeamError(err, 'ERR_BAD_ARGUMENT', `cannot encode "${type.tag}"`)
    }
    const id = env.id
    const replied = this.#pending.add(id, type.tag, timeoutMs)
    // Sent before anything else runs: its body may be in the serde's shared buffer (see #encodeBody).
    this.#link.send(env, options).then(
      () => this.#pending.written(id),
      (err: unknown) => this.#pending.reject(id, err),
    )
    // A full window keeps reading while a reply is awaited (see Window).
    this.#window.check()
    const reply = options.signal === undefined ? await replied : await this.#abortable(replied, id, options.signal)
    if (reply.tag !== expect.tag) {
      throw new SeamError('ERR_INVALID_PAYLOAD', `the reply to "${type.tag}" is a "${reply.tag}", not the expected "${expect.tag}"`, { tag: reply.tag, id: reply.id })
    }
    const decoded = this.registry.decode(expect, reply)
    if (!decoded.ok) throw decoded.error
    return decoded.value as TypeOf<R>
  }

  /** Lets `signal` fail the pending request `id` (rejecting with its reason). */
  async #abortable(replied: Promise<Envelope>, id: string, signal: AbortSignal): Promise<Envelope> {
    const onAbort = (): void => void this.#pending.reject(id, signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await replied
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Sends an envelope exactly as it is (same id, tag and body): what the
   * `'dead-letter'` policy uses when this channel is the dead-letter target.
   */
  forward(envelope: Envelope, options?: RouteOptions): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(envelope.tag))
    return this.#link.send(envelope, options)
  }

  /**
   * Stops taking new messages, waits for in-flight handlers and unflushed
   * sends (bounded by `closeTimeoutMs`), then releases every socket and
   * timer. Idempotent; concurrent callers share one promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /** Resolves when the channel is closed: undefined after `close()`, the Error when it ended on a failure. Never rejects. */
  closed(): Promise<void | Error> {
    return this.#closed
  }

  /** `await using channel = await connect(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + this.#closeTimeoutMs
    this.#link.stopReceiving()
    // A broker delivers again what this channel will not handle; a connection cannot, so its waiting messages are handled.
    if (this.#link.features.redelivery) for (const d of this.#window.takeWaiting()) this.#refuse(d)
    await this.#window.idle(deadline)
    // From here on nothing more is handled: what still waits, or arrives while the link closes, is counted and reported.
    this.#stopped = true
    for (const d of this.#window.takeWaiting()) this.#refuse(d)
    this.#abort.abort()
    await this.#link.close(Math.max(0, deadline - Date.now())).catch((err: unknown) => this.#onError(toSeamError(err, 'ERR_TRANSPORT', 'closing the link failed')))
    if (this.#unhandled > 0) {
      this.#onError(new SeamError('ERR_CLOSED', `${this.#unhandled} received messages were never handled: the channel closed (closeTimeoutMs ${this.#closeTimeoutMs}) before their turn`))
    }
    this.#pending.rejectAll((tag) => new SeamError('ERR_CLOSED', `the channel closed before the reply to "${tag}" arrived`, { tag }))
    this.#pending.clear()
    this.#resolveClosed(this.#endedBy)
  }

  /** A message a closing channel will not handle: handed back where the transport redelivers, else counted and reported, never silently. */
  #refuse(d: Delivery): void {
    const redelivery = this.#link.features.redelivery
    if (!redelivery) this.#unhandled++
    this.#settlement.report(d.nack({ requeue: redelivery }))
  }

  #closedError(tag: string): SeamError {
    return new SeamError('ERR_CLOSED', `cannot send "${tag}": the channel is ${this.#endedBy === undefined ? 'closed' : `closed (${this.#endedBy.message})`}`, { tag, cause: this.#endedBy })
  }

  #build(type: AnyMessageType, value: unknown, headers: Record<string, string> | undefined, corr: string | undefined, replyTo: string | undefined, key: string | undefined): Envelope {
    if (headers !== undefined) checkHeaders(headers, type.tag)
    return {
      tag: type.tag,
      id: newId(),
      ts: Date.now(),
      ct: this.#serde.contentType,
      corr,
      replyTo,
      key,
      headers: headers ?? EMPTY_HEADERS,
      // Built right before the link's send, with nothing encoded in between: a shared buffer is safe.
      body: this.#encodeBody(type.codec.encode(value)),
    }
  }

  // ---- inbound ----

  #deliver(d: Delivery): void {
    const env = d.envelope
    if (env !== undefined) {
      // Replies never wait in the window: a handler in it may be waiting for them.
      if (env.tag === ERROR_TAG) {
        const error = errorOfReply(env)
        if (env.corr === undefined || !this.#pending.reject(env.corr, error)) this.#onError(error)
        this.#settlement.report(d.ack())
        return
      }
      if (env.corr !== undefined) {
        // A reply nobody waits for (timed out, cancelled) is reported, never dispatched or bounced back.
        if (!this.#pending.resolve(env.corr, env)) {
          this.#onError(new SeamError('ERR_TIMEOUT', `a reply "${env.tag}" arrived for a request that is no longer waiting (it timed out or was cancelled)`, { tag: env.tag, id: env.corr }))
        }
        this.#settlement.report(d.ack())
        return
      }
    }
    // A closing channel hands a broker's messages back at once; a connection's it handles until it stops.
    if (this.#stopped || (this.#closing !== undefined && this.#link.features.redelivery)) this.#refuse(d)
    else this.#window.admit(d)
  }

  /** Handles a delivery the window let through; it ends in `#finish`. */
  #run(d: Delivery): void {
    const env = d.envelope
    if (env === undefined) {
      const error = d.broken?.error ?? new SeamError('ERR_PROTOCOL', 'the transport delivered neither an envelope nor bytes')
      const broken = brokenEnvelope(d.broken?.bytes ?? EMPTY_BODY, error.id)
      this.#track(this.registry.applyPolicy('undecodable', broken, error, this.#policies), d, broken)
      return
    }
    if (this.#gate !== undefined) this.#gate.pass(env, (allowed) => (allowed ? this.#dispatch(d, env) : this.#forbid(d, env)))
    else this.#dispatch(d, env)
  }

  #dispatch(d: Delivery, env: Envelope): void {
    this.#track(this.registry.dispatch(env, this.#source, this.#policies, this.#signal), d, env)
  }

  #forbid(d: Delivery, env: Envelope): void {
    const peer = this.#link.peer
    const who = peer?.commonName ?? peer?.address ?? 'this peer'
    const error = new SeamError('ERR_FORBIDDEN', `${who} may not send "${env.tag}"`, { tag: env.tag, id: env.id })
    this.events.emit('forbidden', env.tag, peer)
    this.#settled(this.#settlement.reject(d, env, error, false), d, env)
  }

  /** Settles a delivery once its dispatch is done. */
  #track(result: Outcome | Promise<Outcome>, d: Delivery, env: Envelope): void {
    if (!(result instanceof Promise)) {
      this.#settled(this.#settlement.settle(d, env, result), d, env)
      return
    }
    result.then(
      (outcome) => this.#settled(this.#settlement.settle(d, env, outcome), d, env),
      (err: unknown) => this.#settleFailed(err, d, env),
    )
  }

  /** Frees the delivery's place in the window once its ack or nack is done. */
  #settled(result: void | Promise<void>, d: Delivery, env: Envelope): void {
    if (result instanceof Promise) result.then(() => this.#finish(d), (err: unknown) => this.#settleFailed(err, d, env))
    else this.#finish(d)
  }

  #finish(d: Delivery): void {
    this.#window.finish(d)
  }

  #settleFailed(err: unknown, d: Delivery, env: Envelope): void {
    this.#onError(toSeamError(err, 'ERR_TRANSPORT', `settling "${env.tag}" failed`))
    this.#finish(d)
  }

  /** Only a request (it carries `replyTo`) waits for a reply. */
  #canReply(request: Envelope): boolean {
    return this.#link.features.reply && request.replyTo !== undefined
  }

  #reply(request: Envelope, type: AnyMessageType, value: unknown): Promise<void> {
    // A reply to a plain send would arrive uncorrelated; nobody waits for it, so nothing is sent.
    if (request.replyTo === undefined) return Promise.resolve()
    if (!this.#link.features.reply) {
      return Promise.reject(new SeamError('ERR_TRANSPORT', `cannot reply to "${request.tag}": the ${this.transport} transport carries no replies`, { tag: request.tag }))
    }
    let env: Envelope
    try {
      env = this.#build(type, value, undefined, request.id, undefined, undefined)
    } catch (err) {
      return Promise.reject(toSeamError(err, 'ERR_BAD_ARGUMENT', `cannot encode the reply "${type.tag}"`))
    }
    return this.#link.send(env, { to: request.replyTo, purpose: 'reply' })
  }

  #status(state: 'up' | 'down', cause?: SeamError): void {
    if (state === 'down') {
      this.#pending.rejectAll(
        (tag) => new SeamError('ERR_TRANSPORT', `the connection was lost before the reply to "${tag}" arrived`, { tag, cause, retriable: true }),
        (written) => written,
      )
    }
    this.events.emit('status', state, cause)
  }

  #ended(error?: SeamError): void {
    if (error !== undefined && this.#closing === undefined) {
      this.#endedBy = error
      this.#onError(error)
    }
    // A link that ran out of input (standard input closed, a file read to its end) delivered all it will: every
    // message of it is handled, however long that takes. closeTimeoutMs bounds a close() the user asked for, not this.
    if (error === undefined && this.#closing === undefined) void this.#window.idle(Infinity).then(() => this.close())
    else void this.close()
  }
}
