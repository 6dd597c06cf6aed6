/**
 * Gathers what amqplib writes during one turn of the event loop into one
 * socket write. amqplib writes every frame on its own (a publish, an ack),
 * and with TCP_NODELAY each write is a system call and a packet the broker
 * must read on its own: at tens of thousands of messages a second that was
 * a tenth of the throughput. Nagle's algorithm would coalesce them too, but
 * can hold a lone request for a delayed ACK (40 ms seen here); corking until
 * amqplib's writer has run keeps every frame going out within the same turn.
 */

/** The part of a socket corking needs. */
interface Corkable {
  cork(): void
  uncork(): void
  readonly destroyed?: boolean
}

export class WriteCoalescer {
  #socket: Corkable | undefined
  #held = false

  /** The socket of the current connection, or undefined (amqplib keeps it internal; without it nothing is held). */
  attach(socket: Corkable | undefined): void {
    this.#release()
    this.#socket = typeof socket?.cork === 'function' && typeof socket.uncork === 'function' ? socket : undefined
  }

  /**
   * Call right after handing amqplib a frame: holds the socket's writes
   * until amqplib's writer has run. amqplib moves frames to the socket in a
   * setImmediate scheduled from a nextTick queued when the frame was, so a
   * setImmediate scheduled from a nextTick queued after that runs after it.
   */
  hold(): void {
    if (this.#held || this.#socket === undefined) return
    this.#socket.cork()
    this.#held = true
    process.nextTick(() => setImmediate(() => this.#release()))
  }

  #release(): void {
    if (!this.#held) return
    this.#held = false
    if (this.#socket !== undefined && this.#socket.destroyed !== true) this.#socket.uncork()
  }
}
