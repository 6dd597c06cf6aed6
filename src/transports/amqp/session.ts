import { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { AmqpConnection, Amqplib } from './client.js'
import { amqpError } from './errors.js'
import type { ResolvedAmqpOptions } from './options.js'

/** An attempt with less time than this left is not worth making: it could only time out. */
const MIN_ATTEMPT_MS = 50

/** What a session tells its link. */
export interface SessionHandlers {
  /**
   * Opens channels, declares the topology and registers consumers on a new
   * connection, before it counts as up. Throwing fails this attempt.
   */
  setup(conn: AmqpConnection): Promise<void>
  /** The connection was lost; its channels, deliveries and unconfirmed publishes went with it. */
  lost(cause: SeamError): void
  /** A new connection is set up. */
  up(): void
  /** A reconnect attempt failed; the session tries again. */
  error(err: SeamError): void
  /** The connection was lost and reconnecting is off. */
  ended(err: SeamError): void
}

/**
 * One logical connection to RabbitMQ: the first connect bounded by
 * `connectTimeoutMs`, then reconnects with capped backoff after every loss,
 * each one set up again by the link (topology, channels, consumers).
 */
export class AmqpSession {
  #conn: AmqpConnection | undefined
  #closing = false
  readonly #stop = new AbortController()

  private constructor(
    private readonly lib: Amqplib,
    private readonly o: ResolvedAmqpOptions,
    private readonly socketOptions: Record<string, unknown>,
    private readonly h: SessionHandlers,
  ) {}

  /**
   * Connects and sets up; retries what may pass (the broker is starting)
   * until `connectTimeoutMs`, and fails at once on what will not (credentials,
   * vhost, a conflicting declaration).
   * @throws SeamError `ERR_TRANSPORT`.
   */
  static async open(lib: Amqplib, o: ResolvedAmqpOptions, socketOptions: Record<string, unknown>, h: SessionHandlers): Promise<AmqpSession> {
    const session = new AmqpSession(lib, o, socketOptions, h)
    const deadline = Date.now() + o.connectTimeoutMs
    // A refusal says more than the timeout of a last, short attempt: report the most telling failure.
    let telling: SeamError | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        session.#adopt(await session.#attempt(deadline - Date.now()))
        return session
      } catch (err) {
        const e = amqpError(err, o.target, `cannot connect to ${o.target.safeUrl}`)
        if (!e.retriable) throw e
        if (telling === undefined || !/no answer/.test(e.message)) telling = e
        const wait = Math.min(backoff(attempt, 50, 1000), deadline - Date.now())
        if (wait <= 0 || deadline - Date.now() < MIN_ATTEMPT_MS) throw telling
        await sleep(wait)
      }
    }
  }

  /** The connection now, if up. */
  get connection(): AmqpConnection | undefined {
    return this.#conn
  }

  /**
   * Drops the connection now, without the closing handshake a dead peer would
   * never answer; the session reconnects. For a channel that died under the
   * link, or a confirm that never came.
   */
  recycle(): void {
    const conn = this.#conn
    if (conn === undefined) return
    // With an error: amqplib notices a socket's 'error' or 'end', never a bare destroy, and would never report the loss.
    conn.connection?.stream?.destroy(new Error('the connection was dropped to reconnect (a confirm overdue, or a channel closed by the broker)'))
  }

  /** Closes the connection (politely, for at most `timeoutMs`) and stops reconnecting. Idempotent. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#stop.abort()
    const conn = this.#conn
    this.#conn = undefined
    if (conn === undefined) return
    // A connection that drops while closing never gets its CloseOk, and amqplib never settles close(): it only emits 'close'.
    const polite = new Promise<void>((resolve) => {
      conn.on('close', () => resolve())
      conn.close().then(resolve, () => resolve())
    })
    // The timer is cleared once the race is decided: a pending one would keep the process alive after close.
    const waited = new AbortController()
    const closed = await Promise.race([polite.then(() => true), sleep(Math.max(timeoutMs, 100), waited.signal).then(() => false)])
    waited.abort()
    if (!closed) conn.connection?.stream?.destroy()
  }

  /** One connection, set up, within `timeoutMs`; a half-made one is closed. */
  async #attempt(timeoutMs: number): Promise<AmqpConnection> {
    const t = this.o.target
    const connecting = this.lib.connect(
      { protocol: t.protocol, hostname: t.hostname, port: t.port, username: t.username, password: t.password, vhost: t.vhost, heartbeat: this.o.heartbeatSeconds },
      // amqplib ends a socket that stays silent this long while opening (a port that accepts but never answers).
      { ...this.socketOptions, noDelay: true, timeout: Math.max(1, timeoutMs) },
    )
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SeamError('ERR_TRANSPORT', `no answer from RabbitMQ at ${t.hostname}:${t.port} within connectTimeoutMs (${this.o.connectTimeoutMs} ms)`, { retriable: true })), Math.max(1, timeoutMs))
    })
    let conn: AmqpConnection | undefined
    try {
      conn = await Promise.race([connecting, timedOut])
      // Until adopted, a failure here is this attempt's, not a lost connection.
      conn.on('error', () => undefined)
      await Promise.race([this.h.setup(conn), timedOut])
      return conn
    } catch (err) {
      if (conn !== undefined) conn.connection?.stream?.destroy()
      else void connecting.then((late) => late.connection?.stream?.destroy(), () => undefined)
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  #adopt(conn: AmqpConnection): void {
    this.#conn = conn
    conn.on('close', (err?: Error) => {
      if (this.#conn !== conn) return
      this.#conn = undefined
      if (this.#closing) return
      const cause = amqpError(err ?? new Error('the connection closed'), this.o.target, `lost the connection to ${this.o.target.safeUrl}`)
      this.h.lost(cause)
      if (this.o.reconnect === false) this.h.ended(cause)
      else void this.#reconnect()
    })
  }

  async #reconnect(): Promise<void> {
    const r = this.o.reconnect as { initialDelayMs: number; maxDelayMs: number }
    for (let attempt = 0; !this.#closing; attempt++) {
      if (!(await sleep(backoff(attempt, r.initialDelayMs, r.maxDelayMs), this.#stop.signal))) return
      let conn: AmqpConnection
      try {
        conn = await this.#attempt(this.o.connectTimeoutMs)
      } catch (err) {
        if (!this.#closing) this.h.error(amqpError(err, this.o.target, `reconnecting to ${this.o.target.safeUrl} failed (attempt ${attempt + 1}); trying again`))
        continue
      }
      if (this.#closing) {
        await conn.close().catch(() => undefined)
        return
      }
      this.#adopt(conn)
      this.h.up()
      return
    }
  }
}
