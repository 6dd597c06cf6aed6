/** One promise that many sends share, settled from outside when their batch is written (or fails). */
export interface Waiter {
  readonly promise: Promise<void>
  resolve(): void
  reject(err: unknown): void
}

/** A new {@link Waiter}. A caller that did not await its send must not cause an unhandled rejection, so one is handled here. */
export function waiter(): Waiter {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}
