/**
 * One end of a stdio benchmark pipeline (see stdio.bench.ts):
 *
 *   node stdio-peer.js write <side> <n> | node stdio-peer.js read <side> <n>
 *
 * where side is ours, ours-json, raw (raw.ts's frames of the payload) or
 * raw-padded (the same, each frame padded to our frame's length).
 *
 * The writer sends `n` payloads to standard output; the reader counts them
 * from standard input and prints its rate, timed from its first byte to its
 * last message, so neither process's start-up is counted.
 */
import type { Socket } from 'node:net'
import { Registry, json } from '../src/index.js'
import { connectStdio, listenStdio } from '../src/transports/stdio/index.js'
import { ENVELOPE_PAD, ItemMsg, item } from './payload.js'
import { RawWriter, rawReader, rawSend } from './raw.js'

// As in measure.ts's oneWay: often enough to feel backpressure, rarely enough not to cost a turn per message.
const AWAIT_EVERY = 128

const [role, side, count] = process.argv.slice(2)
const n = Number(count)
const format = side === 'ours-json' ? 'json' : 'frames'
const raw = side === 'raw' || side === 'raw-padded'
const pad = side === 'raw-padded' ? ENVELOPE_PAD : 0

async function write(): Promise<void> {
  if (raw) {
    // A pipe's stdout is a net.Socket: the baseline writer takes it as it is.
    const writer = new RawWriter(process.stdout as unknown as Socket, pad)
    const send = rawSend(writer)
    for (let i = 0; i < n; i++) {
      const sent = send(i)
      if (sent !== undefined) await sent
    }
    writer.flush()
    return
  }
  // JSON lines are meant to be read: their body is JSON, as a user of the format would send it.
  const ch = await connectStdio({ registry: new Registry(format === 'json' ? { serde: json } : {}), stdio: { format } })
  for (let i = 0; i < n; i++) {
    const sent = ch.send(ItemMsg, item(i))
    if (i % AWAIT_EVERY === 0) await sent
  }
  await ch.close()
}

function read(): Promise<number> {
  let t0: bigint | undefined
  let seen = 0
  return new Promise((resolve) => {
    const done = (): void => resolve(n / (Number(process.hrtime.bigint() - (t0 as bigint)) / 1e9))
    process.stdin.once('data', () => (t0 ??= process.hrtime.bigint()))
    if (raw) {
      process.stdin.on(
        'data',
        rawReader(() => {
          if (++seen === n) done()
        }, pad),
      )
      return
    }
    const registry = new Registry()
    registry.on(ItemMsg, () => {
      if (++seen === n) done()
    })
    // The 'data' listener above was added first, so it sees the first chunk before the channel does.
    void listenStdio({ registry, stdio: { format } })
  })
}

if (role === 'write') await write()
else {
  const rate = await read()
  process.stdout.write(`${rate}\n`)
  process.exit(0)
}
