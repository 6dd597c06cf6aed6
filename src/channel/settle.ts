import type { DeadLetterSink, DeadLetterTarget, Outcome, PolicyOutcome } from '../registry/registry.js'
import { HEADER, type Envelope } from './envelope.js'
import { toSeamError, type SeamError } from './errors.js'
import { errorReply } from './error-reply.js'
import type { Delivery, TransportLink } from './transport.js'

/**
 * Turns how a message ended into what the transport does with it: ack, nack,
 * an error reply to the sender, a dead letter. Every path ends in exactly one
 * ack or nack, and nothing ends unreported.
 */
export class Settlement {
  constructor(
    private readonly link: TransportLink,
    private readonly deadLetter: DeadLetterTarget | undefined,
    private readonly contentType: string,
    private readonly onError: (err: SeamError) => void,
  ) {}

  /** Settles `d` for `outcome`; a promise when the transport's settling is asynchronous. */
  settle(d: Delivery, env: Envelope, outcome: Outcome): void | Promise<void> {
    if (outcome.case === 'handled') return d.ack()
    switch (outcome.action) {
      case 'drop':
      case 'custom':
        return d.ack()
      case 'reject':
        return this.reject(d, env, outcome.error, outcome.case === 'failed')
      case 'dead-letter':
        return this.#deadLetter(d, env, outcome)
    }
  }

  /**
   * Negative acknowledgement without requeue; the sender hears of it where it
   * can, else `onError` does (`alwaysReport`: the receiver's `onError` too).
   */
  reject(d: Delivery, env: Envelope, error: SeamError, alwaysReport: boolean): void | Promise<void> {
    const f = this.link.features
    // Over a connection every sender can hear of a rejection; on a broker only one that gave replyTo.
    const answered = f.reply && (f.connected || env.replyTo !== undefined)
    if (answered) {
      this.link
        .send(errorReply(env, error, this.contentType), { to: env.replyTo, purpose: 'reply' })
        .catch((err: unknown) => this.onError(toSeamError(err, 'ERR_TRANSPORT', `could not tell the sender that "${env.tag}" was rejected`)))
    }
    if (!answered || alwaysReport) this.onError(error)
    return d.nack({ requeue: false, reason: error })
  }

  /** Reports a settlement (ack/nack) that failed; it never throws. */
  report(result: void | Promise<void>): void {
    if (result instanceof Promise) result.catch((err: unknown) => this.onError(toSeamError(err, 'ERR_TRANSPORT', 'acknowledging a message failed')))
  }

  #deadLetter(d: Delivery, env: Envelope, outcome: PolicyOutcome): Promise<void> {
    const target = this.deadLetter
    const dead: Envelope = { ...env, headers: { ...env.headers, [HEADER.reason]: `${outcome.error.code}: ${outcome.error.message}` } }
    const forwarded = typeof target === 'string' ? this.link.send(dead, { to: target, purpose: 'dead-letter' }) : (target as DeadLetterSink).forward(dead)
    return forwarded.then(
      () => d.ack(),
      (err: unknown) => {
        this.onError(toSeamError(err, 'ERR_TRANSPORT', `dead-lettering "${env.tag}" failed, so it was rejected instead`))
        return d.nack({ requeue: false, reason: outcome.error })
      },
    )
  }
}
