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
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Registry, connect, listen, type Server } from '../src/index.js'
import { listenFile } from '../src/transports/file/index.js'
import { rawRead, rawWrite } from './file-raw.js'
import { rounds } from './measure.js'
import { ItemMsg, item } from './payload.js'
import type { Row } from './report.js'
import { medianRound } from './stats.js'

const N = 100_000
const ROUNDS = 9
const AWAIT_EVERY = 128

let files = 0
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
const PEER = fileURLToPath(new URL(`./file-peer${ext}`, import.meta.url))

/**
 * A writer in a process of its own (file-peer.ts) and a follower here:
 * msg/s from the writer's go until the follower has handled the last of `n`.
 * Both processes are loaded and the file open before the clock starts.
 */
async function pipeline(side: 'ours' | 'raw', path: string, n: number): Promise<number> {
  // Ours: the writer creates the file with its header; raw: the follower opens an empty file first.
  if (side === 'raw') await writeFile(path, '')
  const child = spawn(process.execPath, [...process.execArgv, PEER, side, path, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const lines = createInterface({ input: child.stdout })
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`file-peer said ${line}`))))
    child.once('exit', (code) => reject(new Error(`file-peer exited with ${code} before it was ready`)))
  })
  let reading: Promise<unknown>
  let server: Server | undefined
  if (side === 'raw') reading = rawRead(path, 0, n)
  else {
    let handled = 0
    let finish!: () => void
    reading = new Promise<void>((resolve) => (finish = resolve))
    const counting = new Registry()
    counting.on(ItemMsg, () => {
      if (++handled === n) finish()
    })
    server = await listen(`${pathToFileURL(path).href}?follow=true`, { registry: counting })
  }
  const t0 = process.hrtime.bigint()
  child.stdin.write('go\n')
  await reading
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  await server?.close()
  await exited
  lines.close()
  return n / s
}

/** Runs the file benchmarks; about 30 s. */
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
    await pipeline('ours', fresh(), N / 4)
    const piped = await rounds<'ours' | 'raw', number>(['ours', 'raw'], ROUNDS, (side) => pipeline(side, fresh(), N))
    return [
      { name: 'file write typed, ~100 B msgpack, until close()', ...medianRound(write[0], write[1]), unit: 'msg/s', higherIsBetter: true },
      { name: 'file read typed, ~100 B msgpack, start to end', ...medianRound(read[0], read[1]), unit: 'msg/s', higherIsBetter: true },
      { name: 'file writer process → follower, typed, ~100 B msgpack', ...medianRound(piped[0], piped[1]), unit: 'msg/s', higherIsBetter: true },
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
