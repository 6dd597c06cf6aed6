import { isLeft } from 'fp-ts/lib/Either.js'
import type { Envelope } from '../channel/envelope.js'
import { SeamError, toSeamError } from '../channel/errors.js'
import { Events, logError } from '../channel/events.js'
import { sleep } from '../channel/timers.js'
import { SerdeSet, msgpack, type Serde } from '../serde/index.js'
import { Context, type DispatchSource, type HandlerContext } from './context.js'
import type { AnyMessageType, MessageType } from './message-type.js'
import {
  CASE_CODE,
  DEFAULT_POLICIES,
  readCount,
  readPolicies,
  usesDeadLetter,
  type Policies,
  type PolicyCase,
  type RetryOptions,
} from './policies.js'
import { decodesToItself } from './identity.js'
import { describeErrors } from './report.js'

/** A typed handler: `value` is the codec's decoded type. */
export type Handler<A> = (value: A, ctx: HandlerContext) => void | Promise<void>

/** Anything that can take a dead-lettered envelope, e.g. another Channel. */
export interface DeadLetterSink {
  forward(envelope: Envelope, options?: { to?: string }): Promise<void>
}

/**
 * Where the `'dead-letter'` policy sends envelopes: a destination name on the
 * receiving channel's own transport (a queue or topic), or a sink such as
 * another channel.
 */
export type DeadLetterTarget = string | DeadLetterSink

/** Options of {@link Registry}. */
export interface RegistryOptions extends Partial<Policies>, RetryOptions {
  /** Serde used to encode what channels on this registry send (default msgpack). */
  serde?: Serde
  /** Extra serdes this registry can read, by content type (msgpack and json are built in). */
  serdes?: readonly Serde[]
  /** Required when a policy is `'dead-letter'`. */
  deadLetter?: DeadLetterTarget
  /** Receives errors nobody awaits (default: one line on stderr). */
  onError?: (err: SeamError) => void
}

/** How a message ended. `handled` means its handler resolved. */
export type Outcome =
  | { readonly case: 'handled' }
  | {
      readonly case: PolicyCase
      /** What the policy did; `custom` when a policy function decided. */
      readonly action: 'drop' | 'reject' | 'dead-letter' | 'custom'
      readonly error: SeamError
    }

/** A message that ran into a policy. */
export type PolicyOutcome = Exclude<Outcome, { case: 'handled' }>

/** Counters of {@link Registry.stats}; every message ends in exactly one case. */
export interface RegistryStats {
  handled: number
  unregistered: number
  undecodable: number
  invalid: number
  failed: number
  /** Handler attempts that were retried. */
  retried: number
  dropped: number
  rejected: number
  deadLettered: number
  custom: number
}

/** Events of {@link Registry.events}. */
export type RegistryEvents = {
  /** A message ran into a policy; emitted after the policy decided. */
  outcome: (outcome: PolicyOutcome, envelope: Envelope) => void
}

/** The result of decoding an envelope's body against a type. */
export type Decoded<A> = { ok: true; value: A } | { ok: false; case: 'undecodable' | 'invalid'; error: SeamError }

interface Entry {
  readonly type: AnyMessageType
  /** `decodesToItself(type.codec)`, worked out once at registration rather than per message. */
  readonly plain: boolean
  handler: Handler<unknown> | undefined
}

const HANDLED: Outcome = Object.freeze({ case: 'handled' })

/**
 * Maps tags to message types and handlers, and decides what happens to
 * messages that cannot be handled. Knows nothing of sockets or brokers, so one
 * registry can serve any number of channels on any transports at once.
 */
