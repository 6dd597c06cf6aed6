/**
 * Message files for the file:// tests: a fresh folder under the system's
 * temporary folder per test, removed after it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach } from 'vitest'

/** Registers an afterEach that removes every folder `fresh()` made; `fresh()` makes one and returns a file URL and path in it. */
export function tempFiles(): { fresh(name?: string): Promise<{ url: string; path: string; dir: string }> } {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })
  return {
    async fresh(name = 'messages.seam') {
      const dir = await mkdtemp(join(tmpdir(), 'seam-file-'))
      dirs.push(dir)
      const path = join(dir, name)
      return { url: pathToFileURL(path).href, path, dir }
    },
  }
}
