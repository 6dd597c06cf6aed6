/**
 * Memory of the test process, which is also the server's. "Live" figures
 * come after a forced full GC (the test runs with --expose-gc), so they
 * measure what is retained, not how lazily V8 collects. Raw figures (no GC)
 * and the peak RSS show transient spikes, such as one big allocation made
 * and dropped inside a single decode.
 */

import { MiB, heldBytes } from '../helpers.js'

export { MiB }

/** Whether a GC can be forced here. */
export function canForceGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function'
}

/** Heap plus ArrayBuffers (sockets' chunks, frames) after a full GC. */
export const liveBytes = heldBytes

/** The same without forcing a GC. */
export function rawBytes(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** The process's peak resident set so far, in bytes (Linux reports it in KiB). */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024
}


export function mib(n: number): string {
  return `${(n / MiB).toFixed(1)} MiB`
}

/**
 * Samples memory while the fuzzer runs: raw every `rawEveryMs`, live (with
 * a forced GC, which pauses everything for a few ms) every `liveEveryMs`.
 */
export class MemorySampler {
  peakLive = 0
  peakRaw = 0
  liveSamples = 0
  readonly #timers: NodeJS.Timeout[] = []

  start(rawEveryMs = 50, liveEveryMs = 1000): void {
    this.#timers.push(
      setInterval(() => (this.peakRaw = Math.max(this.peakRaw, rawBytes())), rawEveryMs),
      setInterval(() => {
        this.peakLive = Math.max(this.peakLive, liveBytes())
        this.liveSamples++
      }, liveEveryMs),
    )
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t)
  }
}
