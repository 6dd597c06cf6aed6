import type { Envelope } from '../channel/envelope.js'
import { SeamError } from '../channel/errors.js'

/**
 * A function policy decides itself what becomes of a message. When it
 * resolves, the message is acknowledged; when it throws, the message is
 * rejected and the error reported.
 */
export type PolicyFunction = (raw: Envelope, reason: SeamError) => void | Promise<void>

/**
 * What happens to a message that cannot be handled:
 * - `'drop'`: acknowledge and discard (counted, and emitted as an `outcome` event);
 * - `'reject'`: negative acknowledgement without requeue; where the transport
 *   can answer (TCP, TLS, a request with `replyTo`), the sender gets an error
 *   reply naming the code;
 * - `'dead-letter'`: forward the untouched envelope plus an `x-seam-reason`
 *   header to the `deadLetter` destination, then acknowledge;
 * - a function, which decides.
 */
export type PolicyAction = 'drop' | 'reject' | 'dead-letter' | PolicyFunction

/** The four cases a message can fail in; each has its own policy and counter. */
export type PolicyCase = 'unregistered' | 'undecodable' | 'invalid' | 'failed'

/** One policy per case. */
export type Policies = Record<PolicyCase, PolicyAction>

/** The defaults: every case rejects (the `failed` case after its retries). */
export const DEFAULT_POLICIES: Readonly<Policies> = Object.freeze({
  unregistered: 'reject',
  undecodable: 'reject',
  invalid: 'reject',
  failed: 'reject',
})

/** The error code each case reports. */
export const CASE_CODE = {
  unregistered: 'ERR_UNREGISTERED_TAG',
  undecodable: 'ERR_UNDECODABLE',
  invalid: 'ERR_INVALID_PAYLOAD',
  failed: 'ERR_HANDLER_FAILED',
} as const satisfies Record<PolicyCase, string>

const CASES = Object.keys(DEFAULT_POLICIES) as PolicyCase[]

/** Picks the policies out of an options object, failing fast on a bad value. */
export function readPolicies(options: Partial<Policies> | undefined, base: Readonly<Policies>, where: string): Policies {
  const out = { ...base }
  for (const c of CASES) {
    const v = options?.[c]
    if (v === undefined) continue
    if (typeof v !== 'function' && v !== 'drop' && v !== 'reject' && v !== 'dead-letter') {
      throw new SeamError(
        'ERR_BAD_ARGUMENT',
        `${where}: option "${c}" must be 'drop', 'reject', 'dead-letter' or a function (got ${JSON.stringify(v)})`,
      )
    }
    out[c] = v
  }
  return out
}

/** True when any case is set to dead-letter. */
export function usesDeadLetter(p: Policies): boolean {
  return CASES.some((c) => p[c] === 'dead-letter')
}

/** Retry schedule of the `failed` case. */
export interface RetryOptions {
  /** How many times a failed handler is tried again (default 3). */
  retries?: number
  /** First delay (default 50 ms), doubled each time up to `maxBackoffMs` (default 2000 ms). */
  backoffMs?: number
  maxBackoffMs?: number
}

/** Checks a non-negative integer option. */
export function readCount(value: unknown, name: string, fallback: number, where: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new SeamError('ERR_BAD_ARGUMENT', `${where}: option "${name}" must be a non-negative integer (got ${JSON.stringify(value)})`)
  }
  return value
}
