import { readFile, unlink, writeFile } from 'node:fs/promises'
import { SeamError } from '../../channel/errors.js'

/** Whether process `pid` runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The one-writer lock of a message file: `<path>.lock`, holding the writer's
 * PID. One writer at a time is what lets a new writer cut off a torn last
 * record safely: the partial bytes it finds cannot be another writer's write
 * in progress. A lock left by a process that died is taken over. (Two
 * processes taking over the same stale lock at the same instant, or a PID
 * reused since, are not guarded against.)
 */
export class WriterLock {
  private constructor(readonly path: string) {}

  /** @throws SeamError `ERR_TRANSPORT` when a live writer holds the file. */
  static async take(file: string, where: string): Promise<WriterLock> {
    const path = `${file}.lock`
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, String(process.pid), { flag: 'wx' })
        return new WriterLock(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SeamError('ERR_TRANSPORT', `${where}: cannot create the writer lock ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err })
        }
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
        throw new SeamError('ERR_TRANSPORT', `${where}: ${file} has a writer already (process ${holder}${holder === process.pid ? ', this one' : ''}); a message file takes one writer at a time: close it first, or send through that channel`)
      }
      // Its writer died without closing: the lock is stale.
      await unlink(path).catch(() => undefined)
    }
    throw new SeamError('ERR_TRANSPORT', `${where}: could not take the writer lock ${path}: another writer took it at the same time`)
  }

  /** Idempotent. */
  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined)
  }
}
