/**
 * Starts test/helpers/file-writer-child.ts and follows what it prints; the
 * test kills it by its PID. Children still running after a test are killed.
 */
import { waitFor } from '../helpers.js'
import { scriptChildren, type ScriptChild } from './child.js'

/** A writer child: what it reported sent, and whether it finished. */
export interface WriterChild extends ScriptChild {
  readonly sent: number[]
  readonly done: () => boolean
}

/** Registers an afterEach that kills the children left running; `start` runs one writer, resolved once it has opened the file. */
export function writerChildren(): { start(url: string, count: number, padBytes: number, batch: number): Promise<WriterChild> } {
  const startScript = scriptChildren()
  return {
    async start(url, count, padBytes, batch) {
      const sent: number[] = []
      const child = startScript('file-writer-child.ts', [url, String(count), String(padBytes), String(batch)], (line) => {
        if (line.startsWith('sent ')) sent.push(Number(line.slice(5)))
      })
      await waitFor(() => child.ready(), 15_000, 'the writer child to open the file')
      return Object.assign(child, { sent, done: () => child.lines.includes('done') })
    },
  }
}
