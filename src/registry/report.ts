import type * as t from 'io-ts'

const MAX_REPORTED = 5

function show(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'bigint') return `${value}n`
  try {
    const s = JSON.stringify(value)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return typeof value
  }
}

/** One io-ts error as `path: expected T, got V`, e.g. `seq: expected number, got "x"`. */
export function describeError(error: t.ValidationError): string {
  // context[0] is the root codec with key ''; union members add numeric keys that are not paths.
  const path = error.context
    .map((c) => c.key)
    .filter((k) => k !== '')
    .join('.')
  const expected = error.context[error.context.length - 1]?.type.name ?? 'unknown'
  const where = path === '' ? '' : `${path}: `
  return `${where}expected ${expected}, got ${show(error.value)}`
}

/** All errors of a failed decode, readable, at most five of them. */
export function describeErrors(errors: t.Errors): string {
  const lines = errors.slice(0, MAX_REPORTED).map(describeError)
  const more = errors.length > MAX_REPORTED ? `; and ${errors.length - MAX_REPORTED} more` : ''
  return lines.join('; ') + more
}
