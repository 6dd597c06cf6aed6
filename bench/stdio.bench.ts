/**
 * stdio benchmarks: seam-channel over stdio:// against the baseline of
 * raw.ts (the same payload and codec in length-prefixed frames, written in
 * batches with backpressure, every frame decoded), and against that baseline
 * with each frame padded with zero bytes to our frame's length (payload.ts's
 * ENVELOPE_PAD): a pipe moves a fixed amount of bytes per hand-over, so the
 * envelope's bytes alone cost the unpadded baseline's ratio; the padded one
 * moves the same bytes as ours, so its ratio is the library's own cost. All
 * through the same kind of pipe: `node writer | node reader`, a real pipe made by bash, each end in a
 * process of its own as in a real pipeline. The reader times from its first
 * byte to its last message.
 *
 * Each row is the round with the median ratio of 7, ours and the baseline
 * back to back, the side going first alternating.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { roundsOf } from './measure.js'
import type { Row } from './report.js'
import { medianRound } from './stats.js'

const ROUNDS = 7
const N = 300_000

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
const PEER = fileURLToPath(new URL(`./stdio-peer${ext}`, import.meta.url))

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Runs one pipeline of `n` messages; resolves with the reader's msg/s. */
function pipeline(side: string, n: number): Promise<number> {
  // execArgv is passed on, so the ends run the same way (compiled, or under tsx) as this process.
  const node = [process.execPath, ...process.execArgv].map(quote).join(' ')
  const end = (role: string): string => `${node} ${quote(PEER)} ${role} ${side} ${n}`
  const child = spawn('bash', ['-c', `${end('write')} | ${end('read')}`], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      const rate = Number(out.trim())
      if (code === 0 && rate > 0) resolve(rate)
      else reject(new Error(`the stdio bench pipeline (${side}) failed with exit code ${code}: ${JSON.stringify(out)}`))
    })
  })
}

/** Rounds of `sides` (ours first, then its baselines), after a warm-up of each: one rate list per side. */
async function measure(sides: readonly string[]): Promise<number[][]> {
  for (const side of sides) await pipeline(side, N / 4)
  return roundsOf(sides, ROUNDS, (side) => pipeline(side, N))
}

function row(name: string, ours: number[], baseline: number[]): Row {
  return { name, ...medianRound(ours, baseline), unit: 'msg/s', higherIsBetter: true }
}

/** Runs the stdio benchmarks; about 60 s. */
export async function run(): Promise<Row[]> {
  const [frames, raw, padded] = (await measure(['ours', 'raw', 'raw-padded'])) as [number[], number[], number[]]
  const [json, raw2] = (await measure(['ours-json', 'raw'])) as [number[], number[]]
  return [
    row('stdio one-way frames, pipe, vs raw frames padded to our size', frames, padded),
    row('stdio one-way frames, pipe, vs raw payload-only frames', frames, raw),
    row('stdio one-way JSON lines, pipe, vs raw payload-only frames', json, raw2),
  ]
}
