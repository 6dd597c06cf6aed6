import type { SeamError } from './errors.js'
import type { Delivery, LinkSink } from './transport.js'

type Held = { readonly deliver: Delivery } | { readonly status: 'down' | 'up'; readonly cause: SeamError | undefined } | { readonly error: SeamError } | { readonly ended: SeamError | undefined }

/**
 * The sink a broker link reports to from the moment it opens. A broker link
 * consumes before the channel exists (`listen` resolves once the consumer is
 * registered, so a message sent afterwards is received), so what comes
 * before `start(sink)` is held here and passed on then, in order: nothing a
 * link delivers or reports is dropped for having come early.
 */
export class HeldSink implements LinkSink {
  #sink: LinkSink | undefined
  #held: Held[] = []

  /** Passes on what was held, then everything as it comes. */
  attach(sink: LinkSink): void {
    this.#sink = sink
    for (const h of this.#held.splice(0)) {
      if ('deliver' in h) sink.deliver(h.deliver)
      else if ('status' in h) sink.status(h.status, h.cause)
      else if ('error' in h) sink.error(h.error)
      else sink.ended(h.ended)
    }
  }

  deliver(delivery: Delivery): void {
    if (this.#sink === undefined) this.#held.push({ deliver: delivery })
    else this.#sink.deliver(delivery)
  }

  status(state: 'down' | 'up', cause?: SeamError): void {
    if (this.#sink === undefined) this.#held.push({ status: state, cause })
    else this.#sink.status(state, cause)
  }

  error(error: SeamError): void {
    if (this.#sink === undefined) this.#held.push({ error })
    else this.#sink.error(error)
  }

  ended(error?: SeamError): void {
    if (this.#sink === undefined) this.#held.push({ ended: error })
    else this.#sink.ended(error)
  }
}
