/**
 * stdio benchmarks: seam-channel over stdio:// against the baseline of
 * raw.ts (the same payload and codec in length-prefixed frames, written in
 * batches with backpressure, every frame decoded) through the same kind of
 * pipe: `node writer | node reader`, a real pipe made by bash, each end in a
 * process of its own as in a real pipeline. The reader times from its first
 * byte to its last message.
 *
 * Each row is the round with the median ratio of 7, ours and the baseline
 * back to back, the side going first alternating.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { rounds } from './measure.js'
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

async function compare(name: string, ours: string): Promise<Row> {
  await pipeline(ours, N / 4)
  await pipeline('raw', N / 4)
  const [o, r] = await rounds([ours, 'raw'], ROUNDS, (side) => pipeline(side, N))
  return { name, ...medianRound(o, r), unit: 'msg/s', higherIsBetter: true }
}

/** Runs the stdio benchmarks; about 20 s. */
export async function run(): Promise<Row[]> {
  return [await compare('stdio one-way frames, pipe', 'ours'), await compare('stdio one-way JSON lines, pipe', 'ours-json')]
}
