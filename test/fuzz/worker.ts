/**
 * One fuzzing worker: a raw connection that sends batches of hostile frames,
 * each batch followed by a marker request whose reply proves the server read
 * through the batch and is still answering on this connection. The marker is
 * also the pacing: at most one batch per worker is in flight, so the test
 * measures the server's handling of bad input, not an ever-growing backlog.
 *
 * A worker's choices come from its own generator, derived from the seed and
 * its index, and never from timing: the same FUZZ_SEED and FUZZ_FRAMES send
 * the same bytes again.
 */
import { Echo } from './messages.js'
import { ownBytes } from './envelopes.js'
import { frame, type Action, type KindPicker } from './kinds.js'
import { helloFrame } from '../../src/transports/stream/wire.js'
import { EMPTY_HEADERS } from '../../src/channel/envelope.js'
import { encode } from './envelopes.js'
import { RawPeer, type RawStats } from './raw-peer.js'
import { Rng } from './rng.js'
import { SERVER_MAX_FRAME_BYTES } from './kinds.js'

/** Frames per batch, at most (the marker not counted). */
const MAX_BATCH = 64
/** How long the server may take to answer a marker, or to close a connection we broke, before that counts as a hang. */
const ANSWER_TIMEOUT_MS = 15_000

const HELLO = helloFrame(SERVER_MAX_FRAME_BYTES)

/** Counters shared by the workers. */
export interface WorkerStats {
  frames: number
  readonly byKind: Map<string, number>
  /** Connections opened because the previous one was ended on purpose. */
  reconnects: number
  /** Connections opened for a bad hello. */
  helloConnections: number
  batches: number
}

export function workerStats(): WorkerStats {
  return { frames: 0, byKind: new Map(), reconnects: 0, helloConnections: 0, batches: 0 }
}

export interface WorkerOptions {
  readonly index: number
  readonly seed: number
  readonly port: number
  /** Frames this worker sends. */
  readonly quota: number
  /** Ends the run with a failure once passed. */
  readonly deadline: number
  readonly picker: KindPicker
  readonly stats: WorkerStats
  readonly raw: RawStats
  /** Where failures go; a worker stops at the first one of any worker. */
  readonly failures: string[]
  /** Names the run in failure messages (seed, frame count). */
  readonly replay: string
}

/** The frames of a batch in hex, each cut to 128 bytes: enough to rebuild the case by hand. */
function dump(actions: readonly Action[]): string {
  return actions
    .slice(-12)
    .map((a) => `  ${a.kind} (${a.bytes.length} B): ${a.bytes.subarray(0, 128).toString('hex')}${a.bytes.length > 128 ? '…' : ''}`)
    .join('\n')
}

function marker(id: string, seq: number): Buffer {
  const body = encode({ seq, data: null })
  return frame(ownBytes({ tag: Echo.tag, id, ts: Date.now(), ct: 'application/msgpack', replyTo: '', headers: EMPTY_HEADERS, body }))
}

/** Sends this worker's quota of frames; failures are pushed to `o.failures`, never thrown. */
export async function runWorker(o: WorkerOptions): Promise<void> {
  const rng = Rng.derive(o.seed, o.index)
  const { stats } = o
  let peer: RawPeer | undefined
  let sent = 0
  let nextId = 0
  const fail = (what: string, batch: readonly Action[]): void => {
    o.failures.push(`worker ${o.index}, batch ${stats.batches}, after ${sent} of its frames: ${what} (${o.replay})\nlast frames sent:\n${dump(batch)}`)
  }
  try {
    for (let b = 0; sent < o.quota && o.failures.length === 0; b++) {
      if (Date.now() > o.deadline) {
        fail(`out of time: only ${sent} of ${o.quota} frames sent by the deadline`, [])
        return
      }
      if (peer === undefined || peer.isClosed) {
        if (peer !== undefined) stats.reconnects++
        peer = new RawPeer(o.port, HELLO, o.raw)
      }
      const batch: Action[] = []
      const size = rng.range(1, MAX_BATCH)
      while (batch.length < size && sent + batch.length < o.quota) {
        const a = o.picker.next(rng, `f${o.index}-${nextId++}`)
        batch.push(a)
        if (a.ends) break
      }
      const last = batch[batch.length - 1] as Action
      const tail = last.ends ? last : undefined
      const framed = tail === undefined ? batch : batch.slice(0, -1)
      const chunks = rng.chance(0.1) ? rng.range(2, 16) : 1
      for (const a of batch) stats.byKind.set(a.kind, (stats.byKind.get(a.kind) ?? 0) + 1)
      stats.batches++

      const markerId = `mk-${o.index}-${b}`
      await peer.write(Buffer.concat([...framed.map((a) => a.bytes), marker(markerId, b)]), chunks)
      const answer = await peer.waitReply(markerId, Math.min(ANSWER_TIMEOUT_MS, Math.max(1000, o.deadline - Date.now())))
      if (answer !== 'reply') {
        fail(answer === 'closed' ? 'the server closed a connection although no frame in the batch should end it' : `no answer to the marker request within ${ANSWER_TIMEOUT_MS} ms`, framed)
        return
      }
      sent += framed.length
      stats.frames += framed.length
      if (tail === undefined) continue

      let target = peer
      if (tail.fresh) {
        stats.helloConnections++
        target = new RawPeer(o.port, tail.bytes, o.raw)
      } else {
        await peer.write(tail.bytes, chunks)
      }
      if (!(await target.end(ANSWER_TIMEOUT_MS))) {
        fail(`the server did not close the connection within ${ANSWER_TIMEOUT_MS} ms after we ended it`, [tail])
        return
      }
      sent++
      stats.frames++
    }
  } finally {
    if (peer !== undefined && !peer.isClosed && !(await peer.end(ANSWER_TIMEOUT_MS))) fail('the server did not close the last connection after we ended it', [])
  }
}
