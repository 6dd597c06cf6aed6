/** Percentile `p` (0..1) of nanosecond samples, in microseconds. Sorts `ns` in place. */
export function percentileUs(ns: Float64Array, p: number): number {
  ns.sort()
  const i = Math.min(ns.length - 1, Math.max(0, Math.ceil(p * ns.length) - 1))
  return (ns[i] as number) / 1000
}

/**
 * The round whose ratio `ours[i] / baseline[i]` is the median. Each round
 * runs both sides back to back, so a slow spell of a shared machine slows both
 * figures of a round alike; taking the best of each side separately could pair
 * our figure from a fast spell with the baseline's from a slow one.
 */
export function medianRound(ours: number[], baseline: number[]): { ours: number; baseline: number; rounds: readonly number[] } {
  const ratios = ours.map((o, i) => o / (baseline[i] as number))
  const order = ratios.map((_, i) => i).sort((a, b) => (ratios[a] as number) - (ratios[b] as number))
  const i = order[Math.floor((order.length - 1) / 2)] as number
  return { ours: ours[i] as number, baseline: baseline[i] as number, rounds: order.map((k) => ratios[k] as number) }
}

/** Resolves on the next turn of the event loop, after I/O callbacks. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
