/**
 * The fuzz run's settings, from the environment, so that a failure printed
 * by CI can be replayed locally with the same seed and frame count:
 *
 *   FUZZ_SEED=0x1234abcd FUZZ_FRAMES=100000 npx vitest run test/fuzz
 *
 * - `FUZZ_SEED`: 32-bit seed, decimal or 0x-hex (default: a fresh one per run).
 * - `FUZZ_FRAMES`: how many hostile frames to send (default 100 000).
 * - `FUZZ_TIME_MS`: the time the frames must fit in (default: 120 s, plus 0.5 ms a frame past 100 000: ~5× what 100 000 take on an idle CI machine, so a machine busy with a broker still fits while a stalled server does not).
 * - `FUZZ_SKIP`: comma-separated kinds to leave out (e.g. `bomb-envelope,bomb-body`), for local triage only.
 * - `FUZZ_ONLY`: comma-separated kinds to run alone, for local triage only.
 */
import { randomInt } from 'node:crypto'

export interface FuzzConfig {
  readonly seed: number
  readonly frames: number
  readonly timeMs: number
  readonly skip: ReadonlySet<string>
  readonly only: ReadonlySet<string> | undefined
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw.replaceAll('_', ''))
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(raw)})`)
  return n
}

function list(name: string): Set<string> | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  return new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))
}

/** Reads the FUZZ_* variables; throws naming the one that is malformed. */
export function readConfig(): FuzzConfig {
  const rawSeed = process.env.FUZZ_SEED
  let seed: number
  if (rawSeed === undefined || rawSeed === '') seed = randomInt(0, 2 ** 32 - 1)
  else {
    seed = Number(rawSeed)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer (got ${JSON.stringify(rawSeed)})`)
  }
  const frames = positiveInt('FUZZ_FRAMES', 100_000)
  const timeMs = positiveInt('FUZZ_TIME_MS', 120_000 + Math.max(0, frames - 100_000) * 0.5)
  return { seed, frames, timeMs, skip: list('FUZZ_SKIP') ?? new Set(), only: list('FUZZ_ONLY') }
}

/** The seed as it is printed and accepted back by FUZZ_SEED. */
export function seedText(seed: number): string {
  return `0x${seed.toString(16).padStart(8, '0')}`
}
