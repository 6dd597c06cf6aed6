/** Resolves true after `ms`, or false at once when `signal` aborts; leaves no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve(false)
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Capped exponential backoff with jitter (50–100 % of the step), so reconnecting clients do not move in lockstep. */
export function backoff(attempt: number, initialMs: number, maxMs: number): number {
  const step = Math.min(initialMs * 2 ** attempt, maxMs)
  return step / 2 + Math.random() * (step / 2)
}
