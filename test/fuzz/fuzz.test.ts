/**
 * The fuzz suite: a live TCP server in this process, several raw connections
 * sending it mutated and hostile frames, and one well-behaved client making
 * requests throughout. It asserts what a server facing the internet must
 * hold to: it never dies or hangs, the good client's requests all succeed,
 * memory stays flat, every reported error is a SeamError with a known code,
 * and no prototype in the server's realm is touched.
 *
 * Replay a failure with the seed and frame count it prints:
 *   FUZZ_SEED=0x… FUZZ_FRAMES=… npx vitest run test/fuzz
 * `npm run fuzz` runs 1,000,000 frames; see config.ts for the other knobs.
 */
import { describe, expect, it } from 'vitest'
import { connect, ERROR_CODES, listen, Registry, SeamError, type Server } from '../../src/index.js'
import { waitFor } from '../helpers.js'
import { readConfig, seedText } from './config.js'
import { startGoodClient, REQUEST_TIMEOUT_MS, type GoodClient } from './good-client.js'
import { KindPicker, SERVER_MAX_FRAME_BYTES } from './kinds.js'
import { canForceGc, liveBytes, MemorySampler, mib, MiB, peakRss } from './memory.js'
import { Echo, Echoed, serverRegistry, type HandlerCounts } from './messages.js'
import { rawStats } from './raw-peer.js'
import { realmChanges, sanityProblems, snapshotRealm } from './realm.js'
import { Rng } from './rng.js'
import { runWorker, workerStats, type WorkerStats } from './worker.js'

const config = readConfig()
const replay = `replay: FUZZ_SEED=${seedText(config.seed)} FUZZ_FRAMES=${config.frames}`

/** Raw connections at once: enough to interleave on the server, few enough for a 2-core machine. */
const WORKERS = 8
/** Frames sent before the memory baseline is taken (at most a tenth of the run): JIT, caches and pools reach their working size first. */
const WARMUP_FRAMES = 4_000
/** Retained memory may grow this much from the baseline (live, after a forced GC). */
const LIVE_GROWTH_MAX = 32 * MiB
/** The raw (un-collected) heap and the peak RSS may exceed the baseline by this much; a single 256 MiB allocation must not fit. */
const TRANSIENT_GROWTH_MAX = 128 * MiB
/** Requests the good client must have completed, per 1000 frames sent. */
const GOOD_REQUESTS_PER_1000_FRAMES = 1

function sorted(m: Map<string, number>): string {
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(' ')
}

async function fuzzFrames(server: Server, frames: number, seed: number, stats: WorkerStats, raw: ReturnType<typeof rawStats>, failures: string[], deadline: number, picker: KindPicker): Promise<void> {
  const port = Number(new URL(server.url).port)
  await Promise.all(
    Array.from({ length: WORKERS }, (_, index) =>
      runWorker({ index, seed, port, quota: Math.floor(frames / WORKERS) + (index < frames % WORKERS ? 1 : 0), deadline, picker, stats, raw, failures, replay }),
    ),
  )
}