export class Registry {
  /** Policy outcomes, for observers. */
  readonly events = new Events<RegistryEvents>()
  /** The policies in force (channels may override them). */
  readonly policies: Readonly<Policies>
  /** Serde for encoding sent messages. */
  readonly serde: Serde
  /** Serdes for reading, by content type. */
  readonly serdes: SerdeSet
  readonly deadLetter: DeadLetterTarget | undefined
  readonly onError: (err: SeamError) => void
  readonly #byTag = new Map<string, Entry>()
  readonly #stats: RegistryStats = {
    handled: 0,
    unregistered: 0,
    undecodable: 0,
    invalid: 0,
    failed: 0,
    retried: 0,
    dropped: 0,
    rejected: 0,
    deadLettered: 0,
    custom: 0,
  }
  readonly #retries: number
  readonly #backoffMs: number
  readonly #maxBackoffMs: number

  /** @throws SeamError `ERR_BAD_ARGUMENT` naming the option that is wrong. */
  constructor(options: RegistryOptions = {}) {
    this.policies = Object.freeze(readPolicies(options, DEFAULT_POLICIES, 'new Registry'))
    this.#retries = readCount(options.retries, 'retries', 3, 'new Registry')
    this.#backoffMs = readCount(options.backoffMs, 'backoffMs', 50, 'new Registry')
    this.#maxBackoffMs = readCount(options.maxBackoffMs, 'maxBackoffMs', 2000, 'new Registry')
    this.serde = options.serde ?? msgpack
    this.serdes = [this.serde, ...(options.serdes ?? [])].reduce((set, s) => set.with(s), new SerdeSet())
    this.deadLetter = options.deadLetter
    if (usesDeadLetter(this.policies) && this.deadLetter === undefined) {
      throw new SeamError('ERR_BAD_ARGUMENT', 'new Registry: a policy is \'dead-letter\' but option "deadLetter" is not set')
    }
    this.onError = options.onError ?? logError
  }

  /**
   * Registers message types without handlers (e.g. the types of replies).
   * Registering the same type twice is harmless.
   * @throws SeamError `ERR_DUPLICATE_TAG` when a different type holds the tag.
   */
  register(...types: AnyMessageType[]): this {
    for (const type of types) this.#entry(type)
    return this
  }

  /**
   * Registers `type` if needed and sets its handler.
   * @throws SeamError `ERR_DUPLICATE_TAG` when a different type holds the tag,
   *   `ERR_BAD_ARGUMENT` when the tag already has a handler (call `off` first).
   */
  on<Tag extends string, A, O>(type: MessageType<Tag, A, O>, handler: Handler<A>): this {
    if (typeof handler !== 'function') throw new SeamError('ERR_BAD_ARGUMENT', `registry.on("${type.tag}"): "handler" must be a function`)
    const entry = this.#entry(type)
    if (entry.handler !== undefined) {
      throw new SeamError('ERR_BAD_ARGUMENT', `registry.on("${type.tag}"): the tag already has a handler; call registry.off() first`)
    }
    entry.handler = handler as Handler<unknown>
    return this
  }

  /** Removes the handler of `type`; the type stays registered. */
  off(type: AnyMessageType): this {
    const entry = this.#byTag.get(type.tag)
    if (entry !== undefined) entry.handler = undefined
    return this
  }

  /** The type registered under `tag`, if any. */
  get(tag: string): AnyMessageType | undefined {
    return this.#byTag.get(tag)?.type
  }

  /** Every registered tag. */
  tags(): string[] {
    return [...this.#byTag.keys()]
  }

  /** A snapshot of the counters. */
  stats(): RegistryStats {
    return { ...this.#stats }
  }

  /** Decodes an envelope's body as `type` with the serde named by its content type. */
  decode<A>(type: MessageType<string, A, unknown>, env: Envelope): Decoded<A> {
    return this.#decode(type, decodesToItself(type.codec), env)
  }

  #decode<A>(type: MessageType<string, A, unknown>, plain: boolean, env: Envelope): Decoded<A> {
    const serde = this.serdes.get(env.ct)
    if (serde === undefined) {
      const known = this.serdes.contentTypes().join(', ')
      return undecodable(env, `content type "${env.ct}" is not known (this registry reads ${known})`)
    }
    let raw: unknown
    try {
      raw = serde.decode(env.body)
    } catch (err) {
      return undecodable(env, `body of "${env.tag}" is not valid ${env.ct}: ${err instanceof Error ? err.message : String(err)}`, err)
    }
    let result: ReturnType<typeof type.codec.decode>
    try {
      // A value that passes `is` decodes to itself for most codecs, and `is` allocates nothing.
      if (plain && type.codec.is(raw)) return { ok: true, value: raw as A }
      result = type.codec.decode(raw)
    } catch (err) {
      // A codec that throws (a custom one, or a recursive one on very deep input) fails this message, not the channel.
      const why = err instanceof Error ? err.message : String(err)
      return { ok: false, case: 'invalid', error: new SeamError('ERR_INVALID_PAYLOAD', `payload of "${env.tag}" failed its codec, which threw: ${why}`, { cause: err, tag: env.tag, id: env.id }) }
    }
    if (isLeft(result)) {
      const error = new SeamError('ERR_INVALID_PAYLOAD', `payload of "${env.tag}" failed its codec: ${describeErrors(result.left)}`, {
        tag: env.tag,
        id: env.id,
      })
      return { ok: false, case: 'invalid', error }
    }
    return { ok: true, value: result.right }
  }

  /**
   * Routes one envelope: tag lookup first (an unknown tag costs no body
   * decode), then decode, then the handler with retries, and a policy for
   * whatever fails. Never throws; resolves to how the message ended.
   * Synchronous handlers give a synchronous result.
   */
  dispatch(env: Envelope, source: DispatchSource, policies: Readonly<Policies> = this.policies, signal?: AbortSignal): Outcome | Promise<Outcome> {
    const entry = this.#byTag.get(env.tag)
    if (entry?.handler === undefined) {
      const message =
        entry === undefined
          ? `no message type is registered under tag "${env.tag}"; register it (registry.on / registry.register) or set the "unregistered" policy`
          : `message type "${env.tag}" is registered but has no handler; add one with registry.on()`
      return this.applyPolicy('unregistered', env, new SeamError('ERR_UNREGISTERED_TAG', message, { tag: env.tag, id: env.id }), policies)
    }
    const decoded = this.#decode(entry.type, entry.plain, env)
    if (!decoded.ok) return this.applyPolicy(decoded.case, env, decoded.error, policies)
    return this.#run(entry.handler, decoded.value, new Context(env, source), policies, signal, 0)
  }

  #run(handler: Handler<unknown>, value: unknown, ctx: Context, policies: Readonly<Policies>, signal: AbortSignal | undefined, attempt: number): Outcome | Promise<Outcome> {
    let result: void | Promise<void>
    try {
      result = handler(value, ctx)
    } catch (err) {
      return this.#retry(handler, value, ctx, policies, signal, attempt, err)
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      // Promise.resolve adopts foreign thenables and returns native promises as they are.
      return Promise.resolve(result).then(
        () => this.#handled(),
        (err: unknown) => this.#retry(handler, value, ctx, policies, signal, attempt, err),
      )
    }
    return this.#handled()
  }

  #handled(): Outcome {
    this.#stats.handled++
    return HANDLED
  }

  async #retry(handler: Handler<unknown>, value: unknown, ctx: Context, policies: Readonly<Policies>, signal: AbortSignal | undefined, attempt: number, err: unknown): Promise<Outcome> {
    // A SeamError that says retrying cannot help (e.g. ERR_CLOSED from ctx.reply to a peer that left) is not retried.
    const retriable = !(err instanceof SeamError) || err.retriable
    if (retriable && attempt < this.#retries && signal?.aborted !== true) {
      this.#stats.retried++
      const delay = Math.min(this.#backoffMs * 2 ** attempt, this.#maxBackoffMs)
      if (await sleep(delay, signal)) return this.#run(handler, value, ctx, policies, signal, attempt + 1)
    }
    const why = err instanceof Error ? err.message : String(err)
    const tries = attempt + 1
    const error = new SeamError('ERR_HANDLER_FAILED', `handler of "${ctx.tag}" failed ${tries === 1 ? 'once' : `${tries} times`}: ${why}`, {
      cause: err,
      tag: ctx.tag,
      id: ctx.id,
    })
    return this.applyPolicy('failed', ctx.envelope, error, policies)
  }

  /**
   * @internal Runs the policy for `kase`, counts it and emits the outcome.
   * Channels call it directly for envelopes their transport could not decode.
   */
  applyPolicy(kase: PolicyCase, env: Envelope, error: SeamError, policies: Readonly<Policies>): Outcome | Promise<Outcome> {
    this.#stats[kase]++
    const action = policies[kase]
    if (typeof action !== 'function') {
      const outcome: PolicyOutcome = { case: kase, action, error }
      this.#stats[action === 'drop' ? 'dropped' : action === 'reject' ? 'rejected' : 'deadLettered']++
      this.#emit(outcome, env)
      return outcome
    }
    const settle = (outcome: PolicyOutcome): Outcome => {
      this.#stats[outcome.action === 'custom' ? 'custom' : 'rejected']++
      this.#emit(outcome, env)
      return outcome
    }
    try {
      return Promise.resolve(action(env, error)).then(
        () => settle({ case: kase, action: 'custom', error }),
        (err: unknown) => settle({ case: kase, action: 'reject', error: toSeamError(err, CASE_CODE[kase], `the "${kase}" policy function threw`) }),
      )
    } catch (err) {
      return settle({ case: kase, action: 'reject', error: toSeamError(err, CASE_CODE[kase], `the "${kase}" policy function threw`) })
    }
  }

  #emit(outcome: PolicyOutcome, env: Envelope): void {
    if (this.events.has('outcome')) this.events.emit('outcome', outcome, env)
  }

  #entry(type: AnyMessageType): Entry {
    const existing = this.#byTag.get(type.tag)
    if (existing !== undefined) {
      if (existing.type !== type && existing.type.codec !== type.codec) {
        throw new SeamError('ERR_DUPLICATE_TAG', `tag "${type.tag}" is already registered with another codec (${existing.type.codec.name}); tags must be unique`, {
          tag: type.tag,
        })
      }
      return existing
    }
    const entry: Entry = { type, plain: decodesToItself(type.codec), handler: undefined }
    this.#byTag.set(type.tag, entry)
    return entry
  }
}

function undecodable(env: Envelope, message: string, cause?: unknown): Decoded<never> {
  return { ok: false, case: 'undecodable', error: new SeamError('ERR_UNDECODABLE', message, { cause, tag: env.tag, id: env.id }) }
}
