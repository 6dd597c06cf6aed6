/**
 * A helper script of this folder run in a child process (`node --import tsx`),
 * for tests that kill a consumer, a writer or a bridge by its PID. The script
 * speaks in lines on stdout: `ready` once it is set up, then lines of its
 * own. Children a test left running are killed after it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** One child. */
export interface ScriptChild {
  readonly pid: number
  /** Every whole line it printed on stdout so far, in order. */
  readonly lines: readonly string[]
  /** Resolves once it ended and its last line was read, saying how: `SIGKILL`, `exit code 1`. */
  readonly exited: Promise<string>
  /** How it ended, or undefined while it runs. */
  ended(): string | undefined
  stderr(): string
  /** Whether it printed `ready`; throws, with its stderr, when it ended before. */
  ready(): boolean
  /** True while it runs; throws, with its stderr, once it ended (a test that kills it stops asking first). */
  alive(): boolean
  /** Its state and output, for a failing test's message. */
  describe(): string
}

/**
 * Registers an afterEach that kills (SIGKILL) the children a test left
 * running, and returns `start(script, args, onLine)`: runs `./<script>` with
 * `args`, calling `onLine` for each line it prints.
 */
export function scriptChildren(): (script: string, args: readonly string[], onLine?: (line: string) => void) => ScriptChild {
  const running: ChildProcess[] = []
  afterEach(() => {
    for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  })
  return (script, args, onLine) => {
    const path = fileURLToPath(new URL(`./${script}`, import.meta.url))
    const proc = spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    running.push(proc)
    const lines: string[] = []
    let stderr = ''
    let partial = ''
    let ended: string | undefined
    proc.stdout.on('data', (chunk: Buffer) => {
      const whole = (partial + chunk.toString('utf8')).split('\n')
      partial = whole.pop() ?? ''
      for (const line of whole) {
        lines.push(line)
        onLine?.(line)
      }
    })
    proc.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')))
    // 'close', not 'exit': every line it printed has been read by then.
    const exited = new Promise<string>((resolve) => proc.once('close', (code, signal) => resolve((ended = signal ?? `exit code ${code}`))))
    return {
      pid: proc.pid ?? -1,
      lines,
      exited,
      ended: () => ended,
      stderr: () => stderr,
      ready: () => {
        if (lines.includes('ready')) return true
        if (ended !== undefined) throw new Error(`${script} ended (${ended}) before it was ready: ${stderr.trim()}`)
        return false
      },
      alive: () => {
        if (ended !== undefined) throw new Error(`${script} ended (${ended}) before it was killed: ${stderr.trim()}`)
        return true
      },
      describe: () => `${script}: ${ended === undefined ? 'running' : `ended (${ended})`}; last lines: ${lines.slice(-3).join(' | ')}${stderr === '' ? '' : `; stderr: ${stderr.trim()}`}`,
    }
  }
}
