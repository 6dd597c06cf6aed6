import { Registry, type DeadLetterTarget } from '../registry/registry.js'
import { readCount, readPolicies, usesDeadLetter, type Policies } from '../registry/policies.js'
import type { Serde } from '../serde/serde.js'
import { SeamError } from './errors.js'
import type { ChannelOptions } from './options.js'
import type { TransportFeatures } from './transport.js'
import { readConcurrency } from './concurrency.js'

/** Channel options with every default filled in. */
export interface ResolvedChannelOptions {
  readonly registry: Registry
  readonly serde: Serde
  readonly policies: Readonly<Policies>
  readonly deadLetter: DeadLetterTarget | undefined
  readonly onError: (err: SeamError) => void
  readonly closeTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly concurrency: number
}

/** Refuses options the transport cannot honour: a dead-letter destination name on a connection, which cannot route. */
export function checkFeatures(o: ResolvedChannelOptions, features: TransportFeatures, where: string): void {
  if (typeof o.deadLetter === 'string' && usesDeadLetter(o.policies) && features.connected) {
    throw new SeamError(
      'ERR_BAD_ARGUMENT',
      `${where}: "deadLetter" is a destination name ("${o.deadLetter}"), but a connection has nowhere to route it; give a sink instead, e.g. { deadLetter: otherChannel }`,
    )
  }
}

/**
 * Reads and checks channel options; throws `ERR_BAD_ARGUMENT` naming the bad
 * one. `listen` calls it once, before binding, and hands the result to every
 * peer channel; what the transport can honour is checked once it is known
 * (see {@link checkFeatures}).
 */
export function resolveChannelOptions(options: ChannelOptions, where: string): ResolvedChannelOptions {
  const registry = options.registry ?? new Registry()
  if (!(registry instanceof Registry)) throw new SeamError('ERR_BAD_ARGUMENT', `${where}: option "registry" must be a Registry`)
  const policies = Object.freeze(readPolicies(options, registry.policies, where))
  const deadLetter = options.deadLetter ?? registry.deadLetter
  if (usesDeadLetter(policies) && deadLetter === undefined) {
    throw new SeamError('ERR_BAD_ARGUMENT', `${where}: a policy is 'dead-letter' but option "deadLetter" is not set`)
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new SeamError('ERR_BAD_ARGUMENT', `${where}: option "onError" must be a function`)
  }
  return {
    registry,
    serde: options.serde ?? registry.serde,
    policies,
    deadLetter,
    onError: options.onError ?? registry.onError,
    closeTimeoutMs: readCount(options.closeTimeoutMs, 'closeTimeoutMs', 5000, where),
    requestTimeoutMs: readCount(options.requestTimeoutMs, 'requestTimeoutMs', 30_000, where),
    concurrency: readConcurrency(options.concurrency, where),
  }
}
