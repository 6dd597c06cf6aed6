/**
 * A seeded pseudo-random generator of our own (mulberry32), so that a fuzz
 * run is reproduced exactly by its seed: `Math.random` cannot be seeded, and
 * a library's generator could change its sequence under us in an update.
 * Quality is plenty for choosing mutations; it is not for cryptography.
 */
export class Rng {
  #state: number

  /** `seed` is used modulo 2^32. */
  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000
  }

  /** A uniform integer in [0, n); n ≤ 2^32. */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }

  /**
   * A size skewed towards small values (log-uniform in [1, max]): most frames
   * stay cheap, and the occasional large one still happens.
   */
  size(max: number): number {
    return Math.max(1, Math.floor(Math.exp(this.float() * Math.log(max + 1))))
  }

  /** An independent generator derived from this seed and `stream`, so concurrent workers do not share one sequence. */
  static derive(seed: number, stream: number): Rng {
    // splitmix32-style scrambling: neighbouring streams start far apart.
    let z = (seed + Math.imul(stream + 1, 0x9e3779b9)) >>> 0
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return new Rng((z ^ (z >>> 16)) >>> 0)
  }
}
