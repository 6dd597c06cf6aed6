import type { SeamError } from './errors.js'
import type { Delivery, LinkSink } from './transport.js'

/**
 * The sink a broker link reports to from the moment it opens. A broker link
 * consumes before the channel exists (`listen` resolves once the consumer is
 * registered, so a message sent afterwards is received), so what comes
 * before `start(sink)` is held here and passed on then, in order: nothing a
 * link delivers or reports is dropped for having come early.
 */
export class HeldSink implements LinkSink {
  #sink: LinkSink | undefined
  /** What came before `attach`, in order, as calls to make on the sink. */
  #held: ((sink: LinkSink) => void)[] = []

  /** Passes on what was held, then everything as it comes. */
  attach(sink: LinkSink): void {
    this.#sink = sink
    for (const call of this.#held.splice(0)) call(sink)
  }

  deliver(delivery: Delivery): void {
    // Per message: no closure once attached.
    if (this.#sink === undefined) this.#held.push((s) => s.deliver(delivery))
    else this.#sink.deliver(delivery)
  }

  status(state: 'down' | 'up', cause?: SeamError): void {
    this.#pass((s) => s.status(state, cause))
  }

  error(error: SeamError): void {
    this.#pass((s) => s.error(error))
  }

  ended(error?: SeamError): void {
    this.#pass((s) => s.ended(error))
  }

  #pass(call: (sink: LinkSink) => void): void {
    if (this.#sink === undefined) this.#held.push(call)
    else call(this.#sink)
  }
}
