import type { Outcome } from '../registry/registry.js'
import type { ResolvedBridgeOptions } from './bridge-options.js'
import type { Envelope } from './envelope.js'
import { SeamError, toSeamError } from './errors.js'
import type { IdWindow } from './id-window.js'
import { Settlement } from './settle.js'
import { backoff, sleep } from './timers.js'
import type { Delivery, LinkSink, TransportLink } from './transport.js'
import { Window } from './window.js'

/** Counters of {@link Bridge.stats}; every message a bridge takes in ends in exactly one of the first four. */
export interface BridgeStats {
  /** Sent to the destination, which confirmed it; then acknowledged at the source. */
  forwarded: number
  /** Not among the `tags` forwarded; acknowledged at the source. */
  skipped: number
  /** An envelope id among the last `dedupe` forwarded; acknowledged at the source. */
  duplicates: number
  /** Refused by `validate` (its policy ran), by the destination for good, or unreadable. */
  refused: number
  /** Sends the destination refused and that were tried again. */
  retried: number
  /** Handed back to the source unforwarded, because the bridge closed first. */
  returned: number
}

/** What the source links of one bridge share. */
export interface BridgeShared {
  readonly o: ResolvedBridgeOptions
  readonly destination: TransportLink
  readonly stats: BridgeStats
  readonly seen: IdWindow | undefined
  /** Aborted when the bridge stops waiting for messages in flight (closing, past its bound). */
  readonly signal: AbortSignal
  /** A send was refused; the bridge reports the first of an outage only. */
  refused(error: SeamError): void
  /** A send was confirmed: the outage, if any, is over. */
  confirmed(): void
  /** The link ended; `error` when it failed rather than closed. */
  ended(source: BridgeSource, error: SeamError | undefined): void
}

/**
 * One source link of a bridge (a broker consumer, or one accepted
 * connection): takes its deliveries through an in-flight window (pausing
 * the link while the window is full, which is how a destination that is slow
 * or down holds the source back) and settles each only after its fate is
 * known: acknowledged once the destination confirmed it, handed back
 * (`nack` with requeue) when the bridge closed first.
 */
export class BridgeSource {
  readonly link: TransportLink
  readonly #s: BridgeShared
  readonly #settlement: Settlement
  readonly #window: Window
  #closing = false
  #stopped = false

  constructor(link: TransportLink, shared: BridgeShared) {
    this.link = link
    this.#s = shared
    const o = shared.o
    this.#settlement = new Settlement(link, o.deadLetter, o.serde.contentType, o.onError)
    this.#window = new Window(o.concurrency, { pause: () => link.pause(), resume: () => link.resume(), awaitingReplies: () => false }, (d) => this.#run(d))
    const sink: LinkSink = {
      deliver: (d) => this.#deliver(d),
      status: () => undefined,
      ended: (error) => shared.ended(this, error),
      error: (error) => o.onError(error),
    }
    link.start(sink)
  }

