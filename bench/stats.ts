/** Percentile `p` (0..1) of nanosecond samples, in microseconds. Sorts `ns` in place. */
export function percentileUs(ns: Float64Array, p: number): number {
  ns.sort()
  const i = Math.min(ns.length - 1, Math.max(0, Math.ceil(p * ns.length) - 1))
  return (ns[i] as number) / 1000
}

/** Best of `runs` figures: the highest when higher is better, else the lowest. */
export function best(runs: number[], higherIsBetter: boolean): number {
  return higherIsBetter ? Math.max(...runs) : Math.min(...runs)
}

/** Resolves on the next turn of the event loop, after I/O callbacks. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
