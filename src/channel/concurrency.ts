import { SeamError } from './errors.js'

/** The handlers a channel runs at once unless told otherwise; see README "Guarantees" for why 256. */
export const DEFAULT_CONCURRENCY = 256

/**
 * Reads the `concurrency` option: a positive integer, default
 * {@link DEFAULT_CONCURRENCY}. Broker transports size their prefetch from it.
 * @throws SeamError `ERR_BAD_ARGUMENT` naming the option and the value.
 */
export function readConcurrency(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_CONCURRENCY
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new SeamError('ERR_BAD_ARGUMENT', `${where}: option "concurrency" must be a positive integer, the most handlers in flight at once (got ${JSON.stringify(value)})`)
  }
  return value
}
