import type { Socket } from 'node:net'
import { SeamError } from '../../channel/errors.js'
import { PING_FRAME } from './wire.js'

// A peer that promised a ping every P ms gets three of them before its connection counts as dead.
const MISSED_PINGS = 3

/**
 * Keeps an idle connection provably alive, so that a peer that hangs or a
 * host that vanishes without closing does not leave a link "up" forever.
 * Every `ownMs` it pings the peer when nothing was written since the last
 * look, and it ends the connection (`onDead`) once nothing has been read for
 * three of the intervals the peer promised in its hello (0: it promised
 * none, so it is never judged). Traffic is judged by the socket's byte
 * counters, so the data path pays nothing.
 */
export class Heartbeat {
  readonly #timer: NodeJS.Timeout

  constructor(socket: Socket, ownMs: number, peerMs: number, onDead: (error: SeamError) => void) {
    let read = socket.bytesRead
    let written = socket.bytesWritten
    let heardAt = Date.now()
    this.#timer = setInterval(() => {
      const now = Date.now()
      // A socket paused by its channel's full window is not read: its silence says nothing of the peer.
      if (socket.bytesRead !== read || socket.isPaused()) {
        read = socket.bytesRead
        heardAt = now
      } else if (peerMs > 0 && now - heardAt >= peerMs * MISSED_PINGS) {
        // Timers run before a turn's reads: after a long stall of this process, the peer's bytes may
        // be waiting unread. Judge after this turn's reads (setImmediate runs after them) instead.
        const silentFor = now - heardAt
        setImmediate(() => {
          if (socket.bytesRead !== read || socket.isPaused()) return
          this.stop()
          onDead(new SeamError('ERR_TRANSPORT', `heard nothing from the peer for ${silentFor} ms though it promised a ping every ${peerMs} ms (its heartbeatMs): it hangs or its host is gone`))
        })
        return
      }
      // A socket still holding bytes is busy already; one the peer stopped reading gains nothing from more.
      if (socket.bytesWritten === written && socket.writableLength === 0 && socket.writable) socket.write(PING_FRAME)
      written = socket.bytesWritten
    }, ownMs)
  }

  /** Called when its socket closes; the timer is left referenced so a leak would show as a live handle. */
  stop(): void {
    clearInterval(this.#timer)
  }
}
