import { SeamError } from './errors.js'

/**
 * The `ERR_BAD_ARGUMENT` a transport throws for a bad option: the message is
 * `<where>: <message>`, `where` being the call (`connect(redis://…)`), and
 * `cause`, when given, is kept.
 */
export function bad(where: string, message: string, cause?: unknown): SeamError {
  return new SeamError('ERR_BAD_ARGUMENT', `${where}: ${message}`, { cause })
}

/**
 * Checks of a transport's typed options, from {@link optionChecks}. Each
 * passes `undefined` (the option was not given) and returns a valid value as
 * it is; anything else throws {@link bad} naming the option and the value.
 */
export interface OptionChecks {
  /** A non-empty string, or `undefined`. */
  name(value: unknown, option: string, where: string): string | undefined
  /** A safe integer of at least `min` (default 1), or `fallback` when not given. */
  count(value: unknown, option: string, fallback: number, where: string, min?: number): number
  /** A safe integer from `min` to `max`, or `undefined`. */
  whole(value: unknown, option: string, min: number, max: number, where: string): number | undefined
  /** `true` or `false`, or `undefined`. */
  flag(value: unknown, option: string, where: string): boolean | undefined
}

/**
 * The {@link OptionChecks} of the options under `prefix` (`redis`, `sqs`, …),
 * so that every transport words the same mistake the same way:
 * `option "redis.readCount" must be an integer of at least 1 (got 0)`.
 */
export function optionChecks(prefix: string): OptionChecks {
  const fail = (where: string, option: string, should: string, value: unknown): SeamError =>
    bad(where, `option "${prefix}.${option}" must be ${should} (got ${JSON.stringify(value)})`)
  const whole = (value: unknown, option: string, min: number, max: number, where: string): number | undefined => {
    if (value === undefined) return undefined
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value
    // Unbounded counts pass MAX_SAFE_INTEGER, a number no reader wants to see in a message.
    throw fail(where, option, max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`, value)
  }
  return {
    name(value, option, where) {
      if (value === undefined || (typeof value === 'string' && value !== '')) return value
      throw fail(where, option, 'a non-empty string', value)
    },
    count: (value, option, fallback, where, min = 1) => whole(value, option, min, Number.MAX_SAFE_INTEGER, where) ?? fallback,
    whole,
    flag(value, option, where) {
      if (value === undefined || typeof value === 'boolean') return value
      throw fail(where, option, 'true or false', value)
    },
  }
}
