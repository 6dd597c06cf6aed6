/**
 * Runs a real shell pipeline (`producer | processor | sink`), so the stages
 * talk through real pipes the shell made: not the socket pairs Node gives a
 * child's stdio, which answer a vanished reader with ECONNRESET, not EPIPE.
 * Each stage's stderr goes to a file of its own in a fresh temporary
 * folder; the shell's PIPESTATUS gives each stage's exit code.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FIXTURES = fileURLToPath(new URL('../fixtures/stdio/', import.meta.url))

/** One stage: a fixture script (`node --import tsx`) with arguments, or a shell command line as it is. */
export type Stage = { readonly fixture: string; readonly args?: readonly string[] } | { readonly shell: string }

/** What a pipeline left behind. */
export interface PipelineResult {
  /** Each stage's exit code, in order (128 + n: killed by signal n). */
  readonly codes: readonly number[]
  /** Each stage's standard error, as lines. */
  readonly stderr: readonly (readonly string[])[]
  /** The last stage's standard output. */
  readonly stdout: Buffer
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Node running a fixture, as a shell word list. */
export function fixtureCommand(fixture: string, args: readonly string[] = []): string {
  return [process.execPath, '--import', 'tsx', join(FIXTURES, fixture), ...args].map(quote).join(' ')
}

/**
 * Runs `stages` joined by pipes and resolves when the shell exits; after
 * `timeoutMs` it kills the shell's process group (which it started, as a
 * group of its own) and rejects.
 */
export async function runPipeline(stages: readonly Stage[], timeoutMs = 15_000): Promise<PipelineResult> {
  const dir = mkdtempSync(join(tmpdir(), 'seam-stdio-'))
  try {
    const line = stages
      // A shell stage is grouped, so that `sleep 1; cat` is one stage of the pipeline.
      .map((s, i) => `${'fixture' in s ? fixtureCommand(s.fixture, s.args) : `{ ${s.shell}; }`} 2>${quote(join(dir, `${i}.err`))}`)
      .join(' | ')
    const script = `${line}; echo "\${PIPESTATUS[*]}" > ${quote(join(dir, 'status'))}`
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true, cwd: process.cwd() })
    const out: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        reject(new Error(`the pipeline did not finish within ${timeoutMs} ms: ${stages.map((s) => ('fixture' in s ? s.fixture : s.shell)).join(' | ')}`))
      }, timeoutMs)
      child.on('close', () => {
        clearTimeout(timer)
        resolve()
      })
      child.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    const codes = readFileSync(join(dir, 'status'), 'utf8').trim().split(' ').map(Number)
    const stderr = stages.map((_, i) => readFileSync(join(dir, `${i}.err`), 'utf8').split('\n').filter((l) => l !== ''))
    return { codes, stderr, stdout: Buffer.concat(out) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
