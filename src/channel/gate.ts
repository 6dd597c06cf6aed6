import type { Envelope } from './envelope.js'
import { toSeamError, type SeamError } from './errors.js'
import type { Authorize } from './options.js'
import type { PeerInfo } from './peer.js'

/**
 * Asks `authorize` about each message, in arrival order. A synchronous answer
 * decides at once; an asynchronous one holds back the messages after it, so
 * that authorization never reorders a connection. An `authorize` that throws
 * or rejects denies, and is reported.
 */
export class AuthorizationGate {
  #pending: Promise<void> | undefined

  constructor(
    private readonly authorize: Authorize,
    private readonly peer: () => PeerInfo | undefined,
    private readonly onError: (err: SeamError) => void,
  ) {}

  /** Calls `decide(true)` when `env` may pass, `decide(false)` when not, after every earlier message was decided. */
  pass(env: Envelope, decide: (allowed: boolean) => void): void {
    const run = (): void | Promise<void> => {
      const answer = this.#ask(env)
      if (typeof answer === 'boolean') return decide(answer)
      return Promise.resolve(answer).then(
        (ok) => decide(ok === true),
        (err: unknown) => {
          this.onError(toSeamError(err, 'ERR_FORBIDDEN', `authorize rejected for "${env.tag}"; denied`))
          decide(false)
        },
      )
    }
    const previous = this.#pending
    const next = previous === undefined ? run() : previous.then(run)
    if (next instanceof Promise) {
      const pending = next.finally(() => {
        if (this.#pending === pending) this.#pending = undefined
      })
      this.#pending = pending
    }
  }

  #ask(env: Envelope): boolean | Promise<boolean> {
    try {
      return this.authorize(this.peer(), env.tag, env)
    } catch (err) {
      this.onError(toSeamError(err, 'ERR_FORBIDDEN', `authorize threw for "${env.tag}"; denied`))
      return false
    }
  }
}
