/**
 * Small helpers shared by the test files. No sleep-and-hope: wait for a
 * condition with a bounded poll, and collect reported errors to assert on.
 */
import type { SeamError } from '../src/index.js'

/**
 * Resolves once `predicate()` is true; polls every 5 ms. Rejects after
 * `timeoutMs` with an error naming `what`, so a failing test says what never
 * happened. A predicate that throws rejects at once.
 */
export function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const check = (): void => {
      let ok: boolean
      try {
        ok = predicate()
      } catch (err) {
        reject(err)
        return
      }
      if (ok) return resolve()
      if (Date.now() >= deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      setTimeout(check, 5)
    }
    check()
  })
}

/** Collects what an `onError` option receives: pass `onError` to `listen`/`connect`/`Registry`, assert on `errors`. */
export function collectErrors(): { errors: SeamError[]; onError: (err: SeamError) => void } {
  const errors: SeamError[] = []
  return { errors, onError: (err: SeamError) => void errors.push(err) }
}
