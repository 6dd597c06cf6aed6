/**
 * The file transport's throughput against a hand-written writer and reader
 * of the same frames (bench/file-raw.ts), in one temporary folder removed
 * after. Writing: typed sends (awaited every 128, as measure.ts's one-way
 * runs do) until `close()` returned, against raw 64 KiB writes. Reading: a
 * reader from the start to the end, each record decoded, validated and
 * handed to a handler, until `closed()`, against raw reads that split and
 * decode every frame. The files live in the page cache: this measures the
 * library, not the disk.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Registry, connect } from '../src/index.js'
import { listenFile } from '../src/transports/file/index.js'
import { rawRead, rawWrite } from './file-raw.js'
import { rounds } from './measure.js'
import { ItemMsg, item } from './payload.js'
import type { Row } from './report.js'
import { medianRound } from './stats.js'

const N = 200_000
const ROUNDS = 5
const AWAIT_EVERY = 128

let files = 0

/** Runs the file benchmarks; about 10 s. */
export async function run(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'seam-file-bench-'))
  const fresh = (): string => join(dir, `run-${++files}.seam`)
  const lastOurs: string[] = []
  const lastRaw: string[] = []
  const registry = new Registry()
  let handled = 0
  registry.on(ItemMsg, () => void handled++)

  const oursWrite = async (n: number): Promise<number> => {
    const path = fresh()
    const t0 = process.hrtime.bigint()
    const channel = await connect(pathToFileURL(path).href)
    for (let i = 0; i < n; i++) {
      const sent = channel.send(ItemMsg, item(i))
      if (i % AWAIT_EVERY === 0) await sent
    }
    await channel.close()
    lastOurs.push(path)
    return n / (Number(process.hrtime.bigint() - t0) / 1e9)
  }
  const rawWriteRun = async (n: number): Promise<number> => {
    const path = fresh()
    const t0 = process.hrtime.bigint()
    await rawWrite(path, n)
    lastRaw.push(path)
    return n / (Number(process.hrtime.bigint() - t0) / 1e9)
  }
  const oursRead = async (path: string): Promise<number> => {
    handled = 0
    const t0 = process.hrtime.bigint()
    const server = await listenFile(path, { registry })
    await server.closed()
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    if (handled !== N) throw new Error(`the file reader handled ${handled} of ${N} records`)
    return N / s
  }
  const rawReadRun = async (path: string): Promise<number> => {
    const t0 = process.hrtime.bigint()
    const count = await rawRead(path)
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    if (count !== N) throw new Error(`the raw reader read ${count} of ${N} frames`)
    return N / s
  }

  try {
    // Warm-up of both sides, then interleaved rounds.
    await oursWrite(N / 4)
    await rawWriteRun(N / 4)
    lastOurs.length = 0
    lastRaw.length = 0
    const write = await rounds<(n: number) => Promise<number>, number>([oursWrite, rawWriteRun], ROUNDS, (side) => side(N))
    // Each side reads the files it wrote.
    let o = 0
    let r = 0
    await oursRead(lastOurs[0] as string)
    const read = await rounds<'ours' | 'raw', number>(['ours', 'raw'], ROUNDS, (side) => (side === 'ours' ? oursRead(lastOurs[o++] as string) : rawReadRun(lastRaw[r++] as string)))
    return [
      { name: 'file write typed, ~100 B msgpack, until close()', ...medianRound(write[0], write[1]), unit: 'msg/s', higherIsBetter: true },
      { name: 'file read typed, ~100 B msgpack, start to end', ...medianRound(read[0], read[1]), unit: 'msg/s', higherIsBetter: true },
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
