import { toSeamError, type SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { BlockingReader, RedisClient } from './client.js'

/** What a loop needs to know besides its step. */
export interface LoopSettings {
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  /** What the loop reads, for messages. */
  readonly what: string
  readonly error: (err: SeamError) => void
  /** The reading connection dropped: a read in flight is sent again once it is back, but its first answer may be lost. */
  readonly dropped?: () => void
}

/**
 * Runs one blocking read after another on a connection of its own, until
 * stopped. A failed step is reported and tried again with capped, jittered
 * backoff (the connection reconnects meanwhile). Stopping ends a read that is
 * blocked in Redis at once (`CLIENT UNBLOCK` from the command connection)
 * instead of dropping the connection under it, so no entry the read took is
 * left pending without having been delivered.
 */
export class BlockingLoop {
  #reader: BlockingReader | undefined
  #clientId: number | undefined
  #reading = false
  /** The step waiting for {@link wake}: steps run one at a time, so there is at most one. */
  #wake: (() => void) | undefined
  #done: Promise<void> = Promise.resolve()
  readonly #stop = new AbortController()

  constructor(
    private readonly client: RedisClient,
    private readonly s: LoopSettings,
  ) {}

  get #stopped(): boolean {
    return this.#stop.signal.aborted
  }

  /** Opens the reading connection and starts calling `step` (one read each); resolves once it is open. */
  async start(step: (reader: BlockingReader) => Promise<void>): Promise<void> {
    const reader = await this.client.reader({
      status: (state) => {
        if (state !== 'down') return
        this.#clientId = undefined
        this.s.dropped?.()
      },
    })
    this.#reader = reader
    this.#done = this.#run(reader, step)
  }

  /** Resolves once {@link wake} is called (room in the window, resumed) or the loop stops. */
  waitForWake(): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    return new Promise<void>((resolve) => (this.#wake = resolve))
  }

  wake(): void {
    const waiting = this.#wake
    this.#wake = undefined
    waiting?.()
  }

  /** Reads nothing more; a blocked read returns at once. Idempotent. */
  stop(): void {
    if (this.#stopped) return
    this.#stop.abort()
    this.wake()
    if (this.#reading && this.#clientId !== undefined) this.client.commands.unblock(this.#clientId).catch(() => undefined)
  }

  /** Stops, waits for the read in flight (at most `timeoutMs`), then drops the connection. */
  async close(timeoutMs: number): Promise<void> {
    this.stop()
    const waited = new AbortController()
    await Promise.race([this.#done, sleep(timeoutMs, waited.signal)])
    waited.abort()
    this.#reader?.close()
  }

  async #run(reader: BlockingReader, step: (reader: BlockingReader) => Promise<void>): Promise<void> {
    for (let failures = 0; !this.#stopped; ) {
      try {
        // Asked again after every reconnect: the id names the connection, and CLIENT UNBLOCK needs the current one.
        this.#clientId ??= await reader.clientId()
        if (this.#stopped) return
        this.#reading = true
        await step(reader)
        failures = 0
      } catch (err) {
        if (this.#stopped) return
        this.s.error(toSeamError(err, 'ERR_TRANSPORT', `reading ${this.s.what} failed (attempt ${failures + 1}); trying again`))
        await sleep(backoff(failures++, this.s.reconnect.initialDelayMs, this.s.reconnect.maxDelayMs), this.#stop.signal)
      } finally {
        this.#reading = false
      }
    }
  }
}
