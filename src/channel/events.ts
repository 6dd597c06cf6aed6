/** A map from event name to listener signature. */
export type EventMap = { [name: string]: (...args: never[]) => void }

/**
 * A small typed event emitter: one signature per event name instead of a
 * wall of overloads. Listener errors are caught so that an observer can never
 * break message flow.
 */
export class Events<M extends EventMap> {
  readonly #listeners = new Map<keyof M, Set<M[keyof M]>>()

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(name: K, listener: M[K]): () => void {
    let set = this.#listeners.get(name)
    if (set === undefined) this.#listeners.set(name, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  /** True when anyone listens to `name` (lets hot paths skip building the event). */
  has(name: keyof M): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0
  }

  /** @internal Calls every listener of `name`. */
  emit<K extends keyof M>(name: K, ...args: Parameters<M[K]>): void {
    const set = this.#listeners.get(name)
    if (set === undefined) return
    for (const listener of set) {
      try {
        ;(listener as (...a: Parameters<M[K]>) => void)(...args)
      } catch (err) {
        console.error(`[seam-channel] a listener of "${String(name)}" threw:`, err)
      }
    }
  }
}

/** The default `onError`: one line on stderr. */
export function logError(err: Error & { code?: string }): void {
  console.error(`[seam-channel] ${err.code ?? err.name}: ${err.message}`)
}