describe('fuzz: a live tcp server under hostile frames', () => {
  it(`survives ${config.frames} hostile frames (seed ${seedText(config.seed)})`, { timeout: config.timeMs + 90_000 }, async () => {
    console.log(`fuzz: seed=${seedText(config.seed)} frames=${config.frames} workers=${WORKERS} (${replay})`)
    expect(canForceGc(), 'globalThis.gc must be a function: vitest.config.ts passes --expose-gc').toBe(true)
    const picker = new KindPicker(config.skip, config.only)
    if (config.skip.size > 0 || config.only !== undefined) console.log(`fuzz: only these kinds: ${picker.kinds.map((k) => k.name).join(', ')}`)

    const realm = snapshotRealm()
    const problems: string[] = []
    const serverErrors = new Map<string, number>()
    const onError = (err: unknown): void => {
      const code = err instanceof SeamError ? err.code : undefined
      if (code === undefined || !Object.hasOwn(ERROR_CODES, code)) {
        if (problems.length < 50) problems.push(`the server reported something that is not a SeamError with a known code: ${String(err)}`)
      }
      serverErrors.set(code ?? 'not-a-SeamError', (serverErrors.get(code ?? 'not-a-SeamError') ?? 0) + 1)
    }
    const handled: HandlerCounts = { echo: 0, note: 0, boom: 0 }
    const registry: Registry = serverRegistry(onError, handled)
    const server = await listen('tcp://127.0.0.1:0', { registry, onError, maxFrameBytes: SERVER_MAX_FRAME_BYTES })
    let serverEnded = false
    void server.closed().then(() => (serverEnded = true))
    let good: GoodClient | undefined
    const sampler = new MemorySampler()
    // Process warnings are printed, not failed on: they are advice (e.g. MaxListenersExceededWarning), not broken promises.
    const warnings = new Map<string, number>()
    const onWarning = (w: Error): void => void warnings.set(w.name, (warnings.get(w.name) ?? 0) + 1)
    process.on('warning', onWarning)
    try {
      good = await startGoodClient(server.url, Rng.derive(config.seed, 1000))
      const raw = rawStats()
      const failures: string[] = []

      // Warm-up, on generators of their own so the measured run's bytes depend only on the seed.
      const deadline = Date.now() + config.timeMs
      const warm = workerStats()
      await fuzzFrames(server, Math.min(WARMUP_FRAMES, Math.ceil(config.frames / 10)), Rng.derive(config.seed, 2000).u32(), warm, raw, failures, deadline, picker)
      const baseline = liveBytes()
      const rssBefore = process.memoryUsage().rss

      const stats = workerStats()
      sampler.start()
      const t0 = performance.now()
      if (failures.length === 0) await fuzzFrames(server, config.frames, config.seed, stats, raw, failures, deadline, picker)
      const seconds = (performance.now() - t0) / 1000
      sampler.stop()
      const goodOk = good.ok
      await good.stop()

      // Every raw connection must be gone from the server too: only the good client stays.
      await waitFor(() => server.peers.size === 1, 10_000, 'every raw connection to leave server.peers').catch((err: unknown) => problems.push(`${String(err)} (${server.peers.size} peers left)`))
      const after = liveBytes()
      const peak = peakRss()

      // A fresh client can still connect and be answered.
      const fresh = await connect(server.url, { registry: new Registry({ onError: () => undefined }).register(Echoed), connectTimeoutMs: 5000 })
      try {
        const reply = await fresh.request(Echo, { seq: 42, data: 'after' }, { expect: Echoed, timeoutMs: REQUEST_TIMEOUT_MS })
        if (reply.seq !== 42 || reply.data !== 'after') problems.push(`a fresh client got the wrong reply after the run: ${JSON.stringify(reply)}`)
      } finally {
        await fresh.close()
      }

      console.log(
        [
          `fuzz: ${stats.frames} frames in ${seconds.toFixed(1)} s (${Math.round(stats.frames / seconds)} frames/s), ${stats.batches} batches, ${stats.reconnects} reconnects, ${stats.helloConnections} bad-hello connections (+${warm.frames} warm-up frames)`,
          `fuzz: good client: ${goodOk} requests ok, ${good.failures.length} failed, max latency ${good.maxLatencyMs.toFixed(0)} ms`,
          `fuzz: memory (heap+arrayBuffers after GC): baseline ${mib(baseline)}, end ${mib(after)} (${mib(after - baseline)}), peak live ${mib(sampler.peakLive)} over ${sampler.liveSamples} samples, peak raw ${mib(sampler.peakRaw)}; rss ${mib(rssBefore)} → peak ${mib(peak)}`,
          `fuzz: kinds: ${sorted(stats.byKind)}`,
          `fuzz: server replies: ${sorted(raw.replies)}`,
          `fuzz: server onError: ${sorted(serverErrors)}`,
          `fuzz: handlers ran: echo=${handled.echo} note=${handled.note} boom=${handled.boom}; registry ${JSON.stringify(registry.stats())}`,
          `fuzz: process warnings: ${warnings.size === 0 ? 'none' : sorted(warnings)}`,
          `fuzz: ${replay}`,
        ].join('\n'),
      )

      problems.push(...failures, ...raw.anomalies)
      if (serverEnded) problems.push('the server closed during the run')
      if (stats.frames < config.frames) problems.push(`only ${stats.frames} of ${config.frames} frames were sent`)
      problems.push(...good.failures.map((f) => `good client: ${f}`))
      problems.push(...good.errors.slice(0, 10).map((e) => `good client onError: ${e.code}: ${e.message}`))
      const minGood = Math.max(50, Math.floor((config.frames / 1000) * GOOD_REQUESTS_PER_1000_FRAMES))
      if (goodOk < minGood) problems.push(`the good client completed ${goodOk} requests; at least ${minGood} were expected`)
      if (after - baseline > LIVE_GROWTH_MAX) problems.push(`retained memory grew ${mib(after - baseline)} (limit ${mib(LIVE_GROWTH_MAX)})`)
      if (sampler.peakLive - baseline > LIVE_GROWTH_MAX) problems.push(`retained memory peaked ${mib(sampler.peakLive - baseline)} over the baseline during the run (limit ${mib(LIVE_GROWTH_MAX)})`)
      if (sampler.peakRaw - baseline > TRANSIENT_GROWTH_MAX) problems.push(`the heap peaked ${mib(sampler.peakRaw - baseline)} over the baseline (limit ${mib(TRANSIENT_GROWTH_MAX)})`)
      if (peak - rssBefore > TRANSIENT_GROWTH_MAX) problems.push(`the RSS peaked ${mib(peak - rssBefore)} over its size after warm-up (limit ${mib(TRANSIENT_GROWTH_MAX)})`)
      problems.push(...realmChanges(realm), ...sanityProblems())
      expect(problems, `fuzz failed (${replay})`).toEqual([])
    } finally {
      process.off('warning', onWarning)
      sampler.stop()
      await good?.stop()
      await good?.channel.close()
      await server.close()
    }
  })
})
