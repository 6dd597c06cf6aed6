/**
 * The file transport's throughput against a hand-written writer and reader
 * of frames (bench/file-raw.ts), in one temporary folder removed after. Two
 * baselines, measured in the same rounds: frames of the payload alone (the
 * floor: no envelope at all), and the same frames each padded with zero
 * bytes to our frame's length (payload.ts's ENVELOPE_PAD), so that both
 * sides move the same bytes and the ratio is the library's own cost. Writing: typed sends (awaited every 128, as measure.ts's one-way
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
import { roundsOf } from './measure.js'
import { ENVELOPE_PAD, ItemMsg, item } from './payload.js'
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
type Side = 'ours' | 'raw' | 'raw-padded'
const SIDES: readonly Side[] = ['ours', 'raw', 'raw-padded']
const padOf = (side: Side): number => (side === 'raw-padded' ? ENVELOPE_PAD : 0)

async function pipeline(side: Side, path: string, n: number): Promise<number> {
  // Ours: the writer creates the file with its header; raw: the follower opens an empty file first.
  if (side !== 'ours') await writeFile(path, '')
  const child = spawn(process.execPath, [...process.execArgv, PEER, side, path, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const lines = createInterface({ input: child.stdout })
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`file-peer said ${line}`))))
    child.once('exit', (code) => reject(new Error(`file-peer exited with ${code} before it was ready`)))
  })
  let reading: Promise<unknown>
  let server: Server | undefined
  if (side !== 'ours') reading = rawRead(path, 0, n, padOf(side))
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

/** The rows of one measure: ours against each baseline, in the same rounds. */
function rows(what: string, r: number[][]): Row[] {
  const [ours, raw, padded] = r as [number[], number[], number[]]
  return [
    { name: `${what}, vs raw frames padded to our size`, ...medianRound(ours, padded), unit: 'msg/s', higherIsBetter: true },
    { name: `${what}, vs raw payload-only frames`, ...medianRound(ours, raw), unit: 'msg/s', higherIsBetter: true },
  ]
}

/** Runs the file benchmarks; about 45 s. */
export async function run(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'seam-file-bench-'))
  const fresh = (): string => join(dir, `run-${++files}.seam`)
  const written: Record<Side, string[]> = { ours: [], raw: [], 'raw-padded': [] }
  const registry = new Registry()
  let handled = 0
  registry.on(ItemMsg, () => void handled++)

  const write = async (side: Side, n: number): Promise<number> => {
    const path = fresh()
    const t0 = process.hrtime.bigint()
    if (side === 'ours') {
      const channel = await connect(pathToFileURL(path).href)
      for (let i = 0; i < n; i++) {
        const sent = channel.send(ItemMsg, item(i))
        if (i % AWAIT_EVERY === 0) await sent
      }
      await channel.close()
    } else await rawWrite(path, n, 'w', padOf(side))
    const rate = n / (Number(process.hrtime.bigint() - t0) / 1e9)
    written[side].push(path)
    return rate
  }
  const read = async (side: Side): Promise<number> => {
    const path = written[side].shift() as string
    handled = 0
    const t0 = process.hrtime.bigint()
    if (side === 'ours') await (await listenFile(path, { registry })).closed()
    else handled = await rawRead(path, 0, 0, padOf(side))
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    if (handled !== N) throw new Error(`the ${side} file reader handled ${handled} of ${N} records`)
    return N / s
  }

  try {
    // Warm-up of every side, then rounds in which each side goes first in turn.
    for (const side of SIDES) await write(side, N / 4)
    for (const side of SIDES) written[side].length = 0
    const writes = await roundsOf(SIDES, ROUNDS, (side) => write(side, N))
    // Each side reads the files it wrote.
    written.ours.unshift(written.ours[0] as string)
    await read('ours')
    const reads = await roundsOf(SIDES, ROUNDS, read)
    await pipeline('ours', fresh(), N / 4)
    const piped = await roundsOf(SIDES, ROUNDS, (side) => pipeline(side, fresh(), N))
    return [
      ...rows('file write typed, ~100 B msgpack, until close()', writes),
      ...rows('file read typed, ~100 B msgpack, start to end', reads),
      ...rows('file writer process → follower, typed, ~100 B msgpack', piped),
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
