import { Registry, type DeadLetterTarget } from '../registry/registry.js'
import type { Policies } from '../registry/policies.js'
import { SeamError } from './errors.js'
import type { TransportOptions } from './options.js'
import { resolveChannelOptions, type ResolvedChannelOptions } from './resolve-options.js'

/** Transport options of one end of a bridge: what `listen` (source) or `connect` (destination) takes for its URL. */
export type BridgeEndOptions = TransportOptions & {
  /** How long the first connection may take (default 10 000 ms). */
  connectTimeoutMs?: number
}

/** Options of {@link bridge}. */
export interface BridgeOptions extends Partial<Pick<Policies, 'unregistered' | 'undecodable' | 'invalid'>> {
  /** Transport options of the source, as `listen(from, …)` takes them (e.g. `{ hub }`, `{ amqp: { queue } }`). */
  source?: BridgeEndOptions
  /** Transport options of the destination, as `connect(to, …)` takes them. */
  destination?: BridgeEndOptions
  /**
   * Which messages are forwarded: a list of tags or a test on the tag
   * (default: all). Any other message is acknowledged at the source and
   * counted as `skipped`: a bridge that leaves a message in its queue would
   * be handed it again and again.
   */
  tags?: readonly string[] | ((tag: string) => boolean)
  /**
   * Checks each message against this registry's codecs before forwarding it:
   * an unknown tag takes the `unregistered` policy, a body that cannot be
   * read `undecodable`, a payload its codec refuses `invalid` (policies
   * default to the registry's). The forwarded envelope is still the one
   * received, untouched. Default: no check, every envelope goes as it came.
   */
  validate?: Registry
  /**
   * Drops a message whose envelope id is among the last `dedupe` ids this
   * bridge forwarded (acknowledging it at the source, counted as
   * `duplicates`). Default 0: off. Memory grows with the window, not with
   * the stream.
   */
  dedupe?: number
  /** Where the `'dead-letter'` policy sends messages: a name on the source's transport, or a sink (default: the `validate` registry's). */
  deadLetter?: DeadLetterTarget
  /** Receives every error: a destination that refuses, a policy that ran, a source that failed (default: the registry's, stderr). */
  onError?: (err: SeamError) => void
  /**
   * Messages forwarded at once per source link (default 256). At the limit
   * the source is paused, so a destination that is slow or down holds the
   * source back instead of growing memory. Messages of one ordering key are
   * always forwarded one at a time, in order.
   */
  concurrency?: number
  /** Bound on how long `close()` waits for messages in flight and unflushed sends (default 5000 ms). */
  closeTimeoutMs?: number
  /** Backoff between attempts to send a message the destination refused (default 100 ms doubling to 5000 ms). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number }
}

/** Bridge options with every default filled in. */
export interface ResolvedBridgeOptions extends ResolvedChannelOptions {
  /** True for a tag to forward; undefined: every tag. */
  readonly forwards: ((tag: string) => boolean) | undefined
  readonly validate: boolean
  readonly dedupe: number
  readonly retry: { readonly initialDelayMs: number; readonly maxDelayMs: number }
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SeamError('ERR_BAD_ARGUMENT', `bridge: option "${name}" must be a positive number (got ${JSON.stringify(value)})`)
  }
  return value
}

function readTags(tags: BridgeOptions['tags']): ((tag: string) => boolean) | undefined {
  if (tags === undefined) return undefined
  if (typeof tags === 'function') return tags
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new SeamError('ERR_BAD_ARGUMENT', `bridge: option "tags" must be an array of tags or a function (tag) => boolean (got ${JSON.stringify(tags)})`)
  }
  const set = new Set(tags)
  return (tag) => set.has(tag)
}

/**
 * Reads and checks bridge options; throws `ERR_BAD_ARGUMENT` naming the bad
 * one. The channel's own reading supplies the policies, dead-letter target,
 * `onError`, `concurrency` and `closeTimeoutMs`, so they mean what they mean on a channel.
 */
export function resolveBridgeOptions(options: BridgeOptions): ResolvedBridgeOptions {
  if (typeof options !== 'object' || options === null) throw new SeamError('ERR_BAD_ARGUMENT', 'bridge: "options" must be an object')
  if (options.validate !== undefined && !(options.validate instanceof Registry)) throw new SeamError('ERR_BAD_ARGUMENT', 'bridge: option "validate" must be a Registry')
  const base = resolveChannelOptions(
    {
      registry: options.validate,
      unregistered: options.unregistered,
      undecodable: options.undecodable,
      invalid: options.invalid,
      deadLetter: options.deadLetter,
      onError: options.onError,
      concurrency: options.concurrency,
      closeTimeoutMs: options.closeTimeoutMs,
    },
    'bridge',
  )
  const dedupe = options.dedupe ?? 0
  if (typeof dedupe !== 'number' || !Number.isSafeInteger(dedupe) || dedupe < 0) {
    throw new SeamError('ERR_BAD_ARGUMENT', `bridge: option "dedupe" must be a whole number of ids to remember, 0 for none (got ${JSON.stringify(dedupe)})`)
  }
  const r = options.retry
  if (r !== undefined && (typeof r !== 'object' || r === null)) {
    throw new SeamError('ERR_BAD_ARGUMENT', `bridge: option "retry" must be { initialDelayMs, maxDelayMs } (got ${JSON.stringify(r)})`)
  }
  return {
    ...base,
    forwards: readTags(options.tags),
    validate: options.validate !== undefined,
    dedupe,
    retry: { initialDelayMs: positive(r?.initialDelayMs, 'retry.initialDelayMs', 100), maxDelayMs: positive(r?.maxDelayMs, 'retry.maxDelayMs', 5000) },
  }
}
