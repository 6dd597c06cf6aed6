/**
 * Small helpers shared by the test files. No sleep-and-hope: wait for a
 * condition with a bounded poll, and collect reported errors to assert on.
 */
import { createServer, type AddressInfo } from 'node:net'
import { afterEach, expect } from 'vitest'
import { SeamError } from '../src/index.js'

/**
 * Resolves once `predicate()` is true; polls every 5 ms. Rejects after
 * `timeoutMs` with an error naming `what`, so a failing test says what never
 * happened. A predicate that throws rejects at once.
 */
export function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const check = (): void => {
      let ok: boolean
      try {
        ok = predicate()
      } catch (err) {
        reject(err)
        return
      }
      if (ok) return resolve()
      if (Date.now() >= deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      setTimeout(check, 5)
    }
    check()
  })
}

/** Resolves after `ms`: a slow handler's work, never a wait for an event (use waitFor). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Settles with `p`, or rejects after `ms` (a guard so a hang fails fast and clearly). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)))
  return Promise.race([p, guard]).finally(() => clearTimeout(timer))
}

/** Collects what an `onError` option receives: pass `onError` to `listen`/`connect`/`Registry`, assert on `errors`. */
export function collectErrors(): { errors: SeamError[]; onError: (err: SeamError) => void } {
  const errors: SeamError[] = []
  return { errors, onError: (err: SeamError) => void errors.push(err) }
}

/** A list whose entries (channels, servers) are closed after each test of the file that calls it. */
export function closedAfterEach(): { close(): Promise<void> }[] {
  const open: { close(): Promise<void> }[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
  })
  return open
}

/** The code of the SeamError `fn` throws, or undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SeamError)
    return (err as SeamError).code
  }
  return undefined
}

/** The SeamError `p` rejects with. Fails the test when `p` resolves, closing what it resolved to (a channel, a server). */
export async function rejection(p: Promise<unknown>): Promise<SeamError> {
  let value: unknown
  try {
    value = await p
  } catch (err) {
    expect(err).toBeInstanceOf(SeamError)
    return err as SeamError
  }
  if (typeof (value as { close?: unknown } | null)?.close === 'function') await (value as { close(): Promise<unknown> }).close()
  throw new Error('expected a rejection, but it resolved')
}

/**
 * Bytes held right now, after a full collection: JS heap plus ArrayBuffers
 * (socket chunks and bodies live there). Needs `--expose-gc`, which
 * vitest.config.ts passes to every test process.
 */
export function heldBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run the tests with --expose-gc (vitest.config.ts passes it)')
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

export const MiB = 1024 * 1024

/** A free loopback port: bound, read back and released (for a server a test starts, or one nothing listens on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