  /** Takes in no more; a source that delivers again gets back what had not started. Idempotent. */
  stopReceiving(): void {
    if (this.#closing) return
    this.#closing = true
    this.link.stopReceiving()
    if (this.link.features.redelivery) for (const d of this.#window.takeWaiting()) this.#settlement.report(this.#giveBack(d))
  }

  /** Resolves once nothing is in flight, or at `deadline`. */
  idle(deadline: number): Promise<void> {
    return this.#window.idle(deadline)
  }

  /** Nothing more is forwarded: what still waits is handed back (or, where the source cannot take it back, counted and reported). */
  stop(): void {
    this.stopReceiving()
    this.#stopped = true
    for (const d of this.#window.takeWaiting()) this.#settlement.report(this.#giveBack(d))
  }

  #deliver(d: Delivery): void {
    if (this.#stopped || (this.#closing && this.link.features.redelivery)) this.#settlement.report(this.#giveBack(d))
    else this.#window.admit(d)
  }

  #run(d: Delivery): void {
    const env = d.envelope
    if (env === undefined) {
      // Bytes that never became an envelope cannot be forwarded untouched: the source's own dead-letter setup gets them.
      const error = d.broken?.error ?? new SeamError('ERR_PROTOCOL', 'the transport delivered neither an envelope nor bytes')
      this.#s.stats.refused++
      this.#s.o.onError(error)
      this.#track(d.nack({ requeue: false, reason: error }), d)
      return
    }
    const { o, stats, seen } = this.#s
    if (o.forwards !== undefined && !o.forwards(env.tag)) {
      stats.skipped++
      this.#track(d.ack(), d)
      return
    }
    if (seen !== undefined && !seen.add(env.id)) {
      stats.duplicates++
      this.#track(d.ack(), d)
      return
    }
    const outcome = o.validate ? this.#check(env) : undefined
    if (outcome === undefined) this.#track(this.#forward(d, env), d)
    else if (outcome instanceof Promise) this.#track(outcome.then((out) => this.#refuse(d, env, out)), d)
    else this.#track(this.#refuse(d, env, outcome), d)
  }

  /** The policy outcome of an envelope `validate` refuses, or undefined when it passes. */
  #check(env: Envelope): Outcome | Promise<Outcome> | undefined {
    const { registry, policies } = this.#s.o
    const type = registry.get(env.tag)
    if (type === undefined) {
      const error = new SeamError('ERR_UNREGISTERED_TAG', `the bridge forwards only tags its "validate" registry knows, and "${env.tag}" is not one of them`, { tag: env.tag, id: env.id })
      return registry.applyPolicy('unregistered', env, error, policies)
    }
    const decoded = registry.decode(type, env)
    return decoded.ok ? undefined : registry.applyPolicy(decoded.case, env, decoded.error, policies)
  }

  #refuse(d: Delivery, env: Envelope, outcome: Outcome): void | Promise<void> {
    this.#s.stats.refused++
    return this.#settlement.settle(d, env, outcome)
  }

  /** Sends `env` until the destination confirms it, then acknowledges it at the source. */
  async #forward(d: Delivery, env: Envelope): Promise<void> {
    const s = this.#s
    const key = d.key ?? env.key
    // A transport that keeps the key beside the envelope (a Kafka record key) hands it over apart; the destination may carry it inside.
    const out = env.key === undefined && key !== undefined ? { ...env, key } : env
    const route = key === undefined ? undefined : { key }
    for (let attempt = 0; ; attempt++) {
      try {
        await s.destination.send(out, route)
        break
      } catch (err) {
        const error = toSeamError(err, 'ERR_TRANSPORT', `forwarding "${env.tag}" failed`)
        // Closed: the bridge is going away, and the source keeps the message for the next one.
        if (error.code === 'ERR_CLOSED' || s.signal.aborted) return this.#unforwarded(d, env)
        if (!error.retriable) {
          s.stats.refused++
          s.o.onError(new SeamError(error.code, `the destination refused "${env.tag}" for good, so it was rejected at the source: ${error.message}`, { tag: env.tag, id: env.id, cause: error }))
          return d.nack({ requeue: false, reason: error })
        }
        s.refused(error)
        s.stats.retried++
        // Holding its place in the window while it waits is the backpressure: a requeue would come straight back.
        if (!(await sleep(backoff(attempt, s.o.retry.initialDelayMs, s.o.retry.maxDelayMs), s.signal))) return this.#unforwarded(d, env)
      }
    }
    s.confirmed()
    s.stats.forwarded++
    return d.ack()
  }

  /** Hands back `d`, whose id the duplicate window took when it started: its copy delivered again is no duplicate. */
  #unforwarded(d: Delivery, env: Envelope): void | Promise<void> {
    this.#s.seen?.delete(env.id)
    return this.#giveBack(d)
  }

  /** Hands `d` back unforwarded; a source that cannot deliver again loses it, which is counted and reported. */
  #giveBack(d: Delivery): void | Promise<void> {
    const s = this.#s
    s.stats.returned++
    const again = this.link.features.redelivery
    if (!again) {
      s.o.onError(new SeamError('ERR_CLOSED', `"${d.envelope?.tag ?? 'a message'}" was received but never forwarded: the bridge closed first, and a ${this.link.name} source cannot deliver it again`, { tag: d.envelope?.tag, id: d.envelope?.id }))
    }
    return d.nack({ requeue: again })
  }

  /** Frees the delivery's place in the window once it is settled. */
  #track(result: void | Promise<void>, d: Delivery): void {
    if (!(result instanceof Promise)) return this.#window.finish(d)
    result.then(
      () => this.#window.finish(d),
      (err: unknown) => {
        this.#s.o.onError(toSeamError(err, 'ERR_TRANSPORT', `settling "${d.envelope?.tag ?? 'a message'}" at the source failed`))
        this.#window.finish(d)
      },
    )
  }
}
