import type { Envelope } from '../../channel/envelope.js'
import type { SeamError } from '../../channel/errors.js'
import type { BrokenEnvelope, Delivery } from '../../channel/transport.js'
import { IdBatcher } from './batcher.js'
import { BlockingLoop } from './blocking-loop.js'
import type { BlockingReader, RedisClient, StreamEntry } from './client.js'
import { brokenEntry, fromEntry } from './entry.js'

// Replies never wait in the channel's window: a read takes what is there.
const REPLY_READ_COUNT = 500

/**
 * A requester's private reply stream, read with plain `XREAD` (no group: it
 * has one reader). A reply is deleted from it once settled, so the stream
 * stays small however long the requester lives; the stream itself is
 * deleted on close. Repliers give it a time to live (`replyTtlMs`), so the
 * stream of a requester that died without closing vanishes on its own.
 */
export class ReplyReader {
  readonly #loop: BlockingLoop
  readonly #deletes: IdBatcher
  #after = '0-0'

  constructor(
    private readonly client: RedisClient,
    readonly stream: string,
    private readonly blockMs: number,
    reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number },
    private readonly hooks: { deliver(d: Delivery): void; error(err: SeamError): void },
  ) {
    this.#loop = new BlockingLoop(client, { reconnect, what: `reply stream "${stream}"`, error: (e) => hooks.error(e) })
    this.#deletes = new IdBatcher((ids) => client.commands.xdel(stream, ids))
  }

  start(): Promise<void> {
    return this.#loop.start((reader) => this.#step(reader))
  }

  /** Stops reading, waits for the read in flight and the deletes (at most `timeoutMs`), then deletes the stream. */
  async close(timeoutMs: number): Promise<void> {
    await this.#loop.close(timeoutMs)
    await this.#deletes.drained()
    await this.client.commands.del(this.stream)
  }

  async #step(reader: BlockingReader): Promise<void> {
    const entries = await reader.read(this.stream, this.#after, REPLY_READ_COUNT, this.blockMs)
    for (const e of entries) {
      this.#after = e.id
      this.hooks.deliver(new ReplyDelivery(e, this.stream, this.#deletes))
    }
  }
}

class ReplyDelivery implements Delivery {
  readonly envelope: Envelope | undefined
  readonly broken: BrokenEnvelope | undefined
  readonly source: string
  #settled = false

  constructor(
    readonly entry: StreamEntry,
    stream: string,
    private readonly deletes: IdBatcher,
  ) {
    try {
      this.envelope = fromEntry(entry, stream)
    } catch (err) {
      this.broken = brokenEntry(entry, err)
    }
    this.source = stream
  }

  ack(): Promise<void> {
    return this.#settle()
  }

  nack(): Promise<void> {
    // A reply nobody waits for any more is not worth keeping: deleted all the same.
    return this.#settle()
  }

  #settle(): Promise<void> {
    if (this.#settled) return Promise.resolve()
    this.#settled = true
    return this.deletes.add(this.entry.id)
  }
}
