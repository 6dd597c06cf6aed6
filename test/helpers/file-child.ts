/**
 * Starts test/helpers/file-writer-child.ts and follows what it prints; the
 * test kills it by its PID. Children still running after a test are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { waitFor } from '../helpers.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CHILD = fileURLToPath(new URL('./file-writer-child.ts', import.meta.url))

/** A writer child: what it reported sent, and whether it finished. */
export interface WriterChild {
  readonly pid: number
  readonly sent: number[]
  readonly done: () => boolean
  readonly stderr: () => string
  readonly exited: Promise<unknown>
}

/** Registers an afterEach that kills the children left running; `start` runs one writer, resolved once it has opened the file. */
export function writerChildren(): { start(url: string, count: number, padBytes: number, batch: number): Promise<WriterChild> } {
  const children: ChildProcess[] = []
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  })
  return {
    async start(url, count, padBytes, batch) {
      const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, url, String(count), String(padBytes), String(batch)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(proc)
      const sent: number[] = []
      let ready = false
      let done = false
      let stderr = ''
      let buffered = ''
      proc.stdout?.on('data', (b: Buffer) => {
        buffered += b.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          if (line === 'ready') ready = true
          else if (line === 'done') done = true
          else if (line.startsWith('sent ')) sent.push(Number(line.slice(5)))
        }
      })
      proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()))
      const exited = new Promise((resolve) => proc.on('exit', resolve))
      await waitFor(() => ready || proc.exitCode !== null, 15_000, 'the writer child to open the file')
      if (!ready) throw new Error(`the writer child ended before it opened the file: ${stderr.trim()}`)
      return { pid: proc.pid as number, sent, done: () => done, stderr: () => stderr, exited }
    },
  }
}
